"""Group commit (core/sync/batch.py): whole pages per transaction, failures never split a page."""

from __future__ import annotations

import pytest

from evalsync_gui.core.store.db import Database
from evalsync_gui.core.sync.batch import GroupCommit


@pytest.fixture
def db(tmp_path):
    d = Database(tmp_path / "t.db")
    yield d
    d.close()


def _page(conn, n: int) -> None:
    conn.execute("INSERT INTO sync_state (key, value) VALUES (?, ?)", (f"page{n}", str(n)))
    conn.execute("INSERT INTO sync_state (key, value) VALUES ('cursor', ?) "
                 "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (str(n),))


def _committed(tmp_path) -> dict:
    other = Database(tmp_path / "t.db")  # a second connection sees committed data only
    rows = {r["key"]: r["value"] for r in other.query("SELECT key, value FROM sync_state")}
    other.close()
    return rows


def test_pages_share_a_transaction_until_due(db, tmp_path):
    with GroupCommit(db, max_seconds=60, max_pages=3) as group:
        with group.page() as conn:
            _page(conn, 0)
        assert _committed(tmp_path)["cursor"] == "0"  # the first page alone: a cursor exists at once
        for n in (1, 2):
            with group.page() as conn:
                _page(conn, n)
        assert _committed(tmp_path)["cursor"] == "0"  # two pages, not due yet
        with group.page() as conn:
            _page(conn, 3)
        assert _committed(tmp_path)["cursor"] == "3" and group.commits == 2
        with group.page() as conn:
            _page(conn, 4)
    assert _committed(tmp_path)["cursor"] == "4"  # the end of the stream commits the rest


def test_failure_inside_a_page_drops_the_open_group_only(db, tmp_path):
    with pytest.raises(RuntimeError):
        with GroupCommit(db, max_seconds=60, max_pages=2) as group:
            for n in range(3):  # commits after page 0, then after pages 1-2
                with group.page() as conn:
                    _page(conn, n)
            with group.page() as conn:
                _page(conn, 3)
            with group.page() as conn:
                _page(conn, 4)
                raise RuntimeError("half-way through page 4")
    rows = _committed(tmp_path)
    assert rows["cursor"] == "2" and "page3" not in rows and "page4" not in rows
    assert not db.connect().in_transaction


def test_error_between_pages_keeps_applied_pages(db, tmp_path):
    with pytest.raises(ConnectionError):
        with GroupCommit(db, max_seconds=60, max_pages=100) as group:
            for n in range(2):
                with group.page() as conn:
                    _page(conn, n)
            raise ConnectionError("the next page failed to download")
    assert _committed(tmp_path)["cursor"] == "1"


def test_wait_budget_and_pragmas_restored(db):
    conn = db.connect()
    before = conn.execute("PRAGMA cache_size").fetchone()[0]
    with GroupCommit(db, max_seconds=60) as group:
        assert group.wait_budget() is None  # nothing open: the caller may block
        for n in range(2):  # the first page commits alone; the second opens a group
            with group.page() as c:
                _page(c, n)
        assert 0 < group.wait_budget() <= 60
        group.commit()  # what the reader does when the next page is late
        assert group.wait_budget() is None and not conn.in_transaction
    assert conn.execute("PRAGMA cache_size").fetchone()[0] == before
