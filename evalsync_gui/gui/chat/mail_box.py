"""The confirmation e-mail settings: SMTP server, keyring password, templates, preview, test."""

from __future__ import annotations

from PySide6.QtWidgets import (QComboBox, QFormLayout, QGroupBox, QHBoxLayout, QLineEdit, QPlainTextEdit,
                               QPushButton, QSpinBox, QWidget)

from evalsync_gui.core.chat import mailer, service
from evalsync_gui.gui import chat_jobs as jobs
from evalsync_gui.gui.chat.runner import ChatRunner
from evalsync_gui.gui.chat.widgets import plain_label


class MailSettingsBox(QGroupBox):
    """Where confirmations go out from and what they say."""

    def __init__(self, runner: ChatRunner, parent: QWidget | None = None) -> None:
        super().__init__("Confirmation e-mail", parent)
        self.runner = runner
        form = QFormLayout(self)
        self._fields()
        for label_text, w in (("SMTP server", self.host), ("Port", self.port), ("Security", self.security),
                              ("User", self.user), ("Password", self.password), ("From", self.sender),
                              ("Template", self.kind), ("Subject", self.subject), ("Body", self.body)):
            form.addRow(label_text, w)
        form.addRow(plain_label(mailer.TEMPLATE_HELP))
        buttons = QHBoxLayout()
        for text, slot in (("Preview", self.preview_template), ("Save e-mail settings", self.save),
                           ("Send test", self.send_test)):
            b = QPushButton(text)
            b.clicked.connect(slot)
            buttons.addWidget(b)
        form.addRow(self.test_to)
        form.addRow(buttons)
        form.addRow(self.preview)
        self.load()

    def _fields(self) -> None:
        self.host, self.user, self.sender = QLineEdit(), QLineEdit(), QLineEdit()
        self.port = QSpinBox()
        self.port.setRange(1, 65535)
        self.security = QComboBox()
        self.security.addItems(list(mailer.SECURITIES))
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.Password)
        self.password.setPlaceholderText("saved in the system keyring")
        self.kind = QComboBox()
        self.kind.addItems(list(mailer.DEFAULT_TEMPLATES))
        self.kind.currentTextChanged.connect(self._show_template)
        self.subject = QLineEdit()
        self.body = QPlainTextEdit()
        self.body.setMinimumHeight(110)
        self.preview = QPlainTextEdit()
        self.preview.setReadOnly(True)
        self.preview.setMaximumHeight(120)
        self.test_to = QLineEdit()
        self.test_to.setPlaceholderText("send a test message to…")
        self.test_to.setAccessibleName("Test message recipient")

    def load(self) -> None:
        s = self.runner.ctx.settings
        smtp = service.smtp_config(s)
        self.host.setText(smtp.host)
        self.port.setValue(smtp.port)
        self.security.setCurrentText(smtp.security)
        self.user.setText(smtp.user)
        self.sender.setText(smtp.sender)
        self.templates = service.templates(s)
        self._show_template(self.kind.currentText())

    def smtp_from_form(self) -> mailer.SmtpConfig:
        return mailer.SmtpConfig(self.host.text().strip(), self.port.value(), self.security.currentText(),
                                 self.user.text().strip(), self.sender.text().strip())

    def _show_template(self, kind: str) -> None:
        tpl = self.templates.get(kind, {})
        self.subject.setText(tpl.get("subject", ""))
        self.body.setPlainText(tpl.get("body", ""))

    def _keep_template(self) -> None:
        self.templates[self.kind.currentText()] = {"subject": self.subject.text(), "body": self.body.toPlainText()}

    def preview_template(self) -> None:
        """Show the template filled with a sample request, naming unknown placeholders."""
        self._keep_template()
        to, subject, body = mailer.compose(self.templates, self.kind.currentText(), mailer.SAMPLE_REQUEST)
        unknown = mailer.unknown_placeholders(self.subject.text() + self.body.toPlainText())
        warn = f"Unknown placeholders: {', '.join(unknown)}\n\n" if unknown else ""
        self.preview.setPlainText(f"{warn}To: {to}\nSubject: {subject}\n\n{body}")

    def save(self) -> None:
        """Save server and templates; a typed password goes to the keyring in a worker."""
        self._keep_template()
        cfg = self.smtp_from_form()
        s = self.runner.ctx.settings
        s.set("chat.smtp", cfg.to_settings())
        s.set("chat.templates", self.templates)
        if self.password.text():
            password = self.password.text()
            self.password.clear()
            self.runner.start(jobs.save_smtp_password, cfg, password)
        else:
            self.runner.say("E-mail settings saved.")

    def send_test(self) -> None:
        to = self.test_to.text().strip() or self.sender.text().strip()
        self.runner.start(jobs.send_test, self.smtp_from_form(), to)
