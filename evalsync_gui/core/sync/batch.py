"""Group commit: whole pages share one transaction, bounded in time and page count.

Committing every page of a 100,000-user import costs a thousand WAL commits (and the
checkpoints they trigger) for 100 rows each. :class:`GroupCommit` instead keeps one
``BEGIN IMMEDIATE`` transaction open across consecutive pages and commits it when

* it has been open for ``max_seconds`` (0.5 s) or holds ``max_pages`` pages, checked
  after each page, or
* the next page is not ready within the time left (:meth:`GroupCommit.wait_budget`), so
  the write lock is never held while the client waits on the network or a rate limit, or
* the stream ends, fails or is cancelled (the pages already applied are committed).

Each page runs inside its own ``SAVEPOINT``: a page is applied wholly or not at all, and
the page's resume cursor is written in that same savepoint. So a crash (or kill) loses at
most the uncommitted group (under a second of work) and the next run resumes from the
cursor of the last committed page; no page is ever split across transactions.

During a group the connection uses a larger page cache and WAL auto-checkpoint (restored
afterwards) and ``temp_store=MEMORY``; ``synchronous`` stays NORMAL (WAL), so a committed
group survives a process crash, and an OS crash loses at most the last commits, never
consistency.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager

from evalsync_gui.core.store.db import translate_sqlite_error

MAX_SECONDS = 0.5
MAX_PAGES = 200
CACHE_KIB = 65536  # page cache for the sync connection: dirty index pages of a group stay in memory
WAL_AUTOCHECKPOINT = 8000  # pages (~32 MB): checkpoint every few groups, not after each one


class GroupCommit:
    """Apply pages in grouped transactions on this thread's connection of ``db``."""

    def __init__(self, db, *, max_seconds: float = MAX_SECONDS, max_pages: int = MAX_PAGES) -> None:
        self.db = db
        self.max_seconds, self.max_pages = max_seconds, max_pages
        self.conn: sqlite3.Connection | None = None
        self.began: float | None = None
        self.pages = 0
        self.commits = 0
        self._saved: dict[str, int] = {}

    # -- lifetime ----------------------------------------------------------------------
    def __enter__(self) -> "GroupCommit":
        self.conn = self.db.connect()
        for name, value in (("cache_size", -CACHE_KIB), ("wal_autocheckpoint", WAL_AUTOCHECKPOINT)):
            self._saved[name] = self.conn.execute(f"PRAGMA {name}").fetchone()[0]
            self.conn.execute(f"PRAGMA {name} = {value}")
        self.conn.execute("PRAGMA temp_store = MEMORY")
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            # Pages applied so far are complete (a failed page was rolled back to its
            # savepoint), so a cancel or a network error keeps them, like a crash would
            # keep every committed group.
            self.commit()
        finally:
            conn = self.conn
            if conn is not None:
                if conn.in_transaction:
                    self.db._rollback(conn)
                for name, value in self._saved.items():
                    conn.execute(f"PRAGMA {name} = {value}")

    # -- pages -------------------------------------------------------------------------
    @contextmanager
    def page(self) -> Iterator[sqlite3.Connection]:
        """One page's writes, all or nothing, inside the open group transaction."""
        conn = self.conn
        assert conn is not None, "use GroupCommit as a context manager"
        if not conn.in_transaction:
            self._execute("BEGIN IMMEDIATE")
            self.began, self.pages = time.monotonic(), 0
        self._execute("SAVEPOINT sync_page")
        try:
            yield conn
        except sqlite3.Error as exc:
            self._undo_page()
            raise translate_sqlite_error(exc, self.db.path) from exc
        except BaseException:
            self._undo_page()
            raise
        self._execute("RELEASE sync_page")
        self.pages += 1
        if self.due():
            self.commit()

    def _undo_page(self) -> None:
        conn = self.conn
        if conn is not None and conn.in_transaction:
            try:
                conn.execute("ROLLBACK TO sync_page")
                conn.execute("RELEASE sync_page")
            except sqlite3.Error:
                self.db._rollback(conn)

    def due(self) -> bool:
        if self.began is None or self.conn is None or not self.conn.in_transaction:
            return False
        return self.pages >= self.max_pages or time.monotonic() - self.began >= self.max_seconds

    def wait_budget(self) -> float | None:
        """How long the caller may wait for the next page before committing (None: no group open)."""
        if self.began is None or self.conn is None or not self.conn.in_transaction:
            return None
        return max(0.0, self.max_seconds - (time.monotonic() - self.began))

    def commit(self) -> None:
        conn = self.conn
        if conn is not None and conn.in_transaction:
            try:
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                self.db._rollback(conn)
                raise translate_sqlite_error(exc, self.db.path) from exc
            self.commits += 1
        self.began = None

    def _execute(self, sql: str) -> None:
        try:
            self.conn.execute(sql)  # type: ignore[union-attr]
        except sqlite3.Error as exc:
            raise translate_sqlite_error(exc, self.db.path) from exc
