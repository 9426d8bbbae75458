"""The run rules of ``core/sync/runner.py``, each checked where an admin or a caller sees it.

Issue 15 ("mutation testing as a habit"): the run row (status, error text, counts, mode,
trigger), the cursor and resume state stored between runs, the users in the database, the
progress events a window shows, the log lines and the result the CLI turns into an exit code.
Real SQLite and the in-memory Zendesk of ``sync_fake`` over httpx's mock transport.
"""

from __future__ import annotations

import logging
import time
import types

import httpx
import pytest

from evalsync_gui.core.errors import StoreError, UsageError
from evalsync_gui.core.sync import fetch, runner, runs, state
from evalsync_gui.core.sync.config import SETTINGS_KEY, SyncConfig, load_config, save_config
from evalsync_gui.core.sync.runner import SyncProgress, SyncResult, run_sync
from evalsync_gui.core.zendesk.http import ApiTokenAuth, HttpEvent, RetryPolicy, ZendeskHttp
from tests.core.sync_fake import BASE, FakeZendesk, client_for

LISTING = "/api/v2/users.json"
EXPORT = "/api/v2/incremental/users/cursor.json"
SHOW_MANY = "/api/v2/users/show_many.json"
ROLES = "/api/v2/custom_roles.json"
KEY = "role:agent,admin"  # the one cursor listing of roles agent + admin
CANCELLED = "Cancelled; the next sync resumes where this one stopped."
RESUMING = "resuming the listing where the last sync stopped; the users it read are kept"
GIVE_UP_LISTING = ("Zendesk could not be reached reliably (HTTP 500 on /api/v2/users.json after 2 attempts); "
                   "check the network and try again later.")


PAGE = 20  # listing page size in these tests (Zendesk's is 100): small pages keep them fast


@pytest.fixture(autouse=True)
def small_pages(monkeypatch):
    monkeypatch.setattr(fetch, "PAGE_SIZE", PAGE)


@pytest.fixture
def fz():
    """30 agents: a full listing is two pages (20 + 10)."""
    f = FakeZendesk()
    f.ids = [f.add(f"Agent {i}", f"a{i}@x.test") for i in range(30)]
    f.seeding = False
    return f


@pytest.fixture
def sctx(ctx):
    """Configured for agents and admins; a non-admin token (full listings) unless a test says so."""
    ctx.extras["sync_is_admin"] = False
    save_config(ctx, SyncConfig(roles=["agent", "admin"]))
    return ctx


def sync(ctx, fz, **kw) -> SyncResult:
    return run_sync(ctx, client=kw.pop("client", None) or client_for(fz), **kw)


def run_row(ctx, run_id: int) -> dict:
    return dict(ctx.db.query("SELECT * FROM sync_runs WHERE id = ?", (run_id,))[0])


def statuses(ctx) -> dict[int, str]:
    return {r["zendesk_id"]: r["status"] for r in ctx.db.query("SELECT zendesk_id, status FROM users")}


def urls(fz) -> list[str]:
    """Record every request's full URL on ``fz.urls``."""
    fz.urls = []
    handle = fz.handle

    def recording(request):
        fz.urls.append(str(request.url))
        return handle(request)

    fz.handle = recording
    return fz.urls


def fail_listing_page(fz, n: int, status: int = 500) -> None:
    """Every request for listing page ``n`` (from 1, counted by distinct URL) answers ``status``."""
    handle = fz.handle
    seen: list[str] = []

    def patched(request):
        if request.url.path == LISTING:
            url = str(request.url)
            if url not in seen:
                seen.append(url)
            if seen.index(url) + 1 == n:
                return httpx.Response(status, json={"error": "boom"})
        return handle(request)

    fz.handle = patched


def restore(fz) -> None:
    fz.handle = FakeZendesk.handle.__get__(fz)


def progress_list():
    events: list[SyncProgress] = []
    return events, events.append


def messages(events, phase: str | None = None) -> list[str]:
    return [e.message for e in events if phase is None or e.phase == phase]


def freeze_time(monkeypatch, now: float) -> None:
    """The runner's wall clock (``time.time``) stands at ``now``; its other time functions are real."""
    monkeypatch.setattr(runner, "time", types.SimpleNamespace(time=lambda: now, monotonic=time.monotonic,
                                                              sleep=time.sleep))


def suspend_first(fz, n: int) -> None:
    for uid in fz.ids[:n]:
        fz.touch(uid, suspended=True)


def put_state(ctx, key: str, value) -> None:
    with ctx.db.transaction() as conn:
        state.put(conn, key, value)


# -- starting a run --------------------------------------------------------------------------
def test_an_unconfigured_sync_says_how_to_configure_it(ctx, fz):
    with pytest.raises(UsageError) as err:
        sync(ctx, fz)
    assert str(err.value) == ("User sync is not configured; run `evalsync configure --roles agent,admin` "
                              "or use the Users tab.")
    assert ctx.db.scalar("SELECT count(*) FROM sync_runs") == 0 and fz.requests == []


def test_a_stored_configuration_that_no_longer_validates_is_refused_before_any_request(ctx, fz):
    ctx.settings.set(SETTINGS_KEY, {"roles": ["agent"], "deactivation_limit": "lots"})
    with pytest.raises(UsageError) as err:
        sync(ctx, fz)
    assert str(err.value) == "The deactivation limit must be default, a number (e.g. 25) or a percentage (e.g. 15%)."
    assert ctx.db.scalar("SELECT count(*) FROM sync_runs") == 0 and fz.requests == []


def test_a_run_left_running_by_a_crash_is_marked_interrupted_by_the_next_one(sctx, fz):
    crashed = runs.start_run(sctx.db, "schedule", "full", False)
    result = sync(sctx, fz)
    assert run_row(sctx, crashed)["status"] == "interrupted"
    assert run_row(sctx, result.run_id)["status"] == "completed"


def test_the_run_row_records_trigger_mode_and_dry_run(sctx, fz):
    first = sync(sctx, fz)
    row = run_row(sctx, first.run_id)
    assert (row["trigger"], row["mode"], row["dry_run"], row["status"]) == ("cli", "full", 0, "completed")
    dry = sync(sctx, fz, trigger="schedule", dry_run=True)
    row = run_row(sctx, dry.run_id)
    assert (row["trigger"], row["mode"], row["dry_run"], row["status"]) == ("schedule", "full", 1, "completed")


def test_by_default_a_run_writes_holds_and_may_export(sctx, fz):
    """No dry run, no forced full listing and no allowed deactivations unless asked."""
    sctx.extras["sync_is_admin"] = True
    assert sync(sctx, fz).new == 30 and len(statuses(sctx)) == 30
    suspend_first(fz, 12)  # more than 10 and more than 20%: the default guard holds them
    result = sync(sctx, fz)
    assert (result.mode, result.status, result.held, result.deactivated, result.exit_code) == (
        "incremental", "held", 12, 0, 3)
    assert set(statuses(sctx).values()) == {"pending"}


def test_a_clean_first_import_reports_each_step_and_records_the_run(sctx, fz):
    events, progress = progress_list()
    result = sync(sctx, fz, progress=progress)
    assert result == SyncResult(result.run_id, "completed", "full", 2, 30, 0, 0, 0, None, False, [], 0)
    assert [(e.phase, e.pages, e.users, e.message) for e in events] == [
        ("start", 0, 0, "full sync started"),
        ("fetch", 1, 20, "20 users read in 1 pages"),
        ("fetch", 2, 30, "30 users read in 2 pages"),
        ("done", 2, 30, "30 new, 0 updated, 0 deactivated, 0 held"),
        ("done", 2, 30, "completed"),
    ]
    assert events[0].requests == 0 and events[-1].requests == 2
    assert all(e.rate_wait == 0.0 and e.waiting_seconds == 0.0 and e.wait_reason == "" for e in events)
    row = run_row(sctx, result.run_id)
    assert {k: row[k] for k in ("status", "requests", "n_new", "n_updated", "n_deactivated", "n_held", "n_seen",
                                "error")} == {"status": "completed", "requests": 2, "n_new": 30, "n_updated": 0,
                                              "n_deactivated": 0, "n_held": 0, "n_seen": 30, "error": None}
    assert row["finished_at"] is not None
    assert state.get(sctx.db, state.RESUME) is None


def test_only_this_runs_requests_are_counted(sctx, fz):
    client = client_for(fz)
    for _ in range(3):
        client.get(LISTING)
    result = sync(sctx, fz, client=client)
    assert result.requests == 2 and run_row(sctx, result.run_id)["requests"] == 2


def test_a_second_run_reports_updates_and_deactivations(sctx, fz):
    sync(sctx, fz)
    fz.touch(fz.ids[0], name="Renamed")
    fz.touch(fz.ids[1], suspended=True)
    events, progress = progress_list()
    result = sync(sctx, fz, progress=progress)
    assert (result.status, result.new, result.updated, result.deactivated, result.held) == ("completed", 0, 1, 1, 0)
    assert messages(events, "done") == ["0 new, 1 updated, 1 deactivated, 0 held", "completed"]
    row = run_row(sctx, result.run_id)
    assert (row["n_new"], row["n_updated"], row["n_deactivated"], row["n_held"], row["n_seen"]) == (0, 1, 1, 0, 30)
    assert statuses(sctx)[fz.ids[1]] == "deactivated"


# -- failures: one line, a run row, nothing deactivated ------------------------------------------
def test_a_listing_that_fails_half_way_keeps_the_first_page_and_the_cursor(sctx, fz, caplog):
    sync(sctx, fz)
    for uid in fz.ids:
        fz.touch(uid, name=f"New {uid}")
    fz.touch(fz.ids[-1], suspended=True)  # on page 2, never read
    fail_listing_page(fz, 2)
    events, progress = progress_list()
    with caplog.at_level(logging.INFO, logger="evalsync.sync"):
        result = sync(sctx, fz, progress=progress)
    assert (result.status, result.error, result.exit_code) == ("failed", GIVE_UP_LISTING, 5)
    assert (result.new, result.updated, result.deactivated, result.held, result.requests) == (0, 20, 0, 0, 3)
    warning = f"sync run {result.run_id} failed: {GIVE_UP_LISTING}"
    assert ("evalsync.sync", logging.WARNING, warning) in caplog.record_tuples
    assert events[-1].phase == "done" and events[-1].message == GIVE_UP_LISTING
    row = run_row(sctx, result.run_id)
    assert (row["status"], row["error"], row["requests"], row["n_updated"], row["n_seen"]) == (
        "failed", GIVE_UP_LISTING, 3, 20, 20)
    assert set(statuses(sctx).values()) == {"pending"}
    resume = state.get(sctx.db, state.RESUME)
    assert resume["run_id"] == result.run_id and resume["mode"] == "full"
    assert resume["signature"] == load_config(sctx).signature
    assert resume["cursors"] == {KEY: {"next": resume["cursors"][KEY]["next"], "done": False}}
    assert "page%5Bafter%5D=" + str(fz.ids[19]) in resume["cursors"][KEY]["next"]
    assert abs(resume["started"] - time.time()) < 60


def test_a_cancelled_run_says_so_and_the_next_one_resumes(sctx, fz, caplog):
    sync(sctx, fz)
    cancel = []
    events, progress = progress_list()

    def watch(p):
        progress(p)
        if p.phase == "fetch":
            cancel.append(True)

    with caplog.at_level(logging.INFO, logger="evalsync.sync"):
        result = sync(sctx, fz, full=True, progress=watch, is_cancelled=lambda: bool(cancel))
    assert (result.status, result.error, result.exit_code) == ("cancelled", CANCELLED, 130)
    assert ("evalsync.sync", logging.INFO, f"sync run {result.run_id} cancelled: {CANCELLED}") in caplog.record_tuples
    row = run_row(sctx, result.run_id)
    assert (row["status"], row["error"]) == ("cancelled", CANCELLED)
    assert events[-1].message == CANCELLED
    before = len(fz.requests)
    events, progress = progress_list()
    again = sync(sctx, fz, full=True, progress=progress)
    assert again.status == "completed" and again.deactivated == 0
    assert [p for _, p in fz.requests[before:]] == [LISTING]
    assert ("resume", RESUMING) in [(e.phase, e.message) for e in events]


def test_a_refused_token_fails_with_the_auth_exit_code(sctx, fz):
    handle = fz.handle
    fz.handle = lambda request: httpx.Response(401, json={"error": "Couldn't authenticate you"}) \
        if request.url.path == LISTING else handle(request)
    result = sync(sctx, fz)
    assert (result.status, result.exit_code) == ("failed", 4)
    assert result.error == ("Zendesk did not accept the e-mail and API token (Couldn't authenticate you); "
                            "check them or authenticate again.")
    assert run_row(sctx, result.run_id)["error"] == result.error


class BrokenClient:
    """A client whose every request raises ``exc`` (what a failing layer below would do)."""

    def __init__(self, exc: BaseException) -> None:
        self.exc, self.request_count, self.on_event = exc, 0, None

    def get(self, *args, **kwargs):
        self.request_count += 1
        raise self.exc

    def check_same_origin(self, url: str) -> str:
        return url


class BareClient:
    """Only what a read needs (a replaying or recording client): no event hook, no counters."""

    __slots__ = ("_http",)

    def __init__(self, http: ZendeskHttp) -> None:
        self._http = http

    def get(self, *args, **kwargs):
        return self._http.get(*args, **kwargs)

    def check_same_origin(self, url: str) -> str:
        return self._http.check_same_origin(url)


def test_a_client_without_event_hook_or_counters_still_syncs(sctx, fz):
    events, progress = progress_list()
    result = sync(sctx, fz, client=BareClient(client_for(fz)), progress=progress)
    assert (result.status, result.new, result.requests, result.error) == ("completed", 30, 0, None)
    assert {(e.requests, e.rate_wait) for e in events} == {(0, 0.0)}
    assert run_row(sctx, result.run_id)["requests"] == 0


def test_a_local_database_problem_fails_with_its_own_exit_code(sctx, fz):
    problem = "The database is locked by another program; close it and retry."
    result = sync(sctx, fz, client=BrokenClient(StoreError(problem)))
    assert (result.status, result.error, result.exit_code, result.requests) == ("failed", problem, 6, 1)
    assert run_row(sctx, result.run_id)["error"] == problem


def test_a_bug_fails_the_run_with_the_internal_error_line_and_a_traceback(sctx, fz, caplog):
    with caplog.at_level(logging.INFO, logger="evalsync.sync"):
        result = sync(sctx, fz, client=BrokenClient(RuntimeError("a bug")))
    assert (result.status, result.exit_code) == ("failed", 5)
    assert result.error == ("Internal error during sync (see the log); nothing was deactivated. "
                            "Retry, and report it if it repeats.")
    bug = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert [r.getMessage() for r in bug] == [f"sync run {result.run_id}: internal error"]
    assert bug[0].exc_info and bug[0].exc_info[0] is RuntimeError
    assert run_row(sctx, result.run_id)["status"] == "failed"


def test_not_connected_fails_before_a_run_is_recorded(sctx, caplog):
    from evalsync_gui.core.auth.session import NOT_CONNECTED

    events, progress = progress_list()
    with caplog.at_level(logging.INFO, logger="evalsync.sync"):
        result = run_sync(sctx, progress=progress)
    assert result == SyncResult(None, "failed", "full", 0, 0, 0, 0, 0, NOT_CONNECTED, False, [], 4)
    assert ("evalsync.sync", logging.WARNING, f"sync (not started) failed: {NOT_CONNECTED}") in caplog.record_tuples
    assert sctx.db.scalar("SELECT count(*) FROM sync_runs") == 0
    assert [(e.phase, e.message, e.requests, e.rate_wait) for e in events] == [("done", NOT_CONNECTED, 0, 0.0)]


def test_a_client_the_run_opens_is_closed_and_a_callers_client_is_not(sctx, fz, monkeypatch):
    from evalsync_gui.core.auth import session

    opened: list = []
    closed: list = []

    def open_client(ctx, **kwargs):
        client = client_for(fz)
        client.close = lambda: closed.append(client)
        opened.append((client, kwargs))
        return client

    monkeypatch.setattr(session, "open_client", open_client)
    cancel: list = []
    events, progress = progress_list()
    assert run_sync(sctx, progress=progress, is_cancelled=lambda: bool(cancel)).status == "completed"
    (client, kwargs), = opened
    assert closed == [client] and set(kwargs) == {"is_cancelled", "on_event"}
    assert kwargs["is_cancelled"]() is False
    cancel.append(True)
    assert kwargs["is_cancelled"]() is True
    shown = len(events)
    for kind, wait in (("rate_limited", 5.0), ("paced", 0.5), ("retry", 0.25), ("retry", 0.0), ("response", 0.3)):
        kwargs["on_event"](HttpEvent(kind, "GET", LISTING, None, wait))
    assert [(e.phase, e.waiting_seconds, e.wait_reason) for e in events[shown:]] == [
        ("waiting", 5.0, "Zendesk's limit"), ("waiting", 0.5, "Zendesk's limit"),
        ("waiting", 0.25, "Zendesk is not answering")]
    mine = client_for(fz)
    mine.close = lambda: closed.append(mine)
    assert sync(sctx, fz, client=mine).status == "completed" and closed == [client]


# -- waiting: what the window shows while the client waits ------------------------------------
def answer_first_listing_with(fz, response: httpx.Response) -> None:
    handle = fz.handle
    answered: list = []

    def patched(request):
        if request.url.path == LISTING and not answered:
            answered.append(True)
            return response
        return handle(request)

    fz.handle = patched


def test_a_rate_limit_wait_is_shown_with_its_length_and_reason(sctx, fz):
    answer_first_listing_with(fz, httpx.Response(429, headers={"Retry-After": "7"}))
    answer_first_listing_with(fz, httpx.Response(429, headers={"Retry-After": "4"}))
    events, progress = progress_list()
    assert sync(sctx, fz, progress=progress).status == "completed"
    waiting = [e for e in events if e.phase == "waiting"]
    assert waiting == [SyncProgress("waiting", 0, 0, 1, 0.0, "Zendesk's limit", waiting_seconds=4.0,
                                    wait_reason="Zendesk's limit"),
                       SyncProgress("waiting", 0, 0, 2, 4.0, "Zendesk's limit", waiting_seconds=7.0,
                                    wait_reason="Zendesk's limit")]
    assert events[-1].rate_wait == 11.0


def test_a_retry_wait_is_shown_and_a_zero_wait_is_not(sctx, fz):
    answer_first_listing_with(fz, httpx.Response(503))
    client = ZendeskHttp(BASE, ApiTokenAuth("admin@acme.test", "x"), transport=fz.transport(),
                         retry=RetryPolicy(max_attempts=3, backoff_base=2.0, backoff_max=2.0), sleep=lambda s: None)
    events, progress = progress_list()
    assert sync(sctx, fz, client=client, progress=progress).status == "completed"
    waiting = [(e.phase, e.message, e.wait_reason) for e in events if e.phase == "waiting"]
    assert waiting == [("waiting", "Zendesk is not answering", "Zendesk is not answering")]
    assert 1.0 <= [e for e in events if e.phase == "waiting"][0].waiting_seconds <= 2.0
    answer_first_listing_with(fz, httpx.Response(503))  # client_for retries at once: nothing to show
    events, progress = progress_list()
    assert sync(sctx, fz, progress=progress).status == "completed"
    assert [e for e in events if e.phase == "waiting"] == []


def test_a_callers_own_event_hook_is_kept(sctx, fz):
    answer_first_listing_with(fz, httpx.Response(429, headers={"Retry-After": "3"}))
    seen: list = []
    client = client_for(fz)
    client.on_event = seen.append
    events, progress = progress_list()
    assert sync(sctx, fz, client=client, progress=progress).status == "completed"
    assert "rate_limited" in [e.kind for e in seen]
    assert [e for e in events if e.phase == "waiting"] == []


def test_waits_without_a_progress_callback_are_harmless(sctx, fz):
    answer_first_listing_with(fz, httpx.Response(429, headers={"Retry-After": "3"}))
    assert sync(sctx, fz).status == "completed"


# -- choosing the mode -------------------------------------------------------------------------
def test_an_admin_token_exports_changes_until_a_day_has_passed(sctx, fz, monkeypatch):
    sctx.extras["sync_is_admin"] = True
    assert sync(sctx, fz).mode == "full"
    assert sync(sctx, fz).mode == "incremental"
    assert sync(sctx, fz, full=True).mode == "full"
    last_full = state.get(sctx.db, state.LAST_FULL_AT)
    assert abs(last_full - time.time()) < 60
    freeze_time(monkeypatch, last_full + 24 * 3600)
    assert sync(sctx, fz).mode == "incremental"  # exactly a day: not more than a day
    freeze_time(monkeypatch, last_full + 24 * 3600 + 1)
    assert sync(sctx, fz).mode == "full"


def test_a_full_listing_is_due_when_its_time_is_unknown(sctx, fz):
    sctx.extras["sync_is_admin"] = True
    sync(sctx, fz)
    with sctx.db.transaction() as conn:
        state.delete(conn, state.LAST_FULL_AT)
    assert sync(sctx, fz).mode == "full"


def test_a_non_admin_token_always_lists(sctx, fz):
    sync(sctx, fz)
    assert sync(sctx, fz).mode == "full"


def test_admin_or_not_comes_from_the_stored_connection(sctx, fz, caplog):
    from evalsync_gui.core.auth.session import CONNECTION_KEY

    del sctx.extras["sync_is_admin"]
    sync(sctx, fz)
    assert sync(sctx, fz).mode == "full"  # not connected: list
    info = {"subdomain": "acme", "base_url": BASE, "method": "api_token", "is_admin": True}
    sctx.settings.set(CONNECTION_KEY, info)
    assert sync(sctx, fz).mode == "incremental"
    sctx.settings.set(CONNECTION_KEY, {**info, "is_admin": False})
    assert sync(sctx, fz).mode == "full"
    sctx.settings.set(CONNECTION_KEY, {"is_admin": True})  # unreadable: no base_url
    with caplog.at_level(logging.DEBUG, logger="evalsync.sync"):
        assert sync(sctx, fz).mode == "full"
    unreadable = [r for r in caplog.records if r.getMessage() == "connection info unavailable; using a full listing"]
    assert len(unreadable) == 1 and unreadable[0].exc_info and unreadable[0].levelno == logging.DEBUG


def test_a_stopped_full_listing_is_resumed_even_when_an_export_is_due(sctx, fz):
    sctx.extras["sync_is_admin"] = True
    sync(sctx, fz)
    fail_listing_page(fz, 2)
    assert sync(sctx, fz, full=True).status == "failed"
    restore(fz)
    events, progress = progress_list()
    result = sync(sctx, fz, progress=progress)
    assert (result.mode, result.status) == ("full", "completed")
    assert ("resume", RESUMING) in [(e.phase, e.message) for e in events]


def test_a_stopped_export_does_not_force_a_listing(sctx, fz):
    sctx.extras["sync_is_admin"] = True
    sync(sctx, fz)
    fz.touch(fz.ids[0], name="Renamed")
    handle = fz.handle
    fz.handle = lambda request: httpx.Response(500) if request.url.path == EXPORT else handle(request)
    assert sync(sctx, fz).status == "failed"
    assert state.get(sctx.db, state.RESUME)["mode"] == "incremental"
    restore(fz)
    events, progress = progress_list()
    result = sync(sctx, fz, progress=progress)
    assert (result.mode, result.updated) == ("incremental", 1)
    assert ("resume", RESUMING) in [(e.phase, e.message) for e in events]
    events, progress = progress_list()
    fz.handle = lambda request: httpx.Response(500) if request.url.path == EXPORT else handle(request)
    assert sync(sctx, fz).status == "failed"
    restore(fz)
    forced = sync(sctx, fz, full=True, progress=progress)
    assert forced.mode == "full" and "resume" not in [e.phase for e in events]


# -- resuming ----------------------------------------------------------------------------------
def test_a_resumed_run_takes_over_and_a_second_stop_keeps_the_newest_run(sctx, fz):
    """Three pages; the first run reads page 1, the second page 2, the third page 3 and finishes."""
    for i in range(20):
        fz.ids.append(fz.add(f"More {i}", f"m{i}@x.test"))
    fail_listing_page(fz, 2)
    first = sync(sctx, fz)
    assert first.status == "failed" and state.get(sctx.db, state.RESUME)["run_id"] == first.run_id
    restore(fz)
    fail_listing_page(fz, 2)  # page 3 of the listing is the resumed run's second page
    second = sync(sctx, fz)
    assert (second.status, second.new) == ("failed", 20)
    resume = state.get(sctx.db, state.RESUME)
    assert resume["run_id"] == second.run_id and "page%5Bafter%5D=" + str(fz.ids[39]) in resume["cursors"][KEY]["next"]
    fz.forget(fz.ids[0])  # read by the first run: not absent, and gone now
    restore(fz)
    third = sync(sctx, fz, allow_deactivations=True)
    assert (third.status, third.new, third.deactivated) == ("completed", 10, 0)
    assert len(statuses(sctx)) == 50 and set(statuses(sctx).values()) == {"pending"}
    assert sync(sctx, fz, allow_deactivations=True).deactivated == 1


def test_a_changed_scope_starts_the_listing_again(sctx, fz):
    sync(sctx, fz)
    fail_listing_page(fz, 2)
    stopped = sync(sctx, fz)
    restore(fz)
    # Settings written without save_config (restored from a copy): the resume point stays.
    sctx.settings.set(SETTINGS_KEY, {**sctx.settings.get(SETTINGS_KEY), "roles": ["agent"]})
    assert state.get(sctx.db, state.RESUME)["run_id"] == stopped.run_id
    before = len(fz.requests)
    events, progress = progress_list()
    result = sync(sctx, fz, progress=progress)
    assert result.status == "completed" and "resume" not in [e.phase for e in events]
    assert [p for _, p in fz.requests[before:]] == [LISTING, LISTING]


def test_planned_deactivations_of_a_stopped_run_are_adopted_or_dropped(sctx, fz):
    sync(sctx, fz)
    fz.touch(fz.ids[0], suspended=True)  # page 1: planned by the run that stops
    fail_listing_page(fz, 2)
    stopped = sync(sctx, fz)
    planned = sctx.db.query("SELECT id FROM user_changes WHERE run_id = ? AND state = 'planned'", (stopped.run_id,))
    assert len(planned) == 1
    restore(fz)
    resumed = sync(sctx, fz)
    assert (resumed.status, resumed.deactivated) == ("completed", 1)
    assert sctx.db.scalar("SELECT run_id FROM user_changes WHERE id = ?", (planned[0]["id"],)) == resumed.run_id
    fz.touch(fz.ids[1], suspended=True)
    fail_listing_page(fz, 2)
    stopped = sync(sctx, fz)
    restore(fz)
    save_config(sctx, SyncConfig(roles=["agent"]))
    fz.touch(fz.ids[1], suspended=False)
    sync(sctx, fz)
    assert sctx.db.scalar("SELECT state FROM user_changes WHERE run_id = ?", (stopped.run_id,)) == "discarded"


def test_a_finished_listing_is_not_read_again_when_resumed(ctx, fz):
    """Admins and custom role 7 are two listings; the second one stops, the first is done."""
    ctx.extras["sync_is_admin"] = False
    save_config(ctx, SyncConfig(roles=["admin", "custom:7"]))
    for i in range(3):
        fz.add(f"Admin {i}", f"adm{i}@x.test", role="admin")
    for i in range(25):
        fz.add(f"Tier {i}", f"t{i}@x.test", custom_role_id=7)
    handle = fz.handle
    failing: list = [True]
    fz.handle = lambda request: httpx.Response(500) if (
        failing and "page%5Bafter%5D" in str(request.url) and "permission_set" in str(request.url)) else handle(request)
    assert sync(ctx, fz).status == "failed"
    cursors = state.get(ctx.db, state.RESUME)["cursors"]
    assert cursors["role:admin"] == {"next": None, "done": True}
    assert cursors["permission_set:7"]["done"] is False
    failing.clear()
    recorded = urls(fz)
    result = sync(ctx, fz)
    assert (result.status, result.new) == ("completed", 5)
    assert [u for u in recorded if "users.json" in u] == [cursors["permission_set:7"]["next"]]


# -- reading: pages, skipped entries, dry runs -----------------------------------------------
def add_to_each_listing_page(fz, *entries: dict) -> None:
    handle = fz.handle

    def patched(request):
        response = handle(request)
        if request.url.path != LISTING:
            return response
        body = response.json()
        return httpx.Response(200, json={**body, "users": [*body["users"], *entries]})

    fz.handle = patched


def test_entries_without_an_id_are_reported_and_nobody_is_absent(sctx, fz, caplog):
    sync(sctx, fz)
    fz.forget(fz.ids[0])
    add_to_each_listing_page(fz, {"name": "No id"}, {"id": "x"})
    events, progress = progress_list()
    with caplog.at_level(logging.INFO, logger="evalsync.sync"):
        result = sync(sctx, fz, progress=progress, allow_deactivations=True)
    assert (result.status, result.deactivated) == ("completed", 0)
    assert (f"sync run {result.run_id}: 4 Zendesk users without a usable id were skipped; nobody is deactivated "
            "as absent this time") in caplog.messages
    assert ("fetch", "4 users from Zendesk were skipped (no usable id)") in [(e.phase, e.message) for e in events]
    assert statuses(sctx)[fz.ids[0]] == "pending"


def test_a_dry_run_counts_what_a_run_would_do_and_writes_nothing_but_its_row(sctx, fz):
    sync(sctx, fz)
    fz.touch(fz.ids[0], name="Renamed")
    fz.touch(fz.ids[4], name="Renamed too")
    fz.touch(fz.ids[1], suspended=True)
    fz.touch(fz.ids[2])  # a new updated_at only: refreshed silently, not an update
    fz.forget(fz.ids[3])
    new = fz.add("Newbie", "newbie@x.test")
    before = sctx.db.query("SELECT * FROM users ORDER BY id")
    result = sync(sctx, fz, dry_run=True)
    assert (result.status, result.new, result.updated, result.deactivated, result.held, result.dry_run) == (
        "completed", 1, 2, 2, 0, True)
    by_action = sorted((p["action"], p["zendesk_id"]) for p in result.planned)
    assert by_action == sorted([("create", new), ("update", fz.ids[0]), ("update", fz.ids[2]), ("update", fz.ids[4]),
                                ("deactivate", fz.ids[1]), ("deactivate", fz.ids[3])])
    gone = [p for p in result.planned if p["zendesk_id"] == fz.ids[3]]
    assert gone[0]["reason_code"] == "gone"
    row = run_row(sctx, result.run_id)
    assert (row["n_new"], row["n_updated"], row["n_deactivated"], row["n_held"], row["dry_run"]) == (1, 2, 2, 0, 1)
    assert sctx.db.query("SELECT * FROM users ORDER BY id") == before


def test_a_dry_run_holds_like_a_run_and_allow_lifts_it(sctx, fz):
    sync(sctx, fz)
    suspend_first(fz, 12)  # more than 10 and more than 20%: the default guard holds them
    held = sync(sctx, fz, dry_run=True)
    assert (held.status, held.held, held.deactivated, held.exit_code) == ("held", 12, 0, 3)
    assert run_row(sctx, held.run_id)["n_held"] == 12
    allowed = sync(sctx, fz, dry_run=True, allow_deactivations=True)
    assert (allowed.status, allowed.held, allowed.deactivated, allowed.exit_code) == ("completed", 0, 12, 0)
    assert set(statuses(sctx).values()) == {"pending"}


def test_a_dry_run_follows_the_configured_limit(sctx, fz):
    sync(sctx, fz)
    save_config(sctx, SyncConfig(roles=["agent", "admin"], deactivation_limit="0"))
    result = sync(sctx, fz, dry_run=True)
    assert (result.status, result.held, result.deactivated) == ("completed", 0, 0)
    fz.touch(fz.ids[0], suspended=True)
    result = sync(sctx, fz, dry_run=True)
    assert (result.status, result.held, result.deactivated, result.exit_code) == ("held", 1, 0, 3)


def test_a_dry_export_plans_no_absent_users(sctx, fz):
    sctx.extras["sync_is_admin"] = True
    sync(sctx, fz)
    fz.forget(fz.ids[0])
    fz.touch(fz.ids[1], suspended=True)
    result = sync(sctx, fz, dry_run=True)
    assert (result.mode, result.deactivated) == ("incremental", 1)
    assert [p["zendesk_id"] for p in result.planned if p["action"] == "deactivate"] == [fz.ids[1]]


def test_a_dry_run_with_skipped_entries_plans_no_absent_users(sctx, fz):
    sync(sctx, fz)
    fz.forget(fz.ids[0])
    add_to_each_listing_page(fz, {"name": "No id"})
    result = sync(sctx, fz, dry_run=True)
    assert (result.status, result.deactivated, result.planned) == ("completed", 0, [])


def test_a_dry_run_counts_a_user_repeated_on_two_pages_once(sctx, fz):
    handle = fz.handle

    def repeat(request):
        response = handle(request)
        if request.url.path == LISTING and "page[after]" in request.url.params:
            body = response.json()
            body["users"].append(fz._visible(fz.users[fz.ids[0]]))
            return httpx.Response(200, json=body)
        return response

    fz.handle = repeat
    result = sync(sctx, fz, dry_run=True)
    assert (result.new, len(result.planned)) == (30, 30)


def test_a_dry_run_reads_from_the_start_and_leaves_the_resume_point(sctx, fz):
    sync(sctx, fz)
    fail_listing_page(fz, 2)
    stopped = sync(sctx, fz)
    resume = state.get(sctx.db, state.RESUME)
    restore(fz)
    fz.forget(fz.ids[0])
    before = len(fz.requests)
    dry = sync(sctx, fz, dry_run=True)
    assert (dry.status, dry.deactivated) == ("completed", 1)
    assert [p for _, p in fz.requests[before:]] == [LISTING, LISTING]
    assert state.get(sctx.db, state.RESUME) == resume and resume["run_id"] == stopped.run_id


def test_a_cancelled_dry_run_is_cancelled(sctx, fz):
    result = sync(sctx, fz, dry_run=True, is_cancelled=lambda: True)
    assert (result.status, result.exit_code, result.new) == ("cancelled", 130, 0)


# -- the export: cursor, pacing, a refused cursor -------------------------------------------------
def test_the_export_continues_from_its_stored_cursor(sctx, fz, monkeypatch):
    sctx.extras["sync_is_admin"] = True
    now = int(time.time())
    freeze_time(monkeypatch, now + 0.75)
    recorded = urls(fz)
    sync(sctx, fz)
    inc = state.get(sctx.db, state.INCREMENTAL)
    assert inc == {"after_url": None, "signature": load_config(sctx).signature, "start_time": now - 300}
    monkeypatch.undo()
    fz.touch(fz.ids[0], name="Renamed")
    first = sync(sctx, fz)
    assert (first.mode, first.updated) == ("incremental", 1)
    assert f"start_time={now - 300}" in recorded[-1]
    inc = state.get(sctx.db, state.INCREMENTAL)
    assert inc["start_time"] == now - 300 and inc["after_url"] and "cursor=" in inc["after_url"]
    fz.touch(fz.ids[1], name="Renamed too")
    second = sync(sctx, fz)
    assert second.updated == 1 and recorded[-1] == inc["after_url"]


def test_the_first_export_starts_a_margin_before_the_listing(sctx, fz, monkeypatch):
    sctx.extras["sync_is_admin"] = True
    freeze_time(monkeypatch, 100.0)  # a clock near the epoch: the start is never negative
    sync(sctx, fz)
    assert state.get(sctx.db, state.INCREMENTAL)["start_time"] == 0


def test_a_forced_listing_keeps_the_export_cursor(sctx, fz):
    sctx.extras["sync_is_admin"] = True
    sync(sctx, fz)
    fz.touch(fz.ids[0], name="Renamed")
    sync(sctx, fz)
    inc = state.get(sctx.db, state.INCREMENTAL)
    sync(sctx, fz, full=True)
    assert state.get(sctx.db, state.INCREMENTAL) == inc


class FakeClock:
    """A monotonic clock that only moves when something sleeps on it."""

    def __init__(self) -> None:
        self.now, self.slept = 1000.0, []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
        assert sum(self.slept) < 3600, "still waiting after an hour on the fake clock"


def five_changes_on_three_export_pages(sctx, fz, monkeypatch) -> None:
    """An admin sync is due to export 5 changes, 2 a page, at 1 request a minute."""
    sctx.extras["sync_is_admin"] = True
    sync(sctx, fz)
    for uid in fz.ids[:5]:
        fz.touch(uid, name=f"R {uid}")
    monkeypatch.setattr(fetch, "INCREMENTAL_PAGE_SIZE", 2)
    monkeypatch.setattr(fetch, "INCREMENTAL_PER_MINUTE", 1)


def assert_paced(result, events, clock, client) -> None:
    assert (result.mode, result.status, result.updated, result.requests) == ("incremental", "completed", 5, 3)
    waits = [e for e in events if e.phase == "waiting"]
    assert len(waits) == 2 and sum(clock.slept) == pytest.approx(2 * 61.0)
    assert waits[0].wait_reason == ("Zendesk's incremental export allows 1 requests a minute; "
                                    "waiting 61s before the next page")
    assert waits[0].waiting_seconds == pytest.approx(61.0)
    assert client._pacers == []  # the pacer goes with the run


def test_the_export_is_paced_on_the_runners_clock_and_the_wait_is_shown(sctx, fz, monkeypatch):
    five_changes_on_three_export_pages(sctx, fz, monkeypatch)
    clock = FakeClock()
    monkeypatch.setattr(runner, "time", types.SimpleNamespace(time=time.time, monotonic=clock.monotonic,
                                                              sleep=clock.sleep))
    events, progress = progress_list()
    client = client_for(fz)
    assert_paced(sync(sctx, fz, client=client, progress=progress), events, clock, client)


def test_a_caller_may_pace_the_export_on_its_own_clock(sctx, fz, monkeypatch):
    five_changes_on_three_export_pages(sctx, fz, monkeypatch)

    def no_real_sleep(seconds):
        raise AssertionError("slept on the real clock")

    monkeypatch.setattr(runner, "time", types.SimpleNamespace(time=time.time, monotonic=lambda: 0.0,
                                                              sleep=no_real_sleep))
    clock = FakeClock()
    sctx.extras.update(pace_clock=clock.monotonic, pace_sleep=clock.sleep)
    events, progress = progress_list()
    client = client_for(fz)
    assert_paced(sync(sctx, fz, client=client, progress=progress), events, clock, client)


def test_a_cancel_during_a_pacing_wait_stops_before_the_next_request(sctx, fz, monkeypatch):
    five_changes_on_three_export_pages(sctx, fz, monkeypatch)
    clock = FakeClock()
    cancel: list = []

    def sleep(seconds):
        cancel.append(True)
        clock.sleep(seconds)

    sctx.extras.update(pace_clock=clock.monotonic, pace_sleep=sleep)
    result = sync(sctx, fz, is_cancelled=lambda: bool(cancel))
    assert (result.status, result.exit_code, result.requests) == ("cancelled", 130, 1)


def refuse_export_cursor(fz) -> None:
    handle = fz.handle

    def patched(request):
        if request.url.path == EXPORT and "cursor" in request.url.params:
            return httpx.Response(400, json={"error": "InvalidCursor", "description": "cursor expired"})
        return handle(request)

    fz.handle = patched


def test_a_refused_export_cursor_becomes_a_full_listing(sctx, fz, caplog, monkeypatch):
    sctx.extras["sync_is_admin"] = True
    sync(sctx, fz)
    fz.touch(fz.ids[0], name="Renamed")
    sync(sctx, fz)  # stores an export cursor
    fz.touch(fz.ids[1], name="Renamed too")
    fz.forget(fz.ids[2])
    refuse_export_cursor(fz)
    now = int(time.time())
    freeze_time(monkeypatch, now + 0.75)
    events, progress = progress_list()
    with caplog.at_level(logging.INFO, logger="evalsync.sync"):
        result = sync(sctx, fz, progress=progress, allow_deactivations=True)
    assert (result.status, result.mode, result.updated, result.deactivated) == ("completed", "full", 1, 1)
    assert run_row(sctx, result.run_id)["mode"] == "full"
    assert ("start", "full sync started (the export cursor was refused)") in [(e.phase, e.message) for e in events]
    assert any(m.startswith(f"sync run {result.run_id}: the export cursor was refused (Zendesk refused GET {EXPORT} "
                            "(400") and m.endswith("; switching to a full listing") for m in caplog.messages)
    assert state.get(sctx.db, state.INCREMENTAL) == {"after_url": None, "signature": load_config(sctx).signature,
                                                     "start_time": now - 300}
    monkeypatch.undo()
    restore(fz)
    assert sync(sctx, fz).mode == "incremental"


def test_a_refused_export_cursor_fails_a_dry_run(sctx, fz):
    sctx.extras["sync_is_admin"] = True
    sync(sctx, fz)
    fz.touch(fz.ids[0], name="Renamed")
    sync(sctx, fz)
    refuse_export_cursor(fz)
    result = sync(sctx, fz, dry_run=True)
    assert (result.status, result.mode, result.exit_code) == ("failed", "incremental", 5)
    assert result.error.startswith(f"Zendesk refused GET {EXPORT} (400")


def test_an_export_that_fails_otherwise_is_not_turned_into_a_listing(sctx, fz):
    sctx.extras["sync_is_admin"] = True
    sync(sctx, fz)
    handle = fz.handle
    fz.handle = lambda request: httpx.Response(422, json={"error": "nope"}) if request.url.path == EXPORT \
        else handle(request)
    recorded = urls(fz)
    result = sync(sctx, fz)
    assert (result.status, result.mode, result.error) == ("failed", "incremental",
                                                          f"Zendesk refused GET {EXPORT} (422: nope).")
    assert [u.split("?")[0] for u in recorded] == [BASE + EXPORT]


# -- custom-role names ---------------------------------------------------------------------------
def answer_roles(fz, names: dict[int, str]) -> list:
    handle = fz.handle
    asked: list = []

    def patched(request):
        if request.url.path == ROLES:
            asked.append(True)
            return httpx.Response(200, json={"custom_roles": [{"id": k, "name": v} for k, v in names.items()],
                                             "next_page": None})
        return handle(request)

    fz.handle = patched
    return asked


def test_custom_role_names_are_read_once_and_written_on_the_users(sctx, fz):
    for uid in fz.ids[::2]:
        fz.users[uid]["custom_role_id"] = 7
    asked = answer_roles(fz, {7: "Tier 1"})
    statements = traced(sctx)
    assert sync(sctx, fz).status == "completed"
    sctx.db.connect().set_trace_callback(None)
    assert len(asked) == 1
    # A first import writes each name with its row: no pass over the directory afterwards.
    assert [q for q in statements if q.startswith("UPDATE users SET custom_role_name")] == []
    names = {r["custom_role_name"] for r in sctx.db.query("SELECT custom_role_name FROM users WHERE custom_role_id = 7")}
    assert names == {"Tier 1"}
    assert state.get(sctx.db, "custom_roles")["names"] == {"7": "Tier 1"}
    asked = answer_roles(fz, {7: "Tier One"})
    assert sync(sctx, fz).status == "completed"
    names = {r["custom_role_name"] for r in sctx.db.query("SELECT custom_role_name FROM users WHERE custom_role_id = 7")}
    assert names == {"Tier One"} and len(asked) == 1


def test_no_role_names_are_read_when_no_role_matters(sctx, fz):
    asked = answer_roles(fz, {7: "Tier 1"})
    assert sync(sctx, fz).status == "completed" and asked == []
    assert sync(sctx, fz, dry_run=True).status == "completed" and asked == []


# -- guard ---------------------------------------------------------------------------------------
def test_allowed_deactivations_are_applied_however_many(sctx, fz):
    sync(sctx, fz)
    suspend_first(fz, 12)  # more than 10 and more than 20%: the default guard holds them
    result = sync(sctx, fz, allow_deactivations=True)
    assert (result.status, result.deactivated, result.held, result.exit_code) == ("completed", 12, 0, 0)
    assert list(statuses(sctx).values()).count("deactivated") == 12


def test_a_zero_limit_holds_a_single_deactivation_but_nothing_planned_completes(sctx, fz):
    save_config(sctx, SyncConfig(roles=["agent", "admin"], deactivation_limit="0"))
    assert sync(sctx, fz).status == "completed"
    assert sync(sctx, fz).status == "completed"
    fz.touch(fz.ids[0], suspended=True)
    result = sync(sctx, fz)
    assert (result.status, result.held, result.exit_code) == ("held", 1, 3)
    assert run_row(sctx, result.run_id)["status"] == "held"


def test_a_user_added_by_hand_between_two_listings_is_matched_not_duplicated(ctx):
    """Bug found by mutation testing: per-group facts (the next row id, the unlinked rows) were
    cached by a group number that starts again at 1 in each listing, so the second listing's
    first group used the first listing's facts: a row added in between (another window) was
    not matched by e-mail, and its id was handed out again (the run failed on a database error)."""
    import sqlite3

    ctx.extras["sync_is_admin"] = False
    save_config(ctx, SyncConfig(roles=["admin", "custom:7"]))
    fz = FakeZendesk()
    fz.add("Admin", "admin@x.test", role="admin")
    tier = [fz.add(f"Tier {i}", f"t{i}@x.test", custom_role_id=7) for i in range(3)]
    fz.seeding = False
    handle = fz.handle

    def add_by_hand_before_the_second_listing(request):
        if "permission_set" in str(request.url) and not ctx.db.query("SELECT 1 FROM users WHERE source = 'manual'"):
            other = sqlite3.connect(ctx.db.path)
            with other:
                other.execute("INSERT INTO users (name, email, status, source) "
                              "VALUES ('Tier Zero', 'T0@x.test', 'active', 'manual')")
            other.close()
        return handle(request)

    fz.handle = add_by_hand_before_the_second_listing
    result = sync(ctx, fz)
    assert (result.status, result.error, result.new) == ("completed", None, 3)
    rows = ctx.db.query("SELECT name, zendesk_id, status FROM users WHERE email LIKE 't0@%' COLLATE NOCASE")
    assert [tuple(r) for r in rows] == [("Tier 0", tier[0], "active")]  # linked; the name follows Zendesk


# -- finishing: what the next run starts from -------------------------------------------------------
def test_a_resumed_listing_exports_from_before_its_first_part_began(sctx, fz, monkeypatch):
    sctx.extras["sync_is_admin"] = True
    began = float(int(time.time()) - 7200)
    freeze_time(monkeypatch, began)
    fail_listing_page(fz, 2)
    assert sync(sctx, fz).status == "failed"
    restore(fz)
    freeze_time(monkeypatch, began + 3600)
    assert sync(sctx, fz).status == "completed"
    assert state.get(sctx.db, state.INCREMENTAL)["start_time"] == int(began) - 300
    assert state.get(sctx.db, state.LAST_FULL_AT) == began + 3600


def test_an_export_cursor_of_another_configuration_is_replaced(sctx, fz):
    sctx.extras["sync_is_admin"] = True
    sync(sctx, fz)
    fz.touch(fz.ids[0], name="Renamed")
    sync(sctx, fz)
    # Settings written without save_config (restored from a copy): the old cursor is still stored.
    sctx.settings.set(SETTINGS_KEY, {**sctx.settings.get(SETTINGS_KEY), "roles": ["agent"]})
    assert sync(sctx, fz).mode == "full"
    inc = state.get(sctx.db, state.INCREMENTAL)
    assert inc["signature"] == load_config(sctx).signature and inc["after_url"] is None
    assert sync(sctx, fz).mode == "incremental"


def test_a_renamed_custom_role_is_renamed_on_users_the_export_did_not_return(sctx, fz):
    sctx.extras["sync_is_admin"] = True
    tier = fz.ids[:3]
    for uid in tier:
        fz.users[uid]["custom_role_id"] = 7
    answer_roles(fz, {7: "Tier 1"})
    sync(sctx, fz)
    put_state(sctx, "custom_roles", {**state.get(sctx.db, "custom_roles"), "fetched_at": time.time() - 2 * 86400})
    fz.touch(tier[0], name="Renamed")  # the export returns this one only
    restore(fz)
    asked = answer_roles(fz, {7: "Tier One"})
    assert sync(sctx, fz).mode == "incremental" and len(asked) == 1
    names = [r["custom_role_name"] for r in sctx.db.query(
        "SELECT custom_role_name FROM users WHERE custom_role_id = 7 ORDER BY zendesk_id")]
    assert names == ["Tier One"] * 3


def test_a_deactivation_is_stamped_with_the_time_of_the_run(sctx, fz):
    sync(sctx, fz)
    fz.forget(fz.ids[0])
    before = runs.now_iso()
    result = sync(sctx, fz)
    after = runs.now_iso()
    user = sctx.db.query("SELECT id, updated_at, deactivation_reason FROM users WHERE zendesk_id = ?",
                         (fz.ids[0],))[0]
    change = sctx.db.query("SELECT at, state FROM user_changes WHERE run_id = ? AND user_id = ?",
                           (result.run_id, user["id"]))[0]
    assert (change["state"], user["deactivation_reason"]) == (
        "applied", "no longer in Zendesk (absent from a complete listing)")
    assert before <= user["updated_at"] <= after and before <= change["at"] <= after


# -- the database while a run reads -------------------------------------------------------------------
def test_another_window_can_write_while_the_sync_waits_for_zendesk(sctx, fz, monkeypatch):
    """The group's write lock is let go when the next page is slow (never held across a wait)."""
    import sqlite3
    import threading

    monkeypatch.setattr(fetch, "PAGE_SIZE", 10)  # three pages
    second_applied = threading.Event()
    wrote: list = []
    handle = fz.handle

    def slow_third_page(request):
        if request.url.path == LISTING and f"page%5Bafter%5D={fz.ids[19]}" in str(request.url):
            assert second_applied.wait(10)
            other = sqlite3.connect(sctx.db.path, timeout=3)
            try:
                with other:
                    other.execute("INSERT INTO users (name, email, status, source) "
                                  "VALUES ('Typed in', 'typed@x.test', 'active', 'manual')")
                wrote.append("ok")
            except sqlite3.OperationalError as exc:
                wrote.append(str(exc))
            finally:
                other.close()
        return handle(request)

    fz.handle = slow_third_page

    def progress(p):
        if p.phase == "fetch" and p.pages == 2:
            second_applied.set()

    assert sync(sctx, fz, progress=progress).status == "completed"
    assert wrote == ["ok"]


def traced(ctx) -> list[str]:
    """Every statement this thread's connection runs from now on (the sync applies pages here)."""
    statements: list[str] = []
    ctx.db.connect().set_trace_callback(statements.append)
    return statements


def test_a_first_import_looks_nobody_up_and_reads_the_next_id_once_per_group(sctx, fz, monkeypatch):
    monkeypatch.setattr(fetch, "PAGE_SIZE", 5)  # six pages
    statements = traced(sctx)
    result = sync(sctx, fz)
    sctx.db.connect().set_trace_callback(None)
    assert (result.new, run_row(sctx, result.run_id)["n_seen"]) == (30, 30)
    groups = [q for q in statements if q.startswith("UPDATE sync_runs SET n_new =") and "n_seen = n_seen +" in q]
    next_ids = [q for q in statements if "max(id) FROM users" in q]  # IdAllocator: the first free id
    unlinked = [q for q in statements if "FROM users WHERE zendesk_id IS NULL ORDER BY id DESC" in q]
    lookups = [q for q in statements if "WHERE zendesk_id IN" in q and q.lstrip().upper().startswith("SELECT")]
    assert len(next_ids) == len(unlinked) == len(groups) < 6 and lookups == []


def test_held_rows_are_looked_for_on_each_page_only_while_some_are_held(sctx, fz):
    sync(sctx, fz)
    expiring = "UPDATE user_changes SET state = 'discarded' WHERE state = 'held' AND user_id IN"
    statements = traced(sctx)
    sync(sctx, fz)
    assert [q for q in statements if q.startswith(expiring)] == []
    suspend_first(fz, 12)
    assert sync(sctx, fz).status == "held"
    for uid in fz.ids[:12]:
        fz.touch(uid, suspended=False)
    statements.clear()
    assert sync(sctx, fz).status == "completed"
    sctx.db.connect().set_trace_callback(None)
    assert [q for q in statements if q.startswith(expiring)] != []
    assert runs.held_deactivations(sctx) == []


def test_a_run_that_dies_after_a_page_leaves_its_counts_and_is_resumed(sctx, fz):
    """A crash (here: SystemExit from the window) keeps the committed page, its cursor and counts."""
    def die_after_the_first_page(p):
        if p.phase == "fetch":
            raise SystemExit(1)

    with pytest.raises(SystemExit):
        sync(sctx, fz, progress=die_after_the_first_page)
    row = sctx.db.query("SELECT * FROM sync_runs")[0]
    assert (row["status"], row["n_new"], row["n_updated"], row["n_seen"]) == ("running", 20, 0, 20)
    assert row["requests"] in (1, 2)  # the second page may have been fetched ahead
    assert state.get(sctx.db, state.RESUME)["cursors"][KEY]["done"] is False
    result = sync(sctx, fz)
    assert (result.status, result.new) == ("completed", 10)
    assert run_row(sctx, row["id"])["status"] == "interrupted"


def test_a_hand_made_row_with_an_identifier_is_still_matched_by_e_mail_in_the_default_mode(sctx, fz):
    with sctx.db.transaction() as conn:
        conn.execute("INSERT INTO users (name, email, identifier, status, source) "
                     "VALUES ('From CSV', 'A5@x.test', 'EMP-5', 'active', 'csv')")
    assert sync(sctx, fz).new == 29
    row = sctx.db.query("SELECT zendesk_id, status, source FROM users WHERE identifier = 'EMP-5'")[0]
    assert tuple(row) == (fz.ids[5], "active", "csv")


def test_an_export_with_fresh_role_names_does_not_ask_for_them(sctx, fz):
    sctx.extras["sync_is_admin"] = True
    fz.users[fz.ids[0]]["custom_role_id"] = 7
    asked = answer_roles(fz, {7: "Tier 1"})
    sync(sctx, fz)
    assert len(asked) == 1
    fz.touch(fz.ids[0], name="Renamed")
    assert sync(sctx, fz).mode == "incremental" and len(asked) == 1


def test_users_an_export_read_before_its_cursor_was_refused_are_checked_by_the_listing(sctx, fz, monkeypatch):
    """The export marks nobody as seen: a user it returned and who is gone from the full listing
    that replaces it is absent like anyone else."""
    sctx.extras["sync_is_admin"] = True
    sync(sctx, fz)
    gone = fz.ids[0]
    for uid in fz.ids[:3]:
        fz.touch(uid, name=f"R {uid}")
    monkeypatch.setattr(fetch, "INCREMENTAL_PAGE_SIZE", 2)
    handle = fz.handle
    exports: list = []

    def refuse_the_second_export_page(request):
        if request.url.path == EXPORT:
            exports.append(request)
            if len(exports) == 2:
                fz.forget(gone)  # deleted for good while the export ran
                return httpx.Response(400, json={"error": "InvalidCursor"})
        return handle(request)

    fz.handle = refuse_the_second_export_page
    result = sync(sctx, fz, allow_deactivations=True)
    assert (result.status, result.mode, result.deactivated) == ("completed", "full", 1)
    assert statuses(sctx)[gone] == "deactivated"


def test_a_custom_role_in_the_scope_has_its_name_read_even_when_nobody_has_it_yet(ctx, fz):
    """The scope's own words ("agents with the custom role Tier 1") need the name."""
    ctx.extras["sync_is_admin"] = False
    save_config(ctx, SyncConfig(roles=["agent", "custom:7"]))
    asked = answer_roles(fz, {7: "Tier 1"})
    assert sync(ctx, fz).status == "completed" and len(asked) == 1
    assert state.get(ctx.db, "custom_roles")["names"] == {"7": "Tier 1"}


def test_one_unlinked_row_is_linked_to_one_zendesk_user_across_pages(sctx, fz, monkeypatch):
    """An address that moved from one Zendesk user to another during the listing: the hand-made
    row goes to the first, the second is a new row, in a dry run and in a run."""
    monkeypatch.setattr(fetch, "PAGE_SIZE", 10)  # pages 2 and 3 share a group
    first, second = fz.ids[12], fz.ids[25]
    fz.users[second]["email"] = fz.users[first]["email"]
    with sctx.db.transaction() as conn:
        conn.execute("INSERT INTO users (name, email, status, source) VALUES ('Hand', 'A12@x.test', 'active', 'manual')")
    dry = sync(sctx, fz, dry_run=True)
    assert (dry.new, dry.updated) == (29, 1)
    assert sync(sctx, fz).new == 29
    rows = sctx.db.query("SELECT zendesk_id, source FROM users WHERE email LIKE 'a12@x.test' ORDER BY id")
    assert [tuple(r) for r in rows] == [(first, "manual"), (second, "zendesk")]


def test_a_dry_run_matches_hand_made_rows_like_a_run(sctx, fz):
    with sctx.db.transaction() as conn:
        conn.execute("INSERT INTO users (name, email, identifier, status, source) "
                     "VALUES ('From CSV', 'A5@x.test', 'EMP-5', 'active', 'csv')")
    dry = sync(sctx, fz, dry_run=True)
    assert (dry.new, dry.updated) == (29, 1)
    linked = [p for p in dry.planned if p["zendesk_id"] == fz.ids[5]]
    assert [(p["action"], p["name"]) for p in linked] == [("update", "Agent 5")]
