"""The Chat feature's entry points for the GUI and the CLI: connections, kind, batch, policy.

Every Chat job needs two clients (:class:`ChatClients`): the **Chat** connection's (the only
one that ever reaches ``/api/v2/chat/*``) and the **Support** connection's (Users API,
entitlements). :func:`open_clients` opens the Chat one first, so a missing Chat connection
fails before any request with one line naming the setup (AuthError, CLI exit 4).

Settings keys (all JSON, no secrets): ``chat.domains``, ``chat.kind`` (auto|writable|support),
``chat.kind_detected``, ``chat.connection``, ``chat.oauth_base``, ``chat.default_role``,
``chat.upgrade_end_users``, ``chat.smtp``, ``chat.templates``, ``chat.csv_mapping``,
``chat.inactivity``, ``chat.management_enabled``; ``zendesk.custom_roles_available``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from evalsync_gui.core.chat import connection, guards, inactivity, kind, mailer
from evalsync_gui.core.chat.agents_api import Agent, ChatBackend, StandaloneChat, chat_roles
from evalsync_gui.core.chat.inactivity import Policy, PolicyRow, preview
from evalsync_gui.core.chat.processor import BatchResult, Guard, cache_agents, process_batch
from evalsync_gui.core.chat.support_kind import SupportKindChat
from evalsync_gui.core.context import AppContext
from evalsync_gui.core.errors import AuthError, EvalsyncError
from evalsync_gui.core.store.db import Database
from evalsync_gui.core.store.settings import Settings
from evalsync_gui.core.zendesk.http import ZendeskHttp

log = logging.getLogger("evalsync.chat")
MODES = kind.CHOICES  # kept for the settings page: auto | writable | support
DEFAULT_ROLE_KEY = "chat.default_role"
UPGRADE_KEY = "chat.upgrade_end_users"
CUSTOM_ROLES_KEY = "zendesk.custom_roles_available"
LAST_LOGIN_SOURCE_KEY = "chat.last_login_source"  # what the last inactivity preview measured


@dataclass
class MailOutcome:
    sent: int = 0
    failed: int = 0
    error: str = ""


@dataclass
class ChatClients:
    """The two connections a Chat job uses; close both with ``with``."""

    chat: ZendeskHttp
    support: ZendeskHttp
    user_id: int | None = None  # the Support connection's user (kind detection reads their entitlements)

    def close(self) -> None:
        self.chat.close()
        self.support.close()

    def __enter__(self) -> ChatClients:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def is_cancelled(self) -> Callable[[], bool]:
        return self.chat.is_cancelled

    @is_cancelled.setter
    def is_cancelled(self, check: Callable[[], bool] | None) -> None:
        self.chat.is_cancelled = check
        self.support.is_cancelled = check


def open_clients(ctx: AppContext, open_support: Callable[[], ZendeskHttp] | None = None,
                 **http_kwargs: Any) -> ChatClients:
    """Open the Chat client, then the Support one (``open_support()`` or the stored sign-in).

    Raises AuthError (exit 4) before any request when either connection is missing.
    """
    from evalsync_gui.core.auth.session import connection_info, open_client

    chat = connection.chat_http(ctx, **http_kwargs)
    try:
        info = connection_info(ctx)
        conn = connection.chat_connection(ctx)
        if info is not None and conn is not None and info.subdomain != conn.account:
            raise AuthError(f"The Chat API connection belongs to {conn.account}, but Support is connected to "
                            f"{info.subdomain}; connect Chat again for {info.subdomain} (`evalsync chat connect`).")
        support = open_support() if open_support is not None else open_client(ctx, **http_kwargs)
    except BaseException:
        chat.close()
        raise
    return ChatClients(chat, support, info.user_id if info else None)


# -- settings ----------------------------------------------------------------------------
def domains(settings: Settings) -> list[str]:
    return list(settings.get("chat.domains", []) or [])


def current_mode(settings: Settings) -> str:
    """The account kind in force (``writable``, ``support`` or ``unknown``); see :mod:`.kind`."""
    return kind.current(settings).kind


def smtp_config(settings: Settings) -> mailer.SmtpConfig:
    return mailer.SmtpConfig.from_settings(settings.get("chat.smtp"))


def templates(settings: Settings) -> dict[str, dict[str, str]]:
    return mailer.templates_from_settings(settings.get("chat.templates"))


def policy(settings: Settings) -> Policy:
    return Policy.from_settings(settings.get("chat.inactivity"))


def custom_roles_available(settings: Settings) -> bool:
    """False once Zendesk refused ``/api/v2/custom_roles`` (a plan below Enterprise): the GUI hides
    custom-role choices with a one-line note. True until a refusal was seen."""
    return settings.get(CUSTOM_ROLES_KEY, True) is not False


def remember_custom_roles(settings: Settings) -> Callable[[bool], None]:
    """A callback for ``sync.config.fetch_custom_roles(client, on_plan=…)`` that stores the plan flag."""
    return lambda available: settings.set(CUSTOM_ROLES_KEY, bool(available))


def load_custom_roles(settings: Settings, support: ZendeskHttp) -> list[dict]:
    """The custom roles for the "default role for new agents" picker; [] and the plan flag set
    to False when the plan has none."""
    roles = chat_roles(support)
    settings.set(CUSTOM_ROLES_KEY, roles is not None)
    return roles or []


# -- kind and backends -------------------------------------------------------------------
def ensure_kind(settings: Settings, clients: ChatClients) -> str:
    """The kind in force; detected from reads (never a write) when auto and not yet known."""
    info = kind.current(settings)
    if info.source is None or (info.source == "detected" and info.kind == kind.UNKNOWN):
        # auto, and never decided: read it now (reads only; a transient refusal is retried next job)
        info = kind.detect(settings, clients.support, clients.chat, clients.user_id)
    if info.kind == kind.UNKNOWN:
        return kind.require_known(settings)
    return info.kind


def detect_kind(settings: Settings, clients: ChatClients) -> kind.KindInfo:
    """Detect again now (the GUI's "Detect" button, ``chat status --detect``)."""
    return kind.detect(settings, clients.support, clients.chat, clients.user_id)


def backend_for(settings: Settings, clients: ChatClients, account_kind: str | None = None) -> ChatBackend:
    """The batch's backend for the kind in force (Support credentials never reach the Chat API)."""
    account_kind = account_kind or kind.require_known(settings)
    if account_kind == kind.SUPPORT:
        role = settings.get(DEFAULT_ROLE_KEY)
        return SupportKindChat(clients.chat, clients.support, default_role_id=int(role) if role else None,
                               upgrade_end_users=bool(settings.get(UPGRADE_KEY, False)))
    return StandaloneChat(clients.chat)


def refresh_agents(db: Database, settings: Settings, clients: ChatClients,
                   on_page: Callable[[int], None] | None = None) -> list[Agent]:
    """Fresh extract from the Chat Agents API into the local cache (a read on either kind)."""
    agents = StandaloneChat(clients.chat).extract(on_page)
    cache_agents(db, agents)
    return agents


def run_process(db: Database, settings: Settings, clients: ChatClients, *, dry_run: bool = False,
                progress=None, is_cancelled=None, send_mail: bool = True,
                guard: Guard | None = None) -> tuple[BatchResult, MailOutcome]:
    """Process the queue with the kind in force, then send queued confirmations when SMTP is set.

    Confirmations are queued whether or not SMTP is set up yet: they go out once it is. Only
    allowed requesters (``guards``) are processed and e-mailed; ``guard`` may hold requests."""
    smtp = smtp_config(settings)
    tpls = templates(settings)
    backend = backend_for(settings, clients, ensure_kind(settings, clients))
    result = process_batch(db, backend, domains(settings), dry_run=dry_run,
                           compose=lambda status, req: mailer.compose(tpls, status, req),
                           progress=progress, is_cancelled=is_cancelled,
                           requesters=guards.Guards.load(settings).requesters, guard=guard)
    mail = MailOutcome()
    if send_mail and not dry_run and smtp.configured:
        mail = send_outbox(db, settings)
    return result, mail


def send_outbox(db: Database, settings: Settings) -> MailOutcome:
    """Send pending confirmations, within the daily cap; a failure is kept on the message, never
    raised to the batch."""
    smtp = smtp_config(settings)
    out = MailOutcome()
    if not smtp.configured:
        return out
    budget = guards.mail_budget(db, guards.Guards.load(settings).daily_mail_cap)
    if budget == 0 and db.scalar("SELECT count(*) FROM email_outbox WHERE status = 'pending'"):
        out.error = "the daily cap on confirmation e-mails is reached; the rest go out tomorrow"
        return out
    try:
        out.sent, out.failed = mailer.flush_outbox(db, smtp, mailer.get_password(smtp), limit=budget)
    except Exception as exc:  # mail trouble must not undo Zendesk work; it stays in the outbox
        out.error = str(exc)
        log.warning("confirmation e-mails not sent: %s", exc)
    return out


# -- the admin's to-do list (Support kind) -------------------------------------------------
def admin_steps(db: Database) -> list[dict]:
    """Requests waiting for a step in Admin Center, oldest first: id, email, names, requester,
    reason, agent_id, admin_url, updated_at (the GUI's "To do in Zendesk", ``chat todo``)."""
    rows = db.query("SELECT id, email, first_name, last_name, requester, reason, agent_id, admin_url, updated_at"
                    " FROM chat_requests WHERE status = 'needs_admin_step' ORDER BY id")
    return [dict(r) for r in rows]


# -- inactivity ----------------------------------------------------------------------------
def policy_preview(db: Database, settings: Settings, clients: ChatClients,
                   pol: Policy | None = None) -> tuple[list[PolicyRow], dict[int, Agent], ChatBackend]:
    """Fresh extract and the policy's preview over it (changes nothing in Zendesk)."""
    account_kind = ensure_kind(settings, clients)
    backend = backend_for(settings, clients, account_kind)
    agents = StandaloneChat(clients.chat).extract()
    cache_agents(db, agents)
    source = inactivity.CHAT_LAST_LOGIN
    if account_kind == kind.SUPPORT and agents and not any(a.last_login for a in agents):
        source = _support_last_logins(clients.support, agents)
    settings.set(LAST_LOGIN_SOURCE_KEY, source)
    steps_page = f"{clients.support.base_url}/admin/people/team/members"
    rows = preview(agents, pol or policy(settings), mode=account_kind, source=source, admin_url=steps_page)
    return rows, {a.id: a for a in agents}, backend


def _support_last_logins(support: ZendeskHttp, agents: list[Agent]) -> str:
    """Fill ``last_login`` from the Support users (``last_login_at``) when the Chat API gave none."""
    by_email = {a.key: a for a in agents}
    url: str | None = "/api/v2/users"
    params: Any = [("role[]", "agent"), ("role[]", "admin"), ("page[size]", 100)]
    while url:
        body = support.get(url, params=params)
        users = body.get("users") if isinstance(body, dict) else None
        if not isinstance(users, list):
            raise EvalsyncError("The Users API answered without a users list; try again later.")
        for user in users:
            agent = by_email.get(str(user.get("email") or "").strip().lower())
            if agent is not None:
                agent.last_login = user.get("last_login_at")
        more = bool((body.get("meta") or {}).get("has_more")) and users
        nxt = (body.get("links") or {}).get("next")
        url, params = (support.check_same_origin(nxt), None) if more and nxt else (None, None)
    return inactivity.SUPPORT_LAST_LOGIN


# -- status --------------------------------------------------------------------------------
def status(ctx: AppContext) -> dict[str, Any]:
    """The Chat side as ``chat status --json`` prints it; never a secret."""
    conn = connection.chat_connection(ctx)
    info = kind.current(ctx.settings)
    return {
        "connected": conn is not None,
        "kind": info.kind,
        "kind_source": info.source,
        "kind_how": info.how,
        "kind_at": info.at,
        "last_login_source": ctx.settings.get(LAST_LOGIN_SOURCE_KEY) or inactivity.CHAT_LAST_LOGIN,
        "client_id": conn.client_id if conn else None,
        "grant": conn.grant if conn else None,
        "oauth_base": conn.oauth_base if conn else connection.default_oauth_base(ctx),
        "api_base": conn.api_base if conn else None,
        "expires_at": conn.expires_at if conn else None,
        "refreshable": conn.refreshable if conn else False,
        "custom_roles_available": custom_roles_available(ctx.settings),
        "admin_steps": len(admin_steps(ctx.db)),
    }
