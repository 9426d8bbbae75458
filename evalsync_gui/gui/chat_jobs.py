"""What the Chat agents tab runs in its worker threads. No widgets here: plain data in and out.

Each job's first argument is the worker's :class:`~evalsync_gui.gui.workers.Task`; network
jobs take ``open_http`` (a callable returning the *Support* ``ZendeskHttp``) so tests can hand
in a simulator client and the app the authenticated one; the Chat client always comes from
the Chat API connection (``service.open_clients``), never from the Support sign-in.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict

from evalsync_gui.core.chat import audit, inactivity, mailer, service
from evalsync_gui.core.chat import requests as rq
from evalsync_gui.core.context import AppContext
from evalsync_gui.core.zendesk.http import ZendeskHttp

OpenHttp = Callable[[], ZendeskHttp]


def load_snapshot(task, ctx: AppContext) -> dict:
    """Everything the tab shows from the database, read in one go."""
    db = ctx.db
    agents = [dict(r) for r in db.query("SELECT * FROM chat_agents ORDER BY lower(email)")]
    for a in agents:
        a["departments"] = json.loads(a["departments"] or "[]")
    return {
        "agents": agents,
        "requests": rq.list_requests(db, limit=20_000),
        "counts": rq.status_counts(db),
        "log": audit.recent_actions(db, 5000),
        "outbox": mailer.outbox_rows(db),
        "mode": service.current_mode(ctx.settings),
    }


def _progress(task):
    return lambda done, total, msg: task.report((done, total, msg))


def refresh_agents(task, ctx: AppContext, open_http: OpenHttp) -> str:
    with service.open_clients(ctx, open_http) as http:
        http.is_cancelled = task.is_cancelled
        agents = service.refresh_agents(ctx.db, ctx.settings, http,
                                        on_page=lambda n: task.report((0, 0, f"Read {n} agents…")))
    return f"{len(agents)} chat agents read ({service.current_mode(ctx.settings)} kind)"


def add_request(task, ctx: AppContext, fields: dict) -> str:
    rid, status, reason = rq.add_request(ctx.db, domains=service.domains(ctx.settings), source="form", **fields)
    return f"Request {rid} {status}" + (f": {reason}" if reason else " — press Process to act on it")


def import_csv(task, ctx: AppContext, path: str, mapping: dict) -> rq.ImportReport:
    report = rq.import_csv(ctx.db, path, mapping, domains=service.domains(ctx.settings), actor="import")
    ctx.settings.set("chat.csv_mapping", mapping)
    return report


def process(task, ctx: AppContext, open_http: OpenHttp, dry_run: bool) -> str:
    with service.open_clients(ctx, open_http) as http:
        http.is_cancelled = task.is_cancelled
        result, mail = service.run_process(ctx.db, ctx.settings, http, dry_run=dry_run,
                                           progress=_progress(task), is_cancelled=task.is_cancelled)
    text = f"{result.summary()} [{result.mode} kind]"
    if mail.sent or mail.failed:
        text += f"; e-mails: {mail.sent} sent, {mail.failed} failed"
    if mail.error:
        text += f"; e-mails kept in the outbox: {mail.error}"
    return text


def policy_preview(task, ctx: AppContext, open_http: OpenHttp, policy: inactivity.Policy) -> dict:
    policy.check()
    with service.open_clients(ctx, open_http) as http:
        rows, agents, backend = service.policy_preview(ctx.db, ctx.settings, http, policy)
    return {"rows": rows, "agents": agents, "mode": backend.mode}


def policy_apply(task, ctx: AppContext, open_http: OpenHttp, preview: dict) -> str:
    with service.open_clients(ctx, open_http) as http:
        http.is_cancelled = task.is_cancelled
        backend = service.backend_for(ctx.settings, http)
        counts = inactivity.apply(ctx.db, backend, preview["rows"], preview["agents"], actor="inactivity policy",
                                  progress=_progress(task), is_cancelled=task.is_cancelled)
    return f"Policy applied: {counts['disabled']} disabled, {counts['deleted']} deleted, {counts['failed']} failed"


def load_roles(task, open_http: OpenHttp) -> list[dict]:
    from evalsync_gui.core.chat.agents_api import chat_roles

    with open_http() as http:
        return chat_roles(http) or []  # None: this plan has no custom roles


def send_outbox(task, ctx: AppContext) -> str:
    out = service.send_outbox(ctx.db, ctx.settings)
    if out.error:
        return f"E-mails not sent: {out.error}"
    return f"E-mails: {out.sent} sent, {out.failed} failed"


def retry_mail(task, ctx: AppContext) -> str:
    n = mailer.retry_failed(ctx.db)
    return send_outbox(task, ctx) if n else "No failed e-mails to retry"


def send_test(task, cfg: mailer.SmtpConfig, to: str) -> str:
    mailer.send_test(cfg, mailer.get_password(cfg), to)
    return f"Test message sent to {to}"


def save_smtp_password(task, cfg: mailer.SmtpConfig, password: str) -> str:
    mailer.set_password(cfg, password)
    return "SMTP password saved in the system keyring"


def save_chat_oauth(task, ctx: AppContext, open_http: OpenHttp, value: str) -> str:
    from evalsync_gui.core.errors import UsageError

    raise UsageError("A pasted Chat token is no longer used: connect the Chat API client with "
                     "`evalsync chat connect --client-id ID --client-secret-stdin` (the GUI section is coming).")


def export_log(task, ctx: AppContext, path: str) -> str:
    n = audit.export_csv(ctx.db, path)
    return f"{n} actions exported to {path}"


def result_rows(preview: dict) -> list[dict]:
    return [asdict(r) for r in preview["rows"]]
