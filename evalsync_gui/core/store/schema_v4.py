"""Schema 4: a trigram full-text index for the users table's search box.

The search box matches a word anywhere in name, e-mail, identifier, custom role or team
(``LIKE '%word%'``), which is a full scan of 100,000 rows on every keystroke. An FTS5 table
with the trigram tokenizer answers the same substring question from an index. It is an
external-content table (it stores only the index, the text stays in ``users``), kept in step
by triggers; the update trigger fires only when a searched column really changed, so status
changes and sync runs that rewrite the same values cost nothing extra.

FTS5 with the trigram tokenizer needs SQLite 3.34 built with FTS5. Where it is missing the
step is empty and ``core.directory`` keeps searching with LIKE (it looks for ``users_fts``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

FTS_TABLE = "users_fts"
#: The searched columns of ``users``, in the FTS table's column order.
FTS_COLUMNS = ("name", "email", "identifier", "custom_role_name", "team")

_COLS = ", ".join(FTS_COLUMNS)
_NEW = ", ".join(f"new.{c}" for c in FTS_COLUMNS)
_OLD = ", ".join(f"old.{c}" for c in FTS_COLUMNS)
_CHANGED = " OR ".join(f"old.{c} IS NOT new.{c}" for c in FTS_COLUMNS)

_INSERT_TRIGGER = (f"CREATE TRIGGER users_fts_insert AFTER INSERT ON users BEGIN "
                   f"INSERT INTO {FTS_TABLE} (rowid, {_COLS}) VALUES (new.id, {_NEW}); END")

FTS_STEP: tuple[str, ...] = (
    f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5({_COLS}, content='users', content_rowid='id', tokenize='trigram')",
    _INSERT_TRIGGER,
    f"CREATE TRIGGER users_fts_delete AFTER DELETE ON users BEGIN "
    f"INSERT INTO {FTS_TABLE} ({FTS_TABLE}, rowid, {_COLS}) VALUES ('delete', old.id, {_OLD}); END",
    f"CREATE TRIGGER users_fts_update AFTER UPDATE OF {_COLS} ON users WHEN {_CHANGED} BEGIN "
    f"INSERT INTO {FTS_TABLE} ({FTS_TABLE}, rowid, {_COLS}) VALUES ('delete', old.id, {_OLD}); "
    f"INSERT INTO {FTS_TABLE} (rowid, {_COLS}) VALUES (new.id, {_NEW}); END",
    # Users already in the directory (an upgraded database) get indexed once, here.
    f"INSERT INTO {FTS_TABLE} ({FTS_TABLE}) VALUES ('rebuild')",
)


def trigram_available() -> bool:
    """True when this SQLite has FTS5 with the trigram tokenizer (3.34+ built with FTS5)."""
    try:
        conn = sqlite3.connect(":memory:")
    except sqlite3.Error:
        return False
    try:
        conn.execute("CREATE VIRTUAL TABLE probe USING fts5(x, tokenize='trigram')")
        return True
    except sqlite3.Error:
        return False
    finally:
        conn.close()


STEP: tuple[str, ...] = FTS_STEP if trigram_available() else ()


@contextmanager
def search_index_paused(conn: sqlite3.Connection) -> Iterator[None]:
    """Bulk-insert users without the per-row FTS trigger, then re-index the table once.

    Use inside a write transaction around a large batch of ``INSERT INTO users`` (an initial
    import): FTS5 writes a segment per inserted row when fed from a trigger (about 5x the
    insert time at 100,000 rows) while a 'rebuild' takes well under a second. Updates and
    deletes inside the block still go through their triggers. No-op without ``users_fts``.
    """
    has_fts = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'trigger' AND name = 'users_fts_insert'"
                           ).fetchone() is not None
    if not has_fts:
        yield
        return
    conn.execute("DROP TRIGGER users_fts_insert")
    try:
        yield
    finally:
        conn.execute(f"INSERT INTO {FTS_TABLE} ({FTS_TABLE}) VALUES ('rebuild')")
        conn.execute(_INSERT_TRIGGER)
