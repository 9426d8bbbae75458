"""The rules of ``core/sync/runs.py`` (issue 15, mutation testing): run records, history and its
CSV export, held rows (allow), and undo, which puts people's status back.

Each test drives the public functions against real SQLite (and the fake Zendesk where a real
sync is needed) and checks what a user or caller sees: rows, counts, states, messages."""

from __future__ import annotations

import csv
import io
import locale
import os
import re
import time
from datetime import datetime, timedelta, timezone

import pytest

from evalsync_gui.core import directory
from evalsync_gui.core.errors import UsageError
from evalsync_gui.core.sync import runs, state
from evalsync_gui.core.sync.config import SyncConfig, save_config
from evalsync_gui.core.sync.runner import run_sync
from tests.core.sync_fake import FakeZendesk, client_for

STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


def agents(n: int) -> FakeZendesk:
    """A fake Zendesk with ``n`` agents (their Zendesk ids in ``.ids``), past its seeding."""
    f = FakeZendesk()
    f.ids = [f.add(f"Agent {i}", f"a{i}@x.test") for i in range(n)]
    f.seeding = False
    return f


@pytest.fixture
def fz():
    return agents(100)


def touch_all(fz, zids, **fields) -> None:
    for zid in zids:
        fz.touch(zid, **fields)


def configured(ctx, admin: bool = False):
    ctx.extras["sync_is_admin"] = admin
    save_config(ctx, SyncConfig(roles=["agent", "admin"]))
    return ctx


def sync(ctx, fz, **kw):
    return run_sync(ctx, client=client_for(fz), **kw)


def user(ctx, zid) -> dict:
    return dict(ctx.db.query("SELECT * FROM users WHERE zendesk_id = ?", (zid,))[0])


def local_id(ctx, zid) -> int:
    return ctx.db.scalar("SELECT id FROM users WHERE zendesk_id = ?", (zid,))


def activate(ctx, *zids) -> None:
    """The admin makes these users active (the directory's own action)."""
    directory.activate(ctx.db, ctx.settings, [local_id(ctx, zid) for zid in zids])


def run_row(ctx, run_id) -> dict:
    return next(r for r in runs.list_runs(ctx, limit=1000) if r["id"] == run_id)


def change_states(ctx, run_id, user_id=None) -> list[str]:
    return [c["state"] for c in runs.get_run(ctx, run_id)["changes"] if user_id in (None, c["user_id"])]


def as_utc(stamp: str) -> datetime:
    assert STAMP.fullmatch(stamp), stamp
    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)


# -- run records -------------------------------------------------------------------------
@pytest.mark.skipif(not hasattr(time, "tzset"), reason="time.tzset (changing the local zone) is POSIX-only")
def test_run_times_are_utc_to_the_second_whatever_the_local_zone(ctx):
    """Start and finish times are UTC ('Z'), also on a machine set to UTC+05:45."""
    old_tz = os.environ.get("TZ")
    os.environ["TZ"] = "NPT-05:45"  # a POSIX zone: no tz database needed
    time.tzset()
    try:
        before = datetime.now(timezone.utc).replace(microsecond=0)
        run_id = runs.start_run(ctx.db, "cli", "full", False)
        runs.finish_run(ctx.db, run_id, "completed", 3, None)
        after = datetime.now(timezone.utc)
    finally:
        if old_tz is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = old_tz
        time.tzset()
    row = run_row(ctx, run_id)
    for key in ("started_at", "finished_at"):
        assert before <= as_utc(row[key]) <= after, (key, row[key])


def test_a_run_record_keeps_its_trigger_mode_and_counts(ctx):
    run_id = runs.start_run(ctx.db, "schedule", "incremental", True)
    row = run_row(ctx, run_id)
    assert (row["trigger"], row["mode"], row["status"], row["dry_run"], row["finished_at"]) == (
        "schedule", "incremental", "running", 1, None)
    assert ctx.db.scalar("SELECT pid FROM sync_runs WHERE id = ?", (run_id,)) == os.getpid()
    with ctx.db.transaction() as conn:
        runs.update_counts(conn, run_id, new=3, updated=2, seen=40, requests=5)
        runs.update_counts(conn, run_id, new=4, updated=2, seen=60, requests=7)
    row = run_row(ctx, run_id)
    # New and updated are running totals the runner passes; seen is added page by page.
    assert (row["n_new"], row["n_updated"], row["n_seen"], row["requests"]) == (4, 2, 100, 7)
    with ctx.db.transaction() as conn:
        runs.set_outcome(conn, run_id, new=4, updated=3, deactivated=1, held=12)
    runs.finish_run(ctx.db, run_id, "held", 9, "12 deactivations held")
    row = run_row(ctx, run_id)
    assert (row["n_new"], row["n_updated"], row["n_deactivated"], row["n_held"], row["n_seen"]) == (4, 3, 1, 12, 100)
    assert (row["status"], row["requests"], row["error"]) == ("held", 9, "12 deactivations held")


def test_runs_left_running_by_a_crash_are_marked_interrupted(ctx):
    crashed = runs.start_run(ctx.db, "cli", "full", False)
    failing = runs.start_run(ctx.db, "schedule", "full", False)
    with ctx.db.transaction() as conn:  # a run that noted its own error before the crash
        conn.execute("UPDATE sync_runs SET error = 'page 3: HTTP 500' WHERE id = ?", (failing,))
    done = runs.start_run(ctx.db, "cli", "full", False)
    runs.finish_run(ctx.db, done, "completed", 2, None)
    finished_at = run_row(ctx, done)["finished_at"]

    assert runs.mark_interrupted_runs(ctx) == 2
    row = run_row(ctx, crashed)
    assert (row["status"], row["error"]) == (
        "interrupted", "EvalSync stopped during this run; the next sync resumes it.")
    assert STAMP.fullmatch(row["finished_at"])
    assert (run_row(ctx, failing)["status"], run_row(ctx, failing)["error"]) == ("interrupted", "page 3: HTTP 500")
    assert (run_row(ctx, done)["status"], run_row(ctx, done)["finished_at"]) == ("completed", finished_at)
    assert runs.mark_interrupted_runs(ctx) == 0


def test_history_lists_the_newest_fifty_runs_first(ctx):
    ids = [runs.start_run(ctx.db, "cli", "full", False) for _ in range(52)]
    assert [r["id"] for r in runs.list_runs(ctx)] == ids[::-1][:50]
    assert [r["id"] for r in runs.list_runs(ctx, limit=5, offset=50)] == ids[1::-1]


def test_an_unknown_run_is_refused_with_a_pointer_to_the_list(ctx):
    for call in (runs.get_run, runs.undo_run):
        with pytest.raises(UsageError) as e:
            call(ctx, 999)
        assert str(e.value) == "There is no sync run 999; see `evalsync runs list`."


# -- CSV export --------------------------------------------------------------------------
def test_history_export_has_one_row_per_change_under_named_columns(ctx, tmp_path):
    """UTF-8 without a BOM whatever the locale; a run without changes still gets its row."""
    configured(ctx)
    fz = FakeZendesk()
    zid = fz.add("Émile Zola", "emile@x.test")
    fz.add("=cmd", "b@x.test")
    fz.seeding = False
    first = sync(ctx, fz)
    quiet = sync(ctx, fz)
    path = tmp_path / "history.csv"
    previous = locale.setlocale(locale.LC_CTYPE)
    locale.setlocale(locale.LC_CTYPE, "C")  # an ASCII locale: the file must still be UTF-8
    try:
        runs.export_runs_csv(ctx, path)
    finally:
        locale.setlocale(locale.LC_CTYPE, previous)
    raw = path.read_bytes()
    assert raw.startswith(b"id,started_at,")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8"))))
    assert list(rows[0]) == [*runs.RUN_COLUMNS, "change_user_id", "change_action", "change_field", "change_old",
                             "change_new", "change_reason", "change_state"]
    created = [r for r in rows if r["id"] == str(first.run_id)]
    assert [(r["change_action"], r["change_new"], r["change_state"]) for r in created] == [
        ("create", "Émile Zola <emile@x.test>", "applied"), ("create", "'=cmd <b@x.test>", "applied")]
    assert created[0]["change_user_id"] == str(local_id(ctx, zid))
    assert created[0]["change_reason"] and created[0]["status"] == "completed" and created[0]["n_new"] == "2"
    [empty] = [r for r in rows if r["id"] == str(quiet.run_id)]
    assert empty["status"] == "completed"
    assert [empty[k] for k in ("change_user_id", "change_action", "change_state")] == ["", "", ""]


# -- held rows ---------------------------------------------------------------------------
def test_held_rows_name_the_person_and_the_status_they_would_lose(ctx, fz):
    configured(ctx)
    sync(ctx, fz)
    activate(ctx, fz.ids[0])
    touch_all(fz, fz.ids[:30], suspended=True)
    held = sync(ctx, fz)
    rows = runs.held_deactivations(ctx, held.run_id)
    assert len(rows) == 30 and set(rows[0]) == {"id", "run_id", "user_id", "name", "email", "zendesk_id",
                                                 "old_status", "reason", "reason_code"}
    by_zid = {r["zendesk_id"]: r for r in rows}
    assert (by_zid[fz.ids[0]]["old_status"], by_zid[fz.ids[1]]["old_status"]) == ("active", "pending")
    assert (by_zid[fz.ids[0]]["name"], by_zid[fz.ids[0]]["email"]) == ("Agent 0", "a0@x.test")


def test_allow_clears_other_runs_held_rows_of_someone_deactivated_meanwhile(ctx, fz):
    """Two held runs (incremental reads of different people); the admin deactivates one person of
    the older run by hand; allowing the newer run leaves no held row for someone already deactivated."""
    configured(ctx, admin=True)
    sync(ctx, fz)
    touch_all(fz, fz.ids[:30], suspended=True)
    older = sync(ctx, fz)
    touch_all(fz, fz.ids[30:60], suspended=True)
    newer = sync(ctx, fz)
    assert (older.mode, older.status, older.held, newer.mode, newer.status, newer.held) == (
        "incremental", "held", 30, "incremental", "held", 30)
    directory.deactivate(ctx.db, [local_id(ctx, fz.ids[0])])

    assert runs.allow_held(ctx, newer.run_id) == 30
    assert run_row(ctx, newer.run_id)["n_deactivated"] == 30
    left = runs.held_deactivations(ctx)
    assert len(left) == 29 and fz.ids[0] not in {r["zendesk_id"] for r in left}
    assert {r["run_id"] for r in left} == {older.run_id} and run_row(ctx, older.run_id)["n_held"] == 29
    assert user(ctx, fz.ids[0])["deactivated_by"] == "admin"


# -- undo: refusals ----------------------------------------------------------------------
def test_undo_refuses_a_running_a_dry_or_an_undone_run(ctx, fz):
    configured(ctx)
    running = runs.start_run(ctx.db, "cli", "full", False)
    with pytest.raises(UsageError) as e:
        runs.undo_run(ctx, running)
    assert str(e.value) == f"Sync run {running} is still running; wait for it to finish."
    assert run_row(ctx, running)["undone_at"] is None
    runs.finish_run(ctx.db, running, "failed", 0, "boom")

    dry = sync(ctx, fz, dry_run=True)
    with pytest.raises(UsageError) as e:
        runs.undo_run(ctx, dry.run_id)
    assert str(e.value) == f"Sync run {dry.run_id} was a dry run: it changed nothing, so there is nothing to undo."

    first = sync(ctx, fz)
    runs.undo_run(ctx, first.run_id)
    with pytest.raises(UsageError) as e:
        runs.undo_run(ctx, first.run_id)
    assert str(e.value) == f"Sync run {first.run_id} was already undone."


# -- undo: what is put back --------------------------------------------------------------
def test_undo_counts_each_kind_of_change_and_marks_them_undone(ctx, fz):
    configured(ctx)
    first = sync(ctx, fz)
    touch_all(fz, fz.ids[:2], name="Renamed")
    touch_all(fz, fz.ids[2:4], active=False)
    second = sync(ctx, fz)
    assert (second.updated, second.deactivated) == (2, 2)
    activate(ctx, fz.ids[0])  # a name goes back whatever the status

    assert runs.undo_run(ctx, second.run_id) == {"removed": 0, "reverted": 2, "reactivated": 2, "kept": 0}
    for i in range(4):
        u = user(ctx, fz.ids[i])
        assert (u["name"], u["status"], u["deactivated_by"], u["deactivation_reason"]) == (
            f"Agent {i}", "active" if i == 0 else "pending", None, None)
    assert set(change_states(ctx, second.run_id)) == {"undone"}
    assert STAMP.fullmatch(run_row(ctx, second.run_id)["undone_at"])

    assert runs.undo_run(ctx, first.run_id) == {"removed": 99, "reverted": 0, "reactivated": 0, "kept": 1}
    assert [u["name"] for u in ctx.db.query("SELECT name FROM users")] == ["Agent 0"]


def test_undo_puts_back_the_status_a_user_had_before(ctx, fz):
    configured(ctx)
    sync(ctx, fz)
    activate(ctx, fz.ids[0])
    touch_all(fz, fz.ids[:2], active=False)
    gone = sync(ctx, fz)
    assert (user(ctx, fz.ids[0])["status"], user(ctx, fz.ids[1])["status"]) == ("deactivated", "deactivated")
    with ctx.db.transaction() as conn:  # a record that lost its old status: Pending is the safe guess
        conn.execute("UPDATE user_changes SET old_value = NULL WHERE run_id = ? AND user_id = ?",
                     (gone.run_id, local_id(ctx, fz.ids[1])))

    assert runs.undo_run(ctx, gone.run_id)["reactivated"] == 2
    assert (user(ctx, fz.ids[0])["status"], user(ctx, fz.ids[1])["status"]) == ("active", "pending")


def test_undo_keeps_what_changed_since_the_run(ctx, fz):
    """Later edits win: a newer rename, an admin's reactivation, an admin's activation."""
    configured(ctx)
    first = sync(ctx, fz)
    fz.touch(fz.ids[0], name="Renamed")
    fz.touch(fz.ids[1], active=False)
    second = sync(ctx, fz)
    fz.touch(fz.ids[0], name="Renamed again")
    sync(ctx, fz)
    activate(ctx, fz.ids[1], fz.ids[2])

    assert runs.undo_run(ctx, second.run_id) == {"removed": 0, "reverted": 0, "reactivated": 0, "kept": 2}
    assert (user(ctx, fz.ids[0])["name"], user(ctx, fz.ids[1])["status"]) == ("Renamed again", "active")
    # Imported users the admin made active stay; the others (renamed since or not) go.
    assert runs.undo_run(ctx, first.run_id) == {"removed": 98, "reverted": 0, "reactivated": 0, "kept": 2}
    assert {u["name"] for u in ctx.db.query("SELECT name FROM users")} == {"Agent 1", "Agent 2"}


@pytest.mark.parametrize("field", ["zendesk_suspended", "status = 'active', name"])
def test_undo_never_writes_a_column_it_does_not_restore(ctx, fz, field):
    """A change record naming any other column (or worse) is kept; nothing is written."""
    configured(ctx)
    sync(ctx, fz)
    fz.touch(fz.ids[0], name="Renamed")
    second = sync(ctx, fz)
    uid = local_id(ctx, fz.ids[0])
    with ctx.db.transaction() as conn:
        conn.execute("UPDATE user_changes SET field = ?, old_value = 'x', new_value = NULL WHERE run_id = ?",
                     (field, second.run_id))
    before = user(ctx, fz.ids[0])
    assert runs.undo_run(ctx, second.run_id) == {"removed": 0, "reverted": 0, "reactivated": 0, "kept": 1}
    assert user(ctx, fz.ids[0]) == before and before["name"] == "Renamed" and uid == before["id"]


def test_undoing_an_import_also_undoes_later_changes_of_the_removed_users(ctx, fz):
    configured(ctx)
    first = sync(ctx, fz)
    fz.touch(fz.ids[0], name="Renamed")
    second = sync(ctx, fz)
    uid = local_id(ctx, fz.ids[0])
    assert change_states(ctx, second.run_id, uid) == ["applied"]
    runs.undo_run(ctx, first.run_id)
    assert change_states(ctx, second.run_id, uid) == ["undone"]


def test_undoing_a_held_run_discards_its_held_deactivations(ctx, fz):
    configured(ctx)
    sync(ctx, fz)
    touch_all(fz, fz.ids[:30], suspended=True)
    held = sync(ctx, fz)
    assert held.status == "held"
    assert runs.undo_run(ctx, held.run_id)["reactivated"] == 0
    assert runs.held_deactivations(ctx) == []
    assert set(change_states(ctx, held.run_id)) == {"discarded"}
    row = run_row(ctx, held.run_id)
    assert (row["status"], row["n_held"]) == ("completed", 0)
    assert runs.allow_held(ctx, held.run_id) == 0
    assert ctx.db.scalar("SELECT count(*) FROM users WHERE status = 'deactivated'") == 0


def test_undoing_an_import_leaves_no_held_row_for_a_stranger_to_inherit(ctx):
    """Regression: undoing an import kept the removed users' held rows of a later run. The next
    import reuses their ids (max + 1), so the held list showed other people; after a re-import
    that failed part-way, Allow deactivated 45 people who are fine in Zendesk."""
    configured(ctx)
    fz = agents(150)
    first = sync(ctx, fz)
    touch_all(fz, fz.ids[:45], suspended=True)
    held = sync(ctx, fz)
    assert (held.status, held.held) == ("held", 45)

    runs.undo_run(ctx, first.run_id)
    assert runs.held_deactivations(ctx) == []
    assert (run_row(ctx, held.run_id)["status"], run_row(ctx, held.run_id)["n_held"]) == ("completed", 0)
    fz.fail_after = len(fz.requests) + 1  # the re-import stops after its first page
    again = sync(ctx, fz)
    assert again.status == "failed" and again.new > 0
    assert runs.held_deactivations(ctx) == []
    assert runs.allow_held(ctx, held.run_id) == 0
    assert ctx.db.scalar("SELECT count(*) FROM users WHERE status = 'deactivated'") == 0


def test_undo_makes_the_next_sync_a_full_listing(ctx, fz):
    configured(ctx, admin=True)
    sync(ctx, fz)
    fz.touch(fz.ids[0], name="Renamed")
    second = sync(ctx, fz)
    assert second.mode == "incremental"
    with ctx.db.transaction() as conn:  # as a run stopped half-way would leave it
        state.put(conn, state.RESUME, {"run_id": second.run_id, "mode": "incremental", "cursors": {}})
    runs.undo_run(ctx, second.run_id)
    assert [state.get(ctx.db, k) for k in (state.INCREMENTAL, state.LAST_FULL_AT, state.RESUME)] == [None] * 3
    after = sync(ctx, fz)
    assert (after.mode, after.status) == ("full", "completed")
    assert user(ctx, fz.ids[0])["name"] == "Renamed"
    assert runs.get_run(ctx, after.run_id)["changes"][0]["new_value"] == "Renamed"


@pytest.mark.parametrize("activated", [False, True], ids=["untouched", "activated-since"])
def test_undoing_a_return_deactivates_again_unless_an_admin_activated_the_user(ctx, fz, activated):
    """A return (status, flag and deactivated_by) is undone as a whole, only while the user is
    still Pending as the run left them: once an admin activated them, those values are the admin's."""
    configured(ctx)
    sync(ctx, fz)
    fz.touch(fz.ids[0], active=False)
    assert sync(ctx, fz).deactivated == 1
    fz.touch(fz.ids[0], active=True)
    back = sync(ctx, fz)
    u = user(ctx, fz.ids[0])
    assert (u["status"], u["flag"], u["deactivated_by"]) == ("pending", "returned", None)
    if activated:
        activate(ctx, fz.ids[0])
    counts = runs.undo_run(ctx, back.run_id)
    u = user(ctx, fz.ids[0])
    if activated:
        assert counts == {"removed": 0, "reverted": 0, "reactivated": 0, "kept": 3}
        assert (u["status"], u["flag"], u["deactivated_by"]) == ("active", None, None)
    else:
        assert counts == {"removed": 0, "reverted": 3, "reactivated": 0, "kept": 0}
        assert (u["status"], u["flag"], u["deactivated_by"]) == ("deactivated", None, "sync")


def test_a_user_added_by_hand_after_an_undo_never_takes_a_removed_users_id(ctx, fz, tmp_path):
    """Undoing an import removes its Pending users; SQLite would hand their ids to the next
    users added by hand or by CSV, who would then show the removed people's sync history."""
    configured(ctx)
    first = sync(ctx, fz)
    removed = {r[0] for r in ctx.db.query("SELECT id FROM users")}
    runs.undo_run(ctx, first.run_id)
    assert ctx.db.scalar("SELECT count(*) FROM users") == 0
    by_hand = directory.add_user(ctx.db, ctx.settings, directory.NewUser(name="Hand Made", email="hand@x.org"))
    csv_file = tmp_path / "people.csv"
    csv_file.write_text("name,email\nCsv One,csv1@x.org\nCsv Two,csv2@x.org\n")
    directory.import_csv(ctx.db, ctx.settings, str(csv_file))
    new = {r[0] for r in ctx.db.query("SELECT id FROM users")}
    assert by_hand in new and len(new) == 3 and not new & removed
    history = ctx.db.query("SELECT user_id, action FROM user_changes WHERE user_id IN (%s)" % ",".join("?" * len(new)),
                           tuple(new))
    assert sorted(r["action"] for r in history) == ["add", "add", "add"]


def test_an_undo_that_would_pass_the_licence_limit_is_refused_whole(ctx, fz):
    """The users a run deactivated held licences before it; if others took them since, undoing
    the run would pass the limit: it is refused with the numbers and the remedy, nothing undone."""
    configured(ctx)
    sync(ctx, fz)
    from evalsync_gui.core.user_selection import set_licence_limit

    set_licence_limit(ctx.settings, 5)
    activate(ctx, *fz.ids[:5])
    touch_all(fz, fz.ids[:2], suspended=True)
    deactivating = sync(ctx, fz)
    assert ctx.db.scalar("SELECT count(*) FROM users WHERE status = 'active'") == 3
    activate(ctx, *fz.ids[10:12])  # the two freed licences are taken by others
    with pytest.raises(UsageError) as refused:
        runs.undo_run(ctx, deactivating.run_id)
    assert str(refused.value) == (
        f"Undoing run {deactivating.run_id} would make 2 users active again: 7 licences but the limit is 5 "
        f"(5 in use). Nothing was undone; deactivate users or {directory.RAISE_LIMIT_HINT}, then undo again.")
    assert ctx.db.scalar("SELECT count(*) FROM users WHERE status = 'deactivated'") == 2
    assert run_row(ctx, deactivating.run_id)["undone_at"] is None
    set_licence_limit(ctx.settings, 7)
    assert runs.undo_run(ctx, deactivating.run_id)["reactivated"] == 2
    assert ctx.db.scalar("SELECT count(*) FROM users WHERE status = 'active'") == 7


def test_an_undo_that_reactivates_nobody_is_never_refused_for_licences(ctx, fz):
    """Already over the limit (it was lowered), a run of renames is still undone: the check is on
    the licences the undo itself would add."""
    from evalsync_gui.core.user_selection import set_licence_limit

    configured(ctx)
    sync(ctx, fz)
    activate(ctx, *fz.ids[:4])
    set_licence_limit(ctx.settings, 2)
    fz.touch(fz.ids[0], name="Renamed")
    renaming = sync(ctx, fz)
    assert runs.undo_run(ctx, renaming.run_id)["reverted"] == 1
    assert user(ctx, fz.ids[0])["name"] != "Renamed"
