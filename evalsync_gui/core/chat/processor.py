"""Processing a batch of access requests: one agent extract, then one decision per request.

The seed ran one Zapier zap per form row, each with its own agent lookup. Here a batch takes
a single full extract, then walks the queue with this decision table::

    domain not allowed                      -> Rejected (reason)          no write
    found, enabled, we were mid-create      -> Created  (confirmed)       no write
    found, enabled, we were mid-enable      -> Enabled  (confirmed)       no write
    found, enabled                          -> Already enabled            no write
    found, disabled                         -> Enabled                    one PUT
    not found                               -> Created                    one POST
    the write failed                        -> Failed (Zendesk's error; retried next batch)

Crash safety: before each write the request is marked ``processing`` and a ``Creating`` /
``Enabling`` row is logged, in its own committed transaction; the outcome, its log row and
its confirmation e-mail (in the outbox) are committed together after the write. A batch
that dies between the two is resumed by re-checking those requests against a fresh
extract, so nothing is lost and nothing is done twice. Outcomes that need no write are
idempotent and committed in groups, which keeps a 1,500-request batch cheap.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from evalsync_gui.core.chat import audit
from evalsync_gui.core.chat.agents_api import Agent, ChatBackend, ChatModeMismatch
from evalsync_gui.core.chat.domains import domain_problem, normalize_email
from evalsync_gui.core.errors import AuthError, Cancelled, UsageError, ZendeskError
from evalsync_gui.core.store.db import Database

log = logging.getLogger("evalsync.chat")

PENDING = ("queued", "processing", "failed")
FLUSH_EVERY = 200
MAX_CONSECUTIVE_NETWORK_FAILURES = 3

# Compose the confirmation for a finished request: (outcome, request row) -> (to, subject, body) or None.
Composer = Callable[[str, dict], tuple[str, str, str] | None]
Progress = Callable[[int, int, str], None]


@dataclass
class Outcome:
    request_id: int
    email: str
    status: str
    reason: str = ""
    agent_id: int | None = None


@dataclass
class BatchResult:
    """What a batch did (or, for a dry run, would do)."""

    mode: str = ""
    dry_run: bool = False
    extracted: int = 0
    outcomes: list[Outcome] = field(default_factory=list)
    stopped: str = ""  # why the batch stopped early, if it did

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for o in self.outcomes:
            out[o.status] = out.get(o.status, 0) + 1
        return out

    def summary(self) -> str:
        c = self.counts()
        parts = [f"{c.get(k, 0)} {label}" for k, label in (
            ("created", "created"), ("enabled", "enabled"), ("already_enabled", "already enabled"),
            ("rejected", "rejected"), ("failed", "failed"))]
        head = "Dry run: would give " if self.dry_run else ""
        tail = f" ({self.stopped})" if self.stopped else ""
        return head + ", ".join(parts) + tail

    def to_json(self) -> dict:
        return {"mode": self.mode, "dry_run": self.dry_run, "extracted": self.extracted, "counts": self.counts(),
                "stopped": self.stopped or None, "requests": [asdict(o) for o in self.outcomes]}


def pending_requests(db: Database, ids: Iterable[int] | None = None) -> list[dict]:
    """Requests still to do, oldest first: queued, interrupted (processing) and failed."""
    rows = db.query("SELECT * FROM chat_requests WHERE status IN ('queued','processing','failed') ORDER BY id")
    wanted = set(ids) if ids is not None else None
    return [dict(r) for r in rows if wanted is None or r["id"] in wanted]


def in_doubt_intents(db: Database) -> dict[int, str]:
    """For interrupted or failed requests: the last write we started ('create' or 'enable')."""
    rows = db.query(
        "SELECT request_id, action FROM chat_actions WHERE action IN (?, ?) AND request_id IN"
        " (SELECT id FROM chat_requests WHERE status IN ('processing', 'failed')) ORDER BY id",
        (audit.CREATING, audit.ENABLING))
    return {r["request_id"]: ("create" if r["action"] == audit.CREATING else "enable") for r in rows}


def cache_agents(db: Database, agents: list[Agent]) -> None:
    """Replace the local agent cache (the tab's table) with a fresh extract."""
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    with db.transaction() as conn:
        conn.execute("DELETE FROM chat_agents")
        conn.executemany(
            "INSERT OR REPLACE INTO chat_agents (id, email, display_name, first_name, last_name, enabled, last_login,"
            " departments, is_admin, is_owner, fetched_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(a.id, a.email, a.display_name, a.first_name, a.last_name, int(a.enabled), a.last_login,
              json.dumps(a.departments), int(a.is_admin), int(a.is_owner), stamp) for a in agents])


class _Batch:
    """One run over the queue; see the module docstring for the decision table."""

    def __init__(self, db: Database, backend: ChatBackend, domains: list[str], *, dry_run: bool,
                 compose: Composer | None, progress: Progress | None, is_cancelled: Callable[[], bool]) -> None:
        self.db, self.backend, self.domains = db, backend, domains
        self.dry_run, self.compose = dry_run, compose
        self.progress = progress or (lambda done, total, msg: None)
        self.is_cancelled = is_cancelled
        self.result = BatchResult(mode=backend.mode, dry_run=dry_run)
        self._pending_rows: list[tuple[dict, str, str, Any]] = []  # (request, status, detail, agent_id)

    # -- bookkeeping ---------------------------------------------------------------------
    def _record(self, req: dict, status: str, reason: str = "", agent_id: int | None = None) -> None:
        self.result.outcomes.append(Outcome(req["id"], req["email"], status, reason, agent_id))

    def _defer(self, req: dict, status: str, detail: str, agent_id: int | None) -> None:
        """A no-write outcome: committed with others (idempotent, so a crash just redoes it)."""
        self._record(req, status, detail, agent_id)
        if not self.dry_run:
            self._pending_rows.append((req, status, detail, agent_id))
            if len(self._pending_rows) >= FLUSH_EVERY:
                self.flush()

    def flush(self) -> None:
        if not self._pending_rows:
            return
        with self.db.transaction() as conn:
            for req, status, detail, agent_id in self._pending_rows:
                self._finish(conn, req, status, detail, agent_id, None, None)
        self._pending_rows.clear()

    def _finish(self, conn, req: dict, status: str, detail: str, agent_id: int | None,
                zstatus: int | None, answer: Any) -> None:
        conn.execute("UPDATE chat_requests SET status = ?, reason = ?, agent_id = COALESCE(?, agent_id),"
                     " updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id = ?",
                     (status, detail or None, agent_id, req["id"]))
        action = {"created": audit.CREATED, "enabled": audit.ENABLED, "already_enabled": audit.ALREADY_ENABLED,
                  "rejected": audit.REJECTED}[status]
        audit.log_action(conn, action, email=req["email"], actor=req["requester"], request_id=req["id"],
                         detail=detail, zendesk_status=zstatus, zendesk_answer=answer)
        if status in ("created", "enabled") and self.compose:
            mail = self.compose(status, req)
            if mail:
                conn.execute("INSERT INTO email_outbox (request_id, to_addr, subject, body) VALUES (?, ?, ?, ?)",
                             (req["id"], *mail))

    # -- the run -------------------------------------------------------------------------
    def run(self, requests: list[dict], intents: dict[int, str]) -> BatchResult:
        total = len(requests)
        todo: list[dict] = []
        for req in requests:
            problem = domain_problem(req["email"], self.domains)
            if problem:
                self._defer(req, "rejected", problem, None)
            else:
                todo.append(req)
        self.flush()
        if not todo:
            self.progress(total, total, self.result.summary())
            return self.result
        self.progress(total - len(todo), total, "Reading the chat agents…")
        agents = self.backend.extract(lambda n: self.progress(total - len(todo), total, f"Read {n} agents…"))
        self.result.extracted = len(agents)
        if not self.dry_run:
            cache_agents(self.db, agents)
        index = {a.key: a for a in agents if a.key}
        net_failures = 0
        done = total - len(todo)
        step = max(1, total // 200)
        try:
            for req in todo:
                if self.is_cancelled():
                    self.result.stopped = "cancelled; the rest stay queued"
                    break
                net_failures = self._one(req, index, intents.get(req["id"]), net_failures)
                done += 1
                if done % step == 0 or done == total:
                    self.progress(done, total, f"{done} of {total} requests")
                if net_failures >= MAX_CONSECUTIVE_NETWORK_FAILURES:
                    self.result.stopped = "Zendesk is unreachable; the rest stay queued, process again later"
                    break
        finally:
            self.flush()
        return self.result

    def _one(self, req: dict, index: dict[str, Agent], intent: str | None, net_failures: int) -> int:
        key = normalize_email(req["email"])
        agent = index.get(key)
        if agent is not None and agent.enabled:
            if intent == "create":
                self._defer(req, "created", "confirmed after an interrupted run", agent.id)
            elif intent == "enable":
                self._defer(req, "enabled", "confirmed after an interrupted run", agent.id)
            else:
                self._defer(req, "already_enabled", "", agent.id)
            return net_failures
        kind = "enable" if agent is not None else "create"
        if self.dry_run:
            self._record(req, "enabled" if kind == "enable" else "created", f"would {kind}",
                         agent.id if agent else None)
            if agent is None:
                index[key] = Agent(0, req["email"], enabled=True)
            return net_failures
        self.flush()  # keep the log in request order
        self._mark_processing(req, kind)
        try:
            if kind == "enable":
                assert agent is not None
                zstatus, answer = self.backend.enable(agent)
                agent.enabled = True
                new_id = agent.id
            else:
                zstatus, answer, created = self.backend.create(req["email"], req["first_name"], req["last_name"])
                created.enabled = True
                index[key] = created
                new_id = created.id or None
        except (ChatModeMismatch, AuthError, UsageError, Cancelled):
            # Refused before Zendesk acted (403/401, missing setting, cancelled before sending):
            # the request goes back to the queue untouched and the batch stops.
            self._requeue(req)
            raise
        except ZendeskError as exc:
            self._fail(req, kind, exc)
            return net_failures + 1 if (exc.retryable or exc.status is None) else 0
        status = "enabled" if kind == "enable" else "created"
        with self.db.transaction() as conn:
            self._finish(conn, req, status, "", new_id, zstatus, answer)
        self._record(req, status, "", new_id)
        return 0

    def _mark_processing(self, req: dict, kind: str) -> None:
        with self.db.transaction() as conn:
            conn.execute("UPDATE chat_requests SET status = 'processing', attempts = attempts + 1,"
                         " updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id = ?", (req["id"],))
            audit.log_action(conn, audit.CREATING if kind == "create" else audit.ENABLING, email=req["email"],
                             actor=req["requester"], request_id=req["id"])

    def _requeue(self, req: dict) -> None:
        with self.db.transaction() as conn:
            conn.execute("UPDATE chat_requests SET status = 'queued' WHERE id = ?", (req["id"],))

    def _fail(self, req: dict, kind: str, exc: ZendeskError) -> None:
        reason = f"could not {kind}: {exc}"
        with self.db.transaction() as conn:
            conn.execute("UPDATE chat_requests SET status = 'failed', reason = ?,"
                         " updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id = ?", (reason, req["id"]))
            audit.log_action(conn, audit.FAILED, email=req["email"], actor=req["requester"], request_id=req["id"],
                             detail=reason, zendesk_status=exc.status)
        self._record(req, "failed", reason)


def process_batch(db: Database, backend: ChatBackend, domains: list[str], *, dry_run: bool = False,
                  ids: Iterable[int] | None = None, compose: Composer | None = None,
                  progress: Progress | None = None, is_cancelled: Callable[[], bool] | None = None) -> BatchResult:
    """Process every pending request (or just ``ids``) with one extract; see the module docstring.

    Raises UsageError when no domain is allowed, ChatModeMismatch when the Chat Agents API
    refuses writes (the caller switches to the Support backend and calls again).
    """
    if not domains:
        raise UsageError("No allowed domain is set; add your company's domain in Chat settings "
                         "(or `evalsync chat domains set acme.com`) before processing requests.")
    requests = pending_requests(db, ids)
    batch = _Batch(db, backend, domains, dry_run=dry_run, compose=compose, progress=progress,
                   is_cancelled=is_cancelled or (lambda: False))
    if not requests:
        return batch.result
    intents = in_doubt_intents(db)
    return batch.run(requests, intents)
