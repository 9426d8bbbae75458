"""The Authenticate tab: account name, method, Authenticate, the connection card, Sign out.

Every Zendesk call (the OAuth flow, the connection check, sign-out) runs on a worker thread
through :class:`~evalsync_gui.gui.workers.TaskController`; the window stays responsive while
the browser is open and the flow can be cancelled. Only the small settings rows that hold
the stored connection and the redirect port are read (and the port written) on the GUI
thread, as the other tabs do for their settings.
"""

from __future__ import annotations

import webbrowser
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (QButtonGroup, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QLineEdit,
                               QProgressBar, QPushButton, QRadioButton, QSpinBox, QVBoxLayout, QWidget)

from evalsync_gui.core.account import resolve_account
from evalsync_gui.core.auth import session
from evalsync_gui.core.auth import token_timeline
from evalsync_gui.core.auth.connection import API_TOKEN_RETIREMENT, ConnectionInfo
from evalsync_gui.core.auth.listener import port_is_free, redirect_uri_for
from evalsync_gui.core.errors import AuthError, EvalsyncError
from evalsync_gui.gui import theme
from evalsync_gui.gui.formats import format_datetime
from evalsync_gui.gui.services import Services
from evalsync_gui.gui.workers import Task, TaskController


def _expiry_text(iso_text: str | None) -> str:
    """When the OAuth access token expires, in the window's time format."""
    if not iso_text:
        return "does not expire"
    return format_datetime(iso_text) + " (renewed automatically)"


# -- worker bodies (run off the GUI thread; no widgets here) -------------------------------
def _port_busy_message(port: int) -> str:
    """What to do when the redirect listener cannot use ``port``: this tab's words for it."""
    return (f"Port {port} on this computer is in use by another program, so EvalSync cannot receive "
            "Zendesk's answer there. Choose another Redirect port above, register the new redirect URL "
            "in the Zendesk OAuth client, then click Authenticate again.")


def _oauth_job(task: Task, ctx, subdomain: str, client_id: str, port: int,
               open_browser: Callable[[str], Any]) -> tuple[ConnectionInfo, None]:
    try:
        info = session.start_oauth(ctx, subdomain, client_id, port=port, open_browser=open_browser,
                                   is_cancelled=task.is_cancelled)
    except session.RedirectPortBusy as exc:
        raise AuthError(_port_busy_message(exc.port)) from None
    return info, None


def _token_job(task: Task, ctx, subdomain: str, email: str, token: str) -> tuple[ConnectionInfo, None]:
    return session.connect_api_token(ctx, subdomain, email, token), None


def _check_job(task: Task, ctx) -> tuple[ConnectionInfo, None]:
    return session.check_connection(ctx, is_cancelled=task.is_cancelled), None


def _sign_out_job(task: Task, ctx) -> tuple[None, str | None]:
    return None, session.disconnect(ctx)


class AuthTab(QWidget):
    """Authenticate tab. Constructed by the main window as `AuthTab(services, parent)`."""

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.ctx = services.ctx
        #: Replaced in tests to play the browser; called on the worker thread.
        self.open_browser: Callable[[str], Any] = webbrowser.open
        self.info: ConnectionInfo | None = None
        self._check_failed = False  # the stored connection exists but the last check failed
        self._action = ""
        self.jobs = TaskController(self, name="auth")
        self.jobs.finished.connect(self._on_finished)
        self.jobs.failed.connect(self._on_failed)
        self.jobs.cancelled.connect(self._on_cancelled)
        self.jobs.running_changed.connect(self._set_busy)
        self._build()
        self._say("")
        self._set_busy(False)
        self._load_stored()
        # Another part of the app (the --demo pre-connect, the Chat tab's management switch)
        # may change the stored connection; show what is stored now.
        services.signals.connection_changed.connect(self._on_connection_changed)

    @Slot()
    def _on_connection_changed(self) -> None:
        if not self.jobs.is_running():
            self._load_stored()

    # -- layout ---------------------------------------------------------------------------
    def _build(self) -> None:
        """Title, the Sign in form, the Connection card; then the signals that tie them to the actions."""
        outer = QVBoxLayout(self)
        outer.addWidget(QLabel("<h2>Authenticate to Zendesk</h2>"))
        intro = QLabel("Type your Zendesk account name, click <b>Authenticate</b> and allow EvalSync in Zendesk. "
                       "You need a Zendesk <b>admin</b> to authorise the integration.")
        intro.setWordWrap(True)
        outer.addWidget(intro)
        outer.addWidget(self._build_sign_in())
        outer.addWidget(self._build_card())
        outer.addStretch(1)
        self._connect_signals()

    def _build_sign_in(self) -> QGroupBox:
        """The form: account, method, the rows of the chosen method, and the Authenticate row."""
        box = QGroupBox("Sign in")
        form = self._form = QFormLayout(box)
        self.account_edit = QLineEdit()
        self.account_edit.setPlaceholderText("abc-energy")
        self.account_edit.setObjectName("account")
        self.account_hint = QLabel()
        form.addRow("Zendesk account", self.account_edit)
        form.addRow("", self.account_hint)
        form.addRow("Method", self._build_method_row())
        self._oauth_rows = self._build_oauth_rows()
        self._token_rows = self._build_token_rows()
        for label, widget in self._oauth_rows + self._token_rows:
            form.addRow(label, widget)
        port_label = form.labelForField(self.redirect_row)
        if isinstance(port_label, QLabel):
            port_label.setBuddy(self.port_spin)  # Tab order and screen readers reach the box from its label
        form.addRow("", self._build_auth_buttons())
        return box

    def _build_method_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.oauth_radio = QRadioButton("OAuth (recommended)")
        self.token_radio = QRadioButton("API token (legacy)")
        self.oauth_radio.setChecked(True)
        self.methods = QButtonGroup(self)
        for radio in (self.oauth_radio, self.token_radio):
            self.methods.addButton(radio)
            row.addWidget(radio)
        row.addStretch(1)
        return row

    def _build_oauth_rows(self) -> list[tuple[str, QWidget]]:
        self.client_edit = QLineEdit()
        self.client_edit.setPlaceholderText("identifier of the OAuth client created in Admin Center")
        self.redirect_row = self._build_redirect_row()
        # One short line, no word wrap: a wrapped label in a form row reserves too much height.
        self.redirect_label = QLabel("Add this exact URL to the OAuth client's Redirect URLs in Zendesk Admin Center.")
        self.redirect_label.setToolTip("Admin Center > Apps and integrations > APIs > OAuth clients > your EvalSync client")
        self.redirect_label.setStyleSheet(theme.colour_css("muted"))
        return [("Client identifier", self.client_edit), ("Redirect port", self.redirect_row), ("", self.redirect_label)]

    def _build_token_rows(self) -> list[tuple[str, QWidget]]:
        self.email_edit = QLineEdit()
        self.email_edit.setPlaceholderText("admin@abc-energy.com")
        self.token_edit = QLineEdit()
        self.token_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.token_edit.setPlaceholderText("API token from Admin Center > Apps and integrations > Zendesk API")
        self.retirement_label = QLabel("⚠ " + API_TOKEN_RETIREMENT)
        self.retirement_label.setWordWrap(True)
        self.retirement_label.setStyleSheet(theme.colour_css("warn"))
        return [("E-mail", self.email_edit), ("API token", self.token_edit), ("", self.retirement_label)]

    def _build_auth_buttons(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.auth_button = QPushButton("Authenticate")
        self.auth_button.setDefault(True)
        self.cancel_button = QPushButton("Cancel")
        self.busy_bar = QProgressBar()
        self.busy_bar.setRange(0, 0)
        self.busy_bar.setMaximumWidth(160)
        self.busy_label = QLabel()
        row.addWidget(self.auth_button)
        row.addWidget(self.cancel_button)
        row.addWidget(self.busy_bar)
        row.addWidget(self.busy_label, 10)
        row.addStretch(1)
        return row

    def _build_card(self) -> QGroupBox:
        """What is stored: status, details, warnings, the last error; Test connection and Sign out."""
        self.card = QGroupBox("Connection")
        card = QVBoxLayout(self.card)
        self.status_label = QLabel()
        self.status_label.setObjectName("status")
        self.status_label.setWordWrap(True)
        self.details_label = QLabel()  # short lines: no word wrap, so its height is always right
        self.details_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.warning_label = QLabel()
        self.warning_label.setWordWrap(True)
        self.warning_label.setStyleSheet(theme.colour_css("warn"))
        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet(theme.colour_css("error"))
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        for w in (self.status_label, self.details_label, self.warning_label, self.error_label):
            w.setTextFormat(Qt.TextFormat.PlainText)  # they show Zendesk names and OAuth error text
            card.addWidget(w)
        bold = self.status_label.font()
        bold.setBold(True)
        self.status_label.setFont(bold)
        buttons = QHBoxLayout()
        self.test_button = QPushButton("Test connection")
        self.sign_out_button = QPushButton("Sign out")
        buttons.addWidget(self.test_button)
        buttons.addWidget(self.sign_out_button)
        buttons.addStretch(1)
        card.addLayout(buttons)
        return self.card

    def _connect_signals(self) -> None:
        for edit in (self.account_edit, self.client_edit, self.email_edit, self.token_edit):
            edit.textChanged.connect(self._update_form)
        self.oauth_radio.toggled.connect(self._update_form)
        self.account_edit.returnPressed.connect(self.authenticate)
        self.auth_button.clicked.connect(self.authenticate)
        self.cancel_button.clicked.connect(self.jobs.cancel)
        self.test_button.clicked.connect(self.test_connection)
        self.sign_out_button.clicked.connect(self.sign_out)

    def _build_redirect_row(self) -> QWidget:
        """Port box, the redirect URL it makes (selectable) and a Copy button, on one line."""
        row = QWidget()
        line = QHBoxLayout(row)
        line.setContentsMargins(0, 0, 0, 0)
        self.port_spin = QSpinBox()
        self.port_spin.setRange(session.MIN_REDIRECT_PORT, session.MAX_REDIRECT_PORT)
        self.port_spin.setGroupSeparatorShown(False)
        self.port_spin.setKeyboardTracking(False)  # save once per edit, not once per digit typed
        self.port_spin.setAccessibleName("Redirect port")
        self.port_spin.setToolTip(f"Port of the 127.0.0.1 address the browser returns to after you allow EvalSync "
                                  f"({session.MIN_REDIRECT_PORT}-{session.MAX_REDIRECT_PORT}; default "
                                  f"{session.DEFAULT_REDIRECT_PORT}). Change it when that port is taken or your "
                                  f"Zendesk OAuth client lists another one. Same as `evalsync connect --redirect-port`.")
        self.redirect_url = QLabel()  # selectable, not editable: the port decides it
        self.redirect_url.setTextFormat(Qt.TextFormat.PlainText)
        self.redirect_url.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                                  | Qt.TextInteractionFlag.TextSelectableByKeyboard)
        self.redirect_url.setAccessibleName("Redirect URL")
        self.redirect_url.setToolTip("The redirect URL to register in the Zendesk OAuth client, exactly as shown.")
        self.copy_button = QPushButton("Copy")
        self.copy_button.setAccessibleName("Copy redirect URL")
        self.copy_button.setToolTip("Copy the redirect URL to the clipboard, to paste into the Zendesk OAuth client.")
        line.addWidget(self.port_spin)
        line.addSpacing(8)
        line.addWidget(self.redirect_url)
        line.addWidget(self.copy_button)
        line.addStretch(1)
        self.port_spin.valueChanged.connect(self.save_port)
        self.copy_button.clicked.connect(self.copy_redirect_url)
        return row

    def _set_row_visible(self, widget: QWidget, visible: bool) -> None:
        widget.setVisible(visible)
        label = self._form.labelForField(widget)
        if label is not None:
            label.setVisible(visible)

    # -- state ----------------------------------------------------------------------------
    def _load_stored(self) -> None:
        try:
            self.info = session.connection_info(self.ctx)
            self.port = session.redirect_port(self.ctx)
        except EvalsyncError as exc:
            self.info, self.port = None, session.DEFAULT_REDIRECT_PORT
            self._say(str(exc))
        if self.info is not None:
            self.account_edit.setText(self.info.subdomain)
            if self.info.method == "api_token":
                self.token_radio.setChecked(True)
                self.email_edit.setText(self.info.email or "")
            else:
                self.client_edit.setText(self.info.client_id or "")
        self._show_port(self.port)
        self._update_form()
        self._show_info()

    def _show_port(self, port: int) -> None:
        """Put ``port`` in the box (without saving it again) and its URL beside it."""
        self.port_spin.blockSignals(True)
        self.port_spin.setValue(port)
        self.port_spin.blockSignals(False)
        self.redirect_url.setText(redirect_uri_for(port))
        if self.port_spin.value() != port:  # stored by an older version outside today's range
            self._say_saved_port_refused(port)

    def _say_saved_port_refused(self, port: int) -> None:
        self._say(f"The saved redirect port {port} is outside {session.MIN_REDIRECT_PORT} to "
                  f"{session.MAX_REDIRECT_PORT}; choose another Redirect port above.", theme.colour_css("warn"))

    @Slot(int)
    def save_port(self, port: int) -> bool:
        """Validate and store the redirect port; one line says why when it is refused or busy.

        A single settings row, written on the GUI thread like the other tabs' settings.
        """
        try:
            self.port = session.set_redirect_port(self.ctx, port)
        except EvalsyncError as exc:
            self._say(str(exc))
            self._show_port(self.port)  # back to what is stored
            return False
        self.redirect_url.setText(redirect_uri_for(self.port))
        if port_is_free(self.port):
            self._say("")
        else:
            self._say(f"Port {self.port} is in use on this computer right now; sign-in will fail unless that "
                      "program closes. Choose another Redirect port if it stays busy.", theme.colour_css("warn"))
        return True

    @Slot()
    def copy_redirect_url(self) -> None:
        """Put the redirect URL on the clipboard."""
        QGuiApplication.clipboard().setText(self.redirect_url.text())
        self.services.signals.status_message.emit("Redirect URL copied: " + self.redirect_url.text())

    def _resolved(self) -> tuple[str | None, str]:
        """(subdomain or None, one-line hint) for the account field; pure, no network."""
        text = self.account_edit.text()
        if not text.strip():
            return None, "Type the account name, e.g. abc-energy for https://abc-energy.zendesk.com"
        try:
            account = resolve_account(text, self.ctx.base_url)
        except EvalsyncError as exc:
            return None, str(exc)
        standard = f"https://{account.subdomain}.zendesk.com"
        if account.base_url != standard:  # --base-url / demo simulator
            return account.subdomain, f"Account {account.subdomain}, reached at {account.base_url} (address override)"
        return account.subdomain, f"Will connect to {account.base_url}"

    def _update_form(self) -> None:
        oauth = self.oauth_radio.isChecked()
        for _label, widget in self._oauth_rows:
            self._set_row_visible(widget, oauth)
        for _label, widget in self._token_rows:
            self._set_row_visible(widget, not oauth)
        subdomain, hint = self._resolved()
        self.account_hint.setText(hint)
        empty = not self.account_edit.text().strip()
        self.account_hint.setStyleSheet(theme.colour_css("muted") if subdomain or empty else theme.colour_css("error"))
        ready = subdomain is not None and (
            bool(self.client_edit.text().strip()) if oauth
            else bool(self.email_edit.text().strip() and self.token_edit.text().strip()))
        busy = self.jobs.is_running()
        self.auth_button.setEnabled(ready and not busy)
        self.test_button.setEnabled(self.info is not None and not busy)
        self.sign_out_button.setEnabled(self.info is not None and not busy)

    def _show_info(self) -> None:
        info = self.info
        if info is None:
            self.status_label.setText("Not connected.")
            self.status_label.setStyleSheet("")
            self.details_label.setText("EvalSync has no Zendesk sign-in. Authenticate above to start.")
            self.warning_label.hide()
            return
        if self._check_failed:
            self.status_label.setText(f"Connection problem with {info.host} (last signed in as "
                                      f"{info.user_name or info.user_email or ''}, {info.role or ''})")
            self.status_label.setStyleSheet(theme.colour_css("error"))
        else:
            self.status_label.setText(info.summary())  # plain text: names come from Zendesk
            self.status_label.setStyleSheet(theme.colour_css("ok"))
        rows = [f"Method: {info.method_label}"]
        if info.method == "oauth":
            rows.append(f"Access token expires: {_expiry_text(info.token_expires_at)}")
            rows.append(f"Scopes: {' '.join(info.scopes) or 'read'}")
        else:
            rows.append(f"E-mail: {info.email or ''}")
        if info.checked_at:
            rows.append(f"Last checked: {format_datetime(info.checked_at)}")
        self.details_label.setText("\n".join(rows))
        warnings = [w for w in (info.admin_warning(), token_timeline.unused_warning(info),
                                API_TOKEN_RETIREMENT if info.method == "api_token" else None) if w]
        self.warning_label.setText("\n".join("⚠ " + w for w in warnings))
        self.warning_label.setVisible(bool(warnings))

    def _say(self, text: str, style: str = theme.colour_css("error")) -> None:
        """Show one line under the connection details (errors red, notes amber); hide when empty."""
        self.error_label.setStyleSheet(style)
        self.error_label.setText(text)
        self.error_label.setVisible(bool(text))

    def _set_busy(self, busy: bool) -> None:
        for w in (self.account_edit, self.oauth_radio, self.token_radio, self.client_edit, self.port_spin,
                  self.email_edit, self.token_edit):
            w.setEnabled(not busy)
        self.busy_bar.setVisible(busy)
        self.busy_label.setVisible(busy)
        self.cancel_button.setVisible(busy)
        if not busy:
            self.busy_label.setText("")
        self._update_form()

    # -- actions --------------------------------------------------------------------------
    def authenticate(self) -> None:
        """Start the chosen sign-in on a worker thread."""
        subdomain, _hint = self._resolved()
        if subdomain is None or self.jobs.is_running() or not self.auth_button.isEnabled():
            return
        self._say("")
        if self.oauth_radio.isChecked():
            try:  # a port saved by an older version may be outside today's range
                session.check_redirect_port(self.port)
            except EvalsyncError:
                self._say_saved_port_refused(self.port)
                return
            self._start("connect", "Waiting for you to allow EvalSync in the browser (up to 5 minutes)…",
                        _oauth_job, self.ctx, subdomain, self.client_edit.text().strip(), self.port,
                        self.open_browser)
        else:
            token = self.token_edit.text()
            self._start("connect", "Checking the API token with Zendesk…", _token_job, self.ctx, subdomain,
                        self.email_edit.text().strip(), token)

    def test_connection(self) -> None:
        """Call users/me with the stored credentials (worker thread)."""
        if self.info is not None and not self.jobs.is_running():
            self._say("")
            self._start("check", "Checking the connection…", _check_job, self.ctx)

    def sign_out(self) -> None:
        """Revoke the token and remove every secret (worker thread)."""
        if not self.jobs.is_running():
            self._say("")
            self._start("sign_out", "Signing out…", _sign_out_job, self.ctx)

    def _start(self, action: str, busy_text: str, fn: Callable[..., Any], *args: Any) -> None:
        self._action = action
        self.jobs.start(fn, *args)
        self.busy_label.setText(busy_text)

    def _on_finished(self, result: tuple[ConnectionInfo | None, str | None]) -> None:
        info, note = result
        self._check_failed = False
        self.info = info
        if self._action == "connect":
            self.token_edit.clear()  # the token now lives in the keyring only
        if self._action == "sign_out":
            self.token_edit.clear()
        self._say(note or "", theme.colour_css("warn"))
        self._show_info()
        self._update_form()
        messages = {"connect": info.summary() if info else "", "check": "Connection checked: " + (info.summary() if info else ""),
                    "sign_out": "Signed out of Zendesk."}
        self.services.signals.status_message.emit(messages.get(self._action, ""))
        self.services.signals.connection_changed.emit()

    def _on_failed(self, message: str) -> None:
        self._say(message)
        self._check_failed = self._action == "check"
        if self._action in ("connect", "check"):
            try:  # a failed connect may have removed a half-made connection; show what is stored
                self.info = session.connection_info(self.ctx)
            except EvalsyncError:
                pass
            self._show_info()
        self._update_form()
        self.services.signals.status_message.emit(message)

    def _on_cancelled(self) -> None:
        self._say("Sign-in cancelled; nothing was stored.", theme.colour_css("warn"))
        self._update_form()

    def shutdown(self) -> None:
        """Stop this tab's workers; called from the main window's closeEvent (must return within 2 s)."""
        self.jobs.shutdown(1500)
