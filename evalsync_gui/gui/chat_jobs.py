"""What the Chat agents tab runs in its worker threads. No widgets here: plain data in and out.

Each job's first argument is the worker's :class:`~evalsync_gui.gui.workers.Task`. Jobs that
reach Zendesk take ``open_support`` (a callable returning the *Support* ``ZendeskHttp``, or None
for the stored sign-in) so tests can hand in a simulator client; the Chat client always comes
from the Chat API connection (``service.open_clients``), never from the Support sign-in.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict

from evalsync_gui.core.chat import audit, connection, inactivity, mailer, service
from evalsync_gui.core.chat import kind as chat_kind
from evalsync_gui.core.chat import requests as rq
from evalsync_gui.core.context import AppContext
from evalsync_gui.core.errors import EvalsyncError
from evalsync_gui.core.zendesk.http import ZendeskHttp
from evalsync_gui.gui.chat.log_rows import human_rows

OpenSupport = Callable[[], ZendeskHttp] | None


def load_snapshot(task, ctx: AppContext) -> dict:
    """Everything the tab shows from the database and settings, read in one go."""
    db = ctx.db
    agents = [dict(r) for r in db.query("SELECT * FROM chat_agents ORDER BY lower(email)")]
    for a in agents:
        a["departments"] = json.loads(a["departments"] or "[]")
    return {
        "agents": agents,
        "requests": rq.list_requests(db, limit=20_000),
        "counts": rq.status_counts(db),
        "todo": service.admin_steps(db),
        "log": human_rows(audit.recent_actions(db, 5000)),
        "outbox": mailer.outbox_rows(db),
        "intake": _intake(ctx),
        **connection_state(ctx),
    }


def _intake(ctx: AppContext) -> dict:
    from evalsync_gui.gui.chat.intake_jobs import intake_snapshot  # the Sources page's part

    return intake_snapshot(ctx)


def connection_state(ctx: AppContext) -> dict:
    """``chat status`` (connected, kind, kind_source, …; never a secret) plus what the Chat API
    section shows: the redirect URL to register and the Support address (an OAuth server choice)."""
    from evalsync_gui.core.auth.session import connection_info

    state = service.status(ctx)
    conn = connection.chat_connection(ctx)
    try:
        info = connection_info(ctx)
    except EvalsyncError:
        info = None
    state.update(redirect_uri=connection.redirect_uri(ctx), setup_steps=connection.setup_steps(ctx),
                 support_base=info.base_url if info else None,
                 support_connected=info is not None, connected_at=conn.connected_at if conn else None,
                 kind_choice=chat_kind.choice(ctx.settings), default_role=ctx.settings.get(service.DEFAULT_ROLE_KEY),
                 upgrade_end_users=bool(ctx.settings.get(service.UPGRADE_KEY, False)))
    return state


def _progress(task):
    return lambda done, total, msg: task.report((done, total, msg))


def refresh_agents(task, ctx: AppContext, open_support: OpenSupport) -> str:
    """Read the agents into the cache; on a first read with the kind left to EvalSync, detect it
    too (two reads, no write), so the header can name it instead of asking."""
    with service.open_clients(ctx, open_support) as clients:
        clients.is_cancelled = task.is_cancelled
        agents = service.refresh_agents(ctx.db, ctx.settings, clients,
                                        on_page=lambda n: task.report((0, 0, f"Read {n} agents…")))
        if chat_kind.choice(ctx.settings) == "auto" and ctx.settings.get(chat_kind.DETECTED_KEY) is None:
            service.detect_kind(ctx.settings, clients)
    return f"{len(agents)} chat agents read"


def add_request(task, ctx: AppContext, fields: dict) -> str:
    rid, status, reason = rq.add_request(ctx.db, domains=service.domains(ctx.settings), source="form", **fields)
    return f"Request {rid} {status}" + (f": {reason}" if reason else " — press Process to act on it")


def import_csv(task, ctx: AppContext, path: str, mapping: dict) -> rq.ImportReport:
    report = rq.import_csv(ctx.db, path, mapping, domains=service.domains(ctx.settings), actor="import")
    ctx.settings.set("chat.csv_mapping", mapping)
    return report


def process(task, ctx: AppContext, open_support: OpenSupport, dry_run: bool) -> str:
    from evalsync_gui.core.chat.schedule import ChatLock

    with ChatLock(ctx.data_dir), service.open_clients(ctx, open_support) as clients:  # never beside a cron run
        clients.is_cancelled = task.is_cancelled
        result, mail = service.run_process(ctx.db, ctx.settings, clients, dry_run=dry_run,
                                           progress=_progress(task), is_cancelled=task.is_cancelled)
        if not dry_run and _wrote(result):
            # The batch's one extract predates its writes: read the agents again so the Agents
            # page shows what Process did without a Refresh.
            task.report((0, 0, "Reading the chat agents again…"))
            service.refresh_agents(ctx.db, ctx.settings, clients)
    text = result.summary()
    if mail.sent or mail.failed:
        text += f"; e-mails: {mail.sent} sent, {mail.failed} failed"
    if mail.error:
        text += f"; e-mails kept in the outbox: {mail.error}"
    return text


def _wrote(result) -> bool:
    """Whether a batch changed anything in Zendesk (any outcome but queued/rejected/already)."""
    quiet = {"already_enabled", "rejected", "failed", "queued", "needs_admin_step"}
    return any(n for status, n in result.counts().items() if status not in quiet)


def policy_preview(task, ctx: AppContext, open_support: OpenSupport, policy: inactivity.Policy) -> dict:
    """Remember the thresholds, then preview them over a fresh read (changes nothing in Zendesk)."""
    policy.check()
    ctx.settings.set("chat.inactivity", policy.to_settings())
    with service.open_clients(ctx, open_support) as clients:
        rows, agents, backend = service.policy_preview(ctx.db, ctx.settings, clients, policy)
    source = rows[0].last_login_source if rows else ctx.settings.get(service.LAST_LOGIN_SOURCE_KEY)
    return {"rows": rows, "agents": agents, "mode": backend.mode, "source": source}


def policy_apply(task, ctx: AppContext, open_support: OpenSupport, preview: dict) -> str:
    with service.open_clients(ctx, open_support) as clients:
        clients.is_cancelled = task.is_cancelled
        backend = service.backend_for(ctx.settings, clients)
        counts = inactivity.apply(ctx.db, backend, preview["rows"], preview["agents"], actor="inactivity policy",
                                  progress=_progress(task), is_cancelled=task.is_cancelled)
    return f"Policy applied: {counts['disabled']} disabled, {counts['deleted']} deleted, {counts['failed']} failed"


def export_steps(task, rows: list, path: str) -> str:
    n = inactivity.export_steps_csv(rows, path)
    return f"Exported {n} admin step{'s' if n != 1 else ''} to {path}"


def load_roles(task, ctx: AppContext, open_support: OpenSupport) -> list[dict]:
    """Custom roles for the "default role for new agents" picker ([] when the plan has none)."""
    from evalsync_gui.core.auth.session import open_client

    with (open_support() if open_support else open_client(ctx)) as support:
        return service.load_custom_roles(ctx.settings, support)


def detect_kind(task, ctx: AppContext, open_support: OpenSupport) -> str:
    with service.open_clients(ctx, open_support) as clients:
        info = service.detect_kind(ctx.settings, clients)
    return f"Chat account kind: {info.kind} ({info.source}: {info.how})"


def connect_chat(task, ctx: AppContext, client_id: str, secret: str, grant: str, oauth_base: str | None,
                 open_support: OpenSupport) -> str:
    """Get and check a Chat token (browser or client credentials), then read the account kind."""
    conn = connection.connect(ctx, client_id, secret, grant=grant, oauth_base=oauth_base,
                              open_browser=_open_in_browser, is_cancelled=task.is_cancelled)
    text = f"Chat connected (client {conn.client_id})"
    try:
        with service.open_clients(ctx, open_support) as clients:
            info = service.detect_kind(ctx.settings, clients)
    except EvalsyncError as exc:
        return f"{text}; the account kind is not known yet ({exc})"
    if info.kind == chat_kind.UNKNOWN:
        return f"{text}; EvalSync could not tell the account kind: choose it under Account kind."
    return f"{text}; account kind {info.kind} ({info.source})."


def _open_in_browser(url: str) -> bool:
    """The system browser, looked up when called (Python's ``webbrowser`` is safe off the GUI thread)."""
    import webbrowser

    return webbrowser.open(url)


def disconnect_chat(task, ctx: AppContext) -> str:
    had = connection.disconnect(ctx)
    if not had:
        return "No Chat connection to forget."
    return ("Chat disconnected: its token and secret were removed from this computer. To revoke the token in "
            "Zendesk too, delete the API client in Zendesk Chat (Settings > Account > API).")


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


def export_log(task, ctx: AppContext, path: str) -> str:
    n = audit.export_csv(ctx.db, path)
    return f"Exported {n} action{'s' if n != 1 else ''} to {path}"


def result_rows(preview: dict) -> list[dict]:
    return [asdict(r) for r in preview["rows"]]
