"""The chat schedule: one unattended pass over the sources, the queue, the policy and the mail.

A *chat run* (every N minutes in the app, or ``evalsync chat run`` from cron / a systemd
timer) does, under the chat lock (a file lock like the sync's, so the app and cron never
run two at once):

1. poll every source and queue its new rows (a source that cannot be read keeps its error
   and the run goes on);
2. process what is pending, under the guards (requesters, creation bursts held for review);
   nothing pending means no call to Zendesk at all, so a 5-minute schedule is cheap;
3. apply the inactivity policy when its own interval is due (off unless the admin sets one);
4. queue the daily summary when due, then send the outbox within the daily cap;
5. rewrite the outcome file beside each local source.

Each run is a ``chat_runs`` row: completed, held (creations wait for Allow or Discard) or
failed, with its counts. Settings ``chat.schedule`` (JSON): ``enabled``, ``every_minutes``
(default 5), ``inactivity_every_hours`` (0 = never unattended), ``summary_to``; the times of
the last run, policy and summary are kept in ``chat.schedule_state``.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from evalsync_gui.core.chat import guards, inactivity, outcomes, processor, service, sources
from evalsync_gui.core.chat.domains import address_problem
from evalsync_gui.core.errors import UsageError
from evalsync_gui.core.store.db import Database
from evalsync_gui.core.store.settings import Settings
from evalsync_gui.core.sync.lock import SyncLock

log = logging.getLogger("evalsync.chat")
SETTINGS_KEY = "chat.schedule"
STATE_KEY = "chat.schedule_state"
MANAGEMENT_KEY = "chat.management_enabled"
_FMT = "%Y-%m-%dT%H:%M:%SZ"

OpenClients = Callable[[], AbstractContextManager[Any]]  # -> service.ChatClients


class ChatLock(SyncLock):
    """The chat run's own cross-process lock (``chat.lock``): a chat run never waits for a user sync."""

    lock_name = "chat.lock"
    what = "chat run"
    thread_lock = threading.Lock()


@dataclass
class ScheduleConfig:
    enabled: bool = False
    every_minutes: int = 5
    inactivity_every_hours: int = 0
    summary_to: str = ""

    @classmethod
    def load(cls, settings: Settings) -> "ScheduleConfig":
        v = settings.get(SETTINGS_KEY) or {}
        return cls(bool(v.get("enabled", False)), int(v.get("every_minutes", 5)),
                   int(v.get("inactivity_every_hours", 0)), str(v.get("summary_to", "")))

    def save(self, settings: Settings) -> None:
        if not 1 <= self.every_minutes <= 24 * 60:
            raise UsageError("The chat schedule runs every 1 to 1440 minutes.")
        if self.inactivity_every_hours < 0:
            raise UsageError("The inactivity interval is 0 (off) or more hours.")
        if self.summary_to and address_problem(self.summary_to):
            raise UsageError(f"The summary address {self.summary_to!r}: {address_problem(self.summary_to)}.")
        settings.set(SETTINGS_KEY, asdict(self))


def _state(settings: Settings) -> dict:
    return dict(settings.get(STATE_KEY) or {})


def _parse(text: str | None) -> datetime | None:
    try:
        return datetime.strptime(text or "", _FMT).replace(tzinfo=timezone.utc)
    except ValueError:
        return None


def next_due(settings: Settings) -> datetime | None:
    """When the app's schedule runs next (None when it is off); overdue means now."""
    cfg = ScheduleConfig.load(settings)
    if not cfg.enabled:
        return None
    last = _parse(_state(settings).get("last_run"))
    return (last + timedelta(minutes=cfg.every_minutes)) if last else datetime.now(timezone.utc)


def due_now(settings: Settings) -> bool:
    when = next_due(settings)
    return when is not None and when <= datetime.now(timezone.utc)


@dataclass
class RunReport:
    """What one chat run did (``evalsync chat run --json``)."""

    run_id: int = 0
    status: str = "running"
    sources: list[sources.PollReport] = field(default_factory=list)
    batch: processor.BatchResult | None = None
    held: int = 0
    inactivity: dict | None = None
    mail: service.MailOutcome = field(default_factory=service.MailOutcome)
    message: str = ""

    def counts(self) -> dict[str, int]:
        c = dict(self.batch.counts()) if self.batch else {}
        c["taken"] = sum(p.taken for p in self.sources)
        c["changed"] = sum(p.changed for p in self.sources)
        c["unusable"] = sum(p.unusable for p in self.sources)
        return c

    def to_json(self) -> dict:
        return {"run_id": self.run_id, "status": self.status, "counts": self.counts(), "held": self.held,
                "sources": [asdict(p) for p in self.sources],
                "batch": self.batch.to_json() if self.batch else None, "inactivity": self.inactivity,
                "mail": asdict(self.mail), "message": self.message or None}

    def summary(self) -> str:
        c = self.counts()
        text = (f"Run {self.run_id} {self.status}: {c['taken']} new rows, {c.get('created', 0)} created, "
                f"{c.get('enabled', 0)} enabled, {c.get('already_enabled', 0)} already enabled, "
                f"{c.get('rejected', 0)} rejected, {c.get('failed', 0)} failed, {self.held} held; "
                f"e-mails {self.mail.sent} sent")
        return text + (f" ({self.message})" if self.message else "")


def _start(db: Database, trigger: str) -> int:
    with db.transaction() as conn:
        return int(conn.execute("INSERT INTO chat_runs (trigger, status) VALUES (?, 'running')",
                                (trigger,)).lastrowid)


def _finish(db: Database, report: RunReport) -> None:
    with db.transaction() as conn:
        conn.execute("UPDATE chat_runs SET status = ?, finished_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now'),"
                     " counts = ?, message = ? WHERE id = ?",
                     (report.status, json.dumps({**report.counts(), "held": report.held}), report.message or None,
                      report.run_id))


def run_chat(db: Database, settings: Settings, data_dir, open_clients: OpenClients, *, trigger: str = "cli",
             progress=None, is_cancelled=None) -> RunReport:
    """One chat run (see the module docstring). Raises SyncLocked when another run holds the lock."""
    with ChatLock(data_dir):
        report = RunReport(run_id=_start(db, trigger))
        try:
            _run(db, settings, open_clients, report, progress, is_cancelled)
        except BaseException as exc:
            report.status, report.message = "failed", str(exc) or type(exc).__name__
            _finish(db, report)
            raise
        finally:
            state = _state(settings)
            state["last_run"] = datetime.now(timezone.utc).strftime(_FMT)
            settings.set(STATE_KEY, state)
        report.status = "held" if report.held else "completed"
        _finish(db, report)
        return report


def _run(db: Database, settings: Settings, open_clients: OpenClients, report: RunReport, progress, is_cancelled) -> None:
    domains = service.domains(settings)
    if not domains:
        raise UsageError("No allowed domain is set; add your company's domain in Chat settings "
                         "(or `evalsync chat config --domains acme.com`) before running the chat schedule.")
    for src in sources.list_sources(db):
        report.sources.append(sources.poll(db, src, domains))
    cfg = ScheduleConfig.load(settings)
    state = _state(settings)
    policy_due = cfg.inactivity_every_hours > 0 and (
        _parse(state.get("last_inactivity")) is None
        or _parse(state["last_inactivity"]) + timedelta(hours=cfg.inactivity_every_hours) <= datetime.now(timezone.utc))
    pending = processor.pending_requests(db)
    if pending or policy_due:
        if not settings.get(MANAGEMENT_KEY, False):
            raise UsageError("Chat management is off; run `evalsync chat config --management on`, then "
                             "re-authenticate so EvalSync gets write access.")
        with open_clients() as clients:
            if pending:
                limit = guards.Guards.load(settings).max_creations
                report.batch, _ = service.run_process(db, settings, clients, send_mail=False, progress=progress,
                                                      is_cancelled=is_cancelled,
                                                      guard=guards.burst_guard(db, report.run_id, limit))
                report.held = report.batch.counts().get("held", 0)
                if report.batch.stopped:
                    report.message = report.batch.stopped
            if policy_due:
                rows, agents, backend = service.policy_preview(db, settings, clients)
                report.inactivity = inactivity.apply(db, backend, rows, agents, actor="chat schedule")
                state["last_inactivity"] = datetime.now(timezone.utc).strftime(_FMT)
                settings.set(STATE_KEY, state)
    _summary_if_due(db, settings, cfg)
    report.mail = service.send_outbox(db, settings)
    for src in sources.list_sources(db):
        if src.kind == "file":
            try:
                outcomes.write_outcomes(db, src)
            except UsageError as exc:
                log.warning("outcome file not written: %s", exc)
                report.message = report.message or str(exc)


def _summary_if_due(db: Database, settings: Settings, cfg: ScheduleConfig) -> None:
    if not cfg.summary_to:
        return
    today = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    state = _state(settings)
    if state.get("summary_on") == today:
        return
    outcomes.queue_summary(db, cfg.summary_to)
    state["summary_on"] = today
    settings.set(STATE_KEY, state)


# -- runs and their review -----------------------------------------------------------------
def list_runs(db: Database, limit: int = 50) -> list[dict]:
    """Recent runs, newest first, with how many of their requests still wait for review."""
    rows = db.query("SELECT r.*, (SELECT count(*) FROM chat_holds h WHERE h.run_id = r.id AND h.decision IS NULL)"
                    " AS waiting FROM chat_runs r ORDER BY r.id DESC LIMIT ?", (limit,))
    return [{**dict(r), "counts": json.loads(r["counts"] or "{}")} for r in rows]


def allow_run(db: Database, settings: Settings, data_dir, open_clients: OpenClients, run_id: int,
              actor: str = "admin") -> RunReport:
    """Allow a held run's creations and process them now (a failure leaves them queued for the next run)."""
    guards.allow(db, run_id, actor)
    return run_chat(db, settings, data_dir, open_clients, trigger=f"allow run {run_id}")


def discard_run(db: Database, run_id: int, actor: str = "admin") -> list[int]:
    """Discard a held run's creations: each request ends rejected, logged."""
    return guards.discard(db, run_id, actor)
