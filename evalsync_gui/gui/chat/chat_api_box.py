"""The "Chat API connection" section: the setup steps, the redirect URL to register, Connect.

Zendesk's Chat API accepts only a token issued to a *Chat API client* (Chat dashboard >
Settings > Account > API), never the Support sign-in, so the Chat tab has its own connection
(:mod:`evalsync_gui.core.chat.connection`). The secret typed here goes to the keyring in the
connect job and is never shown again; the form keeps only the client id.
"""

from __future__ import annotations

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QComboBox, QFormLayout, QGroupBox, QHBoxLayout, QLineEdit, QPushButton, QWidget

from evalsync_gui.gui import chat_jobs as jobs
from evalsync_gui.gui.chat.runner import ChatRunner
from evalsync_gui.gui.chat.widgets import plain_label
from evalsync_gui.gui.formats import format_datetime

ZOPIM = "https://www.zopim.com"
GRANTS = (("Sign in with the browser (authorization code)", "code"),
          ("Client credentials (confidential client, no browser)", "client_credentials"))


class ChatApiBox(QGroupBox):
    """Client id, secret, grant, OAuth server, the redirect URL with Copy, Connect/Disconnect."""

    def __init__(self, runner: ChatRunner, parent: QWidget | None = None) -> None:
        super().__init__("Chat API connection", parent)
        self.runner = runner
        form = QFormLayout(self)
        self.steps = plain_label()
        self.steps.setAccessibleName("Chat API setup steps")
        form.addRow(self.steps)
        form.addRow("Redirect URL", self._redirect_row())
        self.client_id = QLineEdit()
        self.client_id.setAccessibleName("Chat API client id")
        self.client_id.setPlaceholderText("the Chat API client's id")
        self.secret = QLineEdit()
        self.secret.setEchoMode(QLineEdit.Password)
        self.secret.setAccessibleName("Chat API client secret")
        self.secret.setPlaceholderText("kept in the system keyring; never shown again")
        self.grant = QComboBox()
        self.grant.setAccessibleName("How EvalSync gets the Chat token")
        for text, value in GRANTS:
            self.grant.addItem(text, value)
        self.oauth_base = QComboBox()
        self.oauth_base.setAccessibleName("Chat OAuth server")
        self.oauth_base.setToolTip("Zendesk's Chat API tutorial uses www.zopim.com; newer integrations use "
                                   "your Zendesk address (/oauth2/chat). Pick the other if one refuses.")
        form.addRow("Client id", self.client_id)
        form.addRow("Client secret", self.secret)
        form.addRow("Token by", self.grant)
        form.addRow("OAuth server", self.oauth_base)
        buttons = QHBoxLayout()
        self.connect_button = QPushButton("Connect Chat")
        self.connect_button.clicked.connect(self.connect_chat)
        self.disconnect_button = QPushButton("Disconnect Chat")
        self.disconnect_button.clicked.connect(self.disconnect_chat)
        buttons.addWidget(self.connect_button)
        buttons.addWidget(self.disconnect_button)
        buttons.addStretch(1)
        form.addRow(buttons)
        self.state = plain_label()
        self.state.setAccessibleName("Chat API connection state")
        form.addRow(self.state)
        self.client_id.returnPressed.connect(self.connect_chat)
        self.secret.returnPressed.connect(self.connect_chat)
        runner.snapshot.connect(self.show_snapshot)
        runner.busy_changed.connect(lambda busy: self.connect_button.setEnabled(not busy))

    def _redirect_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.redirect_url = QLineEdit()
        self.redirect_url.setReadOnly(True)
        self.redirect_url.setAccessibleName("Redirect URL to register in the Chat API client")
        self.copy_button = QPushButton("Copy")
        self.copy_button.setAccessibleName("Copy the Chat redirect URL")
        self.copy_button.setToolTip("Copy the redirect URL, to paste into the Chat API client in Zendesk Chat")
        self.copy_button.clicked.connect(self.copy_redirect)
        row.addWidget(self.redirect_url, 1)
        row.addWidget(self.copy_button)
        return row

    def copy_redirect(self) -> None:
        QGuiApplication.clipboard().setText(self.redirect_url.text())
        self.runner.say("Redirect URL copied: paste it into the Chat API client's Redirect URLs in Zendesk Chat.")

    def show_snapshot(self, snap: dict) -> None:
        self.redirect_url.setText(snap.get("redirect_uri") or "")
        steps = snap.get("setup_steps") or []
        self.steps.setText("\n".join(f"{n}. {step}" for n, step in enumerate(steps, start=1))
                           + "\nThe secret goes to the system keyring and is never shown again.")
        self._offer_servers(snap)
        connected = bool(snap.get("connected"))
        self.disconnect_button.setEnabled(connected)
        if connected:
            if not self.client_id.text():  # the first snapshot after start or connect: show what is in use
                self.client_id.setText(snap.get("client_id") or "")
                self.grant.setCurrentIndex(max(self.grant.findData(snap.get("grant")), 0))
            since = format_datetime(snap.get("connected_at")) if snap.get("connected_at") else ""
            renew = "renews itself" if snap.get("refreshable") or snap.get("grant") == "client_credentials" \
                else "connect again when it expires"
            self.state.setText(f"Connected: client {snap.get('client_id')} ({snap.get('grant')})"
                               f"{' since ' + since if since else ''}; the token {renew}.")
        else:
            self.state.setText("Not connected: Chat agents cannot be read or changed until you connect.")

    def _offer_servers(self, snap: dict) -> None:
        chosen = self.oauth_base.currentData() or snap.get("oauth_base") or ZOPIM
        choices = [(f"{ZOPIM} (Zendesk's Chat API tutorial)", ZOPIM)]
        support = snap.get("support_base")
        if support:
            choices.append((f"{support} (/oauth2/chat)", support))
        current = snap.get("oauth_base")
        if current and current not in (c[1] for c in choices):
            choices.append((current, current))
        self.oauth_base.blockSignals(True)
        self.oauth_base.clear()
        for text, value in choices:
            self.oauth_base.addItem(text, value)
        index = self.oauth_base.findData(chosen)
        self.oauth_base.setCurrentIndex(max(index, 0))
        self.oauth_base.blockSignals(False)

    def connect_chat(self) -> None:
        """Connect in a worker (the browser sign-in may take minutes; Cancel in the header stops it)."""
        client_id, secret = self.client_id.text().strip(), self.secret.text().strip()
        if not client_id or not secret:
            self.runner.say("Type the Chat API client id and secret (Zendesk Chat: Settings > Account > API).")
            return
        grant, base = self.grant.currentData(), self.oauth_base.currentData()
        if self.runner.start(jobs.connect_chat, self.runner.ctx, client_id, secret, grant, base,
                             self.runner.open_support, cancelled_text="Chat connection cancelled; nothing was stored."):
            self.secret.clear()
            self.runner.say("Waiting for Zendesk Chat: approve EvalSync in the browser window that opened."
                            if grant == "code" else "Asking Zendesk Chat for a token…")

    def disconnect_chat(self) -> None:
        self.runner.start(jobs.disconnect_chat, self.runner.ctx)
