"""Processing a batch of access requests: one agent extract, then one decision per request.

The seed ran one Zapier zap per form row, each with its own agent lookup. Here a batch takes
a single full extract, then walks the queue with this decision table::

    domain not allowed                      -> Rejected (reason)          no write
    found, enabled, we were mid-create      -> Created  (confirmed)       no write
    found, enabled, we were mid-enable      -> Enabled  (confirmed)       no write
    found, enabled                          -> Already enabled            no write
    found, disabled                         -> Enabled                    one PUT
    not found                               -> Created                    one POST
    the write failed                        -> Failed (Zendesk's error; retried with backoff, see retries)
    requester not allowed (guards)          -> Rejected (reason)          no write, no e-mail
    a creation burst (guards, unattended)   -> Held for review            no write

On a Support-kind account (:mod:`.support_kind`) every request not already an enabled Chat
agent is settled by the backend's ``grant`` (one lookup, at most one create or upgrade, an
entitlements read): created, already enabled, rejected or ``needs_admin_step``. A request
waiting for the admin is re-read (``recheck``) on every batch and becomes
``completed_after_admin_step`` (log, confirmation e-mail) once Chat access is on.

Crash safety: before each write the request is marked ``processing`` and a ``Creating`` /
``Enabling`` row is logged, in its own committed transaction; the outcome, its log row and
its confirmation e-mail (in the outbox) are committed together after the write. A batch
that dies between the two is resumed by re-checking those requests against a fresh
extract, so nothing is lost and nothing is done twice. Outcomes that need no write are
idempotent and committed in groups, which keeps a 1,500-request batch cheap.

Speed: a batch is mostly waiting on Zendesk, so up to ``MAX_IN_FLIGHT`` writes are in flight
at once on worker threads, never two for the same address. Workers only make the HTTP call;
both commits above happen on the batch's own thread (the one that owns its SQLite
connection), so the per-request guarantee is unchanged: each request is committed as
``processing`` before its write leaves, and its outcome after its answer arrives. Outcomes
are reported in queue order; the action log's rows may interleave.
"""

from __future__ import annotations

import json
import logging
import time
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from typing import Any

from evalsync_gui.core.chat import audit, existing_users, guards, retries
from evalsync_gui.core.chat.agents_api import Agent, ChatBackend, ChatModeMismatch
from evalsync_gui.core.chat.domains import domain_problem, normalize_email
from evalsync_gui.core.errors import AuthError, Cancelled, UsageError, ZendeskError
from evalsync_gui.core.store.db import Database

log = logging.getLogger("evalsync.chat")

PENDING = ("queued", "processing", "failed", "needs_admin_step")
NEEDS_ADMIN_STEP = "needs_admin_step"
COMPLETED = "completed_after_admin_step"
# Outcomes that send the requester a confirmation, and the template each uses (the recipe
# e-mails on every path, an agent that was already enabled included).
_MAIL_TEMPLATE = {"created": "created", "enabled": "enabled", "already_enabled": "already_enabled",
                  COMPLETED: "enabled"}
# Once the agents are known, a guard may hold requests: (requests, agent index, backend) ->
# (to process, held + reason); the backend lets it read more (a Support-kind lookup), never write.
Guard = Callable[[list[dict], dict[str, Agent], ChatBackend], tuple[list[dict], list[tuple[dict, str]]]]
FLUSH_EVERY = 200
MAX_CONSECUTIVE_NETWORK_FAILURES = 3
MAX_IN_FLIGHT = 4  # writes sent at once: hides Zendesk's latency, far below any rate limit's burst

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
    admin_url: str | None = None


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
        parts += [f"{c[k]} {label}" for k, label in ((NEEDS_ADMIN_STEP, "need a step in Admin Center"),
                                                      (COMPLETED, "completed after the admin step"),
                                                      ("held", "held for review")) if c.get(k)]
        head = "Dry run: would give " if self.dry_run else ""
        tail = f" ({self.stopped})" if self.stopped else ""
        return head + ", ".join(parts) + tail

    def to_json(self) -> dict:
        return {"mode": self.mode, "kind": self.mode, "dry_run": self.dry_run, "extracted": self.extracted, "counts": self.counts(),
                "stopped": self.stopped or None, "requests": [asdict(o) for o in self.outcomes]}


def pending_requests(db: Database, ids: Iterable[int] | None = None) -> list[dict]:
    """Requests still to do, oldest first: queued, interrupted (processing) and waiting for an
    admin step, when their retry time has come, never those held for review. Failed ones (out
    of attempts) and not-yet-due retries are taken only when the admin names them in ``ids``."""
    held = guards.undecided_holds(db)
    if ids is None:
        due = retries.not_due(db)
        rows = db.query("SELECT * FROM chat_requests WHERE status IN ('queued','processing','needs_admin_step')"
                        " ORDER BY id")
        return [dict(r) for r in rows if r["id"] not in held and r["id"] not in due]
    wanted = set(ids)
    rows = db.query("SELECT * FROM chat_requests WHERE status IN"
                    " ('queued','processing','failed','needs_admin_step') ORDER BY id")
    return [dict(r) for r in rows if r["id"] in wanted and r["id"] not in held]


def in_doubt_intents(db: Database) -> dict[int, str]:
    """For requests not finished: the last write we started ('create' or 'enable'), if any.

    A failed write's request is queued again (see retries), so queued ones count too."""
    rows = db.query(
        "SELECT request_id, action FROM chat_actions WHERE action IN (?, ?) AND request_id IN"
        " (SELECT id FROM chat_requests WHERE status IN ('queued', 'processing', 'failed')) ORDER BY id",
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


@dataclass
class _Write:
    """One Zendesk write the batch decided on; sent only once its request is committed as ``processing``."""

    req: dict
    kind: str  # "create" | "enable" (writable kind); "grant" | "recheck" (Support kind)
    key: str  # the normalised address: never two writes for one address at once
    agent: Agent | None = None  # the agent to enable


class _Batch:
    """One run over the queue; see the module docstring for the decision table."""

    def __init__(self, db: Database, backend: ChatBackend, domains: list[str], *, dry_run: bool,
                 compose: Composer | None, progress: Progress | None, is_cancelled: Callable[[], bool],
                 max_in_flight: int = MAX_IN_FLIGHT, requesters: Iterable[str] = (),
                 guard: Guard | None = None) -> None:
        self.db, self.backend, self.domains = db, backend, domains
        self.requesters, self.guard = list(requesters), guard
        self.max_in_flight = max(1, max_in_flight)
        self.dry_run, self.compose = dry_run, compose
        self.progress = progress or (lambda done, total, msg: None)
        self.is_cancelled = is_cancelled
        self.result = BatchResult(mode=backend.mode, dry_run=dry_run)
        self._pending_rows: list[tuple[dict, str, str, Any]] = []  # (request, status, detail, agent_id)

    # -- bookkeeping ---------------------------------------------------------------------
    def _record(self, req: dict, status: str, reason: str = "", agent_id: int | None = None,
                admin_url: str | None = None) -> None:
        self.result.outcomes.append(Outcome(req["id"], req["email"], status, reason, agent_id, admin_url))

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
                zstatus: int | None, answer: Any, action: str | None = None, admin_url: str | None = None) -> None:
        conn.execute("UPDATE chat_requests SET status = ?, reason = ?, agent_id = COALESCE(?, agent_id),"
                     " admin_url = ?, updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id = ?",
                     (status, detail or None, agent_id, admin_url if status == NEEDS_ADMIN_STEP else None,
                      req["id"]))
        action = action or {"created": audit.CREATED, "enabled": audit.ENABLED,
                            "already_enabled": audit.ALREADY_ENABLED, "rejected": audit.REJECTED,
                            COMPLETED: audit.COMPLETED}[status]
        audit.log_action(conn, action, email=req["email"], actor=req["requester"], request_id=req["id"],
                         detail=detail, zendesk_status=zstatus, zendesk_answer=answer)
        if status in _MAIL_TEMPLATE and self.compose:
            mail = self.compose(_MAIL_TEMPLATE[status], req)
            if mail:
                conn.execute("INSERT INTO email_outbox (request_id, to_addr, subject, body) VALUES (?, ?, ?, ?)",
                             (req["id"], *mail))

    # -- the run -------------------------------------------------------------------------
    def run(self, requests: list[dict], intents: dict[int, str]) -> BatchResult:
        total = len(requests)
        todo: list[dict] = []
        for req in requests:
            problem = (domain_problem(req["email"], self.domains)
                       or guards.requester_problem(req["requester"], self.domains, self.requesters))
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
        if self.guard is not None and not self.dry_run:
            todo, held = self.guard(todo, index, self.backend)
            for req, reason in held:
                self._record(req, "held", reason)
        first_walked = len(self.result.outcomes)
        try:
            _Walk(self, index, intents, total - len(todo), total).run(todo)
        finally:
            self.flush()
            # Writes finish out of order; report outcomes in queue order all the same.
            rank = {req["id"]: i for i, req in enumerate(todo)}
            self.result.outcomes[first_walked:] = sorted(self.result.outcomes[first_walked:],
                                                         key=lambda o: rank.get(o.request_id, -1))
        return self.result

    def decide(self, req: dict, index: dict[str, Agent], intent: str | None) -> _Write | None:
        """The decision table for one request: a write to send, or None when settled here."""
        key = normalize_email(req["email"])
        agent = index.get(key)
        if agent is not None and agent.enabled:
            if req["status"] == NEEDS_ADMIN_STEP:
                self._defer(req, COMPLETED, "Chat access was switched on in Admin Center", agent.id)
            elif intent == "create":
                self._defer(req, "created", "confirmed after an interrupted run", agent.id)
            elif intent == "enable":
                self._defer(req, "enabled", "confirmed after an interrupted run", agent.id)
            else:
                self._defer(req, "already_enabled", "", agent.id)
            return None
        if hasattr(self.backend, "grant"):
            return self._decide_support(req, key)
        kind = "enable" if agent is not None else "create"
        if self.dry_run:
            self._record(req, "enabled" if kind == "enable" else "created", f"would {kind}",
                         agent.id if agent else None)
            if agent is None:
                index[key] = Agent(0, req["email"], enabled=True)
            return None
        return _Write(req, kind, key, agent)

    def _decide_support(self, req: dict, key: str) -> _Write | None:
        """Support kind: a waiting request is re-read; any other is settled by ``grant``."""
        waiting = req["status"] == NEEDS_ADMIN_STEP and req.get("agent_id")
        if self.dry_run:
            what = "check Chat access again" if waiting else "create or check the Support agent"
            self._record(req, NEEDS_ADMIN_STEP if waiting else "created", f"would {what}", req.get("agent_id"))
            return None
        return _Write(req, "recheck" if waiting else "grant", key)

    def send(self, write: _Write) -> tuple[int, Any, Agent | None] | existing_users.Adoption:
        """The Zendesk call itself; runs on a worker thread and touches neither the database nor the index.

        On a Support-kind account ``grant`` settles the request (lookup, at most one create or
        upgrade, an entitlements read) and ``recheck`` re-reads a request waiting for the admin.
        """
        req = write.req
        if write.kind == "grant":
            return self.backend.grant(req["email"], req["first_name"], req["last_name"])  # type: ignore[attr-defined]
        if write.kind == "recheck":
            return self.backend.recheck(int(req["agent_id"]), req["email"], req["first_name"],  # type: ignore
                                        req["last_name"])
        if write.kind == "enable":
            assert write.agent is not None
            zstatus, answer = self.backend.enable(write.agent)
            return zstatus, answer, None
        return self.backend.create(req["email"], req["first_name"], req["last_name"])

    def settle_adoption(self, write: _Write, adoption: existing_users.Adoption, index: dict[str, Agent]) -> None:
        """Commit how a refused create was settled (upgrade, enable, already, rejected) like any outcome."""
        agent_id = adoption.agent.id if adoption.agent is not None else None
        if adoption.agent is not None and adoption.agent.enabled and adoption.status != "rejected":
            index[write.key] = adoption.agent
        if not adoption.action:  # still waiting for the admin: nothing changed, nothing to log
            self._record(write.req, adoption.status, write.req.get("reason") or "", agent_id,
                         write.req.get("admin_url"))
            return
        with self.db.transaction() as conn:
            self._finish(conn, write.req, adoption.status, adoption.detail, agent_id, adoption.zendesk_status,
                         adoption.answer, action=adoption.action, admin_url=adoption.admin_url)
        self._record(write.req, adoption.status, adoption.detail, agent_id, adoption.admin_url)

    def settle(self, write: _Write, zstatus: int, answer: Any, created: Agent | None,
               index: dict[str, Agent]) -> None:
        """Commit a write's outcome, its log row and its e-mail together."""
        req = write.req
        if write.kind == "enable":
            assert write.agent is not None
            write.agent.enabled = True
            new_id: int | None = write.agent.id
        else:
            assert created is not None
            created.enabled = True
            index[write.key] = created
            new_id = created.id or None
        status = "enabled" if write.kind == "enable" else "created"
        with self.db.transaction() as conn:
            self._finish(conn, req, status, "", new_id, zstatus, answer)
        self._record(req, status, "", new_id)

    def mark_processing(self, req: dict, kind: str) -> None:
        with self.db.transaction() as conn:
            conn.execute("UPDATE chat_requests SET status = 'processing', attempts = attempts + 1,"
                         " updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id = ?", (req["id"],))
            audit.log_action(conn, audit.ENABLING if kind == "enable" else audit.CREATING, email=req["email"],
                             actor=req["requester"], request_id=req["id"])

    def requeue(self, req: dict) -> None:
        if req["status"] == NEEDS_ADMIN_STEP:
            return  # it keeps waiting for the admin, with its Admin Center page
        with self.db.transaction() as conn:
            conn.execute("UPDATE chat_requests SET status = 'queued' WHERE id = ?", (req["id"],))

    def fail(self, req: dict, kind: str, exc: ZendeskError) -> None:
        """Record a failed write: queued again after a backoff, or ``failed`` once out of attempts."""
        if kind == "recheck":  # a failed re-read changes nothing: the request keeps waiting
            self._record(req, NEEDS_ADMIN_STEP, f"could not re-read Chat access: {exc}", req.get("agent_id"),
                         req.get("admin_url"))
            return
        what = {"grant": "create or check the Support agent"}.get(kind, kind)
        with self.db.transaction() as conn:
            status, reason = retries.after_failure(conn, req["id"], f"could not {what}: {exc}")
            conn.execute("UPDATE chat_requests SET status = ?, reason = ?,"
                         " updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id = ?",
                         (status, reason, req["id"]))
            audit.log_action(conn, audit.FAILED, email=req["email"], actor=req["requester"], request_id=req["id"],
                             detail=reason, zendesk_status=exc.status)
        self._record(req, "failed", reason)


class _Walk:
    """The write phase: up to ``MAX_IN_FLIGHT`` writes at once, every state change on this thread.

    Workers only call Zendesk; marking ``processing`` (before a write is handed over) and the
    outcome (after it returns) are committed here, one request at a time, exactly as a serial
    run would, so the crash-safety argument in the module docstring holds per request.
    The window starts at one write and opens fully after the first success, and closes to one
    again after any failure: a refused (403 mode mismatch) or unreachable Zendesk costs one
    write, not a volley. Stopping (cancel, refusal, repeated network failures) starts nothing
    new and records whatever is still in flight before returning or raising.
    """

    def __init__(self, batch: _Batch, index: dict[str, Agent], intents: dict[int, str], done: int,
                 total: int) -> None:
        self.batch, self.index, self.intents = batch, index, intents
        self.done, self.total = done, total
        self.step = max(1, total // 200)
        self.window = 1
        self.net_failures = 0
        self.stopping = False
        self.stop_error: BaseException | None = None  # re-raised once everything in flight is recorded
        self.in_flight: dict[Future, _Write] = {}

    def run(self, todo: list[dict]) -> None:
        queue = deque(todo)
        pool = ThreadPoolExecutor(max_workers=self.batch.max_in_flight, thread_name_prefix="evalsync-chat-write")
        try:
            while self.in_flight or (queue and not self.stopping):
                self._launch(queue, pool)
                if self.in_flight:
                    self._collect()
        finally:
            # On a crash here, writes still in flight are left 'processing' and resumed next run.
            pool.shutdown(wait=True, cancel_futures=True)
        if self.stop_error is not None:
            raise self.stop_error

    def _launch(self, queue: deque, pool: ThreadPoolExecutor) -> None:
        batch = self.batch
        busy = {w.key for w in self.in_flight.values()}
        while queue and not self.stopping and len(self.in_flight) < self.window:
            if batch.is_cancelled():
                batch.result.stopped = "cancelled; the rest stay queued"
                self.stopping = True
                return
            req = queue[0]
            if normalize_email(req["email"]) in busy:
                return  # the same address is being written: decide after that answer
            queue.popleft()
            write = batch.decide(req, self.index, self.intents.get(req["id"]))
            if write is None:
                self._step()
                continue
            batch.flush()  # keep the log close to request order
            if write.kind != "recheck":  # a re-read writes nothing: no crash-safety marker needed
                batch.mark_processing(req, write.kind)
            self.in_flight[pool.submit(batch.send, write)] = write
            busy.add(write.key)

    def _collect(self) -> None:
        finished, _ = wait(list(self.in_flight), return_when=FIRST_COMPLETED)
        for fut in sorted(finished, key=lambda f: self.in_flight[f].req["id"]):
            write = self.in_flight.pop(fut)
            self._settle(write, fut)
            self._step()
        if self.net_failures >= MAX_CONSECUTIVE_NETWORK_FAILURES and not self.stopping:
            self.batch.result.stopped = "Zendesk is unreachable; the rest stay queued, process again later"
            self.stopping = True

    def _settle(self, write: _Write, fut: Future) -> None:
        batch = self.batch
        try:
            sent = fut.result()
        except (ChatModeMismatch, AuthError, UsageError, Cancelled) as exc:
            # Refused before Zendesk acted (403/401, missing setting, cancelled before sending):
            # the request goes back to the queue untouched and the batch stops.
            batch.requeue(write.req)
            self._stop(exc)
        except ZendeskError as exc:
            batch.fail(write.req, write.kind, exc)
            self.net_failures = self.net_failures + 1 if (exc.retryable or exc.status is None) else 0
            self.window = 1
        except BaseException as exc:  # a bug or an interrupt: leave it 'processing' for the next run
            self._stop(exc)
        else:
            if isinstance(sent, existing_users.Adoption):
                batch.settle_adoption(write, sent, self.index)
            else:
                batch.settle(write, *sent, self.index)
            self.net_failures = 0
            self.window = batch.max_in_flight

    def _stop(self, exc: BaseException) -> None:
        self.stopping = True
        if self.stop_error is None:
            self.stop_error = exc

    def _step(self) -> None:
        self.done += 1
        if self.done % self.step == 0 or self.done == self.total:
            self.batch.progress(self.done, self.total, f"{self.done} of {self.total} requests")


def process_batch(db: Database, backend: ChatBackend, domains: list[str], *, dry_run: bool = False,
                  ids: Iterable[int] | None = None, compose: Composer | None = None,
                  progress: Progress | None = None, is_cancelled: Callable[[], bool] | None = None,
                  max_in_flight: int = MAX_IN_FLIGHT, requesters: Iterable[str] = (),
                  guard: Guard | None = None) -> BatchResult:
    """Process every pending request (or just ``ids``) with one extract; see the module docstring.

    Up to ``max_in_flight`` writes are sent at once (the backend's client must be thread-safe,
    as ``ZendeskHttp`` is); all database work stays on the calling thread.

    ``requesters`` (when not empty) is the only people who may ask; ``guard`` may hold requests
    for review once the agents are known (the unattended creation-burst guard).

    Raises UsageError when no domain is allowed, ChatModeMismatch when the Chat Agents API
    refuses writes (the admin chooses the Support kind; EvalSync never switches by itself).
    """
    if not domains:
        raise UsageError("No allowed domain is set; add your company's domain in Chat settings "
                         "(or `evalsync chat domains set acme.com`) before processing requests.")
    requests = pending_requests(db, ids)
    batch = _Batch(db, backend, domains, dry_run=dry_run, compose=compose, progress=progress,
                   is_cancelled=is_cancelled or (lambda: False), max_in_flight=max_in_flight,
                   requesters=requesters, guard=guard)
    if not requests:
        return batch.result
    intents = in_doubt_intents(db)
    return batch.run(requests, intents)
