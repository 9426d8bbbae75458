"""Issue 12's Chat API section, driven as an admin does, against the simulator over loopback:
the redirect URL to register (with Copy), client id and secret, the grant, Connect/Disconnect.
Both grants run for real: client credentials, and the browser sign-in through the loopback listener."""

from __future__ import annotations

import logging
import socket
import threading

import httpx
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from tests.gui.chat_fixtures import LEFT, make_tab, run_job


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def port():
    return _free_port()


@pytest.fixture
def tab(qtbot, ctx, sim_factory, port):
    from evalsync_gui.core.auth.session import set_redirect_port

    sim = sim_factory(chat_redirect_uris=(f"http://127.0.0.1:{port}/callback",))
    set_redirect_port(ctx, port)
    w = make_tab(qtbot, ctx, sim, chat=False, kind=None)
    w.sim = sim
    w.pages.setCurrentWidget(w.settings)
    yield w
    w.shutdown()


def _fill(qtbot, tab, client_id: str, secret: str, grant: str) -> None:
    api = tab.settings.api
    api.client_id.clear()
    qtbot.keyClicks(api.client_id, client_id)
    qtbot.keyClicks(api.secret, secret)
    api.grant.setCurrentIndex(api.grant.findData(grant))
    api.oauth_base.setCurrentIndex(api.oauth_base.findData(tab.sim.base_url))


def _secret_anywhere(ctx, secret: str) -> bool:
    rows = ctx.db.query("SELECT key, value FROM settings")
    return any(secret in str(r["value"]) for r in rows)


def test_redirect_url_is_the_listener_address_and_copy_puts_it_on_the_clipboard(qtbot, tab, port):
    api = tab.settings.api
    assert api.redirect_url.text() == f"http://127.0.0.1:{port}/callback"
    assert api.redirect_url.isReadOnly()
    qtbot.mouseClick(api.copy_button, LEFT)
    assert QApplication.clipboard().text() == f"http://127.0.0.1:{port}/callback"
    assert not api.disconnect_button.isEnabled()
    assert "not connected" in tab.kind_label.text()


def test_connect_with_client_credentials_then_disconnect(qtbot, tab, ctx, caplog):
    caplog.set_level(logging.DEBUG)
    sim, api = tab.sim, tab.settings.api
    _fill(qtbot, tab, sim.chat_client_id, sim.chat_client_secret, "client_credentials")
    run_job(qtbot, tab, lambda: qtbot.mouseClick(api.connect_button, LEFT))
    assert tab.status.text().startswith(f"Chat connected (client {sim.chat_client_id})"), tab.status.text()
    assert api.secret.text() == ""  # never shown back
    assert api.state.text().startswith(f"Connected: client {sim.chat_client_id} (client_credentials)")
    assert "— detected" in tab.kind_label.text()  # the connect job read the kind (writable simulator)
    assert not _secret_anywhere(ctx, sim.chat_client_secret)
    assert sim.chat_client_secret not in caplog.text
    # The Chat API now answers the Agents page.
    run_job(qtbot, tab, lambda: qtbot.mouseClick(tab.agents.refresh_button, LEFT))
    assert tab.agents.model.rowCount() == len(sim.chat_agents)
    run_job(qtbot, tab, lambda: qtbot.mouseClick(api.disconnect_button, LEFT))
    assert "Chat disconnected" in tab.status.text()
    assert api.state.text().startswith("Not connected")
    assert "not connected" in tab.kind_label.text()


def test_a_wrong_secret_says_what_to_check_and_stores_nothing(qtbot, tab, ctx):
    sim, api = tab.sim, tab.settings.api
    _fill(qtbot, tab, sim.chat_client_id, "not-the-secret", "client_credentials")
    run_job(qtbot, tab, lambda: qtbot.mouseClick(api.connect_button, LEFT))
    assert "check the client id and secret" in tab.status.text()
    assert api.state.text().startswith("Not connected")
    assert not _secret_anywhere(ctx, "not-the-secret")


def test_connect_with_the_browser_sign_in(qtbot, tab, monkeypatch):
    """The authorization-code grant: the 'browser' follows Zendesk's redirect to the listener."""
    sim, api = tab.sim, tab.settings.api
    opened = []

    def browser(url: str) -> bool:  # stands in for the admin approving in their browser
        opened.append(url)
        threading.Thread(target=lambda: httpx.get(url, follow_redirects=True, timeout=10), daemon=True).start()
        return True

    monkeypatch.setattr("webbrowser.open", browser)
    _fill(qtbot, tab, sim.chat_client_id, sim.chat_client_secret, "code")
    with qtbot.waitSignal(tab.job_finished, timeout=20_000):
        qtbot.keyClick(api.secret, Qt.Key_Return)  # Enter in the secret field connects
    assert opened and "state=" in opened[0] and "code_challenge" not in opened[0]
    assert tab.status.text().startswith("Chat connected"), tab.status.text()
    with qtbot.waitSignal(tab.refreshed, timeout=5000):
        pass
    assert api.state.text().startswith(f"Connected: client {sim.chat_client_id} (code)")


def test_cancel_stops_a_waiting_browser_sign_in_and_stores_nothing(qtbot, tab, ctx, monkeypatch):
    sim, api = tab.sim, tab.settings.api
    monkeypatch.setattr("webbrowser.open", lambda url: True)  # the admin never approves
    _fill(qtbot, tab, sim.chat_client_id, sim.chat_client_secret, "code")
    qtbot.mouseClick(api.connect_button, LEFT)
    qtbot.waitUntil(lambda: tab.cancel_button.isVisibleTo(tab), timeout=5000)
    with qtbot.waitSignal(tab.job_finished, timeout=10_000):
        qtbot.mouseClick(tab.cancel_button, LEFT)
    assert tab.status.text() == "Chat connection cancelled; nothing was stored."
    assert api.connect_button.isEnabled()
    from evalsync_gui.core.chat.connection import chat_connection

    assert chat_connection(ctx) is None
