"""The rules of core/sync/apply.py, one step at a time, on a real SQLite database (issue 15).

Each test builds the users and user_changes rows a sync meets, runs one step of the module
(a page's writes, the end-of-run plan, the guard's hold, Allow, expiry of held rows) and
checks the rows a user of the directory sees afterwards: status, deactivated_by and
deactivation_reason, each change row with its state and reason code, and the counts the
runner reports. They are the tests `make mutate` runs against the module's mutants.
"""

from __future__ import annotations

import sqlite3

import pytest

from evalsync_gui.core.store.db import Database
from evalsync_gui.core.sync import apply
from evalsync_gui.core.sync.decisions import (
    ABSENT_REASON,
    EMAIL,
    GONE_CODE,
    IDENTIFIER,
    RETURNED_FLAG,
    RETURNED_REASON,
    Create,
    Deactivate,
    Lookup,
    Remote,
    Update,
)
from evalsync_gui.core.sync.scope import Scope
from evalsync_gui.core.sync.users import ZendeskUser

NOW = "2026-01-02T03:04:05Z"
OLD = "2020-01-01T00:00:00Z"
AGENTS = Scope(agents=True)
SUSPENDED = "suspended in Zendesk"
CHANGE_COLUMNS = "run_id, user_id, action, field, old_value, new_value, reason, state, at, reason_code"


@pytest.fixture
def conn():
    db = Database(":memory:")
    yield db.connect()
    db.close()


def add_run(conn, status: str = "running", n_held: int = 0) -> int:
    return conn.execute("INSERT INTO sync_runs (started_at, status, n_held) VALUES (?, ?, ?)",
                        (OLD, status, n_held)).lastrowid


def add_user(conn, **cols) -> int:
    row = {"name": "Someone", "status": "pending", "created_at": OLD, "updated_at": OLD, **cols}
    marks = ",".join("?" * len(row))
    return conn.execute(f"INSERT INTO users ({', '.join(row)}) VALUES ({marks})", tuple(row.values())).lastrowid


def add_change(conn, run: int, user: int, state: str, reason: str = SUSPENDED, code: str | None = "suspended",
               action: str = "deactivate") -> int:
    return conn.execute(
        f"INSERT INTO user_changes ({CHANGE_COLUMNS}) VALUES (?, ?, ?, 'status', 'active', 'deactivated', ?, ?, ?, ?)",
        (run, user, action, reason, state, OLD, code)).lastrowid


def user(conn, uid: int) -> dict:
    return dict(conn.execute("SELECT * FROM users WHERE id = ?", (uid,)).fetchone())


def status_of(conn, uid: int) -> tuple:
    u = user(conn, uid)
    return (u["status"], u["deactivated_by"], u["deactivation_reason"])


def changes(conn) -> list[tuple]:
    return [tuple(r) for r in conn.execute(f"SELECT {CHANGE_COLUMNS} FROM user_changes ORDER BY id")]


def state_of(conn, change_id: int) -> str:
    return conn.execute("SELECT state FROM user_changes WHERE id = ?", (change_id,)).fetchone()[0]


def zuser(zid: int, email: str | None = None, **kw) -> ZendeskUser:
    return ZendeskUser(id=zid, name=kw.pop("name", f"User {zid}"), email=email, role=kw.pop("role", "agent"), **kw)


def remote(zid: int, email: str | None = None, identifier: str | None = None, **kw) -> Remote:
    fields = {"name": f"User {zid}", "zendesk_role": "agent", "custom_role_id": None, "zendesk_active": 1,
              "zendesk_suspended": 0, "zendesk_updated_at": NOW, **kw}
    return Remote(zendesk_id=zid, email=email, identifier=identifier, **fields)


# -- small helpers -----------------------------------------------------------------------
def test_ids_continue_above_every_user_and_change_row_and_each_take_reserves_its_block(conn):
    assert apply.IdAllocator(conn).take(2) == 1  # an empty table starts at 1
    add_user(conn, id=7)
    ids = apply.IdAllocator(conn)
    assert (ids.take(3), ids.take(1), ids.take(1)) == (8, 11, 12)
    add_change(conn, add_run(conn), 20, "undone")  # the history of a removed user 20
    assert apply.IdAllocator(conn).take(1) == 21
    add_user(conn, id=30)
    assert apply.IdAllocator(conn).take(1) == 31


def test_has_linked_is_true_only_once_a_row_carries_a_zendesk_id(conn):
    assert apply.has_linked(conn) is False
    add_user(conn, email="hand@x.test", source="manual")
    assert apply.has_linked(conn) is False
    add_user(conn, zendesk_id=5)
    assert apply.has_linked(conn) is True


def test_rows_per_insert_is_the_most_that_fit_the_parameter_limit(conn):
    for limit, rows in ((24, 2), (23, 1), (13, 1), (12, 1), (2 + 11 * 90, 90)):
        conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, limit)
        assert apply._rows_per_insert(conn) == rows, limit
    # Python 3.10's sqlite3 cannot read the limit: old builds' 999 parameters hold 90 rows.
    assert apply._rows_per_insert(object()) == 90


# -- which local rows a page finds -------------------------------------------------------
def test_lookup_finds_every_linked_row_of_a_page_larger_than_one_query(conn):
    conn.executemany("INSERT INTO users (zendesk_id, name, email) VALUES (?, ?, ?)",
                     [(z, f"User {z}", f"u{z}@x.test") for z in range(1, 1902)])
    users = [zuser(z) for z in range(1901, 0, -1)]
    lookup = apply.lookup_page(conn, users, AGENTS, "default", unlinked=False)
    assert sorted(lookup.by_zendesk_id) == list(range(1, 1902))
    row = lookup.by_zendesk_id[900]
    assert (row["zendesk_id"], row["name"], row["email"], row["status"]) == (900, "User 900", "u900@x.test", "pending")
    assert lookup.unlinked_by_key == {}


def test_lookup_asks_only_for_the_ids_the_caller_says_may_be_linked(conn):
    a, b = add_user(conn, zendesk_id=1), add_user(conn, zendesk_id=2)
    users = [zuser(1), zuser(2)]
    assert {z: r["id"] for z, r in apply.lookup_page(conn, users, AGENTS, "default", linked={2}).by_zendesk_id.items()} \
        == {2: b}
    assert {z: r["id"] for z, r in apply.lookup_page(conn, users, AGENTS, "default").by_zendesk_id.items()} \
        == {1: a, 2: b}


def test_lookup_matches_unlinked_rows_only_for_new_users_in_scope(conn):
    hand = add_user(conn, email="Hand@X.test", source="manual")
    add_user(conn, email="out@x.test", source="manual")
    linked = add_user(conn, zendesk_id=3, email="linked@x.test")
    add_user(conn, email="linked@x.test", source="manual")  # shares the linked user's e-mail
    users = [zuser(1, "hand@x.TEST"), zuser(2, "out@x.test", role="end-user"), zuser(3, "linked@x.test"),
             zuser(4, None)]
    lookup = apply.lookup_page(conn, users, AGENTS, "default")  # unlinked=True: read them now
    assert {k: r["id"] for k, r in lookup.unlinked_by_key.items()} == {(EMAIL, "hand@x.test"): hand}
    assert {z: r["id"] for z, r in lookup.by_zendesk_id.items()} == {3: linked}
    read = apply.UnlinkedRows(conn, "default")
    assert {k: r["id"] for k, r in apply.lookup_page(conn, users, AGENTS, "default", unlinked=read)
            .unlinked_by_key.items()} == {(EMAIL, "hand@x.test"): hand}
    assert apply.lookup_page(conn, users, AGENTS, "default", unlinked=False).unlinked_by_key == {}
    # The default mode reads no identifier: a hand-made row that has one is still found by e-mail.
    conn.execute("UPDATE users SET identifier = 'H1' WHERE id = ?", (hand,))
    assert {k: r["id"] for k, r in apply.lookup_page(conn, users, AGENTS, "default").unlinked_by_key.items()} \
        == {(EMAIL, "hand@x.test"): hand}


def test_unlinked_rows_are_keyed_by_identifier_only_in_an_identifier_mode(conn):
    first = add_user(conn, email="same@x.test", identifier="E1", source="csv")
    second = add_user(conn, email="SAME@x.test", source="csv")
    add_user(conn, email=None, source="manual")
    add_user(conn, zendesk_id=9, email="linked@x.test", identifier="E9")
    by_email = apply.UnlinkedRows(conn, "default")
    assert {k: r["id"] for k, r in by_email.by_key.items()} == {(EMAIL, "same@x.test"): first}  # lowest id wins
    by_ident = apply.UnlinkedRows(conn, "external_id")
    assert {k: r["id"] for k, r in by_ident.by_key.items()} == {(IDENTIFIER, "E1"): first,
                                                                (EMAIL, "same@x.test"): second}
    assert bool(by_ident) is True
    conn.execute("UPDATE users SET zendesk_id = id + 100")
    assert bool(apply.UnlinkedRows(conn, "default")) is False


def test_an_identifier_mode_matches_by_identifier_then_by_email(conn):
    by_ident = add_user(conn, email="a@x.test", identifier="E1", source="csv")
    by_mail = add_user(conn, email="b@x.test", source="csv")
    users = [zuser(1, "other@x.test", external_id="E1"), zuser(2, "B@x.test"), zuser(3, "c@x.test", external_id="E3")]
    lookup = apply.lookup_page(conn, users, AGENTS, "external_id")
    assert {k: r["id"] for k, r in lookup.unlinked_by_key.items()} == {(IDENTIFIER, "E1"): by_ident,
                                                                      (EMAIL, "b@x.test"): by_mail}
    # The default mode reads no identifier: the Zendesk user with E1 is looked for by e-mail.
    assert apply._match_key(users[0], "default") == (EMAIL, "other@x.test")
    assert apply._match_key(zuser(4, None, external_id="E4"), "default") is None


# -- one page's writes -------------------------------------------------------------------
def test_new_users_are_inserted_pending_with_a_create_record_each(conn):
    run = add_run(conn)
    add_user(conn, zendesk_id=50)
    ids = apply.IdAllocator(conn)
    creates = [Create(remote(1, "one@x.test", custom_role_id=77, zendesk_role="agent")),
               Create(remote(2, None, name="Two", zendesk_active=0, zendesk_suspended=1, zendesk_updated_at=None))]
    counts = apply.apply_page(conn, run, creates, Lookup(), [1, 2], NOW, identifier_mode="default", mark_seen=True,
                              ids=ids, role_names={77: "Tier 1", 78: "Other"})
    assert (counts.new, counts.updated, counts.planned) == (2, 0, 0)
    cols = ("id", "zendesk_id", "name", "email", "identifier", "zendesk_role", "custom_role_id", "custom_role_name",
            "zendesk_active", "zendesk_suspended", "zendesk_updated_at", "status", "source", "last_seen_run",
            "imported_at", "created_at", "updated_at", "deactivated_by", "flag")
    got = [tuple(user(conn, uid)[c] for c in cols) for uid in (2, 3)]
    assert got == [(2, 1, "User 1", "one@x.test", None, "agent", 77, "Tier 1", 1, 0, NOW, "pending", "zendesk", run,
                    NOW, NOW, NOW, None, None),
                   (3, 2, "Two", None, None, "agent", None, None, 0, 1, None, "pending", "zendesk", run,
                    NOW, NOW, NOW, None, None)]
    assert changes(conn) == [(run, 2, "create", None, None, "User 1 <one@x.test>", "new in Zendesk", "applied", NOW, None),
                             (run, 3, "create", None, None, "Two <>", "new in Zendesk", "applied", NOW, None)]
    assert ids.take(1) == 4


def test_a_listing_that_is_not_marking_seen_leaves_new_rows_unmarked(conn):
    run = add_run(conn)
    apply.apply_page(conn, run, [Create(remote(1, "a@x.test", custom_role_id=5))], Lookup(), [1], NOW,
                     identifier_mode="default", mark_seen=False)
    u = user(conn, 1)
    assert (u["zendesk_id"], u["last_seen_run"], u["custom_role_name"]) == (1, None, None)


def test_many_new_users_are_inserted_in_several_statements_when_the_limit_is_low(conn):
    run = add_run(conn)
    conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 2 + 11 * 2)  # two rows per statement
    creates = [Create(remote(z, f"u{z}@x.test")) for z in range(10, 15)]
    apply.apply_page(conn, run, creates, Lookup(), [], NOW, identifier_mode="default", mark_seen=True)
    rows = conn.execute("SELECT id, zendesk_id, email, last_seen_run FROM users ORDER BY id").fetchall()
    assert [tuple(r) for r in rows] == [(i + 1, z, f"u{z}@x.test", run) for i, z in enumerate(range(10, 15))]
    assert [c[1] for c in changes(conn)] == [1, 2, 3, 4, 5]


def _linked(conn, zid: int, **cols) -> int:
    return add_user(conn, **{"zendesk_id": zid, "name": f"User {zid}", "email": f"u{zid}@x.test", "zendesk_role": "agent",
                             "zendesk_active": 1, "zendesk_suspended": 0, "zendesk_updated_at": OLD, **cols})


def test_updates_follow_zendesk_and_record_each_change(conn):
    run = add_run(conn)
    a = _linked(conn, 1, custom_role_id=5, custom_role_name="Old name")
    b = _linked(conn, 2, identifier="K2")
    c = _linked(conn, 3)
    ups = [Update(a, remote(1, "new@x.test", custom_role_id=5), (("email", "u1@x.test", "new@x.test"),)),
           Update(b, remote(2, "u2@x.test", identifier="K9", custom_role_id=6, zendesk_role="admin"),
                  (("zendesk_role", "agent", "admin"), ("custom_role_id", None, 6))),
           Update(c, remote(3, "u3@x.test", zendesk_suspended=1))]  # metadata only: not recorded
    counts = apply.apply_page(conn, run, ups, Lookup(), [], NOW, identifier_mode="default", mark_seen=False,
                              role_names={7: "Unrelated"})
    assert (counts.new, counts.updated, counts.planned) == (0, 2, 0)
    cols = ("email", "identifier", "zendesk_role", "custom_role_id", "custom_role_name", "zendesk_suspended",
            "zendesk_updated_at", "updated_at")
    assert tuple(user(conn, a)[k] for k in cols) == ("new@x.test", None, "agent", 5, "Old name", 0, NOW, NOW)
    # The default mode keeps the stored identifier; a new role without a known name has none.
    assert tuple(user(conn, b)[k] for k in cols) == ("u2@x.test", "K2", "admin", 6, None, 0, NOW, NOW)
    assert tuple(user(conn, c)[k] for k in cols) == ("u3@x.test", None, "agent", None, None, 1, NOW, OLD)
    assert changes(conn) == [
        (run, a, "update", "email", "u1@x.test", "new@x.test", "changed in Zendesk", "applied", NOW, None),
        (run, b, "update", "zendesk_role", "agent", "admin", "changed in Zendesk", "applied", NOW, None),
        (run, b, "update", "custom_role_id", None, "6", "changed in Zendesk", "applied", NOW, None)]


def test_an_identifier_mode_stores_the_identifier_and_a_known_role_name(conn):
    run = add_run(conn)
    a = _linked(conn, 1, identifier="K1", custom_role_id=5, custom_role_name="Old")
    b = _linked(conn, 2, custom_role_id=5, custom_role_name="Old")
    ups = [Update(a, remote(1, "u1@x.test", identifier="K2", custom_role_id=5), (("identifier", "K1", "K2"),)),
           Update(b, remote(2, "u2@x.test", custom_role_id=None), (("custom_role_id", 5, None),))]
    apply.apply_page(conn, run, ups, Lookup(), [], NOW, identifier_mode="external_id", mark_seen=False,
                     role_names={5: "Tier 2"})
    assert (user(conn, a)["identifier"], user(conn, a)["custom_role_name"]) == ("K2", "Tier 2")
    assert (user(conn, b)["identifier"], user(conn, b)["custom_role_id"], user(conn, b)["custom_role_name"]) \
        == (None, None, None)
    assert [c[3:6] for c in changes(conn)] == [("identifier", "K1", "K2"), ("custom_role_id", "5", None)]


def test_a_returned_user_is_pending_again_with_every_old_value_recorded(conn):
    run = add_run(conn)
    back = _linked(conn, 1, status="deactivated", deactivated_by="sync", deactivation_reason=SUSPENDED)
    admin = _linked(conn, 2, status="deactivated", deactivated_by="admin", deactivation_reason="left the team")
    hand = add_user(conn, email="h@x.test", source="manual", status="active")
    ups = [Update(back, remote(1, "u1@x.test"), returned=True, reason=RETURNED_REASON),
           Update(admin, remote(2, "u2@x.test", name="Renamed"), (("name", "User 2", "Renamed"),)),
           Update(hand, remote(3, "h@x.test"), link=True, reason="matched by identifier")]
    counts = apply.apply_page(conn, run, ups, Lookup(), [], NOW, identifier_mode="default", mark_seen=False)
    assert counts.updated == 3
    assert status_of(conn, back) == ("pending", None, None) and user(conn, back)["flag"] == RETURNED_FLAG
    assert status_of(conn, admin) == ("deactivated", "admin", "left the team") and user(conn, admin)["flag"] is None
    assert (user(conn, hand)["zendesk_id"], user(conn, hand)["status"], user(conn, hand)["flag"]) == (3, "active", None)
    assert changes(conn) == [
        (run, back, "return", "status", "deactivated", "pending", RETURNED_REASON, "applied", NOW, None),
        (run, back, "return", "flag", None, RETURNED_FLAG, RETURNED_REASON, "applied", NOW, None),
        (run, back, "return", "deactivated_by", "sync", None, RETURNED_REASON, "applied", NOW, None),
        (run, admin, "update", "name", "User 2", "Renamed", "changed in Zendesk", "applied", NOW, None),
        (run, hand, "link", "zendesk_id", None, "3", "matched by identifier", "applied", NOW, None)]


def test_a_page_plans_deactivations_with_their_reason_codes_and_never_applies_them(conn):
    run = add_run(conn)
    a, b = _linked(conn, 1, status="active"), _linked(conn, 2)
    deacts = [Deactivate(a, 1, "User 1", "u1@x.test", "active", SUSPENDED, "suspended"),
              Deactivate(b, 2, "User 2", "u2@x.test", "pending", "deleted in Zendesk", "deleted")]
    lookup = Lookup(by_zendesk_id={1: user(conn, a), 2: user(conn, b)})
    counts = apply.apply_page(conn, run, deacts, lookup, [1, 2], NOW, identifier_mode="default", mark_seen=True)
    assert (counts.new, counts.updated, counts.planned) == (0, 0, 2)
    assert status_of(conn, a) == ("active", None, None) and status_of(conn, b) == ("pending", None, None)
    assert changes(conn) == [
        (run, a, "deactivate", "status", "active", "deactivated", SUSPENDED, "planned", NOW, "suspended"),
        (run, b, "deactivate", "status", "pending", "deactivated", "deleted in Zendesk", "planned", NOW, "deleted")]


def test_a_user_seen_again_cancels_this_runs_plan_and_expires_held_rows_of_any_run(conn):
    old, run = add_run(conn, "held", 3), add_run(conn)
    fine, leaving, other = _linked(conn, 1), _linked(conn, 2), _linked(conn, 3)
    planned_fine = add_change(conn, run, fine, "planned")
    planned_other_run = add_change(conn, old, fine, "planned")
    held_fine = add_change(conn, old, fine, "held")
    applied_fine = add_change(conn, old, fine, "applied")
    held_leaving = add_change(conn, old, leaving, "held")
    planned_leaving = add_change(conn, run, leaving, "planned")
    held_other = add_change(conn, old, other, "held")
    planned_other = add_change(conn, run, other, "planned")
    lookup = Lookup(by_zendesk_id={1: user(conn, fine), 2: user(conn, leaving)})
    deact = Deactivate(leaving, 2, "User 2", "u2@x.test", "pending", "deleted in Zendesk", "deleted")
    apply.apply_page(conn, run, [deact], lookup, [1, 2], NOW, identifier_mode="default", mark_seen=False)
    assert conn.execute("SELECT id FROM user_changes WHERE id IN (?, ?)", (planned_fine, planned_leaving)).fetchall() == []
    assert [state_of(conn, c) for c in (planned_other_run, held_fine, applied_fine, held_leaving, held_other,
                                        planned_other)] == ["planned", "discarded", "applied", "held", "held", "planned"]
    assert changes(conn)[-1] == (run, leaving, "deactivate", "status", "pending", "deactivated", "deleted in Zendesk",
                                 "planned", NOW, "deleted")


def test_a_caller_that_knows_nothing_is_held_skips_the_expiry(conn):
    old, run = add_run(conn, "held", 1), add_run(conn)
    fine = _linked(conn, 1)
    held = add_change(conn, old, fine, "held")
    apply.apply_page(conn, run, [], Lookup(by_zendesk_id={1: user(conn, fine)}), [1], NOW, identifier_mode="default",
                     mark_seen=True, expire_held=False)
    assert state_of(conn, held) == "held"


def test_a_listing_marks_every_user_it_saw_and_an_export_marks_none(conn):
    before, run = add_run(conn, "completed"), add_run(conn)
    a, b, c = _linked(conn, 1, last_seen_run=before), _linked(conn, 2, last_seen_run=before), _linked(conn, 3)
    apply.apply_page(conn, run, [Create(remote(9, "new@x.test"))], Lookup(), [1, 9, 2], NOW,
                     identifier_mode="default", mark_seen=False)
    assert [user(conn, u)["last_seen_run"] for u in (a, b, c)] == [before, before, None]
    apply.apply_page(conn, run, [Create(remote(8, "new8@x.test"))], Lookup(), [1, 8, 2], NOW,
                     identifier_mode="default", mark_seen=True)
    assert [user(conn, u)["last_seen_run"] for u in (a, b, c)] == [run, run, None]
    apply.apply_page(conn, run, [], Lookup(), [3], NOW, identifier_mode="default", mark_seen=True)
    assert user(conn, c)["last_seen_run"] == run
    assert conn.execute("SELECT last_seen_run FROM users WHERE zendesk_id = 8").fetchone()[0] == run


# -- the end of a run ----------------------------------------------------------------------
def test_absent_users_are_linked_pending_or_active_users_this_run_neither_saw_nor_plans_to_deactivate(conn):
    other, run = add_run(conn, "completed"), add_run(conn)
    _linked(conn, 1, last_seen_run=run)  # seen by this run
    never = _linked(conn, 2, status="active", zendesk_role="admin", custom_role_id=4)
    earlier = _linked(conn, 3, last_seen_run=other)
    _linked(conn, 4, status="deactivated", deactivated_by="admin")
    add_user(conn, email="hand@x.test", source="manual")
    planned = _linked(conn, 6)
    add_change(conn, run, planned, "planned")
    planned_elsewhere = _linked(conn, 7)
    add_change(conn, other, planned_elsewhere, "planned")
    held_here = _linked(conn, 8)
    add_change(conn, run, held_here, "held")
    got = sorted(apply.absent_users(conn, run), key=lambda a: a.user_id)
    assert got == [apply.Absent(never, 2, "active", "admin", 4), apply.Absent(earlier, 3, "pending", "agent", None),
                   apply.Absent(planned_elsewhere, 7, "pending", "agent", None),
                   apply.Absent(held_here, 8, "pending", "agent", None)]


def test_absent_users_are_planned_once_each_with_the_reason_absence_found(conn):
    other, run = add_run(conn, "completed"), add_run(conn)
    a, b = _linked(conn, 1, status="active"), _linked(conn, 2)
    gone = _linked(conn, 3, status="deactivated", deactivated_by="sync")
    hand = add_user(conn, email="hand@x.test", source="manual")
    twice = _linked(conn, 5)
    add_change(conn, run, twice, "planned")
    add_change(conn, other, b, "planned")
    n = apply.plan_absent(conn, run, NOW, [(a, ABSENT_REASON, GONE_CODE), (b, "deleted in Zendesk", "deleted"),
                                          (gone, ABSENT_REASON, GONE_CODE), (hand, ABSENT_REASON, GONE_CODE),
                                          (twice, ABSENT_REASON, GONE_CODE)])
    assert n == 2
    assert changes(conn)[-2:] == [
        (run, a, "deactivate", "status", "active", "deactivated", ABSENT_REASON, "planned", NOW, GONE_CODE),
        (run, b, "deactivate", "status", "pending", "deactivated", "deleted in Zendesk", "planned", NOW, "deleted")]
    assert apply.planned_count(conn, run) == 3 and apply.planned_count(conn, other) == 1
    assert apply.plan_absent(conn, run, NOW, []) == 0


def test_a_dry_run_lists_the_absent_users_it_would_deactivate(conn):
    a = _linked(conn, 1, status="active")
    _linked(conn, 2)
    _linked(conn, 3, status="deactivated", deactivated_by="admin")
    add_user(conn, email="hand@x.test", source="manual")
    assert apply.absent_rows(conn, {2}) == [Deactivate(a, 1, "User 1", "u1@x.test", "active", ABSENT_REASON, GONE_CODE)]


def test_the_guards_base_counts_linked_users_not_deactivated(conn):
    _linked(conn, 1)
    _linked(conn, 2, status="active")
    _linked(conn, 3, status="deactivated", deactivated_by="sync")
    add_user(conn, email="hand@x.test", source="manual", status="active")
    assert apply.synced_count(conn) == 2


def test_applying_deactivates_with_the_latest_reason_and_skips_users_already_deactivated(conn):
    other, run = add_run(conn), add_run(conn)
    a, b = _linked(conn, 1, status="active"), _linked(conn, 2)
    done = _linked(conn, 3, status="deactivated", deactivated_by="admin", deactivation_reason="left")
    untouched = _linked(conn, 4)
    first = add_change(conn, run, a, "planned", reason="deleted in Zendesk", code="deleted")
    latest = add_change(conn, run, a, "planned", reason=ABSENT_REASON, code=GONE_CODE)
    pb = add_change(conn, run, b, "planned")
    pdone = add_change(conn, run, done, "planned")
    held_b = add_change(conn, run, untouched, "held")
    elsewhere = add_change(conn, other, untouched, "planned")
    assert apply.apply_planned(conn, run, NOW) == 2
    assert status_of(conn, a) == ("deactivated", "sync", ABSENT_REASON) and user(conn, a)["updated_at"] == NOW
    assert status_of(conn, b) == ("deactivated", "sync", SUSPENDED)
    assert status_of(conn, done) == ("deactivated", "admin", "left") and user(conn, done)["updated_at"] == OLD
    assert status_of(conn, untouched) == ("pending", None, None)
    assert [state_of(conn, c) for c in (first, latest, pb, pdone, held_b, elsewhere)] \
        == ["applied", "applied", "applied", "discarded", "held", "planned"]
    at = dict(conn.execute("SELECT id, at FROM user_changes").fetchall())
    assert (at[latest], at[pdone], at[held_b], at[elsewhere]) == (NOW, OLD, OLD, OLD)


def test_the_guard_holds_this_runs_plan_and_allow_applies_the_held_rows(conn):
    other, run = add_run(conn), add_run(conn)
    a, b = _linked(conn, 1), _linked(conn, 2)
    pa = add_change(conn, run, a, "planned")
    elsewhere = add_change(conn, other, b, "planned")
    applied = add_change(conn, run, b, "applied", action="update")
    assert apply.hold_planned(conn, run) == 1
    assert apply.planned_count(conn, run) == 0 and apply.has_held(conn) is True
    assert [state_of(conn, c) for c in (pa, elsewhere, applied)] == ["held", "planned", "applied"]
    assert status_of(conn, a) == ("pending", None, None)
    assert apply.apply_planned(conn, run, NOW, state="planned") == 0  # nothing planned is left
    assert status_of(conn, a) == ("pending", None, None)
    assert apply.apply_planned(conn, run, NOW, state="held") == 1
    assert status_of(conn, a) == ("deactivated", "sync", SUSPENDED) and status_of(conn, b) == ("pending", None, None)
    assert [state_of(conn, c) for c in (pa, elsewhere, applied)] == ["applied", "planned", "applied"]
    assert apply.has_held(conn) is False


def test_allow_discards_held_rows_of_users_deactivated_meanwhile(conn):
    run = add_run(conn, "held", 1)
    gone = _linked(conn, 1, status="deactivated", deactivated_by="admin", deactivation_reason="by hand")
    held = add_change(conn, run, gone, "held")
    planned = add_change(conn, run, gone, "planned")
    assert apply.apply_planned(conn, run, NOW, state="held") == 0
    assert (state_of(conn, held), state_of(conn, planned)) == ("discarded", "planned")
    assert status_of(conn, gone) == ("deactivated", "admin", "by hand")
    with pytest.raises(ValueError, match="^not a deactivation state: 'applied'$"):
        apply.apply_planned(conn, run, NOW, state="applied")


def test_has_held_sees_only_held_rows(conn):
    run = add_run(conn)
    u = _linked(conn, 1)
    assert apply.has_held(conn) is False
    for state in ("planned", "discarded", "applied"):
        add_change(conn, run, u, state)
    assert apply.has_held(conn) is False
    add_change(conn, run, u, "held")
    assert apply.has_held(conn) is True


def test_expiring_discards_held_rows_of_the_given_users_only(conn):
    r1, r2 = add_run(conn, "held", 1), add_run(conn, "held", 2)
    users = [_linked(conn, z) for z in range(1, 1000)]
    held = [add_change(conn, r1 if i % 2 else r2, u, "held") for i, u in enumerate(users)]
    keep = add_change(conn, r1, users[0], "planned")
    assert apply.expire_held_rows(conn, users[:950]) == 950
    assert [state_of(conn, c) for c in (held[0], held[1], held[949], held[950], keep)] \
        == ["discarded", "discarded", "discarded", "held", "planned"]
    assert apply.expire_held_rows(conn, []) == 0


def test_older_held_rows_give_way_to_this_runs_plan_or_to_a_deactivation(conn):
    old, run = add_run(conn, "held", 5), add_run(conn)
    replanned, deactivated, unlinked, still, own = (_linked(conn, 1), _linked(conn, 2), _linked(conn, 3),
                                                   _linked(conn, 4), _linked(conn, 5))
    rows = [add_change(conn, old, u, "held") for u in (replanned, deactivated, unlinked, still)]
    own_held = add_change(conn, run, own, "held")
    add_change(conn, run, replanned, "planned")
    add_change(conn, run, still, "applied", action="update")
    conn.execute("UPDATE users SET status = 'deactivated', deactivated_by = 'admin' WHERE id = ?", (deactivated,))
    conn.execute("UPDATE users SET zendesk_id = NULL WHERE id = ?", (unlinked,))
    assert apply.supersede_held(conn, run) == 3
    assert [state_of(conn, c) for c in (*rows, own_held)] == ["discarded", "discarded", "discarded", "held", "held"]


def test_held_counts_follow_the_rows_and_an_emptied_held_run_is_completed(conn):
    emptied, kept, stale, skipped, running = (add_run(conn, "held", 2), add_run(conn, "held", 1),
                                              add_run(conn, "completed", 4), add_run(conn, "held", 3),
                                              add_run(conn, "running", 0))
    u = _linked(conn, 1)
    add_change(conn, emptied, u, "discarded")
    add_change(conn, kept, u, "held")
    add_change(conn, kept, u, "held")
    add_change(conn, stale, u, "held")
    add_change(conn, running, u, "held")
    apply.refresh_held_runs(conn, skip_run=skipped)
    got = {r["id"]: (r["status"], r["n_held"]) for r in conn.execute("SELECT id, status, n_held FROM sync_runs")}
    assert got == {emptied: ("completed", 0), kept: ("held", 2), stale: ("completed", 1), skipped: ("held", 3),
                   running: ("running", 0)}
    apply.refresh_held_runs(conn)
    assert tuple(conn.execute("SELECT status, n_held FROM sync_runs WHERE id = ?", (skipped,)).fetchone()) \
        == ("completed", 0)


def test_a_resumed_run_adopts_the_stopped_runs_marks_and_plans_and_stale_plans_go(conn):
    stopped, stale, run = add_run(conn, "interrupted"), add_run(conn, "interrupted"), add_run(conn)
    a, b, c = _linked(conn, 1, last_seen_run=stopped), _linked(conn, 2, last_seen_run=stale), _linked(conn, 3)
    planned = add_change(conn, stopped, a, "planned")
    applied = add_change(conn, stopped, a, "applied", action="update")
    stale_plan = add_change(conn, stale, b, "planned")
    apply.adopt(conn, stopped, run)
    assert [user(conn, u)["last_seen_run"] for u in (a, b, c)] == [run, stale, None]
    run_of = dict(conn.execute("SELECT id, run_id FROM user_changes").fetchall())
    assert (run_of[planned], run_of[applied], run_of[stale_plan]) == (run, stopped, stale)
    apply.discard_stale_planned(conn, run)
    assert [state_of(conn, x) for x in (planned, applied, stale_plan)] == ["planned", "applied", "discarded"]


# -- a bug found while writing these tests -------------------------------------------------
def test_held_rows_of_users_an_undo_removed_no_longer_keep_their_run_held(ctx):
    """Undoing the import of users the guard later held removes them (still Pending). Their held
    rows kept the later run 'held', and the next import gave their ids to other people, who then
    showed up as held ("suspended in Zendesk") although Zendesk had them fine."""
    from evalsync_gui.core.sync import runs
    from evalsync_gui.core.sync.config import SyncConfig, save_config
    from evalsync_gui.core.sync.runner import run_sync
    from tests.core.sync_fake import FakeZendesk, client_for

    fz = FakeZendesk()
    fz.ids = [fz.add(f"Agent {i}", f"a{i}@x.test") for i in range(20)]
    fz.seeding = False
    save_config(ctx, SyncConfig(roles=["agent"]))
    imported = run_sync(ctx, client=client_for(fz))
    for uid in fz.ids[:15]:
        fz.touch(uid, suspended=True)
    held = run_sync(ctx, client=client_for(fz), full=True)
    assert (held.status, held.held) == ("held", 15)
    runs.undo_run(ctx, imported.run_id)  # removes all 20 imported users: they are still Pending
    assert runs.held_deactivations(ctx) == []
    after = run_sync(ctx, client=client_for(fz), full=True)
    assert after.status == "completed"
    assert runs.held_deactivations(ctx) == []
    run = runs.get_run(ctx, held.run_id)
    assert (run["status"], run["n_held"]) == ("completed", 0)
    assert {c["state"] for c in run["changes"] if c["action"] == "deactivate"} == {"discarded"}
    # The re-imported users got new ids: no earlier run's row names any of them.
    assert ctx.db.scalar("SELECT count(*) FROM user_changes c JOIN users u ON u.id = c.user_id "
                         "WHERE c.run_id != ?", (after.run_id,)) == 0
