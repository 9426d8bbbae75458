"""Guards for chat runs nobody watches: who may ask, creation bursts held for review, mail caps.

* Requesters (issue 13, item 3): a request's *requester* gets the confirmation e-mail, so
  the requester is checked as strictly as the address being granted: on the explicit
  requester list when one is set ("only these people may ask"), else in an allowed domain.
* A creation burst: an unattended run that would create more than ``max_creations`` new
  agents holds every creation of that run for review (like held deactivations), because
  a flood of new names is what a spammed or hijacked form looks like. The admin allows
  or discards them (``evalsync chat runs allow|discard RUN``). On the Support kind an address
  missing from the Chat extract may still be a Support user (an agent without Chat, an
  end-user): before holding, each such address is looked up (a read), and only the ones
  Zendesk does not know count as creations; a failed lookup counts as one (fail closed).
* A daily cap on confirmation e-mails (see :mod:`evalsync_gui.core.chat.mailer`).

Settings key ``chat.guards`` (JSON): ``{"requesters": [...], "max_creations": 20,
"daily_mail_cap": 200}``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field

from evalsync_gui.core.chat import audit
from evalsync_gui.core.chat.agents_api import Agent
from evalsync_gui.core.chat.domains import address_problem, domain_problem, normalize_email
from evalsync_gui.core.chat.existing_users import owner_of
from evalsync_gui.core.errors import UsageError, ZendeskError
from evalsync_gui.core.store.db import Database
from evalsync_gui.core.store.settings import Settings

log = logging.getLogger(__name__)

SETTINGS_KEY = "chat.guards"
DISCARDED = "Discarded"  # the action log's words for the admin's review of held requests
ALLOWED = "Allowed"


@dataclass
class Guards:
    """The unattended-run guard settings."""

    requesters: list[str] = field(default_factory=list)
    max_creations: int = 20
    daily_mail_cap: int = 200

    @classmethod
    def load(cls, settings: Settings) -> "Guards":
        v = settings.get(SETTINGS_KEY) or {}
        return cls([normalize_email(r) for r in v.get("requesters", []) if r],
                   int(v.get("max_creations", 20)), int(v.get("daily_mail_cap", 200)))

    def save(self, settings: Settings) -> None:
        self.check()
        settings.set(SETTINGS_KEY, asdict(self))

    def check(self) -> None:
        """Raise UsageError when a value cannot work."""
        for r in self.requesters:
            problem = address_problem(r)
            if problem:
                raise UsageError(f"Requester {r!r} on the requester list: {problem}.")
        if self.max_creations < 0:
            raise UsageError("The creation limit per run must be 0 or more.")
        if self.daily_mail_cap < 0:
            raise UsageError("The daily e-mail cap must be 0 or more.")


def requester_problem(requester: str, domains: Iterable[str], requesters: Iterable[str] = ()) -> str | None:
    """Why ``requester`` may not ask (and so may not be e-mailed), or None when they may."""
    problem = address_problem(requester)
    if problem:
        return f"requester's e-mail: {problem}"
    allowed = [normalize_email(r) for r in requesters]
    if allowed:
        if normalize_email(requester) in allowed:
            return None
        return f"requester {requester.strip()} is not on the requester list"
    problem = domain_problem(requester, domains)
    return f"requester's e-mail: {problem}" if problem else None


# -- creation bursts -----------------------------------------------------------------------
def burst_guard(db: Database, run_id: int, max_creations: int):
    """A processor guard: hold every creation of this run when there would be more than ``max_creations``.

    Requests the admin already allowed are never held again. With a backend that can look
    users up (the Support kind), addresses Zendesk already knows are not counted as creations.
    """
    def guard(todo: list[dict], index: dict[str, Agent], backend=None) -> tuple[list[dict], list[tuple[dict, str]]]:
        allowed = allowed_holds(db)
        creating = [r for r in todo if normalize_email(r["email"]) not in index and r["id"] not in allowed
                    and r.get("status") != "needs_admin_step"]  # a re-read of an admin step creates nothing
        keys = {normalize_email(r["email"]) for r in creating}
        if len(keys) > max_creations and hasattr(backend, "lookup"):
            keys = {k for k in keys if not _known_in_support(backend, k)}
            creating = [r for r in creating if normalize_email(r["email"]) in keys]
        if len(keys) <= max_creations:
            return todo, []
        reason = (f"held for review: this run would create {len(keys)} agents, more than {max_creations};"
                  f" allow or discard run {run_id}")
        hold(db, run_id, [r["id"] for r in creating], reason)
        held_ids = {r["id"] for r in creating}
        return [r for r in todo if r["id"] not in held_ids], [(r, reason) for r in creating]
    return guard


def _known_in_support(backend, email: str) -> bool:
    """Whether Zendesk has a user with this main e-mail (one users search); unsure means no."""
    try:
        return owner_of(email, backend.lookup(email)) is not None
    except ZendeskError as exc:
        log.warning("could not look up %s before the creation guard; counted as a creation: %s", email, exc)
        return False


def hold(db: Database, run_id: int, request_ids: list[int], reason: str = "") -> None:
    """Put requests on hold for review under ``run_id``; the reason shows on each request."""
    with db.transaction() as conn:
        conn.executemany("INSERT INTO chat_holds (request_id, run_id) VALUES (?, ?) ON CONFLICT (request_id)"
                         " DO UPDATE SET run_id = excluded.run_id, decision = NULL, decided_at = NULL",
                         [(rid, run_id) for rid in request_ids])
        conn.executemany("UPDATE chat_requests SET reason = ? WHERE id = ?", [(reason or None, rid)
                                                                            for rid in request_ids])


def undecided_holds(db: Database) -> set[int]:
    """Requests waiting for the admin's Allow or Discard."""
    return {r[0] for r in db.query("SELECT request_id FROM chat_holds WHERE decision IS NULL")}


def allowed_holds(db: Database) -> set[int]:
    return {r[0] for r in db.query("SELECT request_id FROM chat_holds WHERE decision = 'allowed'")}


def held_runs(db: Database) -> list[dict]:
    """Runs with requests still waiting for review: run id and how many."""
    return [dict(r) for r in db.query(
        "SELECT run_id, count(*) AS requests FROM chat_holds WHERE decision IS NULL GROUP BY run_id ORDER BY run_id")]


def _held_ids(db: Database, run_id: int) -> list[int]:
    ids = [r[0] for r in db.query("SELECT request_id FROM chat_holds WHERE run_id = ? AND decision IS NULL",
                                  (run_id,))]
    if not ids:
        raise UsageError(f"Run {run_id} has no requests waiting for review; see `evalsync chat runs list`.")
    return ids


def allow(db: Database, run_id: int, actor: str = "admin") -> list[int]:
    """Let a held run's creations go ahead (processed by the next run, or at once by the caller)."""
    ids = _held_ids(db, run_id)
    with db.transaction() as conn:
        for rid in ids:
            row = conn.execute("SELECT email FROM chat_requests WHERE id = ?", (rid,)).fetchone()
            audit.log_action(conn, ALLOWED, email=row[0] if row else "", actor=actor, request_id=rid,
                             detail=f"creation allowed by {actor} after review (held in run {run_id})")
        conn.execute("UPDATE chat_holds SET decision = 'allowed', decided_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')"
                     " WHERE run_id = ? AND decision IS NULL", (run_id,))
        conn.execute("DELETE FROM chat_request_retries WHERE request_id IN"
                     " (SELECT request_id FROM chat_holds WHERE run_id = ?)", (run_id,))
    return ids


def discard(db: Database, run_id: int, actor: str = "admin") -> list[int]:
    """Reject a held run's creations: each request ends ``rejected`` with the reason, logged."""
    ids = _held_ids(db, run_id)
    reason = f"discarded by {actor} after review (creation burst held in run {run_id})"
    with db.transaction() as conn:
        for rid in ids:
            row = conn.execute("SELECT email FROM chat_requests WHERE id = ?", (rid,)).fetchone()
            conn.execute("UPDATE chat_requests SET status = 'rejected', reason = ?,"
                         " updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id = ?", (reason, rid))
            audit.log_action(conn, DISCARDED, email=row[0] if row else "", actor=actor, request_id=rid,
                             detail=reason)
        conn.execute("UPDATE chat_holds SET decision = 'discarded',"
                     " decided_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE run_id = ? AND decision IS NULL",
                     (run_id,))
    return ids


# -- the daily e-mail cap --------------------------------------------------------------------
def mail_budget(db: Database, cap: int) -> int:
    """How many more e-mails may go today (UTC) under ``cap``."""
    sent = db.scalar("SELECT count(*) FROM email_outbox WHERE status = 'sent'"
                     " AND sent_at >= strftime('%Y-%m-%dT00:00:00Z', 'now')") or 0
    return max(0, cap - int(sent))
