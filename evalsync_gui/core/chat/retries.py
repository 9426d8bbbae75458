"""Bounded retries for chat requests whose Zendesk write failed (issue 15, item 12).

A failed write used to leave the request ``failed`` and every later batch tried it again,
forever. Now a failure puts the request back in the queue with a growing wait
(``BACKOFF_MINUTES``); after ``MAX_ATTEMPTS`` writes it is ``failed`` for good, with the
reason, and only an explicit retry by the admin (``evalsync chat requests retry``, or
processing it by id) tries it again. The wait lives in ``chat_request_retries``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone

from evalsync_gui.core.store.db import Database

MAX_ATTEMPTS = 5
#: Wait after the 1st, 2nd, 3rd, 4th failure; the 5th makes the request ``failed``.
BACKOFF_MINUTES = (1, 5, 15, 60)
_FMT = "%Y-%m-%dT%H:%M:%SZ"


def utcnow() -> datetime:
    """The clock (a function so tests can move it)."""
    return datetime.now(timezone.utc)


def after_failure(conn: sqlite3.Connection, request_id: int, reason: str) -> tuple[str, str]:
    """Decide (status, reason) for a request whose write just failed; records the next try time.

    ``attempts`` was already counted when the request was marked ``processing``.
    """
    attempts = int(conn.execute("SELECT attempts FROM chat_requests WHERE id = ?", (request_id,)).fetchone()[0])
    if attempts >= MAX_ATTEMPTS:
        conn.execute("DELETE FROM chat_request_retries WHERE request_id = ?", (request_id,))
        return "failed", (f"{reason} (gave up after {attempts} attempts; retry it with "
                          "`evalsync chat requests retry` or Retry in the Chat tab)")
    wait = BACKOFF_MINUTES[min(attempts, len(BACKOFF_MINUTES)) - 1] if attempts else BACKOFF_MINUTES[0]
    when = (utcnow() + timedelta(minutes=wait)).strftime(_FMT)
    conn.execute("INSERT INTO chat_request_retries (request_id, retry_after) VALUES (?, ?)"
                 " ON CONFLICT (request_id) DO UPDATE SET retry_after = excluded.retry_after", (request_id, when))
    return "queued", f"{reason} (attempt {attempts} of {MAX_ATTEMPTS}; tried again after {when})"


def not_due(db: Database) -> set[int]:
    """Requests waiting for their next try time."""
    now = utcnow().strftime(_FMT)
    return {r[0] for r in db.query("SELECT request_id FROM chat_request_retries WHERE retry_after > ?", (now,))}


def retry(db: Database, ids: Iterable[int] | None = None) -> int:
    """Queue failed requests again with a fresh attempt count (all, or just ``ids``); returns how many."""
    wanted = None if ids is None else [int(i) for i in ids]
    with db.transaction() as conn:
        rows = [r[0] for r in conn.execute("SELECT id FROM chat_requests WHERE status = 'failed'")
                if wanted is None or r[0] in wanted]
        for rid in rows:
            conn.execute("UPDATE chat_requests SET status = 'queued', attempts = 0, reason = NULL,"
                         " updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id = ?", (rid,))
            conn.execute("DELETE FROM chat_request_retries WHERE request_id = ?", (rid,))
    return len(rows)
