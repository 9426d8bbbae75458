"""The action log: every Chat action, when, for whom, who asked, and Zendesk's answer.

Rows live in ``chat_actions``. The export is the seed's Google Sheet with its Action column,
written through :mod:`evalsync_gui.core.csvsafe` so a crafted name cannot run as a formula.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from evalsync_gui.core.csvsafe import write_csv
from evalsync_gui.core.store.db import Database

# The Action column's words, shared by the processor, the policy and the GUI colours.
CREATED = "Created"
ENABLED = "Enabled"
UPGRADED = "Upgraded end-user"  # an existing Zendesk end-user made an agent with the chat role
ALREADY_ENABLED = "Already enabled"
NEEDS_ADMIN_STEP = "Needs admin step"  # Support kind: Chat access must be switched on in Admin Center
COMPLETED = "Completed after admin step"  # … and a later batch read that it was
REJECTED = "Rejected"
FAILED = "Failed"
CREATING = "Creating"      # written, committed, before the create call (crash-safety marker)
ENABLING = "Enabling"      # likewise before the enable call
DISABLED = "Disabled"
DELETED = "Deleted"
MAIL_SENT = "E-mail sent"
MAIL_FAILED = "E-mail failed"

EXPORT_HEADER = ("When", "Action", "E-mail", "Requested by", "Request", "Detail", "Zendesk status", "Zendesk answer")
_ANSWER_MAX = 500
_NEVER_KEEP = {"password", "token", "access_token", "refresh_token"}


def answer_text(body: Any) -> str:
    """Zendesk's answer as short JSON for the log; secret-looking keys are dropped."""
    if body is None:
        return ""
    if isinstance(body, dict):
        body = {k: ("<hidden>" if k in _NEVER_KEEP else v) for k, v in body.items()}
        for key in ("agent", "user"):
            inner = body.get(key)
            if isinstance(inner, dict):
                body[key] = {k: v for k, v in inner.items() if k not in _NEVER_KEEP}
    text = body if isinstance(body, str) else json.dumps(body, separators=(",", ":"), default=str)
    return text if len(text) <= _ANSWER_MAX else text[: _ANSWER_MAX - 1] + "…"


def log_action(conn: sqlite3.Connection, action: str, *, email: str = "", actor: str = "",
               request_id: int | None = None, detail: str = "", zendesk_status: int | None = None,
               zendesk_answer: Any = None) -> None:
    """Append one row; call inside the caller's transaction so the log and the state agree."""
    conn.execute(
        "INSERT INTO chat_actions (request_id, actor, email, action, detail, zendesk_status, zendesk_answer)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (request_id, actor, email, action, detail, zendesk_status, answer_text(zendesk_answer)),
    )


def recent_actions(db: Database, limit: int = 1000, search: str = "") -> list[dict]:
    """Newest first, with the requester of the linked request, for the GUI and ``--json``."""
    where, params = "", []
    if search:
        where = "WHERE a.email LIKE ? OR a.action LIKE ? OR a.detail LIKE ?"
        params = [f"%{search}%"] * 3
    rows = db.query(
        f"SELECT a.id, a.at, a.action, a.email, r.requester, a.request_id, a.actor, a.detail,"
        f" a.zendesk_status, a.zendesk_answer FROM chat_actions a LEFT JOIN chat_requests r ON r.id = a.request_id"
        f" {where} ORDER BY a.id DESC LIMIT ?", (*params, limit))
    return [dict(r) for r in rows]


def _export_rows(db: Database) -> Iterator[tuple]:
    conn = db.connect()
    cur = conn.execute(
        "SELECT a.at, a.action, a.email, COALESCE(r.requester, a.actor), a.request_id, a.detail,"
        " a.zendesk_status, a.zendesk_answer FROM chat_actions a"
        " LEFT JOIN chat_requests r ON r.id = a.request_id ORDER BY a.id")
    for row in cur:
        yield tuple(row)


def export_csv(db: Database, path: str | Path) -> int:
    """Write the whole log as CSV with an Action column; returns the number of rows."""
    return write_csv(path, EXPORT_HEADER, _export_rows(db))
