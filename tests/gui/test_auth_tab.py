"""The Authenticate tab driven with pytest-qt against the simulator (network on a worker thread)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import httpx
import pytest

from evalsync_gui.core.auth import session
from evalsync_gui.core.auth.secrets import OAUTH, SecretStore
from evalsync_gui.gui.auth_tab import AuthTab
from evalsync_gui.gui.services import AppSignals, Services
from tests.keyring_backends import file_keyring  # noqa: F401 - fixture

pytestmark = pytest.mark.usefixtures("file_keyring")
SHOTS = os.environ.get("EVALSYNC_SHOTS")  # set to a folder to save a PNG of each state


def shot(widget, name: str) -> None:
    if SHOTS:
        from PySide6.QtWidgets import QApplication
        QApplication.processEvents()  # let word-wrapped labels re-lay out before the grab
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        widget.grab().save(str(Path(SHOTS) / f"auth_{name}.png"))


def play_browser(url: str) -> None:
    threading.Thread(target=lambda: httpx.get(url, follow_redirects=True, timeout=10), daemon=True).start()


@pytest.fixture
def tab(qtbot, ctx, sim, reserved_port):
    ctx.base_url = sim.base_url
    ctx.settings.set(session.REDIRECT_PORT_KEY, reserved_port)
    services = Services(ctx=ctx, signals=AppSignals())
    w = AuthTab(services)
    w.open_browser = play_browser
    w.resize(760, 640)
    qtbot.addWidget(w)
    w.show()
    yield w
    w.shutdown()


# A port number that is only stored and shown, never listened on.
SHOWN_PORT = 50123


def test_initial_state(tab):
    assert "Not connected" in tab.status_label.text()
    assert not tab.auth_button.isEnabled() and not tab.sign_out_button.isEnabled()
    assert tab.client_edit.isVisible() and not tab.token_edit.isVisible()
    shot(tab, "1_empty")


def test_account_field_resolves_and_refuses(tab, qtbot):
    tab.account_edit.setText("https://abc-energy.zendesk.com/agent")
    assert "abc-energy" in tab.account_hint.text()
    tab.account_edit.setText("abc_energy")
    assert "letters, digits and hyphens" in tab.account_hint.text()
    tab.client_edit.setText("x")
    assert not tab.auth_button.isEnabled()
    shot(tab, "2_invalid_name")


def test_oauth_connect_check_sign_out(tab, qtbot, sim):
    changed = tab.services.signals.connection_changed
    tab.account_edit.setText("abc-energy")
    tab.client_edit.setText(sim.oauth_client_id)
    shot(tab, "3_ready")
    with qtbot.waitSignal(changed, timeout=15000):
        qtbot.mouseClick(tab.auth_button, qtbot_left())
        assert tab.cancel_button.isVisible() or tab.info is not None  # busy while the browser is "open"
    assert tab.status_label.text().startswith("Connected to")
    assert "OAuth" in tab.details_label.text() and "expires" in tab.details_label.text()
    assert tab.test_button.isEnabled() and tab.sign_out_button.isEnabled()
    shot(tab, "5_connected")
    with qtbot.waitSignal(changed, timeout=15000):
        qtbot.mouseClick(tab.test_button, qtbot_left())
    assert tab.error_label.text() == ""
    with qtbot.waitSignal(changed, timeout=15000):
        qtbot.mouseClick(tab.sign_out_button, qtbot_left())
    assert "Not connected" in tab.status_label.text()
    assert SecretStore().get_json(session.secret_scope(tab.services.ctx, sim.base_url), OAUTH) is None
    shot(tab, "8_signed_out")


def test_busy_state_and_cancel(tab, qtbot, sim):
    tab.open_browser = lambda url: None  # the admin never answers in the browser
    tab.account_edit.setText("abc-energy")
    tab.client_edit.setText(sim.oauth_client_id)
    with qtbot.waitSignal(tab.jobs.running_changed, timeout=5000):
        qtbot.mouseClick(tab.auth_button, qtbot_left())
    assert tab.cancel_button.isVisible() and not tab.account_edit.isEnabled() and not tab.auth_button.isEnabled()
    assert not tab.port_spin.isEnabled()  # the listener is bound to the port shown: no changing it now
    assert "browser" in tab.busy_label.text()
    shot(tab, "4_busy")
    with qtbot.waitSignal(tab.jobs.cancelled, timeout=5000):
        qtbot.mouseClick(tab.cancel_button, qtbot_left())
    assert "cancelled" in tab.error_label.text() and tab.account_edit.isEnabled()
    assert tab.port_spin.isEnabled()
    assert session.connection_info(tab.ctx) is None


def test_api_token_wrong_then_right(tab, qtbot, sim):
    tab.account_edit.setText("abc-energy")
    tab.token_radio.setChecked(True)
    assert tab.retirement_label.isVisible() and "2027" in tab.retirement_label.text()
    tab.email_edit.setText(sim.admin_email)
    tab.token_edit.setText("wrong")
    with qtbot.waitSignal(tab.jobs.failed, timeout=15000):
        qtbot.mouseClick(tab.auth_button, qtbot_left())
    assert "API token" in tab.error_label.text() and "Not connected" in tab.status_label.text()
    shot(tab, "6_failed")
    tab.token_edit.setText(sim.api_token)
    with qtbot.waitSignal(tab.services.signals.connection_changed, timeout=15000):
        qtbot.mouseClick(tab.auth_button, qtbot_left())
    assert "Connected to" in tab.status_label.text() and tab.token_edit.text() == ""
    assert "2027" in tab.warning_label.text()
    shot(tab, "7_api_token_connected")


def test_non_admin_warning_and_revoked_check(tab, qtbot, sim):
    sim.set_approver(sim.ids("agent")[0])
    tab.account_edit.setText("abc-energy")
    tab.client_edit.setText(sim.oauth_client_id)
    with qtbot.waitSignal(tab.services.signals.connection_changed, timeout=15000):
        qtbot.mouseClick(tab.auth_button, qtbot_left())
    assert "not an admin" in tab.warning_label.text()
    sim.revoke_all_tokens()
    with qtbot.waitSignal(tab.jobs.failed, timeout=15000):
        qtbot.mouseClick(tab.test_button, qtbot_left())
    assert "authenticate again" in tab.error_label.text()
    shot(tab, "9_agent_revoked")


def test_prefills_from_stored_connection(qtbot, ctx, sim):
    ctx.base_url = sim.base_url
    session.connect_api_token(ctx, "abc-energy", sim.admin_email, sim.api_token)
    w = AuthTab(Services(ctx=ctx, signals=AppSignals()))
    qtbot.addWidget(w)
    assert w.account_edit.text() == "abc-energy" and w.token_radio.isChecked()
    assert w.email_edit.text() == sim.admin_email and w.token_edit.text() == ""
    assert "Connected to" in w.status_label.text()
    w.shutdown()


def qtbot_left():
    from PySide6.QtCore import Qt
    return Qt.MouseButton.LeftButton


def test_tab_shows_a_connection_made_elsewhere(qtbot, sim, data_dir):
    """The --demo pre-connect (or a CLI connect) happens outside the tab; the tab follows it."""
    from evalsync_gui.core.auth import session
    from evalsync_gui.core.context import AppContext
    from evalsync_gui.gui.auth_tab import AuthTab
    from evalsync_gui.gui.services import AppSignals, Services

    ctx = AppContext.create(data_dir)
    services = Services(ctx=ctx, signals=AppSignals())
    tab = AuthTab(services)
    qtbot.addWidget(tab)
    session.connect_api_token(ctx, "abc-energy", sim.admin_email, sim.api_token, base_url=sim.base_url)
    services.signals.connection_changed.emit()
    assert tab.info is not None and tab.info.subdomain == "abc-energy"
    tab.shutdown()


# -- redirect port ----------------------------------------------------------------------------
def test_redirect_port_change_updates_url_and_setting(tab, qtbot):
    from evalsync_gui.core.auth.listener import redirect_uri_for
    from PySide6.QtGui import QGuiApplication

    assert tab.port_spin.isVisible() and tab.redirect_url.isVisible() and tab.copy_button.isVisible()
    assert (tab.port_spin.minimum(), tab.port_spin.maximum()) == (1024, 65535)
    port = SHOWN_PORT
    tab.port_spin.setValue(port)
    assert tab.redirect_url.text() == redirect_uri_for(port) == f"http://127.0.0.1:{port}/callback"
    assert session.redirect_port(tab.ctx) == port and tab.error_label.text() == ""
    qtbot.mouseClick(tab.copy_button, qtbot_left())
    assert QGuiApplication.clipboard().text() == redirect_uri_for(port)
    tab.token_radio.setChecked(True)  # an OAuth-only row
    assert not tab.port_spin.isVisible() and not tab.copy_button.isVisible()
    shot(tab, "10_redirect_port")


def test_redirect_port_out_of_range_is_refused(tab):
    before = session.redirect_port(tab.ctx)
    for bad in (80, 1023, 65536):
        assert tab.save_port(bad) is False
        assert "1024 to 65535" in tab.error_label.text() and str(bad) in tab.error_label.text()
        assert session.redirect_port(tab.ctx) == before and tab.port_spin.value() == before
    tab.port_spin.setValue(80)  # the box itself never goes below its range
    assert tab.port_spin.value() == 1024 == session.redirect_port(tab.ctx)


def test_cli_and_gui_share_the_port_range(ctx):
    from evalsync_gui.cli import main
    from evalsync_gui.core.errors import UsageError

    with pytest.raises(UsageError, match="1024 to 65535"):
        session.set_redirect_port(ctx, 1023)
    assert session.set_redirect_port(ctx, "65535") == 65535 == session.redirect_port(ctx)
    code = main(["--data-dir", str(ctx.data_dir), "connect", "--subdomain", "abc-energy", "--oauth",
                 "--client-id", "x", "--redirect-port", "80"])
    assert code == 2 and session.redirect_port(ctx) == 65535


def test_sign_in_uses_the_chosen_port(tab, qtbot, sim, reserve_port):
    seen: list[str] = []

    def browser(url: str) -> None:
        seen.append(url)
        play_browser(url)

    tab.open_browser = browser
    port = reserve_port()  # another port than the fixture's
    tab.port_spin.setValue(port)
    tab.account_edit.setText("abc-energy")
    tab.client_edit.setText(sim.oauth_client_id)
    with qtbot.waitSignal(tab.services.signals.connection_changed, timeout=15000):
        qtbot.mouseClick(tab.auth_button, qtbot_left())
    from urllib.parse import parse_qs, urlsplit
    assert parse_qs(urlsplit(seen[0]).query)["redirect_uri"] == [f"http://127.0.0.1:{port}/callback"]
    assert "Connected to" in tab.status_label.text()


def test_busy_port_says_which_port_and_where_to_change_it(tab, qtbot, sim):
    import socket

    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen(1)
        port = blocker.getsockname()[1]
        tab.port_spin.setValue(port)
        assert f"Port {port} is in use" in tab.error_label.text()  # told at once, before signing in
        tab.account_edit.setText("abc-energy")
        tab.client_edit.setText(sim.oauth_client_id)
        with qtbot.waitSignal(tab.jobs.failed, timeout=15000):
            qtbot.mouseClick(tab.auth_button, qtbot_left())
    message = tab.error_label.text()
    assert f"Port {port}" in message and "Redirect port above" in message and "\n" not in message
    assert tab.port_spin.isEnabled() and session.connection_info(tab.ctx) is None
    shot(tab, "11_port_busy")


def test_a_saved_port_outside_the_range_is_not_used(qtbot, ctx, sim):
    ctx.base_url = sim.base_url
    ctx.settings.set(session.REDIRECT_PORT_KEY, 80)  # as an older version's CLI allowed
    w = AuthTab(Services(ctx=ctx, signals=AppSignals()))
    qtbot.addWidget(w)
    assert "saved redirect port 80" in w.error_label.text()
    w.account_edit.setText("abc-energy")
    w.client_edit.setText(sim.oauth_client_id)
    w.authenticate()
    assert not w.jobs.is_running() and "1024 to 65535" in w.error_label.text()
    w.port_spin.setValue(SHOWN_PORT)
    assert w.error_label.text() == "" and session.redirect_port(ctx) == w.port_spin.value()
    w.shutdown()


def test_unused_api_token_warning(qtbot, ctx, sim):
    """A token unused for 20+ days: the tab says when Zendesk deactivates it and points to OAuth."""
    from datetime import datetime, timedelta, timezone

    ctx.base_url = sim.base_url
    session.connect_api_token(ctx, "abc-energy", sim.admin_email, sim.api_token)
    # the token's last request Zendesk accepted: 25 days ago (the data folder's clock, then a real request)
    ctx.extras["clock"] = lambda: (datetime.now(timezone.utc) - timedelta(days=25, hours=1)).timestamp()
    session.open_client(ctx).get("/api/v2/users/me")
    del ctx.extras["clock"]
    w = AuthTab(Services(ctx=ctx, signals=AppSignals()))
    qtbot.addWidget(w)
    w.resize(760, 640)
    w.show()
    text = w.warning_label.text()
    assert w.warning_label.isVisible() and "25 days" in text and "in 5 days" in text
    assert "can no longer be created" in text and "OAuth" in text
    shot(w, "10_unused_token")
    w.shutdown()


def test_zendesk_names_and_oauth_error_text_are_shown_as_plain_text(tab, qtbot, sim):
    """A Zendesk user name or an OAuth error from the redirect is text, never markup (issue 13)."""
    from urllib.parse import parse_qs, quote, urlsplit

    from PySide6.QtCore import Qt

    hostile = "<img src='http://x.test/a.png'><b>Mallory</b>"
    sim.store.rename(sim.store.find_email(sim.admin_email), hostile)
    tab.account_edit.setText("abc-energy")
    tab.token_radio.setChecked(True)
    tab.email_edit.setText(sim.admin_email)
    tab.token_edit.setText(sim.api_token)
    with qtbot.waitSignal(tab.services.signals.connection_changed, timeout=15000):
        qtbot.mouseClick(tab.auth_button, qtbot_left())
    assert hostile in tab.status_label.text()
    shot(tab, "10_hostile_name")

    def deny(url: str) -> None:  # the redirect carries attacker-chosen error text with the right state
        q = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
        play_browser(q["redirect_uri"] + f"?error={quote('<i>x</i>')}&state={q['state']}")

    tab.open_browser = deny
    tab.oauth_radio.setChecked(True)
    tab.client_edit.setText(sim.oauth_client_id)
    with qtbot.waitSignal(tab.jobs.failed, timeout=15000):
        qtbot.mouseClick(tab.auth_button, qtbot_left())
    assert "<i>x</i>" in tab.error_label.text()
    for label in (tab.status_label, tab.details_label, tab.warning_label, tab.error_label):
        assert label.textFormat() == Qt.TextFormat.PlainText
    shot(tab, "11_oauth_error_text")
