"""The sync engine end to end against the in-memory fake Zendesk (real SQLite)."""

from __future__ import annotations

import httpx
import pytest

from evalsync_gui.core.errors import SyncLocked
from evalsync_gui.core.sync import runs
from evalsync_gui.core.sync.config import SyncConfig, load_config, save_config
from evalsync_gui.core.sync.lock import SyncLock
from evalsync_gui.core.sync.runner import run_sync
from tests.core.sync_fake import FakeZendesk, client_for


@pytest.fixture
def fz():
    f = FakeZendesk()
    f.ids = [f.add(f"Agent {i}", f"a{i}@x.test") for i in range(120)]
    f.admin = f.add("Boss", "boss@x.test", role="admin")
    f.add("Customer", "c@x.test", role="end-user")
    f.seeding = False
    return f


@pytest.fixture
def sctx(ctx):
    ctx.extras["sync_is_admin"] = True
    save_config(ctx, SyncConfig(roles=["agent", "admin"]))
    return ctx


def sync(ctx, fz, **kw):
    return run_sync(ctx, client=client_for(fz), **kw)


def users(ctx):
    return {r["zendesk_id"]: dict(r) for r in ctx.db.query("SELECT * FROM users")}


def test_initial_then_nothing_changed(sctx, fz):
    r = sync(sctx, fz)
    assert (r.status, r.mode, r.new, r.requests) == ("completed", "full", 121, 2)
    assert all(u["status"] == "pending" for u in users(sctx).values())
    r = sync(sctx, fz)
    assert (r.mode, r.requests, r.new, r.updated, r.deactivated) == ("incremental", 1, 0, 0, 0)
    assert all(m == "GET" for m, _ in fz.requests)


def test_changes_follow_zendesk_incremental(sctx, fz):
    sync(sctx, fz)
    fz.touch(fz.ids[0], name="Renamed", email="NEW@x.test")
    fz.touch(fz.ids[1], suspended=True)
    fz.touch(fz.ids[2], role="end-user")
    fz.touch(fz.ids[3], active=False)
    r = sync(sctx, fz)
    assert (r.mode, r.updated, r.deactivated) == ("incremental", 1, 3)
    u = users(sctx)
    assert u[fz.ids[0]]["name"] == "Renamed" and len(u) == 121
    assert "suspended" in u[fz.ids[1]]["deactivation_reason"]
    fz.touch(fz.ids[1], suspended=False)
    r = sync(sctx, fz)
    u = users(sctx)[fz.ids[1]]
    assert (u["status"], u["flag"]) == ("pending", "returned")


def test_full_and_incremental_give_identical_directories(ctx, fz, tmp_path):
    from evalsync_gui.core.context import AppContext

    other = AppContext.create(tmp_path / "other")
    for c, admin in ((ctx, True), (other, False)):
        c.extras["sync_is_admin"] = admin
        save_config(c, SyncConfig(roles=["agent", "admin"]))
        sync(c, fz)
    fz.touch(fz.ids[5], name="X"); fz.touch(fz.ids[6], active=False); fz.touch(fz.ids[7], role="end-user")
    fz.add("Newbie", "n@x.test")
    assert sync(ctx, fz).mode == "incremental" and sync(other, fz).mode == "full"
    cols = "zendesk_id, name, email, status, deactivated_by"
    assert ctx.db.query(f"SELECT {cols} FROM users ORDER BY zendesk_id") == other.db.query(
        f"SELECT {cols} FROM users ORDER BY zendesk_id")
    other.db.close()


def test_partial_read_deactivates_nobody_and_resumes(sctx, fz):
    sync(sctx, fz, full=True)
    for uid in fz.ids[:10]:
        fz.touch(uid, active=False)
    fz.fail_after = len(fz.requests) + 1  # the second page fails, after retries
    r = sync(sctx, fz, full=True, allow_deactivations=True)
    assert r.status == "failed" and r.exit_code == 5 and r.deactivated == 0
    assert all(u["status"] == "pending" for u in users(sctx).values())
    fz.fail_after = None
    before = len(fz.requests)
    r = sync(sctx, fz, full=True, allow_deactivations=True)
    assert r.status == "completed" and r.deactivated == 10
    listing = [path for _, path in fz.requests[before:] if path == "/api/v2/users.json"]
    assert len(listing) == 1  # resumed at the second page
    # One show_many look-up names why the absent users are absent: soft-deleted.
    assert [path for _, path in fz.requests[before:] if path != "/api/v2/users.json"] == ["/api/v2/users/show_many.json"]
    assert users(sctx)[fz.ids[0]]["deactivation_reason"] == "deleted in Zendesk"


def test_guard_holds_then_allow_and_discard(sctx, fz):
    sync(sctx, fz)
    for uid in fz.ids[:40]:
        fz.touch(uid, suspended=True)
    r = sync(sctx, fz)
    assert (r.status, r.held, r.deactivated, r.exit_code) == ("held", 40, 0, 3)
    assert len(runs.held_deactivations(sctx, r.run_id)) == 40
    assert runs.allow_held(sctx, r.run_id) == 40
    assert users(sctx)[fz.ids[0]]["status"] == "deactivated"
    for uid in fz.ids[40:80]:
        fz.touch(uid, suspended=True)
    r = sync(sctx, fz)
    assert r.status == "held" and runs.discard_held(sctx, r.run_id) == 40
    assert users(sctx)[fz.ids[50]]["status"] == "pending"


def test_hand_made_users_untouched_and_email_match_links(sctx, fz):
    with sctx.db.transaction() as conn:
        conn.execute("INSERT INTO users (name, email, status, source) VALUES ('Hand', 'hand@x.test', 'active', 'manual')")
        conn.execute("INSERT INTO users (name, email, status, source) VALUES ('Csv', 'A0@X.TEST', 'active', 'csv')")
    sync(sctx, fz, full=True, allow_deactivations=True)
    for uid in fz.ids:
        fz.touch(uid, active=False)
    sync(sctx, fz, full=True, allow_deactivations=True)
    rows = {r["name"]: dict(r) for r in sctx.db.query("SELECT * FROM users WHERE source != 'zendesk'")}
    assert rows["Hand"]["status"] == "active" and rows["Hand"]["zendesk_id"] is None
    assert rows["Agent 0"]["zendesk_id"] == fz.ids[0] and rows["Agent 0"]["status"] == "deactivated"


def test_dry_run_writes_nothing(sctx, fz):
    r = sync(sctx, fz, dry_run=True)
    assert r.dry_run and r.new == 121 and len(r.planned) == 121
    assert sctx.db.scalar("SELECT count(*) FROM users") == 0


def test_undo_run(sctx, fz):
    first = sync(sctx, fz)
    fz.touch(fz.ids[0], name="Renamed")
    fz.touch(fz.ids[1], active=False)
    second = sync(sctx, fz)
    counts = runs.undo_run(sctx, second.run_id)
    u = users(sctx)
    assert u[fz.ids[0]]["name"] == "Agent 0" and u[fz.ids[1]]["status"] == "pending"
    assert counts["reverted"] >= 1 and counts["reactivated"] == 1
    runs.undo_run(sctx, first.run_id)
    assert sctx.db.scalar("SELECT count(*) FROM users") == 0
    assert runs.get_run(sctx, first.run_id)["undone_at"]


def test_lock_blocks_second_sync_and_history(sctx, fz, tmp_path):
    with SyncLock(sctx.data_dir):
        with pytest.raises(SyncLocked):
            sync(sctx, fz)
    sync(sctx, fz)
    assert runs.list_runs(sctx)[0]["status"] == "completed"
    runs.export_runs_csv(sctx, tmp_path / "h.csv")
    assert (tmp_path / "h.csv").read_text().count("\n") > 100


def test_interrupted_runs_marked(sctx):
    runs.start_run(sctx.db, "cli", "full", False)
    assert runs.mark_interrupted_runs(sctx) == 1
    assert runs.list_runs(sctx)[0]["status"] == "interrupted"


def test_config_roundtrip_and_scope_change_forces_full(sctx, fz):
    sync(sctx, fz)
    cfg = load_config(sctx)
    cfg.roles = ["admin"]
    save_config(sctx, cfg)
    r = sync(sctx, fz, allow_deactivations=True)
    assert r.mode == "full" and r.deactivated == 120


def test_first_import_survives_a_user_repeated_on_a_later_page(sctx, fz):
    """A first import looks nobody up (it knows what it created), except a user seen before."""
    first = fz.ids[0]
    handle = fz.handle

    def repeat_on_page_two(request):
        response = handle(request)
        if request.url.path == "/api/v2/users.json" and "page[after]" in request.url.params:
            body = response.json()
            body["users"].append({**fz._visible(fz.users[first]), "name": "Agent 0 renamed"})
            return httpx.Response(200, json=body)
        return response

    fz.handle = repeat_on_page_two
    r = sync(sctx, fz)
    assert (r.status, r.new) == ("completed", 121)
    rows = [u for u in sctx.db.query("SELECT name FROM users WHERE zendesk_id = ?", (first,))]
    assert [u["name"] for u in rows] == ["Agent 0 renamed"]
