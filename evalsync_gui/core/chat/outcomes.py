"""Outcomes back in the requester's world: an outcome CSV beside a local source, and a daily
summary e-mail to the admin.

The outcome file (``<source>.outcomes.csv``) has one line per row taken from the source:
row, status, reason, time. The source file itself is never opened for writing. The outcome
file is rewritten whole after each run through a temporary file created with
``O_EXCL | O_NOFOLLOW`` in the same folder (so a planted symlink is never followed) and an
atomic rename, with mode 0600. Every outcome is also in the action log (the processor's
rows, plus "Unusable row" and "Source row changed" from :mod:`sources`).
"""

from __future__ import annotations

import contextlib
import csv
import os
import secrets
from datetime import datetime, timedelta, timezone
from pathlib import Path

from evalsync_gui.core.chat import audit
from evalsync_gui.core.chat.sources import Source
from evalsync_gui.core.csvsafe import safe_cell
from evalsync_gui.core.errors import UsageError
from evalsync_gui.core.store.db import Database

HEADER = ("row", "status", "reason", "time")


def outcome_path(src: Source) -> Path:
    """Where a local source's outcomes go: ``responses.csv`` -> ``responses.outcomes.csv``."""
    p = Path(src.location)
    return p.with_name(p.stem + ".outcomes.csv")


def outcome_rows(db: Database, source_id: int) -> list[tuple]:
    """(row, status, reason, time) for every row taken from a source, in row order."""
    rows = db.query(
        "SELECT r.line, COALESCE(q.status, r.status, 'queued') AS status, COALESCE(q.reason, r.reason, '') AS reason,"
        " COALESCE(q.updated_at, r.taken_at) AS at, r.changed_digest FROM chat_source_rows r"
        " LEFT JOIN chat_requests q ON q.id = r.request_id"
        " WHERE r.source_id = ? AND COALESCE(r.status, '') != 'skipped' ORDER BY r.line", (source_id,))
    out = []
    for r in rows:
        reason = r["reason"]
        if r["changed_digest"]:
            reason = (reason + "; " if reason else "") + "the row changed after it was taken (not run again)"
        out.append((r["line"], r["status"], reason, r["at"]))
    return out


def write_outcomes(db: Database, src: Source) -> Path:
    """Rewrite the outcome CSV beside a local source atomically (mode 0600); returns its path."""
    target = outcome_path(src)
    if target.resolve() == Path(src.location).resolve():
        raise UsageError(f"The source {src.name} is named like an outcome file; rename it.")
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(6)}.part")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(tmp, flags, 0o600)
    except OSError as exc:
        raise UsageError(f"Cannot write {target}: {exc.strerror or exc}; check the folder's permissions.") from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(HEADER)
            writer.writerows([safe_cell(v) for v in row] for row in outcome_rows(db, src.id))
        os.replace(tmp, target)  # replaces a symlink planted at the target, never writes through it
    except BaseException as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()  # ours: created just above with O_EXCL
        if isinstance(exc, OSError):
            raise UsageError(f"Cannot write {target}: {exc.strerror or exc}; check the folder's permissions.") from exc
        raise
    return target


# -- the daily summary ---------------------------------------------------------------------
def summary_text(db: Database, since: datetime) -> tuple[str, str]:
    """(subject, body) counting the action log's rows since ``since``."""
    stamp = since.strftime("%Y-%m-%dT%H:%M:%SZ")
    counts = {r[0]: r[1] for r in db.query("SELECT action, count(*) FROM chat_actions WHERE at >= ?"
                                           " AND action NOT IN (?, ?) GROUP BY action ORDER BY action",
                                           (stamp, audit.CREATING, audit.ENABLING))}
    held = db.scalar("SELECT count(*) FROM chat_holds WHERE decision IS NULL") or 0
    failed = db.scalar("SELECT count(*) FROM chat_requests WHERE status = 'failed'") or 0
    lines = [f"{action}: {n}" for action, n in counts.items()] or ["No chat actions."]
    if held:
        lines.append(f"Waiting for your review: {held} (evalsync chat runs list)")
    if failed:
        lines.append(f"Failed, waiting for a retry by you: {failed} (evalsync chat requests retry)")
    subject = f"EvalSync chat summary: {sum(counts.values())} actions since {stamp[:16].replace('T', ' ')} UTC"
    return subject, "Chat requests handled by EvalSync in the last day:\n\n" + "\n".join(lines) + "\n"


def queue_summary(db: Database, to: str, now: datetime | None = None) -> None:
    """Put the last day's summary in the outbox for the admin."""
    now = now or datetime.now(timezone.utc)
    subject, body = summary_text(db, now - timedelta(days=1))
    with db.transaction() as conn:
        conn.execute("INSERT INTO email_outbox (request_id, to_addr, subject, body) VALUES (NULL, ?, ?, ?)",
                     (to, subject, body))
