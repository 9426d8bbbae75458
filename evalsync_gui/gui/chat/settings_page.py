"""The Settings page: the Chat API connection, the account (domains, kind), confirmation e-mail."""

from __future__ import annotations

from PySide6.QtWidgets import (QCheckBox, QComboBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QLineEdit,
                               QPushButton, QScrollArea, QVBoxLayout, QWidget)

from evalsync_gui.core.chat import kind as chat_kind
from evalsync_gui.core.chat import service
from evalsync_gui.core.chat.domains import normalize_domains
from evalsync_gui.gui import chat_jobs as jobs
from evalsync_gui.gui.chat.chat_api_box import ChatApiBox
from evalsync_gui.gui.chat.mail_box import MailSettingsBox
from evalsync_gui.gui.chat.runner import ChatRunner
from evalsync_gui.gui.chat.widgets import plain_label
from evalsync_gui.gui.formats import format_datetime

KIND_CHOICES = (("Detect from Zendesk (reads only)", "auto"),
                ("Chat API can change agents (writable)", "writable"),
                ("Chat created in Support (agents managed in Admin Center)", "support"))
KIND_HELP = (
    "Writable: EvalSync enables, creates, disables and deletes Chat agents through the Chat API.\n"
    "Created in Support (most accounts today): Zendesk's Chat Agents API is read-only. EvalSync creates new "
    "people as Support agents; turning Chat on for an existing agent is a click in Admin Center, listed under "
    "\"To do in Zendesk\". EvalSync never changes an agent's role, suspends or deletes anyone for Chat."
)
NO_CUSTOM_ROLES = "This Zendesk plan has no custom roles (Enterprise only): new agents get Zendesk's agent role."


def kind_state_text(snap: dict) -> str:
    """How the account kind in force was known, in one line: never "detected" unless it was."""
    names = dict((value, text) for text, value in KIND_CHOICES)
    kind, source = snap.get("kind") or "unknown", snap.get("kind_source") or ""
    if not snap.get("connected") and source != "chosen":
        return "Not detected — connect the Chat API above, or choose the kind."
    if kind == "unknown":
        return "Not detected — choose the kind above (EvalSync could not tell from what it can read)."
    if source == "detected":
        at = f" at {format_datetime(snap['kind_at'])}" if snap.get("kind_at") else ""
        how = (snap.get("kind_how") or "").strip()
        how = how[:1].upper() + how[1:]
        return f"Detected{at}: {names.get(kind, kind)}. {how}".strip()
    return f"Chosen by you: {names.get(kind, kind)}."


class ChatSettingsBox(QGroupBox):
    """Allowed domains, the account kind (detected or chosen), the Support-kind options."""

    def __init__(self, runner: ChatRunner, parent: QWidget | None = None) -> None:
        super().__init__("Chat account", parent)
        self.runner = runner
        form = QFormLayout(self)
        self.domains = QLineEdit()
        self.domains.setPlaceholderText("acme.com, acme.co.uk")
        form.addRow("Allowed domains", self.domains)
        self.kind = QComboBox()
        self.kind.setAccessibleName("Chat account kind")
        for text, value in KIND_CHOICES:
            self.kind.addItem(text, value)
        self.detect_button = QPushButton("Detect now")
        self.detect_button.setToolTip("Read the account kind from Zendesk again (changes nothing)")
        self.detect_button.clicked.connect(self.detect)
        kind_row = QHBoxLayout()
        kind_row.addWidget(self.kind, 1)
        kind_row.addWidget(self.detect_button)
        form.addRow("Account kind", kind_row)
        self.kind_state = plain_label()
        self.kind_state.setAccessibleName("How the account kind was known")
        form.addRow(self.kind_state)
        self._support_rows(form)
        self.save_button = QPushButton("Save Chat settings")
        self.save_button.clicked.connect(self.save)
        form.addRow(self.save_button)
        form.addRow(plain_label(KIND_HELP))
        runner.snapshot.connect(self.show_snapshot)
        self.load()

    def _support_rows(self, form: QFormLayout) -> None:
        """Options that matter on the Support kind: a default role for new agents, end-user upgrades."""
        self.role = QComboBox()
        self.role.setAccessibleName("Default role for new agents")
        self.role.setToolTip("Support kind: the custom role new agents get (none: Zendesk's agent role)")
        self.roles_button = QPushButton("Load roles")
        self.roles_button.clicked.connect(
            lambda: self.runner.start(jobs.load_roles, self.runner.ctx, self.runner.open_support,
                                      on_done=self._show_roles))
        self.role_row = QWidget()
        row = QHBoxLayout(self.role_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.role, 1)
        row.addWidget(self.roles_button)
        self.role_caption = QLabel("New agents' role")
        self.role_caption.setBuddy(self.role)
        form.addRow(self.role_caption, self.role_row)
        self.no_roles_note = plain_label(NO_CUSTOM_ROLES)
        self.no_roles_note.setVisible(False)
        form.addRow(self.no_roles_note)
        self.upgrade = QCheckBox("Make an end-user who holds a requested address an agent")
        self.upgrade.setToolTip("Support kind: without this, such requests are rejected with the reason")
        form.addRow(self.upgrade)

    def load(self) -> None:
        s = self.runner.ctx.settings
        self.domains.setText(", ".join(service.domains(s)))
        self.kind.setCurrentIndex(max(self.kind.findData(chat_kind.choice(s)), 0))
        role = s.get(service.DEFAULT_ROLE_KEY)
        self.role.clear()
        self.role.addItem("(none: Zendesk's agent role)", None)
        if role:
            self.role.addItem(f"Custom role {role}", int(role))
            self.role.setCurrentIndex(1)
        self.upgrade.setChecked(bool(s.get(service.UPGRADE_KEY, False)))

    def show_snapshot(self, snap: dict) -> None:
        self.kind_state.setText(kind_state_text(snap))
        self.detect_button.setEnabled(bool(snap.get("connected")))
        plan_has_roles = snap.get("custom_roles_available", True) is not False
        self.role_caption.setVisible(plan_has_roles)
        self.role_row.setVisible(plan_has_roles)
        self.no_roles_note.setVisible(not plan_has_roles)

    def save(self) -> None:
        """Save domains, kind choice, default role and the upgrade switch."""
        s = self.runner.ctx.settings
        try:
            s.set("chat.domains", normalize_domains(self.domains.text().split(",")))
        except ValueError as exc:
            self.runner.say(f"Not saved: {exc}.")
            return
        chat_kind.set_choice(s, self.kind.currentData())
        if self.role.currentData():
            s.set(service.DEFAULT_ROLE_KEY, int(self.role.currentData()))
        else:
            s.delete(service.DEFAULT_ROLE_KEY)
        s.set(service.UPGRADE_KEY, self.upgrade.isChecked())
        self.runner.say("Chat settings saved.")
        self.runner.reload()

    def detect(self) -> None:
        self.runner.start(jobs.detect_kind, self.runner.ctx, self.runner.open_support)

    def _show_roles(self, roles: list[dict]) -> None:
        current = self.role.currentData()
        self.role.clear()
        self.role.addItem("(none: Zendesk's agent role)", None)
        for r in roles:
            self.role.addItem(f"{r['name']} (id {r['id']})" + ("" if r.get("chat_access") else ", no chat"), r["id"])
        self.role.setCurrentIndex(max(self.role.findData(current), 0))
        self.runner.say(f"{len(roles)} custom roles read." if roles else NO_CUSTOM_ROLES)
        self.runner.reload()  # the plan flag may have changed


class SettingsPage(QScrollArea):
    """Chat settings beside the e-mail settings; scrolls on a small laptop screen."""

    def __init__(self, runner: ChatRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        page = QWidget()
        h = QHBoxLayout(page)
        left = QVBoxLayout()
        self.api = ChatApiBox(runner, page)
        self.chat = ChatSettingsBox(runner, page)
        left.addWidget(self.api)
        left.addWidget(self.chat)
        left.addStretch(1)
        self.mail = MailSettingsBox(runner, page)
        h.addLayout(left, 1)
        h.addWidget(self.mail, 1)
        self.setWidget(page)
        self.setWidgetResizable(True)
        self.setFrameShape(QScrollArea.Shape.NoFrame)
