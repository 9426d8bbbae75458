"""The users table's SQL at 100k users: plans (not timings) for sorts and searches, and the
trigram search index of schema_v4 kept in step with the users table."""

from __future__ import annotations

import sqlite3

import pytest

from evalsync_gui.core import directory
from evalsync_gui.core.store import schema_v1, schema_v2, schema_v3, schema_v4

needs_trigram = pytest.mark.skipif(not schema_v4.trigram_available(), reason="SQLite without FTS5 trigram")


@pytest.fixture
def conn():
    c = sqlite3.connect(":memory:")
    for statement in schema_v1.STEP + schema_v2.STEP + schema_v3.STEP + schema_v4.STEP:
        c.execute(statement)
    yield c
    c.close()


def plan(conn: sqlite3.Connection, view: directory.View) -> str:
    fts = directory.has_search_index(conn)
    where, params = view.where(fts)
    sql = f"EXPLAIN QUERY PLAN SELECT id FROM {view.source(fts)} {where} {view.order_by()}"
    return " | ".join(r[3] for r in conn.execute(sql, params))


def ids(conn: sqlite3.Connection, view: directory.View) -> list[int]:
    fts = directory.has_search_index(conn)
    where, params = view.where(fts)
    return [r[0] for r in conn.execute(f"SELECT id FROM {view.source(fts)} {where} {view.order_by()}", params)]


def add(conn, *rows):
    conn.executemany("INSERT INTO users (name, email, identifier, custom_role_name, team, status) VALUES (?,?,?,?,?,?)",
                     rows)


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("sort", sorted(directory.SORT_SQL))
@pytest.mark.parametrize("status", ["pending", "active", None])
def test_every_sort_reads_ids_from_an_index(conn, sort, status, descending):
    text = plan(conn, directory.View(status=status, sort=sort, descending=descending))
    assert "TEMP B-TREE" not in text and "INDEX" in text, text


@needs_trigram
@pytest.mark.parametrize("sort", sorted(directory.SORT_SQL))
@pytest.mark.parametrize("status", ["pending", None])
@pytest.mark.parametrize("search", ["mar", "mar smith", "mar s", "m"])
def test_searches_of_common_words_keep_the_sort_index(conn, sort, status, search):
    text = plan(conn, directory.View(status=status, search=search, sort=sort))
    assert "TEMP B-TREE" not in text, text
    if search != "m":
        assert "users_fts VIRTUAL TABLE" in text, text


def test_two_letter_search_scans_the_table_once(conn):
    text = plan(conn, directory.View(status="pending", search="ma", sort="updated"))
    assert text.startswith("SCAN users") and "INDEX" not in text, text  # rowid order, then one sort


@needs_trigram
def test_search_index_follows_inserts_updates_and_deletes(conn):
    add(conn, ("Maria Smith", "maria@x.example", "E-1", "Tier 1", None, "pending"),
        ("Bob Jones", "bob@x.example", None, None, "North", "active"))
    view = lambda s: directory.View(status=None, search=s)  # noqa: E731
    assert len(ids(conn, view("SMITH"))) == 1 and len(ids(conn, view("north"))) == 1
    conn.execute("UPDATE users SET name = 'Maria Brown' WHERE name = 'Maria Smith'")
    conn.execute("UPDATE users SET status = 'active'")  # no searched column: trigger skipped
    assert ids(conn, view("smith")) == [] and len(ids(conn, view("brown"))) == 1
    conn.execute("DELETE FROM users WHERE name = 'Bob Jones'")
    assert ids(conn, view("north")) == [] and len(ids(conn, view("bro"))) == 1


@needs_trigram
def test_search_matches_like_the_like_fallback(conn):
    add(conn, *[(f"User {i} O'Hara", f"u{i}@abc-energy.com", f"id_{i}%", "Tier 1" if i % 2 else None,
                 "Team \"A\"" if i % 3 else None, "pending" if i % 4 else "active") for i in range(40)])
    for search in ["hara", "o'h", "ABC-E", "id_1", "1%", "tier 1", '"a"', "team a", "u3 tier", "zzz", "m", "r 1"]:
        for status in (None, "pending"):
            view = directory.View(status=status, search=search, sort="email")
            assert ids(conn, view) == [r[0] for r in conn.execute(
                f"SELECT id FROM users {view.where(False)[0]} {view.order_by()}", view.where(False)[1])], search


@needs_trigram
def test_paused_index_is_rebuilt_after_a_bulk_insert(conn):
    with conn, schema_v4.search_index_paused(conn):  # one transaction, as the sync engine would
        add(conn, *[(f"Bulk {i}", f"b{i}@x.example", None, None, None, "pending") for i in range(50)])
    assert len(ids(conn, directory.View(status=None, search="bulk"))) == 50
    add(conn, ("Late Bulk", "late@x.example", None, None, None, "pending"))  # trigger is back
    assert len(ids(conn, directory.View(status=None, search="late"))) == 1
