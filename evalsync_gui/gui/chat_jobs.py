"""What the Chat agents tab runs in its worker threads. No widgets here: plain data in and out.

Each job's first argument is the worker's :class:`~evalsync_gui.gui.workers.Task`; network
jobs take ``open_http`` (a callable returning a ``ZendeskHttp``) so tests can hand in a
simulator client and the app the authenticated one.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict

from evalsync_gui.core.chat import audit, inactivity, mailer, service
from evalsync_gui.core.chat import requests as rq
from evalsync_gui.core.context import AppContext
from evalsync_gui.core.zendesk.http import ZendeskHttp
from evalsync_gui.gui.chat.log_rows import human_rows

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
        "log": human_rows(audit.recent_actions(db, 5000)),
        "outbox": mailer.outbox_rows(db),
        "mode": service.current_mode(ctx.settings),
        **account_state(ctx),
    }


def account_state(ctx: AppContext) -> dict:
    """Whether Zendesk is connected and the account kind with how it was known (for the header)."""
    from evalsync_gui.core.auth.session import connection_info

    try:
        connected = connection_info(ctx) is not None
    except Exception:  # noqa: BLE001 - an unreadable stored connection is "not connected" here
        connected = False
    chosen = ctx.settings.get("chat.mode", "auto")
    detected = ctx.settings.get("chat.detected_mode")
    if chosen in (service.STANDALONE, service.SUPPORT):
        kind, source = chosen, "chosen"
    elif detected:
        kind, source = detected, "detected"
    else:
        kind, source = "unknown", ""
    kind = {service.STANDALONE: "writable"}.get(kind, kind)
    return {"connected": connected, "kind": kind, "kind_source": source}


def _progress(task):
    return lambda done, total, msg: task.report((done, total, msg))


def refresh_agents(task, ctx: AppContext, open_http: OpenHttp) -> str:
    with open_http() as http:
        http.is_cancelled = task.is_cancelled
        agents = service.refresh_agents(ctx.db, ctx.settings, http,
                                        on_page=lambda n: task.report((0, 0, f"Read {n} agents…")))
    return f"{len(agents)} chat agents read ({service.current_mode(ctx.settings)} mode)"


def add_request(task, ctx: AppContext, fields: dict) -> str:
    rid, status, reason = rq.add_request(ctx.db, domains=service.domains(ctx.settings), source="form", **fields)
    return f"Request {rid} {status}" + (f": {reason}" if reason else " — press Process to act on it")


def import_csv(task, ctx: AppContext, path: str, mapping: dict) -> rq.ImportReport:
    report = rq.import_csv(ctx.db, path, mapping, domains=service.domains(ctx.settings), actor="import")
    ctx.settings.set("chat.csv_mapping", mapping)
    return report


def process(task, ctx: AppContext, open_http: OpenHttp, dry_run: bool) -> str:
    with open_http() as http:
        http.is_cancelled = task.is_cancelled
        result, mail = service.run_process(ctx.db, ctx.settings, http, dry_run=dry_run,
                                           progress=_progress(task), is_cancelled=task.is_cancelled)
        if not dry_run and _wrote(result):
            # The batch's one extract predates its writes: read the agents again so the Agents
            # page shows what Process did without a Refresh.
            task.report((0, 0, "Reading the chat agents again…"))
            service.refresh_agents(ctx.db, ctx.settings, http)
    text = f"{result.summary()} [{result.mode} mode]"
    if mail.sent or mail.failed:
        text += f"; e-mails: {mail.sent} sent, {mail.failed} failed"
    if mail.error:
        text += f"; e-mails kept in the outbox: {mail.error}"
    return text


def _wrote(result) -> bool:
    """Whether a batch changed anything in Zendesk (any outcome but queued/rejected/already)."""
    quiet = {"already_enabled", "rejected", "failed", "queued", "needs_admin_step"}
    return any(n for status, n in result.counts().items() if status not in quiet)


def policy_preview(task, ctx: AppContext, open_http: OpenHttp, policy: inactivity.Policy) -> dict:
    policy.check()
    with open_http() as http:
        rows, agents, backend = service.policy_preview(ctx.db, ctx.settings, http, policy)
    return {"rows": rows, "agents": agents, "mode": backend.mode}


def policy_apply(task, ctx: AppContext, open_http: OpenHttp, preview: dict) -> str:
    with open_http() as http:
        http.is_cancelled = task.is_cancelled
        backend = service.backend_for(ctx.settings, http)
        counts = inactivity.apply(ctx.db, backend, preview["rows"], preview["agents"], actor="inactivity policy",
                                  progress=_progress(task), is_cancelled=task.is_cancelled)
    return f"Policy applied: {counts['disabled']} disabled, {counts['deleted']} deleted, {counts['failed']} failed"


def load_roles(task, open_http: OpenHttp) -> list[dict]:
    from evalsync_gui.core.chat.agents_api import chat_roles

    with open_http() as http:
        return chat_roles(http)


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
    with open_http() as http:
        service.set_chat_oauth(ctx.settings, http.base_url, value)
    return "Chat settings saved; the Chat OAuth token is in the system keyring"


def export_log(task, ctx: AppContext, path: str) -> str:
    n = audit.export_csv(ctx.db, path)
    return f"Exported {n} action{'s' if n != 1 else ''} to {path}"


def result_rows(preview: dict) -> list[dict]:
    return [asdict(r) for r in preview["rows"]]
