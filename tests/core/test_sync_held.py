"""Issue 15, defects 1 and 10: held deactivations follow the newest read, and every planned or
held deactivation carries its real reason (``reason_code``, machine-readable)."""

from __future__ import annotations

import pytest

from evalsync_gui.core.sync import runs
from evalsync_gui.core.sync.config import SyncConfig, save_config
from evalsync_gui.core.sync.runner import run_sync
from tests.core.sync_fake import FakeZendesk, client_for


@pytest.fixture
def fz():
    f = FakeZendesk()
    f.ids = [f.add(f"Agent {i}", f"a{i}@x.test") for i in range(100)]
    f.seeding = False
    return f


def _ctx(ctx, admin: bool):
    ctx.extras["sync_is_admin"] = admin
    save_config(ctx, SyncConfig(roles=["agent", "admin"]))
    return ctx


@pytest.fixture(params=[False, True], ids=["listing", "export"])
def sctx(ctx, request):
    return _ctx(ctx, request.param)


def sync(ctx, fz, **kw):
    return run_sync(ctx, client=client_for(fz), **kw)


def status_of(ctx, zid) -> str:
    return ctx.db.scalar("SELECT status FROM users WHERE zendesk_id = ?", (zid,))


def all_statuses(ctx) -> set[str]:
    return {r["status"] for r in ctx.db.query("SELECT status FROM users")}


def test_held_rows_expire_when_the_users_are_fine_again(sctx, fz):
    assert sync(sctx, fz).status == "completed"
    for uid in fz.ids[:30]:
        fz.touch(uid, suspended=True)
    held = sync(sctx, fz)
    assert (held.status, held.held) == ("held", 30)
    for uid in fz.ids[:30]:
        fz.touch(uid, suspended=False)
    again = sync(sctx, fz)
    assert (again.status, again.deactivated, again.held) == ("completed", 0, 0)
    assert runs.held_deactivations(sctx) == []
    assert runs.allow_held(sctx, held.run_id) == 0
    assert all_statuses(sctx) == {"pending"}


def test_held_twice_lists_one_row_per_person_and_allow_applies_once(sctx, fz):
    sync(sctx, fz)
    for uid in fz.ids[:30]:
        fz.touch(uid, suspended=True)
    first = sync(sctx, fz, full=True)
    second = sync(sctx, fz, full=True)
    assert (first.held, second.held) == (30, 30)
    rows = runs.held_deactivations(sctx)
    assert len(rows) == 30 and len({r["user_id"] for r in rows}) == 30
    assert {r["reason_code"] for r in rows} == {"suspended"}
    allowed = sum(runs.allow_held(sctx, run_id) for run_id in {r["run_id"] for r in rows})
    assert allowed == 30
    assert sctx.db.scalar("SELECT count(*) FROM users WHERE status = 'deactivated'") == 30
    assert runs.allow_held(sctx, first.run_id) == 0 and runs.held_deactivations(sctx) == []


def test_held_rows_expire_when_back_in_scope_after_a_role_change(ctx, fz):
    sctx = _ctx(ctx, admin=True)
    sync(sctx, fz)
    for uid in fz.ids[:30]:
        fz.touch(uid, role="end-user")
    held = sync(sctx, fz)
    assert held.held == 30
    assert {r["reason_code"] for r in runs.held_deactivations(sctx)} == {"role_changed"}
    for uid in fz.ids[:30]:
        fz.touch(uid, role="agent")
    sync(sctx, fz)
    assert runs.held_deactivations(sctx) == []
    assert runs.allow_held(sctx, held.run_id) == 0 and all_statuses(sctx) == {"pending"}


def test_allow_never_deactivates_someone_present_in_the_newest_complete_listing(ctx, fz):
    """A held row of an older run (left by an older EvalSync) for a user a newer complete listing saw fine."""
    sctx = _ctx(ctx, admin=False)
    sync(sctx, fz)
    older = runs.start_run(sctx.db, "cli", "incremental", False)
    runs.finish_run(sctx.db, older, "held", 1, None)
    newest = sync(sctx, fz)
    assert newest.status == "completed"
    fine, gone = (sctx.db.scalar("SELECT id FROM users WHERE zendesk_id = ?", (z,)) for z in fz.ids[:2])
    with sctx.db.transaction() as conn:
        sctx.db.connect().execute("UPDATE users SET last_seen_run = ? WHERE id = ?", (older, gone))
        for uid in (fine, gone):
            conn.execute("INSERT INTO user_changes (run_id, user_id, action, field, old_value, new_value, reason, "
                         "state, at) VALUES (?, ?, 'deactivate', 'status', 'pending', 'deactivated', "
                         "'suspended in Zendesk', 'held', '2026-01-01T00:00:00Z')", (older, uid))
    assert runs.allow_held(sctx, older) == 1
    assert status_of(sctx, fz.ids[0]) == "pending" and status_of(sctx, fz.ids[1]) == "deactivated"
    assert runs.held_deactivations(sctx) == []


def test_held_absent_user_who_reappears_is_not_deactivated(ctx, fz):
    sctx = _ctx(ctx, admin=False)
    sync(sctx, fz)
    for uid in fz.ids[:30]:
        fz.users[uid]["active"] = False  # soft-deleted: no longer listed
    held = sync(sctx, fz)
    assert held.held == 30
    assert {r["reason_code"] for r in runs.held_deactivations(sctx)} == {"deleted"}
    for uid in fz.ids[:30]:
        fz.users[uid]["active"] = True
    sync(sctx, fz)
    assert runs.allow_held(sctx, held.run_id) == 0 and all_statuses(sctx) == {"pending"}


@pytest.mark.parametrize("admin", [False, True], ids=["listing", "export"])
def test_demoted_agent_reason_is_role_changed(ctx, fz, admin):
    sctx = _ctx(ctx, admin)
    sync(sctx, fz)
    fz.touch(fz.ids[0], role="end-user")
    r = sync(sctx, fz)
    assert r.deactivated == 1
    row = sctx.db.query("SELECT deactivation_reason FROM users WHERE zendesk_id = ?", (fz.ids[0],))[0]
    assert "role changed" in row["deactivation_reason"] and "no longer in Zendesk" not in row["deactivation_reason"]
    codes = [c["reason_code"] for c in runs.get_run(sctx, r.run_id)["changes"] if c["action"] == "deactivate"]
    assert codes == ["role_changed"]


def test_reason_codes_of_a_listing_under_a_non_admin_token(ctx, fz):
    sctx = _ctx(ctx, admin=False)
    sync(sctx, fz)
    fz.touch(fz.ids[0], suspended=True)
    fz.touch(fz.ids[1], active=False)
    fz.forget(fz.ids[2])
    r = sync(sctx, fz)
    codes = {c["user_id"]: c["reason_code"] for c in runs.get_run(sctx, r.run_id)["changes"] if c["action"] == "deactivate"}
    by_zid = {row["zendesk_id"]: row["id"] for row in sctx.db.query("SELECT id, zendesk_id FROM users")}
    assert codes == {by_zid[fz.ids[0]]: "suspended", by_zid[fz.ids[1]]: "deleted", by_zid[fz.ids[2]]: "gone"}


def test_scope_change_reason_is_out_of_scope(ctx, fz):
    sctx = _ctx(ctx, admin=False)
    sync(sctx, fz)
    save_config(sctx, SyncConfig(roles=["admin"]))
    r = sync(sctx, fz, allow_deactivations=True)
    assert r.deactivated == 100
    codes = {c["reason_code"] for c in runs.get_run(sctx, r.run_id)["changes"] if c["action"] == "deactivate"}
    assert codes == {"out_of_scope"}


def test_guard_base_is_the_zendesk_linked_users_not_deactivated(ctx, fz):
    """21 of 100 linked users is more than 20%, however many hand-made or deactivated rows exist."""
    sctx = _ctx(ctx, admin=False)
    sync(sctx, fz)
    with sctx.db.transaction() as conn:
        conn.executemany("INSERT INTO users (name, email, status, source) VALUES (?, ?, 'active', 'manual')",
                         [(f"Hand {i}", f"h{i}@x.test") for i in range(1000)])
        conn.executemany("INSERT INTO users (zendesk_id, name, email, status, source, deactivated_by) "
                         "VALUES (?, ?, ?, 'deactivated', 'zendesk', 'admin')",
                         [(900_000 + i, f"Old {i}", f"o{i}@x.test") for i in range(1000)])
    for uid in fz.ids[:21]:
        fz.touch(uid, suspended=True)
    assert sync(sctx, fz).held == 21
