"""Confirmation e-mails: SMTP settings, templates with placeholders, and the outbox.

The processor only *queues* a message (``email_outbox``) in the same transaction as the
action it confirms, so a batch never waits for a mail server and a crash never sends twice
or forgets to send. :func:`flush_outbox` then sends what is pending over one SMTP
connection; a failed send keeps its error and is retried next time, up to ``MAX_ATTEMPTS``,
after which it shows as *failed* until the admin retries it.

Request text (names, addresses) is cleaned before it reaches a message: control and format
characters become spaces, so no CR/LF can start a new header, and each value is cut to
``MAX_FIELD`` characters. Messages are plain text (never HTML), so there is no markup to
escape. A confirmation goes only to a requester whose address is usable; the processor
has already checked that the requester is allowed to ask (``guards.requester_problem``).

The SMTP password lives in the OS keyring (service ``EvalSync``, user ``smtp:<host>:<user>``),
never in settings.
"""

from __future__ import annotations

import re
import smtplib
import ssl
import unicodedata
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

import keyring
import keyring.errors

from evalsync_gui.core.chat.domains import address_problem
from evalsync_gui.core.errors import SecretStoreError, UsageError
from evalsync_gui.core.redact import register_secret
from evalsync_gui.core.store.db import Database

KEYRING_SERVICE = "EvalSync"
MAX_ATTEMPTS = 5
MAX_FIELD = 120  # characters of one request value in a message
SECURITIES = ("starttls", "ssl", "none")
PLACEHOLDERS = {
    "first_name": "first name of the new agent",
    "last_name": "last name of the new agent",
    "email": "the agent's e-mail (their Chat login)",
    "requester": "who asked",
    "action": "created / enabled",
    "date": "today's date",
}
TEMPLATE_HELP = (
    "Placeholders: " + ", ".join("{" + k + "}" for k in PLACEHOLDERS) + ". "
    "Zendesk's API cannot set an agent's chat limit or support address: tell the requester to set "
    "them by hand after this e-mail."
)
DEFAULT_TEMPLATES: dict[str, dict[str, str]] = {
    "created": {
        "subject": "Chat account created for {first_name} {last_name}",
        "body": ("Hello,\n\nThe Zendesk Chat account for {first_name} {last_name} ({email}) has been created "
                 "as you asked on {date}.\n{first_name} will receive an e-mail from Zendesk to set a password.\n\n"
                 "Please note: the chat limit and the support address cannot be set automatically; "
                 "set them by hand in Zendesk Chat.\n\nEvalSync"),
    },
    "enabled": {
        "subject": "Chat account enabled for {first_name} {last_name}",
        "body": ("Hello,\n\nThe Zendesk Chat account for {first_name} {last_name} ({email}) has been enabled "
                 "again as you asked on {date}. Their previous password still works.\n\n"
                 "Please note: check the chat limit and the support address by hand in Zendesk Chat.\n\nEvalSync"),
    },
    "already_enabled": {
        "subject": "Chat account for {first_name} {last_name} is already enabled",
        "body": ("Hello,\n\nThe Zendesk Chat account for {first_name} {last_name} ({email}) that you asked for on "
                 "{date} was already enabled; nothing needed to change. Their password is unchanged.\n\nEvalSync"),
    },
}
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_LOOPBACK = ("127.0.0.1", "localhost", "::1")


@dataclass
class SmtpConfig:
    """Non-secret SMTP settings (``chat.smtp``)."""

    host: str = ""
    port: int = 587
    security: str = "starttls"
    user: str = ""
    sender: str = ""

    @classmethod
    def from_settings(cls, value: dict | None) -> "SmtpConfig":
        v = value or {}
        return cls(host=v.get("host", ""), port=int(v.get("port") or 587), security=v.get("security", "starttls"),
                   user=v.get("user", ""), sender=v.get("from", ""))

    def to_settings(self) -> dict:
        d = asdict(self)
        d["from"] = d.pop("sender")
        return d

    @property
    def configured(self) -> bool:
        return bool(self.host and self.sender)

    def check(self) -> None:
        """Raise UsageError when the settings cannot work."""
        if not self.host:
            raise UsageError("No SMTP server is set; fill in Chat settings → E-mail.")
        if not self.sender or "@" not in self.sender:
            raise UsageError("The From address is missing or not an e-mail address.")
        if self.security not in SECURITIES:
            raise UsageError(f"Security must be one of {', '.join(SECURITIES)}.")
        if self.security == "none" and self.user and self.host not in _LOOPBACK:
            raise UsageError("Refusing to send an SMTP password without encryption; choose STARTTLS or SSL.")


# -- the password ------------------------------------------------------------------------
def _account(cfg: SmtpConfig) -> str:
    return f"smtp:{cfg.host}:{cfg.user}"


def _registered(password: str | None) -> str | None:
    register_secret(password)  # the one redactor masks it in logs and errors from now on
    return password


def get_password(cfg: SmtpConfig) -> str | None:
    if not cfg.user:
        return None
    try:
        return _registered(keyring.get_password(KEYRING_SERVICE, _account(cfg)))
    except keyring.errors.KeyringError as exc:
        raise SecretStoreError("The system keyring is not available, so the SMTP password cannot be read; "
                               "unlock or install a keyring.") from exc


def set_password(cfg: SmtpConfig, password: str) -> None:
    try:
        if password:
            keyring.set_password(KEYRING_SERVICE, _account(cfg), _registered(password))
        else:
            try:
                keyring.delete_password(KEYRING_SERVICE, _account(cfg))
            except keyring.errors.PasswordDeleteError:
                pass
    except keyring.errors.KeyringError as exc:
        raise SecretStoreError("The system keyring is not available, so the SMTP password cannot be saved; "
                               "unlock or install a keyring.") from exc


# -- templates ---------------------------------------------------------------------------
def templates_from_settings(value: dict | None) -> dict[str, dict[str, str]]:
    out = {k: dict(v) for k, v in DEFAULT_TEMPLATES.items()}
    for kind, tpl in (value or {}).items():
        if kind in out and isinstance(tpl, dict):
            out[kind].update({k: str(v) for k, v in tpl.items() if k in ("subject", "body")})
    return out


def unknown_placeholders(text: str) -> list[str]:
    return sorted({m for m in _PLACEHOLDER.findall(text) if m not in PLACEHOLDERS})


def render(text: str, values: dict[str, str]) -> str:
    """Fill ``{name}`` placeholders; unknown ones stay as written (shown in the preview)."""
    return _PLACEHOLDER.sub(lambda m: str(values.get(m.group(1), m.group(0))), text)


def clean_text(value: object, limit: int = MAX_FIELD) -> str:
    """Request text fit for a message: no control/format characters, one line, at most ``limit`` characters."""
    text = "".join(" " if unicodedata.category(ch)[0] == "C" else ch for ch in str(value or ""))
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def values_for(status: str, request: dict) -> dict[str, str]:
    return {"first_name": clean_text(request.get("first_name", "")),
            "last_name": clean_text(request.get("last_name", "")),
            "email": clean_text(request.get("email", "")), "requester": clean_text(request.get("requester", "")),
            "action": status.replace("_", " "), "date": datetime.now(timezone.utc).strftime("%Y-%m-%d")}


def compose(templates: dict[str, dict[str, str]], status: str, request: dict) -> tuple[str, str, str] | None:
    """(to, subject, body) for a finished request, or None when it has no template or requester."""
    tpl = templates.get(status)
    to = (request.get("requester") or "").strip()
    if not tpl or not to or address_problem(to):
        return None
    vals = values_for(status, request)
    subject = clean_text(render(tpl["subject"], vals), 200)  # no header injection via a name
    return to, subject, render(tpl["body"], vals)


SAMPLE_REQUEST = {"first_name": "Zoë", "last_name": "O'Brien", "email": "zoe.obrien@acme.com",
                  "requester": "team.lead@acme.com"}


# -- sending -----------------------------------------------------------------------------
def _message(cfg: SmtpConfig, to: str, subject: str, body: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = cfg.sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = make_msgid(domain=cfg.sender.rpartition("@")[2] or None)
    msg.set_content(body)
    return msg


class SmtpSession:
    """One SMTP connection for a run of messages (context manager)."""

    def __init__(self, cfg: SmtpConfig, password: str | None, timeout: float = 20.0) -> None:
        cfg.check()
        self.cfg, self.password, self.timeout = cfg, password, timeout
        self.smtp: smtplib.SMTP | None = None

    def __enter__(self) -> "SmtpSession":
        cfg = self.cfg
        try:
            if cfg.security == "ssl":
                self.smtp = smtplib.SMTP_SSL(cfg.host, cfg.port, timeout=self.timeout,
                                             context=ssl.create_default_context())
            else:
                self.smtp = smtplib.SMTP(cfg.host, cfg.port, timeout=self.timeout)
                if cfg.security == "starttls":
                    self.smtp.starttls(context=ssl.create_default_context())
            if cfg.user and self.password:
                self.smtp.login(cfg.user, self.password)
        except (OSError, smtplib.SMTPException) as exc:
            self.__exit__()
            raise UsageError(f"Cannot reach the mail server {cfg.host}:{cfg.port}: {describe(exc)}") from exc
        return self

    def send(self, to: str, subject: str, body: str) -> None:
        assert self.smtp is not None
        self.smtp.send_message(_message(self.cfg, to, subject, body))

    def __exit__(self, *exc: Any) -> None:
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (OSError, smtplib.SMTPException):
                pass
            self.smtp = None


def describe(exc: BaseException) -> str:
    """One line for an SMTP or socket error (never contains the password)."""
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return "the server refused the user name or password"
    if isinstance(exc, smtplib.SMTPResponseException):
        text = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        return f"{exc.smtp_code} {' '.join(text.split())}"[:200]
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "the server refused the recipient"
    return " ".join(str(exc).split())[:200] or type(exc).__name__


def send_test(cfg: SmtpConfig, password: str | None, to: str) -> None:
    """Send a test message now; raises UsageError with the reason when it fails."""
    with SmtpSession(cfg, password) as session:
        try:
            session.send(to, "EvalSync test message", "This is a test message from EvalSync's Chat agents tab.")
        except (OSError, smtplib.SMTPException) as exc:
            raise UsageError(f"The test message was not sent: {describe(exc)}") from exc


def flush_outbox(db: Database, cfg: SmtpConfig, password: str | None, limit: int | None = None) -> tuple[int, int]:
    """Send pending messages (at most ``limit``); returns (sent, failed). A broken connection leaves the rest pending."""
    rows = db.query("SELECT id, to_addr, subject, body FROM email_outbox WHERE status = 'pending' ORDER BY id"
                    " LIMIT ?", (-1 if limit is None else max(0, limit),))
    if not rows:
        return 0, 0
    sent = failed = 0
    try:
        session = SmtpSession(cfg, password).__enter__()
    except UsageError as exc:
        _record_failure(db, rows[0]["id"], str(exc))
        raise
    try:
        for row in rows:
            try:
                session.send(row["to_addr"], row["subject"], row["body"])
            except (OSError, smtplib.SMTPException) as exc:
                _record_failure(db, row["id"], describe(exc))
                failed += 1
                if isinstance(exc, (OSError, smtplib.SMTPServerDisconnected)):
                    break
                continue
            with db.transaction() as conn:
                conn.execute("UPDATE email_outbox SET status = 'sent', attempts = attempts + 1, last_error = NULL,"
                             " sent_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id = ?", (row["id"],))
            sent += 1
    finally:
        session.__exit__()
    return sent, failed


def _record_failure(db: Database, outbox_id: int, error: str) -> None:
    with db.transaction() as conn:
        conn.execute("UPDATE email_outbox SET attempts = attempts + 1, last_error = ?,"
                     " status = CASE WHEN attempts + 1 >= ? THEN 'failed' ELSE 'pending' END WHERE id = ?",
                     (error, MAX_ATTEMPTS, outbox_id))


def retry_failed(db: Database) -> int:
    """Put failed messages back in the queue; returns how many."""
    with db.transaction() as conn:
        return conn.execute("UPDATE email_outbox SET status = 'pending', attempts = 0 WHERE status = 'failed'").rowcount


def outbox_rows(db: Database, limit: int = 500) -> list[dict]:
    return [dict(r) for r in db.query(
        "SELECT id, request_id, to_addr, subject, status, attempts, last_error, created_at, sent_at"
        " FROM email_outbox ORDER BY id DESC LIMIT ?", (limit,))]
