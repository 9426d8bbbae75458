"""Licence limit CLI, bulk actions on a selection (all of a view or ids), and the sync's wait reports."""

from __future__ import annotations

import json

import httpx
import pytest

from evalsync_gui.cli import main
from evalsync_gui.core import directory, user_selection
from evalsync_gui.core.errors import Cancelled, UsageError
from evalsync_gui.core.user_selection import Selection


def _pending(ctx, n: int) -> None:
    rows = [{"name": f"User {i:03d}", "email": f"u{i}@x.org"} for i in range(n)]
    directory.import_rows(ctx.db, ctx.settings, rows, default_status="pending")


def test_licences_show_json_and_set(ctx, capsys):
    _pending(ctx, 3)
    directory.activate(ctx.db, ctx.settings, [1, 2])
    assert main(["--data-dir", str(ctx.data_dir), "licences", "set", "5"]) == 0
    capsys.readouterr()
    assert main(["--data-dir", str(ctx.data_dir), "licences", "show", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"used": 2, "limit": 5, "free": 3}


@pytest.mark.parametrize("bad", ["0", "-3", "ten", "10000001"])
def test_licences_set_refuses_nonsense_with_usage_exit(ctx, capsys, bad):
    try:
        code = main(["--data-dir", str(ctx.data_dir), "licences", "set", "--", bad])
    except SystemExit as exc:  # argparse refuses what is not a whole number
        code = exc.code
    assert code == 2
    assert directory.licence_limit(ctx.settings) == directory.DEFAULT_LICENCES


def test_refusal_names_the_real_controls(ctx):
    _pending(ctx, 3)
    ctx.settings.set(directory.LICENCE_KEY, 1)
    with pytest.raises(UsageError) as err:
        user_selection.activate(ctx.db, ctx.settings, Selection(directory.View("pending")))
    assert "Change limit…" in str(err.value) and "evalsync licences set N" in str(err.value)
    assert "Settings" not in str(err.value)
    assert directory.counts(ctx.db)["active"] == 0


def test_activate_all_of_a_view_fits_the_first_in_view_order(ctx):
    _pending(ctx, 10)
    ctx.settings.set(directory.LICENCE_KEY, 4)
    view = directory.View("pending", search="User 00", sort="name", descending=True)
    sel = Selection(view)
    plan = user_selection.plan_activation(ctx.db, ctx.settings, sel)
    assert (plan.selected, plan.needing, plan.fits) == (10, 10, False)
    assert user_selection.activate(ctx.db, ctx.settings, sel, role="agent", fit=True) == 4
    active = sorted(u["name"] for u in directory.list_users(ctx.db, "active"))
    assert active == ["User 006", "User 007", "User 008", "User 009"]


def test_cancel_between_chunks_rolls_everything_back(ctx, monkeypatch):
    _pending(ctx, 50)
    monkeypatch.setattr(user_selection, "CHUNK", 10)
    seen: list[tuple[int, int]] = []
    with pytest.raises(Cancelled):
        user_selection.activate(ctx.db, ctx.settings, Selection(directory.View("pending")),
                                progress=lambda d, t: seen.append((d, t)), is_cancelled=lambda: len(seen) >= 2)
    assert seen == [(10, 50), (20, 50)]
    assert directory.counts(ctx.db)["active"] == 0
    assert ctx.db.scalar("SELECT count(*) FROM user_changes WHERE action = 'activate'") == 0


def test_deactivate_and_export_a_whole_view(ctx, tmp_path):
    _pending(ctx, 30)
    # "User 01" matches User 001 and User 010 to User 019
    assert user_selection.deactivate(ctx.db, Selection(directory.View("pending", search="User 01"))) == 11
    out = tmp_path / "x.csv"
    n = user_selection.export(ctx.db, out, directory.View("deactivated"), progress=lambda d, t: None)
    assert n == 11 and len(out.read_text(encoding="utf-8-sig").splitlines()) == 12


def test_export_cancel_leaves_no_file(ctx, tmp_path, monkeypatch):
    _pending(ctx, 30)
    monkeypatch.setattr(user_selection, "CHUNK", 5)
    out = tmp_path / "x.csv"
    with pytest.raises(Cancelled):
        user_selection.export(ctx.db, out, directory.View(None), is_cancelled=lambda: True)
    assert not out.exists() and not list(tmp_path.glob("*.part"))


def test_a_rate_limit_wait_is_reported_with_seconds_and_reason(ctx):
    """The sync's progress says why it waits and for how long while the HTTP client waits out a 429."""
    from evalsync_gui.core.sync.config import SyncConfig, save_config
    from evalsync_gui.core.sync.runner import run_sync
    from evalsync_gui.core.zendesk.http import ApiTokenAuth, RetryPolicy, ZendeskHttp
    from tests.core.sync_fake import BASE, FakeZendesk

    fz = FakeZendesk()
    fz.add("Agent", "a@x.test")
    fz.seeding = False
    ctx.extras["sync_is_admin"] = False
    save_config(ctx, SyncConfig(roles=["agent"]))
    answered = []

    def handler(request: httpx.Request) -> httpx.Response:
        answered.append(request.url.path)
        if len(answered) == 1:
            return httpx.Response(429, headers={"Retry-After": "43"}, json={"error": "TooManyRequests"})
        return fz.handle(request)

    client = ZendeskHttp(BASE, ApiTokenAuth("admin@acme.test", "x"), transport=httpx.MockTransport(handler),
                         retry=RetryPolicy(max_attempts=2, backoff_base=0.0, backoff_max=0.0), sleep=lambda s: None)
    reports = []
    result = run_sync(ctx, client=client, progress=reports.append)
    assert result.status == "completed"
    waits = [p for p in reports if p.waiting_seconds > 0]
    assert [(p.phase, p.waiting_seconds, p.wait_reason) for p in waits] == [("waiting", 43.0, "Zendesk's limit")]
    assert all(p.waiting_seconds == 0 and p.wait_reason == "" for p in reports if p.phase != "waiting")


def test_a_resumed_sync_says_so_before_its_first_page(ctx):
    """A run that picks up a stopped listing reports "resume", not "page 0 · 0 users"."""
    from evalsync_gui.core.sync.config import SyncConfig, save_config
    from evalsync_gui.core.sync.runner import run_sync
    from tests.core.sync_fake import FakeZendesk, client_for

    fz = FakeZendesk()
    for i in range(120):
        fz.add(f"Agent {i}", f"a{i}@x.test")
    fz.seeding = False
    ctx.extras["sync_is_admin"] = True
    save_config(ctx, SyncConfig(roles=["agent"]))
    fz.fail_after = 1  # the second page fails: the listing stops half-way
    assert run_sync(ctx, client=client_for(fz), full=True).status == "failed"
    fz.fail_after = None
    reports = []
    assert run_sync(ctx, client=client_for(fz), full=True, progress=reports.append).status == "completed"
    assert [p.phase for p in reports][:2] == ["start", "resume"]
    assert "resuming" in reports[1].message and reports[1].pages == 0
