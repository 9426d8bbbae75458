"""schema_v3's indices: every sortable column of the users table sorts from an index."""

from __future__ import annotations

import sqlite3

import pytest

from evalsync_gui.core import directory
from evalsync_gui.core.store import schema_v1, schema_v2, schema_v3


@pytest.fixture
def conn():
    c = sqlite3.connect(":memory:")
    for statement in schema_v1.STEP + schema_v2.STEP + schema_v3.STEP:
        c.execute(statement)
    yield c
    c.close()


@pytest.mark.parametrize("sort", sorted(directory.SORT_SQL))
@pytest.mark.parametrize("status", ["pending", None])
def test_sorted_views_need_no_temp_b_tree(conn, sort, status):
    view = directory.View(status=status, sort=sort, descending=True)
    where, params = view.where()
    plan = " ".join(r[3] for r in conn.execute(f"EXPLAIN QUERY PLAN SELECT id FROM users {where} {view.order_by()}", params))
    assert "TEMP B-TREE" not in plan, plan


def test_held_changes_are_counted_from_an_index(conn):
    plan = conn.execute("EXPLAIN QUERY PLAN SELECT count(*) FROM user_changes WHERE state = 'held'").fetchall()
    assert "user_changes_held" in plan[0][3]
