"""Confirmation e-mails through a real local SMTP server (aiosmtpd), with the outbox's retry."""

from __future__ import annotations

import socket

import keyring
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message
from keyring.backend import KeyringBackend

from evalsync_gui.core.chat import mailer, processor
from evalsync_gui.core.chat import requests as rq
from evalsync_gui.core.chat.agents_api import Agent


class MemoryKeyring(KeyringBackend):
    priority = 1

    def __init__(self):
        super().__init__()
        self.store = {}

    def get_password(self, service, username):
        return self.store.get((service, username))

    def set_password(self, service, username, password):
        self.store[(service, username)] = password

    def delete_password(self, service, username):
        self.store.pop((service, username), None)


class Inbox(Message):
    def __init__(self):
        super().__init__()
        self.messages = []

    def handle_message(self, message):
        self.messages.append(message)


class BoundController(Controller):
    """aiosmtpd serving a socket the test bound to port 0 itself: no port is chosen, closed and
    reused (another process could take it in between)."""

    def __init__(self, handler) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        super().__init__(handler, hostname="127.0.0.1", port=self.sock.getsockname()[1])

    def _create_server(self):
        return self.loop.create_server(self._factory_invoker, sock=self.sock, ssl=self.ssl_context)


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    ctl = BoundController(inbox)
    ctl.start()
    yield ctl, inbox
    ctl.stop()


@pytest.fixture
def closed_port():
    """A port bound by this test and never listened on: connecting is refused, and nobody else gets it."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        yield s.getsockname()[1]


@pytest.fixture
def memory_keyring():
    old = keyring.get_keyring()
    kr = MemoryKeyring()
    keyring.set_keyring(kr)
    yield kr
    keyring.set_keyring(old)


class TinyChat:
    mode = "standalone"

    def extract(self, on_page=None):
        return [Agent(1, "off@acme.com", enabled=False)]

    def enable(self, agent):
        return 200, {}

    def create(self, email, first, last):
        return 201, {}, Agent(5, email, enabled=True)


def test_password_in_keyring_not_settings(ctx, memory_keyring):
    cfg = mailer.SmtpConfig("smtp.acme.com", 587, "starttls", "bot@acme.com", "bot@acme.com")
    mailer.set_password(cfg, "s3cret")
    assert memory_keyring.store[("EvalSync", "smtp:smtp.acme.com:bot@acme.com")] == "s3cret"
    ctx.settings.set("chat.smtp", cfg.to_settings())
    assert "s3cret" not in str(ctx.settings.all())
    assert mailer.get_password(mailer.SmtpConfig.from_settings(ctx.settings.get("chat.smtp"))) == "s3cret"


def test_plaintext_password_refused_off_loopback():
    with pytest.raises(Exception, match="without encryption"):
        mailer.SmtpConfig("smtp.acme.com", 25, "none", "u", "bot@acme.com").check()


def test_templates_render_and_help():
    tpls = mailer.templates_from_settings({"created": {"subject": "Hi {first_name}\r\nBcc: x@evil.io"}})
    to, subject, body = mailer.compose(tpls, "created", mailer.SAMPLE_REQUEST)
    assert to == "team.lead@acme.com" and "\n" not in subject and subject.startswith("Hi Zoë")
    assert "chat limit" in mailer.TEMPLATE_HELP and "support address" in mailer.TEMPLATE_HELP
    assert mailer.unknown_placeholders("{first_name} {oops}") == ["oops"]


def test_confirmations_received_and_retry(ctx, smtp_server, closed_port):
    ctl, inbox = smtp_server
    cfg = mailer.SmtpConfig("127.0.0.1", ctl.port, "none", "", "evalsync@acme.com")
    tpls = mailer.templates_from_settings(None)
    rq.add_request(ctx.db, requester="lead@acme.com", email="off@acme.com", first_name="Off", last_name="Agent")
    rq.add_request(ctx.db, requester="boss@acme.com", email="new@acme.com", first_name="Nia", last_name="New")
    processor.process_batch(ctx.db, TinyChat(), ["acme.com"], compose=lambda s, r: mailer.compose(tpls, s, r))
    # First attempt: server down -> kept, error visible, still pending.
    down = mailer.SmtpConfig("127.0.0.1", closed_port, "none", "", "evalsync@acme.com")
    with pytest.raises(Exception, match="Cannot reach the mail server"):
        mailer.flush_outbox(ctx.db, down, None)
    rows = mailer.outbox_rows(ctx.db)
    assert any(r["last_error"] for r in rows) and all(r["status"] == "pending" for r in rows)
    sent, failed = mailer.flush_outbox(ctx.db, cfg, None)
    assert (sent, failed) == (2, 0)
    by_to = {m["To"]: m for m in inbox.messages}
    assert by_to["lead@acme.com"]["Subject"] == "Chat account enabled for Off Agent"
    created = by_to["boss@acme.com"]
    assert created["Subject"] == "Chat account created for Nia New"
    assert "new@acme.com" in created.get_payload() and "chat limit" in created.get_payload()
    assert created["From"] == "evalsync@acme.com"
    assert mailer.flush_outbox(ctx.db, cfg, None) == (0, 0)  # nothing sent twice


def test_send_test_message(smtp_server):
    ctl, inbox = smtp_server
    mailer.send_test(mailer.SmtpConfig("127.0.0.1", ctl.port, "none", "", "evalsync@acme.com"), None, "me@acme.com")
    assert inbox.messages[0]["Subject"] == "EvalSync test message"
