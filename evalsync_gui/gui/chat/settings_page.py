"""The Settings page: allowed domains and account kind, the Chat API connection, confirmation e-mail."""

from __future__ import annotations

from PySide6.QtWidgets import (QComboBox, QFormLayout, QGroupBox, QHBoxLayout, QLineEdit, QPushButton, QScrollArea,
                               QVBoxLayout, QWidget)

from evalsync_gui.core.chat import service
from evalsync_gui.core.chat.domains import normalize_domains
from evalsync_gui.gui import chat_jobs as jobs
from evalsync_gui.gui.chat.mail_box import MailSettingsBox
from evalsync_gui.gui.chat.runner import ChatRunner
from evalsync_gui.gui.chat.widgets import plain_label

MODE_HELP = (
    "Standalone Chat: EvalSync uses the Chat Agents API (enable, create, disable, delete).\n"
    "Chat created in Support: that API is read-only, so EvalSync manages chat agents as Support users: "
    "it creates agents with the chat role below, enables by giving that role back, disables by moving "
    "them to a role without chat access (or suspending a chat-only agent) and deletes only chat-only agents.\n"
    "'auto' starts with the Chat Agents API and switches when Zendesk refuses a write.\n\n"
    "Credentials come from the Authenticate tab; write access is asked for only while Chat management is on."
)


class ChatSettingsBox(QGroupBox):
    """Allowed domains, which API manages chat, the chat role."""

    def __init__(self, runner: ChatRunner, parent: QWidget | None = None) -> None:
        super().__init__("Chat", parent)
        self.runner = runner
        form = QFormLayout(self)
        self.domains = QLineEdit()
        self.domains.setPlaceholderText("acme.com, acme.co.uk")
        self.mode = QComboBox()
        self.mode.addItems(list(service.MODES))
        self.role = QComboBox()
        self.role.setEditable(True)
        self.role.setToolTip("Support mode: the custom role that grants chat access (id)")
        roles = QPushButton("Load roles")
        roles.clicked.connect(lambda: runner.start(jobs.load_roles, runner.open_http, on_done=self._show_roles))
        role_row = QHBoxLayout()
        role_row.addWidget(self.role, 1)
        role_row.addWidget(roles)
        self.chat_oauth = QLineEdit()
        self.chat_oauth.setEchoMode(QLineEdit.Password)
        self.chat_oauth.setPlaceholderText("optional Chat OAuth access token (standalone Chat; kept in the keyring)")
        form.addRow("Allowed domains", self.domains)
        form.addRow("Chat API", self.mode)
        form.addRow("Chat role", role_row)
        form.addRow("Chat OAuth", self.chat_oauth)
        self.save_button = QPushButton("Save Chat settings")
        self.save_button.clicked.connect(self.save)
        form.addRow(self.save_button)
        form.addRow(plain_label(MODE_HELP))
        self.load()

    def load(self) -> None:
        s = self.runner.ctx.settings
        self.domains.setText(", ".join(service.domains(s)))
        self.mode.setCurrentText(s.get("chat.mode", "auto"))
        role = s.get("chat.support_role")
        self.role.setEditText(str(role) if role else "")

    def save(self) -> None:
        """Save what the form says; a typed Chat token goes to the keyring in a worker."""
        s = self.runner.ctx.settings
        try:
            s.set("chat.domains", normalize_domains(self.domains.text().split(",")))
        except ValueError as exc:
            self.runner.say(f"Not saved: {exc}.")
            return
        s.set("chat.mode", self.mode.currentText())
        if self.mode.currentText() == "auto":
            s.delete("chat.detected_mode")  # detect again on the next run
        role = self.role.currentData() or self.role.currentText().split(" ")[0].strip()
        if str(role).isdigit():
            s.set("chat.support_role", int(role))
        token_value = self.chat_oauth.text().strip()
        self.chat_oauth.clear()
        if token_value:
            self.runner.start(jobs.save_chat_oauth, self.runner.ctx, self.runner.open_http, token_value)
            return
        self.runner.say("Chat settings saved.")
        self.runner.reload()

    def _show_roles(self, roles: list[dict]) -> None:
        current = self.runner.ctx.settings.get("chat.support_role")
        self.role.clear()
        for r in roles:
            if r["chat_access"]:
                self.role.addItem(f"{r['id']} {r['name']}", r["id"])
        idx = self.role.findData(current)
        if idx >= 0:
            self.role.setCurrentIndex(idx)
        self.runner.say(f"{self.role.count()} roles grant chat access.")


class SettingsPage(QScrollArea):
    """Chat settings beside the e-mail settings; scrolls on a small laptop screen."""

    def __init__(self, runner: ChatRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        page = QWidget()
        h = QHBoxLayout(page)
        left = QVBoxLayout()
        self.chat = ChatSettingsBox(runner, page)
        left.addWidget(self.chat)
        left.addStretch(1)
        self.mail = MailSettingsBox(runner, page)
        h.addLayout(left, 1)
        h.addWidget(self.mail, 1)
        self.setWidget(page)
        self.setWidgetResizable(True)
        self.setFrameShape(QScrollArea.Shape.NoFrame)
