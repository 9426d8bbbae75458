"""Resumable sync state in the ``sync_state`` table (JSON values).

Keys:
    incremental   {"after_url": str|None, "start_time": int, "signature": str}
                  where the next incremental export read starts (admin tokens only)
    last_full_at  epoch seconds of the last complete full listing
    resume        {"run_id", "mode", "signature", "cursors": {listing key: {"next", "done"}}}
                  a run that stopped half-way; its successor adopts its seen-marks and
                  planned deactivations and continues from these cursors
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

INCREMENTAL = "incremental"
LAST_FULL_AT = "last_full_at"
RESUME = "resume"


def get(conn_or_db, key: str, default: Any = None) -> Any:
    if isinstance(conn_or_db, sqlite3.Connection):
        row = conn_or_db.execute("SELECT value FROM sync_state WHERE key = ?", (key,)).fetchone()
    else:
        rows = conn_or_db.query("SELECT value FROM sync_state WHERE key = ?", (key,))
        row = rows[0] if rows else None
    return json.loads(row[0]) if row and row[0] is not None else default


def put(conn: sqlite3.Connection, key: str, value: Any) -> None:
    """Write inside the caller's transaction, so state moves together with the data."""
    conn.execute(
        "INSERT INTO sync_state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (key, json.dumps(value)),
    )


def delete(conn: sqlite3.Connection, key: str) -> None:
    conn.execute("DELETE FROM sync_state WHERE key = ?", (key,))


def forget_all(conn: sqlite3.Connection) -> None:
    """Inside the caller's transaction: the next run is a full listing from the start."""
    for key in (INCREMENTAL, LAST_FULL_AT, RESUME):
        delete(conn, key)


def forget_incremental(db) -> None:
    """Force the next run to be a full listing (scope changed, or a run was undone)."""
    with db.transaction() as conn:
        forget_all(conn)
