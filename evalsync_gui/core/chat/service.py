"""The Chat feature's entry points for the GUI and the CLI: settings, backend, batch, policy.

Front ends call these with a ``ZendeskHttp`` (from ``core.auth.session.open_client`` or, in
tests, built directly) and never touch the backends' details. Settings keys (all JSON, no
secrets): ``chat.domains``, ``chat.mode`` (auto|standalone|support), ``chat.detected_mode``,
``chat.support_role``, ``chat.support_nochat_role``, ``chat.smtp``, ``chat.templates``,
``chat.csv_mapping``, ``chat.inactivity``, ``chat.management_enabled``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import keyring
import keyring.errors

from evalsync_gui.core.chat import guards, mailer
from evalsync_gui.core.chat.agents_api import (STANDALONE, SUPPORT, Agent, ChatBackend, ChatModeMismatch,
                                               detect_mode, make_backend)
from evalsync_gui.core.chat.inactivity import Policy, PolicyRow, preview
from evalsync_gui.core.chat.processor import BatchResult, Guard, cache_agents, process_batch
from evalsync_gui.core.errors import SecretStoreError
from evalsync_gui.core.store.db import Database
from evalsync_gui.core.store.settings import Settings
from evalsync_gui.core.zendesk.http import BearerAuth, ZendeskHttp

log = logging.getLogger("evalsync.chat")
MODES = ("auto", STANDALONE, SUPPORT)
CHAT_OAUTH_FLAG = "chat.oauth_added"  # True once a Chat OAuth access token was put in the keyring


@dataclass
class MailOutcome:
    sent: int = 0
    failed: int = 0
    error: str = ""


# -- settings ----------------------------------------------------------------------------
def domains(settings: Settings) -> list[str]:
    return list(settings.get("chat.domains", []) or [])


def current_mode(settings: Settings) -> str:
    """The mode to use now: the admin's choice, else what EvalSync detected, else standalone first."""
    chosen = settings.get("chat.mode", "auto")
    if chosen in (STANDALONE, SUPPORT):
        return chosen
    return settings.get("chat.detected_mode") or STANDALONE


def smtp_config(settings: Settings) -> mailer.SmtpConfig:
    return mailer.SmtpConfig.from_settings(settings.get("chat.smtp"))


def templates(settings: Settings) -> dict[str, dict[str, str]]:
    return mailer.templates_from_settings(settings.get("chat.templates"))


def policy(settings: Settings) -> Policy:
    return Policy.from_settings(settings.get("chat.inactivity"))


# -- the optional Chat OAuth token (standalone Chat) -------------------------------------
def _chat_account(base_url: str) -> str:
    return f"chat-oauth:{urlsplit(base_url).netloc}"


def set_chat_oauth(settings: Settings, base_url: str, value: str | None) -> None:
    """Keep (or forget, with None) a Chat OAuth access token in the keyring."""
    try:
        if value:
            keyring.set_password(mailer.KEYRING_SERVICE, _chat_account(base_url), value)
        else:
            try:
                keyring.delete_password(mailer.KEYRING_SERVICE, _chat_account(base_url))
            except keyring.errors.PasswordDeleteError:
                pass
    except keyring.errors.KeyringError as exc:
        raise SecretStoreError("The system keyring is not available; the Chat token was not saved.") from exc
    settings.set(CHAT_OAUTH_FLAG, bool(value))


def chat_client(http: ZendeskHttp, settings: Settings | None = None) -> ZendeskHttp | None:
    """A client using the stored Chat OAuth token, when one was added; else None."""
    if settings is not None and not settings.get(CHAT_OAUTH_FLAG, False):
        return None  # no keyring round-trip when none was ever added
    try:
        value = keyring.get_password(mailer.KEYRING_SERVICE, _chat_account(http.base_url))
    except keyring.errors.KeyringError:
        return None
    if not value:
        return None
    return ZendeskHttp(http.base_url, BearerAuth(value), retry=http.retry, is_cancelled=http.is_cancelled)


# -- backends ----------------------------------------------------------------------------
def backend_for(settings: Settings, http: ZendeskHttp, mode: str | None = None) -> ChatBackend:
    mode = mode or current_mode(settings)
    return make_backend(mode, http, settings.get, chat_http=chat_client(http, settings) if mode == STANDALONE else None)


def detect_and_remember(settings: Settings, http: ZendeskHttp) -> str:
    """Ask the account settings once which mode applies and remember it (auto mode only)."""
    if settings.get("chat.mode", "auto") != "auto" or settings.get("chat.detected_mode"):
        return current_mode(settings)
    # When the account settings do not say, assume standalone; a refused write flips it.
    settings.set("chat.detected_mode", detect_mode(http) or STANDALONE)
    return current_mode(settings)


def switch_to_support(settings: Settings) -> None:
    log.info("Chat Agents API refused a write: switching to Support mode")
    settings.set("chat.detected_mode", SUPPORT)


def refresh_agents(db: Database, settings: Settings, http: ZendeskHttp,
                   on_page: Callable[[int], None] | None = None) -> list[Agent]:
    """Fresh extract into the local cache (the tab's agent table, ``chat agents list``)."""
    agents = backend_for(settings, http).extract(on_page)
    cache_agents(db, agents)
    return agents


def run_process(db: Database, settings: Settings, http: ZendeskHttp, *, dry_run: bool = False,
                progress=None, is_cancelled=None, send_mail: bool = True,
                guard: Guard | None = None) -> tuple[BatchResult, MailOutcome]:
    """Process the queue; switches to Support mode once if the Chat Agents API refuses writes,
    then sends queued confirmations when SMTP is configured.

    Confirmations are queued whether or not SMTP is set up yet: they go out once it is."""
    smtp = smtp_config(settings)
    tpls = templates(settings)
    requesters = guards.Guards.load(settings).requesters
    mode = detect_and_remember(settings, http)
    for attempt in range(2):
        backend = backend_for(settings, http, mode)
        try:
            result = process_batch(db, backend, domains(settings), dry_run=dry_run,
                                   compose=lambda status, req: mailer.compose(tpls, status, req),
                                   progress=progress, is_cancelled=is_cancelled, requesters=requesters,
                                   guard=guard)
            break
        except ChatModeMismatch:
            if attempt or settings.get("chat.mode", "auto") != "auto":
                raise
            switch_to_support(settings)
            mode = SUPPORT
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


def policy_preview(db: Database, settings: Settings, http: ZendeskHttp,
                   pol: Policy | None = None) -> tuple[list[PolicyRow], dict[int, Agent], ChatBackend]:
    """Fresh extract and the policy's preview over it (changes nothing in Zendesk)."""
    backend = backend_for(settings, http)
    agents = backend.extract()
    cache_agents(db, agents)
    rows = preview(agents, pol or policy(settings), mode=backend.mode)
    return rows, {a.id: a for a in agents}, backend
