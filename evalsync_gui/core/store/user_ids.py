"""Ids for new users rows that never reuse a removed user's id.

SQLite hands out ``max(rowid) + 1``, so the id of a removed row (undoing an import removes its
Pending users) comes back; the new user would then inherit the removed one's sync history and
held deactivations, keyed by ``user_changes.user_id``. Every writer of new users rows takes its
ids from here, inside its write transaction (nobody else can insert meanwhile).
"""

from __future__ import annotations

import sqlite3


def first_free_user_id(conn: sqlite3.Connection) -> int:
    """Above every id a users row or a change row has ever named (both maxima use an index)."""
    return conn.execute("SELECT max(coalesce((SELECT max(id) FROM users), 0), "
                        "coalesce((SELECT max(user_id) FROM user_changes), 0)) + 1").fetchone()[0]
