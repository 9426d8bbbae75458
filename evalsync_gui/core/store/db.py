"""The SQLite database: WAL mode, one connection per thread, migrations on open.

Like beets' dbcore, each thread gets its own connection from a lock-guarded map, because a
``sqlite3.Connection`` must not cross threads; the GUI reads while a worker writes, which
WAL allows. Connections run in autocommit mode (``isolation_level=None``) and every write
goes through :meth:`Database.transaction`, so a transaction's extent is always explicit.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from evalsync_gui.core.emailkey import SQL_NAME as SQL_EMAIL_KEY
from evalsync_gui.core.emailkey import email_key
from evalsync_gui.core.errors import StoreError
from evalsync_gui.core.store import migrations

BUSY_TIMEOUT_MS = 5000


def translate_sqlite_error(exc: sqlite3.Error, path: Path | str = "") -> StoreError:
    """Turn an sqlite3 error into a one-line StoreError that says what to do."""
    text = str(exc).lower()
    where = f" ({path})" if path else ""
    if "locked" in text or "busy" in text:
        return StoreError(f"The database{where} is busy in another EvalSync window or command; try again in a moment.")
    if "full" in text:
        return StoreError(f"The disk holding the database{where} is full; free some space and retry. Nothing was lost.")
    if "readonly" in text or "read-only" in text:
        return StoreError(f"The database{where} is read-only; fix the data folder's permissions or choose another with --data-dir.")
    if "malformed" in text or "not a database" in text or "corrupt" in text:
        return StoreError(f"The database{where} is damaged; restore the backup next to it or move it away to start afresh.")
    if "unable to open" in text:
        return StoreError(f"Cannot open the database{where}; check that the data folder exists and is writable.")
    return StoreError(f"Database error{where}: {exc}.")


def rollback_quietly(conn: sqlite3.Connection) -> None:
    """Roll back an open transaction, ignoring errors: used on paths already raising."""
    try:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
    except sqlite3.Error:
        pass


class Database:
    """A SQLite file shared by threads; ``Database(":memory:")`` is for unit tests only."""

    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._all: list[sqlite3.Connection] = []
        self._migrated = False
        if self.path != ":memory:":
            self._create_private_file()
        self._migrate_once()

    # -- connections -------------------------------------------------------------------
    def _create_private_file(self) -> None:
        p = Path(self.path)
        try:
            if not p.exists():
                fd = os.open(p, os.O_CREAT | os.O_RDWR, 0o600)
                os.close(fd)
            elif os.name == "posix":
                os.chmod(p, 0o600)
        except OSError as exc:
            raise translate_sqlite_error(sqlite3.OperationalError(
                "unable to open database file" if not isinstance(exc, PermissionError) else "readonly"), p) from exc

    def connect(self) -> sqlite3.Connection:
        """This thread's connection, opened on first use."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = sqlite3.connect(self.path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000,
                                       check_same_thread=True)
                conn.row_factory = sqlite3.Row
                conn.create_function(SQL_EMAIL_KEY, 1, email_key, deterministic=True)
                conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
                conn.execute("PRAGMA foreign_keys = ON")
                if self.path != ":memory:":
                    conn.execute("PRAGMA journal_mode = WAL")
                    conn.execute("PRAGMA synchronous = NORMAL")
            except sqlite3.Error as exc:
                raise translate_sqlite_error(exc, self.path) from exc
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    def close(self) -> None:
        """Close this thread's connection (other threads close their own)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
            with self._lock:
                if conn in self._all:
                    self._all.remove(conn)

    # -- queries -----------------------------------------------------------------------
    @contextmanager
    def transaction(self, *, immediate: bool = True) -> Iterator[sqlite3.Connection]:
        """One explicit transaction; rolled back on any exception, sqlite errors translated.

        ``immediate`` takes the write lock up front so two writers queue on busy_timeout
        instead of failing half-way with SQLITE_BUSY on lock upgrade.
        """
        conn = self.connect()
        if conn.in_transaction:  # nested use joins the outer transaction
            yield conn
            return
        try:
            conn.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")
        except sqlite3.Error as exc:
            raise translate_sqlite_error(exc, self.path) from exc
        try:
            yield conn
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            rollback_quietly(conn)
            raise translate_sqlite_error(exc, self.path) from exc
        except BaseException:
            rollback_quietly(conn)
            raise


    def query(self, sql: str, params: tuple | dict = ()) -> list[sqlite3.Row]:
        """Run a read query on this thread's connection."""
        try:
            return self.connect().execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise translate_sqlite_error(exc, self.path) from exc

    def scalar(self, sql: str, params: tuple | dict = ()):
        rows = self.query(sql, params)
        return rows[0][0] if rows else None

    # -- schema ------------------------------------------------------------------------
    @property
    def user_version(self) -> int:
        return int(self.scalar("PRAGMA user_version"))

    def _migrate_once(self) -> None:
        try:
            conn = self.connect()
            self._prepare_private_backup(conn)
            migrations.migrate(conn, self.path)
        except sqlite3.Error as exc:
            raise translate_sqlite_error(exc, self.path) from exc

    def _prepare_private_backup(self, conn: sqlite3.Connection) -> None:
        """Create the pre-migration backup file 0600 first: it holds the same names and e-mails."""
        if self.path == ":memory:" or os.name != "posix":
            return
        start = int(conn.execute("PRAGMA user_version").fetchone()[0])
        if not 0 < start < migrations.LATEST:
            return
        backup = migrations.backup_path(self.path, start)
        try:
            fd = os.open(backup, os.O_CREAT | os.O_WRONLY, 0o600)
            os.close(fd)
            os.chmod(backup, 0o600)
        except OSError:
            pass  # the backup step itself reports a real problem
