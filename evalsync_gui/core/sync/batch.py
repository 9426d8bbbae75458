"""Group commit: whole pages share one transaction, bounded in time and page count.

Committing every page of a 100,000-user import costs a thousand WAL commits (and the
checkpoints they trigger) for 100 rows each. :class:`GroupCommit` instead keeps one
``BEGIN IMMEDIATE`` transaction open across consecutive pages and commits it when

* it has been open for ``max_seconds`` (0.3 s) or holds ``max_pages`` pages, checked
  after each page (the very first page is committed alone, so a resumable cursor exists
  as early as with per-page commits), or
* the next page is not ready within the time left (:meth:`GroupCommit.wait_budget`), so
  the write lock is held for at most about ``max_seconds`` plus one page's work, never
  across a slow response or a rate-limit wait (other windows' writes queue on
  busy_timeout meanwhile), or
* the stream ends, fails or is cancelled (the pages already applied are committed).

A group's pages and the resume cursor after its last page (written by ``before_commit``
just before COMMIT, with the run's counters) commit together, and a transaction only ever
ends between pages: so a crash (or kill) loses at most the uncommitted group (about 0.3 s
of work) and the next run resumes from the cursor of the last committed page; no
page is ever split across transactions. If applying a page fails half-way (a database
error, a bug), the whole open group is rolled back, not just that page, and the run fails
with the cursor of the last committed group (a savepoint per page would cost a statement
journal copy of every touched page). A network error, a cancel or the end of the stream
happens between pages, so the pages already applied are committed first.

During a group the connection uses a larger page cache and WAL auto-checkpoint (restored
afterwards) and ``temp_store=MEMORY``; ``synchronous`` stays NORMAL (WAL), so a committed
group survives a process crash, and an OS crash loses at most the last commits, never
consistency.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from evalsync_gui.core.store.db import rollback_quietly, translate_sqlite_error

MAX_SECONDS = 0.3
MAX_PAGES = 200
CACHE_KIB = 65536  # page cache for the sync connection: dirty index pages of a group stay in memory
WAL_AUTOCHECKPOINT = 8000  # pages (~32 MB): checkpoint every few groups, not after each one


class GroupCommit:
    """Apply pages in grouped transactions on this thread's connection of ``db``."""

    def __init__(self, db, *, max_seconds: float = MAX_SECONDS, max_pages: int = MAX_PAGES,
                 before_commit: Callable[[sqlite3.Connection], None] | None = None,
                 on_begin: Callable[[sqlite3.Connection], None] | None = None) -> None:
        """``before_commit(conn)`` runs inside each group just before COMMIT: the caller
        writes the group's last cursor and run counters there, once per group.
        ``on_begin(conn)`` runs right after each group's BEGIN, before its first page: the
        caller reads there the facts that hold while the group holds the write lock."""
        self.db = db
        self.before_commit = before_commit
        self.on_begin = on_begin
        self.max_seconds, self.max_pages = max_seconds, max_pages
        self.conn: sqlite3.Connection | None = None
        self.began: float | None = None
        self.pages = 0
        self.commits = 0
        self._saved: dict[str, int] = {}

    # -- lifetime ----------------------------------------------------------------------
    def __enter__(self) -> "GroupCommit":
        self.conn = self.db.connect()
        for name, value in (("cache_size", -CACHE_KIB), ("wal_autocheckpoint", WAL_AUTOCHECKPOINT),
                            ("temp_store", 2)):  # 2 = MEMORY
            self._saved[name] = self.conn.execute(f"PRAGMA {name}").fetchone()[0]
            self.conn.execute(f"PRAGMA {name} = {value}")
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
                    rollback_quietly(conn)
                for name, value in self._saved.items():
                    conn.execute(f"PRAGMA {name} = {value}")

    # -- pages -------------------------------------------------------------------------
    @contextmanager
    def page(self) -> Iterator[sqlite3.Connection]:
        """One page's writes, all or nothing, inside the open group transaction."""
        conn = self.conn
        assert conn is not None, "use GroupCommit as a context manager"
        new_group = not conn.in_transaction
        if new_group:
            self._execute("BEGIN IMMEDIATE")
            self.began, self.pages = time.monotonic(), 0
        try:
            if new_group and self.on_begin is not None:
                self.on_begin(conn)
            yield conn
        except sqlite3.Error as exc:
            self.rollback()
            raise translate_sqlite_error(exc, self.db.path) from exc
        except BaseException:
            self.rollback()
            raise
        self.pages += 1
        if self.due():
            self.commit()

    def rollback(self) -> None:
        """Drop the whole open group: a page that failed half-way must leave no trace."""
        if self.conn is not None:
            rollback_quietly(self.conn)
        self.began = None

    def due(self) -> bool:
        if self.began is None or self.conn is None or not self.conn.in_transaction:
            return False
        return (self.commits == 0 or self.pages >= self.max_pages
                or time.monotonic() - self.began >= self.max_seconds)

    def wait_budget(self) -> float | None:
        """How long the caller may wait for the next page before committing (None: no group open)."""
        if self.began is None or self.conn is None or not self.conn.in_transaction:
            return None
        return max(0.0, self.max_seconds - (time.monotonic() - self.began))

    def commit(self) -> None:
        conn = self.conn
        if conn is not None and conn.in_transaction:
            try:
                if self.before_commit is not None and self.pages:
                    self.before_commit(conn)
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                rollback_quietly(conn)
                raise translate_sqlite_error(exc, self.db.path) from exc
            self.commits += 1
        self.began = None

    def _execute(self, sql: str) -> None:
        try:
            self.conn.execute(sql)  # type: ignore[union-attr]
        except sqlite3.Error as exc:
            raise translate_sqlite_error(exc, self.db.path) from exc
