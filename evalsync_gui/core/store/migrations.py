"""Numbered schema migrations keyed by ``PRAGMA user_version``.

``MIGRATIONS[n - 1]`` takes a database from version ``n - 1`` to ``n``. Each step runs in one
transaction together with its ``user_version`` bump, so a crash leaves the database at the
old or the new version, never between. Before an existing database is migrated, a copy is
taken with SQLite's backup API (``evalsync.db.v{old}.bak``).

To change the schema, append a step; never edit a released one (tests open a database of
every earlier version and migrate it).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from evalsync_gui.core.store.schema_chat_admin_steps import STEP as STEP_CHAT_ADMIN_STEPS
from evalsync_gui.core.store.schema_chat_intake import STEP as STEP_CHAT_INTAKE
from evalsync_gui.core.store.schema_reason_codes import STEP as STEP_REASON_CODES
from evalsync_gui.core.store.schema_v1 import STEP as STEP_1
from evalsync_gui.core.store.schema_v2 import STEP as STEP_2
from evalsync_gui.core.store.schema_v3 import STEP as STEP_3
from evalsync_gui.core.store.schema_v4 import STEP as STEP_4
from evalsync_gui.core.store.schema_v5 import STEP as STEP_5

# main shipped the chat step as version 6, so the reason codes (issue 15) come after it, then chat intake.
MIGRATIONS: list[tuple[str, ...]] = [STEP_1, STEP_2, STEP_3, STEP_4, STEP_5, STEP_CHAT_ADMIN_STEPS, STEP_REASON_CODES,
                                     STEP_CHAT_INTAKE]
LATEST = len(MIGRATIONS)


def backup_path(db_path: str, version: int) -> Path:
    return Path(f"{db_path}.v{version}.bak")


def migrate(conn: sqlite3.Connection, db_path: str, target: int = LATEST) -> int:
    """Bring ``conn`` up to ``target``; returns the version it started at."""
    start = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if start > LATEST:
        from evalsync_gui.core.errors import StoreError

        raise StoreError(
            f"The database was written by a newer EvalSync (schema {start}, this one knows {LATEST}); "
            "update EvalSync or choose another --data-dir."
        )
    if start >= target:
        return start
    if start > 0 and db_path != ":memory:":
        dest = sqlite3.connect(str(backup_path(db_path, start)))
        try:
            conn.backup(dest)
        finally:
            dest.close()
    for version in range(start + 1, target + 1):
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in MIGRATIONS[version - 1]:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {version}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return start
