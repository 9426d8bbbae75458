"""The users table's SQL on the latest schema: what is indexed (only what a sync needs), that
sorts and searches give the right rows, and which plans the lookups use (plans, not timings)."""

from __future__ import annotations

import sqlite3

import pytest

from evalsync_gui.core import directory
from evalsync_gui.core.store import migrations
from evalsync_gui.core.sync import apply
from evalsync_gui.core.sync.scope import Scope
from evalsync_gui.core.sync.users import clean_user


@pytest.fixture
def conn():
    c = sqlite3.connect(":memory:")
    c.row_factory = sqlite3.Row
    migrations.migrate(c, ":memory:")
    yield c
    c.close()


def plan(conn: sqlite3.Connection, sql: str, params=()) -> str:
    return " | ".join(r[3] for r in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params))


def ids(conn: sqlite3.Connection, view: directory.View) -> list[int]:
    where, params = view.where()
    return [r[0] for r in conn.execute(f"SELECT id FROM {view.source()} {where} {view.order_by()}", params)]


def add(conn, *rows):
    conn.executemany("INSERT INTO users (name, email, identifier, custom_role_name, team, status, zendesk_id) "
                     "VALUES (?,?,?,?,?,?,?)", rows)


def test_users_keep_only_the_indices_a_sync_needs(conn):
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'users' "
                                        "AND sql IS NOT NULL")}
    assert names == {"users_unlinked_email", "users_unlinked_identifier"}
    assert conn.execute("SELECT count(*) FROM sqlite_master WHERE name LIKE 'users_fts%'").fetchone()[0] == 0


def test_matching_unlinked_users_reads_them_through_an_index(conn):
    add(conn, ("Ann", "ann@x.example", "E-1", None, None, "active", None),
        ("Bob", "bob@x.example", "E-2", None, None, "pending", 7))
    for mode, key in (("default", "ANN@x.example"), ("external_id", "E-1")):
        user = clean_user({"id": 9, "name": "Ann", "email": key if mode == "default" else "a@b.c",
                           "role": "agent", "external_id": key})
        lookup = apply.lookup_page(conn, [user], Scope(agents=True), mode)
        assert [r["name"] for r in lookup.unlinked_by_key.values()] == ["Ann"], mode
    # The unlinked rows are read once per group (apply.UnlinkedRows), never by a scan of users.
    text = plan(conn, f"SELECT {apply.LOCAL_COLUMNS} FROM users WHERE zendesk_id IS NULL ORDER BY id DESC", ())
    assert "SEARCH users USING INDEX" in text, text
    assert "sqlite_autoindex_users" in plan(conn, "SELECT id FROM users WHERE zendesk_id IN (?, ?)", (1, 2))


def test_held_changes_are_counted_from_an_index(conn):
    assert "user_changes_held" in plan(conn, "SELECT count(*) FROM user_changes WHERE state = 'held'")


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("sort", sorted(directory.SORT_SQL))
@pytest.mark.parametrize("status", ["pending", None])
def test_every_sort_gives_a_total_order(conn, sort, status, descending):
    add(conn, *[(f"{'bB'[i % 2]}{i % 5}", f"U{i % 7}@x.example", None, f"Tier {i % 3}" if i % 4 else None, None,
                 "pending" if i % 3 else "active", 100 + i) for i in range(40)])
    view = directory.View(status=status, sort=sort, descending=descending)
    got = ids(conn, view)
    rows = {r["id"]: r for r in conn.execute("SELECT * FROM users")}
    key_sql = directory.SORT_SQL[sort].replace(" COLLATE NOCASE", "")
    keys = {r[0]: r[1] for r in conn.execute(f"SELECT id, {key_sql} FROM users")}
    lower = " COLLATE NOCASE" in directory.SORT_SQL[sort]

    def key(i):
        value = keys[i]
        return (value is not None, (value.lower() if lower and value else value) or "", i)

    wanted = sorted((i for i in rows if status is None or rows[i]["status"] == status), key=key,
                    reverse=descending)
    if sort == "status" and status:
        wanted = sorted(wanted, reverse=descending)
    assert got == wanted


def test_search_matches_words_anywhere_in_any_searched_column(conn):
    add(conn, *[(f"User {i} O'Hara", f"u{i}@abc-energy.com", f"id_{i}%", "Tier 1" if i % 2 else None,
                 'Team "A"' if i % 3 else None, "pending" if i % 4 else "active", None) for i in range(40)])
    rows = list(conn.execute("SELECT * FROM users"))

    def matches(row, words):
        text = [str(row[c] or "").lower() for c in ("name", "email", "identifier", "custom_role_name", "team")]
        return all(any(w.lower() in t for t in text) for w in words)

    for search in ["hara", "o'h", "ABC-E", "id_1", "1%", "tier 1", '"a"', "team a", "u3 tier", "zzz", "m", "r 1"]:
        for status in (None, "pending"):
            view = directory.View(status=status, search=search, sort="email")
            wanted = {r["id"] for r in rows if (status is None or r["status"] == status)
                      and matches(r, search.split())}
            assert set(ids(conn, view)) == wanted, search


def test_a_search_scans_the_table_once_and_sorts_the_matches(conn):
    where, params = directory.View(status="pending", search="ma", sort="updated").where()
    text = plan(conn, f"SELECT id FROM users NOT INDEXED {where} ORDER BY updated_at", params)
    assert text.startswith("SCAN users") and "INDEX" not in text, text


@pytest.mark.parametrize("old, new, narrower", [
    ("", "m", True), ("m", "ma", True), ("ma", "mar", True), ("ma", "ma s", True), ("mar", "MARIA", True),
    ("mar", "ma", False), ("ma", "mb", False), ("m", "m", False), ("x", "", False), ("ma s", "mar", False),
])
def test_typing_on_narrows_the_view(old, new, narrower):
    assert directory.View(search=new).narrows(directory.View(search=old)) is narrower
    assert not directory.View(search=new, sort="email").narrows(directory.View(search=old))
    assert not directory.View(status=None, search=new).narrows(directory.View(search=old))


def test_narrowed_ids_equal_a_fresh_query(tmp_path):
    from evalsync_gui.core.store.db import Database

    db = Database(tmp_path / "d.db")
    with db.transaction() as c:
        add(c, *[(f"{n} {i}", f"{n.lower()}{i}@{'abc' if i % 3 else 'xyz'}.com", None, "Tier 1" if i % 4 else None,
                  None if i % 5 else "North", "pending" if i % 6 else "active", 1000 + i)
                 for i, n in enumerate(["Maria", "Mario", "Amara", "Bob", "Ma Li", "Tom"] * 30)])
    for sort in ("name", "updated", "email"):
        typed = ""
        for text in ("m", "ma", "mar", "mar a", "mar abc", "mar abc 1"):
            wide = directory.View(status="pending", search=typed, sort=sort, descending=sort == "email")
            view = directory.View(status="pending", search=text, sort=sort, descending=sort == "email")
            assert view.narrows(wide)
            got = directory.narrow_ids(db, view, directory.query_ids(db, wide))
            assert list(got) == list(directory.query_ids(db, view)), (sort, text)
            typed = text
    db.close()
