"""Issue 15, defects 4 and 5: a failing sync backs off, and a refused cursor is not a dead end.

4. The schedule waits longer after each failed attempt (exponential from a fraction of the
   interval, capped at the interval) instead of retrying every minute.
5. When Zendesk refuses a saved cursor (400), the run falls back to a full listing from the
   start, and ``--full`` never reuses a saved cursor.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import httpx
import pytest

from evalsync_gui.core.sync import config as sync_config
from evalsync_gui.core.sync import runs, state
from evalsync_gui.core.sync.config import SyncConfig, next_due, save_config
from evalsync_gui.core.sync.runner import run_sync
from tests.core.sync_fake import FakeZendesk, client_for

HOURS = 6


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _run(ctx, started: datetime, status: str, dry_run: bool = False) -> None:
    with ctx.db.transaction() as conn:
        conn.execute("INSERT INTO sync_runs (started_at, finished_at, trigger, mode, status, dry_run) "
                     "VALUES (?, ?, 'schedule', 'full', ?, ?)", (_iso(started), _iso(started), status, int(dry_run)))


@pytest.fixture
def sched(ctx):
    save_config(ctx, SyncConfig(roles=["agent"], interval_hours=HOURS, enabled=True))
    return ctx


def _wait(ctx, now: datetime) -> timedelta:
    return next_due(ctx) - now


def test_first_run_is_due_now(sched):
    now = datetime.now(timezone.utc)
    assert abs(_wait(sched, now)) < timedelta(seconds=5)


def test_after_a_success_the_next_run_is_one_interval_later(sched):
    now = datetime.now(timezone.utc).replace(microsecond=0)
    _run(sched, now - timedelta(hours=1), "completed")
    assert next_due(sched) == now + timedelta(hours=HOURS - 1)


def test_failures_back_off_exponentially_up_to_the_interval(sched):
    now = datetime.now(timezone.utc).replace(microsecond=0)
    _run(sched, now - timedelta(days=2), "completed")
    base = sync_config.backoff(HOURS, 1)
    assert timedelta(minutes=1) <= base < timedelta(hours=1)
    waits = []
    for failures in range(1, 12):
        _run(sched, now, "failed" if failures % 3 else "interrupted")
        waits.append(next_due(sched) - now)
    assert waits[0] == base and waits[1] == 2 * base and waits[2] == 4 * base
    assert all(b >= a for a, b in zip(waits, waits[1:]))
    assert waits[-1] == timedelta(hours=HOURS)
    # In a day of outage at most a few dozen attempts, not 1,440.
    attempts, t = 0, timedelta(0)
    while t < timedelta(days=1):
        attempts += 1
        t += sync_config.backoff(HOURS, attempts)
    assert attempts <= 12


def test_a_success_resets_the_backoff_and_dry_runs_do_not_count(sched):
    now = datetime.now(timezone.utc).replace(microsecond=0)
    for _ in range(5):
        _run(sched, now - timedelta(hours=3), "failed")
    _run(sched, now - timedelta(hours=2), "completed")
    _run(sched, now - timedelta(minutes=1), "failed", dry_run=True)
    assert next_due(sched) == now + timedelta(hours=HOURS - 2)
    _run(sched, now, "failed")
    assert next_due(sched) == now + timedelta(hours=HOURS - 2)  # a failure never brings the schedule forward
    save_config(sched, SyncConfig(roles=["agent"], interval_hours=1, enabled=True))
    assert next_due(sched) == now + sync_config.backoff(1, 1)  # one failure since the success, not six


# -- defect 5 -------------------------------------------------------------------------------
@pytest.fixture
def fz():
    f = FakeZendesk()
    f.ids = [f.add(f"Agent {i}", f"a{i}@x.test") for i in range(150)]
    f.seeding = False
    return f


def _refuse_cursors(fz, *saved_urls: str):
    """Zendesk refuses the cursors EvalSync saved (expired), every time; the ones it sends now work."""
    handle = fz.handle
    stale = {httpx.URL(url).params for url in saved_urls}
    fz.link_tag = "fresh"

    def patched(request):
        if request.url.params in stale:
            fz.requests.append((request.method, request.url.path))
            return httpx.Response(400, json={"error": "InvalidPaginationParameter",
                                             "description": "Invalid pagination cursor"})
        return handle(request)

    fz.handle = patched


def test_a_refused_resume_cursor_falls_back_to_a_full_listing(ctx, fz):
    ctx.extras["sync_is_admin"] = False
    save_config(ctx, SyncConfig(roles=["agent"]))
    assert run_sync(ctx, client=client_for(fz)).status == "completed"
    fz.fail_after = len(fz.requests) + 1  # the second page fails: a cursor is stored to resume
    assert run_sync(ctx, client=client_for(fz), full=True).status == "failed"
    assert state.get(ctx.db, state.RESUME)["cursors"]
    fz.fail_after = None
    handle = fz.handle
    _refuse_cursors(fz, *(c["next"] for c in state.get(ctx.db, state.RESUME)["cursors"].values()))
    refused = run_sync(ctx, client=client_for(fz))
    # This run may fail once with a readable line, but the next one must not repeat it.
    fz.handle = handle
    fz.touch(fz.ids[0], name="Renamed")
    if refused.status != "completed":
        assert refused.error and "\n" not in refused.error
    again = run_sync(ctx, client=client_for(fz))
    assert again.status == "completed", again.error
    assert ctx.db.scalar("SELECT name FROM users WHERE zendesk_id = ?", (fz.ids[0],)) == "Renamed"


def test_a_refused_export_cursor_falls_back_and_full_always_works(ctx, fz):
    ctx.extras["sync_is_admin"] = True
    save_config(ctx, SyncConfig(roles=["agent"]))
    run_sync(ctx, client=client_for(fz))
    assert run_sync(ctx, client=client_for(fz)).mode == "incremental"  # stores an after_url
    _refuse_cursors(fz, state.get(ctx.db, state.INCREMENTAL)["after_url"])
    first = run_sync(ctx, client=client_for(fz))
    second = run_sync(ctx, client=client_for(fz))
    assert "completed" in (first.status, second.status), (first.error, second.error)
    full = run_sync(ctx, client=client_for(fz), full=True)
    assert (full.status, full.mode) == ("completed", "full")
    assert [r["status"] for r in runs.list_runs(ctx)][:1] == ["completed"]
