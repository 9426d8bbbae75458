"""The Chat agents tab: agents, access requests, inactivity policy, action log, settings.

Every network or database job runs in a worker thread (:mod:`evalsync_gui.gui.workers`):
``self.jobs`` runs one Zendesk/DB job at a time with progress and Cancel, ``self.loader``
re-reads the tables after each job. The widgets only ever see plain rows.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFileDialog, QFormLayout, QGroupBox, QHBoxLayout, QHeaderView,
                               QLabel, QLineEdit, QMessageBox, QPlainTextEdit, QProgressBar, QPushButton, QScrollArea, QSpinBox,
                               QSplitter, QTableView, QTabWidget, QVBoxLayout, QWidget)

from evalsync_gui.core.chat import mailer, service
from evalsync_gui.core.chat import requests as rq
from evalsync_gui.core.chat.domains import normalize_domains
from evalsync_gui.core.chat.inactivity import KEEP, Policy
from evalsync_gui.core.errors import EvalsyncError
from evalsync_gui.gui import chat_jobs as jobs
from evalsync_gui.gui import window_state
from evalsync_gui.gui.chat_dialogs import MappingDialog
from evalsync_gui.gui.chat_models import (AGENT_COLUMNS, LOG_COLUMNS, OUTBOX_COLUMNS, POLICY_COLUMNS,
                                          REQUEST_COLUMNS, RowsModel, proxy_for)
from evalsync_gui.gui.services import Services
from evalsync_gui.gui.workers import TaskController

MANAGEMENT_KEY = "chat.management_enabled"
WIDTHS = {"#": 50, "E-mail": 300, "Name": 170, "Requested by": 200, "Status": 110, "Action": 110,
          "When": 150, "Last login": 150, "Requested at": 150, "Detail": 260, "Reason": 300, "To": 220, "Subject": 260}
MODE_HELP = (
    "Standalone Chat: EvalSync uses the Chat Agents API (enable, create, disable, delete).\n"
    "Chat created in Support: that API is read-only, so EvalSync manages chat agents as Support users: "
    "it creates agents with the chat role below, enables by giving that role back, disables by moving "
    "them to a role without chat access (or suspending a chat-only agent) and deletes only chat-only agents.\n"
    "'auto' starts with the Chat Agents API and switches when Zendesk refuses a write.\n\n"
    "Credentials come from the Authenticate tab; write access is asked for only while Chat management is on."
)


def make_table(model: RowsModel, parent: QWidget, name: str, services: Services) -> tuple[QTableView, object]:
    """A sortable table over ``model``; ``name`` is its accessible name and remembered-columns key."""
    proxy = proxy_for(model, parent)
    view = QTableView(parent)
    view.setAccessibleName(name)
    view.setModel(proxy)
    view.horizontalHeader().setSortIndicator(-1, Qt.AscendingOrder)  # keep the loaded order until a click
    view.setSortingEnabled(True)
    view.setSelectionBehavior(QTableView.SelectRows)
    view.verticalHeader().setVisible(False)
    view.verticalHeader().setDefaultSectionSize(22)
    view.horizontalHeader().setStretchLastSection(True)
    view.horizontalHeader().setSectionResizeMode(QHeaderView.Interactive)
    for col, (title, _key, _fmt) in enumerate(model.columns):
        view.setColumnWidth(col, WIDTHS.get(title, 110))
    window_state.track_header(services, "chat." + name.lower().replace(" ", "_"), view.horizontalHeader())
    return view, proxy


def search_box(proxy, placeholder: str, name: str) -> QLineEdit:
    box = QLineEdit()
    box.setPlaceholderText(placeholder)
    box.setAccessibleName(name)
    box.setClearButtonEnabled(True)
    box.textChanged.connect(proxy.setFilterFixedString)
    return box


class ChatTab(QWidget):
    """Chat agents tab. Constructed by the main window as `ChatTab(services, parent)`."""

    refreshed = Signal()          # tables reloaded from the database
    job_finished = Signal(str)    # a job's one-line outcome (also shown in the status line)

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.ctx = services.ctx
        self.open_http = services.extras.get("chat_http_factory") or self._open_client
        self.preview: dict | None = None
        self.jobs = TaskController(self, name="chat.jobs")
        self.jobs.finished.connect(self._job_done)
        self.jobs.failed.connect(self._job_failed)
        self.jobs.cancelled.connect(self._job_cancelled)
        self.jobs.progress.connect(self._job_progress)
        self.jobs.running_changed.connect(self._busy)
        self.loader = TaskController(self, name="chat.loader")
        self.loader.finished.connect(self._show_snapshot)
        self.loader.failed.connect(self._job_failed)
        self._on_done = None
        self._reload_again = False
        self._snapshot_seen = False
        self._auto_refreshed = False

        layout = QVBoxLayout(self)
        layout.addLayout(self._header())
        self.pages = QTabWidget()
        self.pages.addTab(self._agents_page(), "Agents")
        self.pages.addTab(self._requests_page(), "Requests")
        self.pages.addTab(self._policy_page(), "Inactivity policy")
        self.pages.addTab(self._log_page(), "Action log")
        self.pages.addTab(self._settings_page(), "Settings")
        layout.addWidget(self.pages)
        self._load_settings()
        services.signals.find_requested.connect(self.focus_search)
        self.reload()

    # -- construction ----------------------------------------------------------------------
    def _header(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.mode_label = QLabel()
        self.management = QCheckBox("Chat management (lets EvalSync change agents)")
        self.management.setToolTip("Write access is asked for only when this is on; re-authenticate after turning it on.")
        self.management.toggled.connect(self._management_toggled)
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(220)
        self.progress.setVisible(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setVisible(False)
        self.cancel_button.clicked.connect(self.jobs.cancel)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.PlainText)  # names, addresses and Zendesk's error text
        row.addWidget(self.mode_label)
        row.addWidget(self.management)
        row.addWidget(self.status, 1)
        row.addWidget(self.progress)
        row.addWidget(self.cancel_button)
        return row

    def _agents_page(self) -> QWidget:
        page = QWidget()
        v = QVBoxLayout(page)
        self.agents_model = RowsModel(AGENT_COLUMNS, colour_key="enabled")
        self.agents_view, proxy = make_table(self.agents_model, page, "Chat agents", self.services)
        top = QHBoxLayout()
        self.agents_search = search_box(proxy, "Search agents (e-mail, name…) — Ctrl+F", "Search agents")
        top.addWidget(self.agents_search)
        self.agents_count = QLabel()
        top.addWidget(self.agents_count)
        self.refresh_button = QPushButton("Refresh from Zendesk")
        self.refresh_button.clicked.connect(self.refresh_agents)
        top.addWidget(self.refresh_button)
        v.addLayout(top)
        v.addWidget(self.agents_view)
        # The table is built first (the search box needs its proxy); Tab should still go top-down.
        QWidget.setTabOrder(self.agents_search, self.refresh_button)
        QWidget.setTabOrder(self.refresh_button, self.agents_view)
        return page

    def _requests_page(self) -> QWidget:
        page = QWidget()
        v = QVBoxLayout(page)
        form_box = QGroupBox("New request")
        form = QHBoxLayout(form_box)
        self.f_requester, self.f_email = QLineEdit(), QLineEdit()
        self.f_first, self.f_last = QLineEdit(), QLineEdit()
        for w, text in ((self.f_requester, "Requester's e-mail"), (self.f_email, "E-mail needing access"),
                        (self.f_first, "First name"), (self.f_last, "Last name")):
            w.setPlaceholderText(text)
            w.setAccessibleName(text)
            form.addWidget(w)
        self.add_button = QPushButton("Add")
        self.add_button.setToolTip("Queue this access request (Process sends it to Zendesk)")
        self.add_button.setAccessibleName("Add request")
        self.add_button.clicked.connect(self.add_request)
        form.addWidget(self.add_button)
        v.addWidget(form_box)
        bar = QHBoxLayout()
        self.import_button = QPushButton("Import CSV…")
        self.import_button.clicked.connect(self.choose_csv)
        self.dry_button = QPushButton("Dry run")
        self.dry_button.clicked.connect(lambda: self.process(dry_run=True))
        self.process_button = QPushButton("Process")
        self.process_button.setDefault(True)
        self.process_button.clicked.connect(lambda: self.process(dry_run=False))
        self.request_counts = QLabel()
        self.requests_model = RowsModel(REQUEST_COLUMNS, colour_key="status")
        self.requests_view, proxy = make_table(self.requests_model, page, "Access requests", self.services)
        self.requests_search = search_box(proxy, "Search requests — Ctrl+F", "Search requests")
        self.requests_search.setMinimumWidth(240)
        bar.addWidget(self.requests_search)
        bar.addWidget(self.request_counts, 1)
        for b in (self.import_button, self.dry_button, self.process_button):
            bar.addWidget(b)
        v.addLayout(bar)
        split = QSplitter(Qt.Vertical)
        split.addWidget(self.requests_view)
        self.import_report = QPlainTextEdit()
        self.import_report.setReadOnly(True)
        self.import_report.setPlaceholderText("Rows an import could not use are listed here with their reason.")
        self.import_report.setMaximumHeight(110)
        self.import_report.setAccessibleName("Import problems")
        split.addWidget(self.import_report)
        v.addWidget(split)
        for a, b in ((self.add_button, self.requests_search), (self.requests_search, self.import_button),
                     (self.import_button, self.dry_button), (self.dry_button, self.process_button),
                     (self.process_button, self.requests_view), (self.requests_view, self.import_report)):
            QWidget.setTabOrder(a, b)
        return page

    def _policy_page(self) -> QWidget:
        page = QWidget()
        v = QVBoxLayout(page)
        row = QHBoxLayout()
        self.p_disable, self.p_delete = QSpinBox(), QSpinBox()
        for spin in (self.p_disable, self.p_delete):
            spin.setRange(1, 3650)
            spin.setSuffix(" days")
        self.p_exempt = QLineEdit()
        self.p_exempt.setPlaceholderText("Exempt e-mails or domains, comma separated")
        self.p_exempt.setAccessibleName("Exempt e-mails or domains")
        for text, spin in (("&Disable after", self.p_disable), ("De&lete after", self.p_delete)):
            caption = QLabel(text)
            caption.setBuddy(spin)
            row.addWidget(caption)
            row.addWidget(spin)
        row.addWidget(self.p_exempt, 1)
        self.preview_button = QPushButton("Preview")
        self.preview_button.clicked.connect(self.preview_policy)
        self.apply_button = QPushButton("Apply…")
        self.apply_button.setEnabled(False)
        self.apply_button.clicked.connect(self.apply_policy)
        row.addWidget(self.preview_button)
        row.addWidget(self.apply_button)
        v.addLayout(row)
        v.addWidget(QLabel("The account owner and admins are never touched. Nothing changes until you press Apply."))
        self.policy_model = RowsModel(POLICY_COLUMNS, colour_key="action")
        self.policy_view, proxy = make_table(self.policy_model, page, "Policy preview", self.services)
        self.policy_summary = QLabel()
        v.addWidget(self.policy_summary)
        v.addWidget(self.policy_view)
        return page

    def _log_page(self) -> QWidget:
        page = QWidget()
        v = QVBoxLayout(page)
        self.log_model = RowsModel(LOG_COLUMNS)
        self.log_view, proxy = make_table(self.log_model, page, "Action log", self.services)
        bar = QHBoxLayout()
        self.log_search = search_box(proxy, "Search the log — Ctrl+F", "Search the action log")
        bar.addWidget(self.log_search)
        export = QPushButton("Export CSV…")
        export.setToolTip("Save the action log as a CSV file")
        export.clicked.connect(self.export_log)
        bar.addWidget(export)
        v.addLayout(bar)
        QWidget.setTabOrder(self.log_search, export)
        QWidget.setTabOrder(export, self.log_view)
        split = QSplitter(Qt.Vertical)
        split.addWidget(self.log_view)
        box = QGroupBox("Confirmation e-mails")
        bv = QVBoxLayout(box)
        self.outbox_model = RowsModel(OUTBOX_COLUMNS, colour_key="status")
        self.outbox_view, _ = make_table(self.outbox_model, box, "Confirmation e-mails", self.services)
        buttons = QHBoxLayout()
        send = QPushButton("Send pending now")
        send.clicked.connect(lambda: self._start(jobs.send_outbox, self.ctx))
        retry = QPushButton("Retry failed")
        retry.clicked.connect(lambda: self._start(jobs.retry_mail, self.ctx))
        buttons.addStretch(1)
        buttons.addWidget(send)
        buttons.addWidget(retry)
        bv.addWidget(self.outbox_view)
        bv.addLayout(buttons)
        split.addWidget(box)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        v.addWidget(split)
        return page

    def _settings_page(self) -> QWidget:
        page = QWidget()
        h = QHBoxLayout(page)
        left = QGroupBox("Chat")
        form = QFormLayout(left)
        self.s_domains = QLineEdit()
        self.s_domains.setPlaceholderText("acme.com, acme.co.uk")
        self.s_mode = QComboBox()
        self.s_mode.addItems(list(service.MODES))
        self.s_role = QComboBox()
        self.s_role.setEditable(True)
        self.s_role.setToolTip("Support mode: the custom role that grants chat access (id)")
        roles = QPushButton("Load roles")
        roles.clicked.connect(lambda: self._start(jobs.load_roles, self.open_http, on_done=self._show_roles))
        role_row = QHBoxLayout()
        role_row.addWidget(self.s_role, 1)
        role_row.addWidget(roles)
        self.s_chat_oauth = QLineEdit()
        self.s_chat_oauth.setEchoMode(QLineEdit.Password)
        self.s_chat_oauth.setPlaceholderText("optional Chat OAuth access token (standalone Chat; kept in the keyring)")
        form.addRow("Allowed domains", self.s_domains)
        form.addRow("Chat API", self.s_mode)
        form.addRow("Chat role", role_row)
        form.addRow("Chat OAuth", self.s_chat_oauth)
        save = QPushButton("Save Chat settings")
        save.clicked.connect(self.save_chat_settings)
        form.addRow(save)
        help_text = QLabel(MODE_HELP)
        help_text.setWordWrap(True)
        form.addRow(help_text)

        right = QGroupBox("Confirmation e-mail")
        mform = QFormLayout(right)
        self.m_host, self.m_user, self.m_from = QLineEdit(), QLineEdit(), QLineEdit()
        self.m_port = QSpinBox()
        self.m_port.setRange(1, 65535)
        self.m_security = QComboBox()
        self.m_security.addItems(list(mailer.SECURITIES))
        self.m_password = QLineEdit()
        self.m_password.setEchoMode(QLineEdit.Password)
        self.m_password.setPlaceholderText("saved in the system keyring")
        self.m_kind = QComboBox()
        self.m_kind.addItems(list(mailer.DEFAULT_TEMPLATES))
        self.m_kind.currentTextChanged.connect(self._show_template)
        self.m_subject = QLineEdit()
        self.m_body = QPlainTextEdit()
        self.m_body.setMinimumHeight(110)
        help_label = QLabel(mailer.TEMPLATE_HELP)
        help_label.setWordWrap(True)
        self.m_preview = QPlainTextEdit()
        self.m_preview.setReadOnly(True)
        self.m_preview.setMaximumHeight(120)
        self.m_test_to = QLineEdit()
        self.m_test_to.setPlaceholderText("send a test message to…")
        self.m_test_to.setAccessibleName("Test message recipient")
        for label_text, w in (("SMTP server", self.m_host), ("Port", self.m_port), ("Security", self.m_security),
                              ("User", self.m_user), ("Password", self.m_password), ("From", self.m_from),
                              ("Template", self.m_kind), ("Subject", self.m_subject), ("Body", self.m_body)):
            mform.addRow(label_text, w)
        mform.addRow(help_label)
        buttons = QHBoxLayout()
        for text, slot in (("Preview", self.preview_template), ("Save e-mail settings", self.save_mail_settings),
                           ("Send test", self.send_test)):
            b = QPushButton(text)
            b.clicked.connect(slot)
            buttons.addWidget(b)
        mform.addRow(self.m_test_to)
        mform.addRow(buttons)
        mform.addRow(self.m_preview)
        h.addWidget(left, 1)
        h.addWidget(right, 1)
        # The two forms are taller than a small laptop window: scroll rather than force the window taller.
        scroll = QScrollArea()
        scroll.setWidget(page)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        return scroll

    # -- keyboard --------------------------------------------------------------------------
    def current_search_box(self) -> QLineEdit | None:
        """The search box of the visible page (Agents, Requests, Action log), else None."""
        boxes = {0: self.agents_search, 1: self.requests_search, 3: self.log_search}
        return boxes.get(self.pages.currentIndex())

    @Slot()
    def focus_search(self) -> None:
        """Ctrl+F (AppSignals.find_requested): only the visible tab reacts; pages without a
        search box switch to Agents, whose search is the one most often wanted."""
        if not self.isVisible():
            return
        box = self.current_search_box()
        if box is None:
            self.pages.setCurrentIndex(0)
            box = self.agents_search
        box.setFocus()
        box.selectAll()

    # -- settings --------------------------------------------------------------------------
    def _load_settings(self) -> None:
        s = self.ctx.settings
        self.management.blockSignals(True)
        self.management.setChecked(bool(s.get(MANAGEMENT_KEY, False)))
        self.management.blockSignals(False)
        self.s_domains.setText(", ".join(service.domains(s)))
        self.s_mode.setCurrentText(s.get("chat.mode", "auto"))
        role = s.get("chat.support_role")
        self.s_role.setEditText(str(role) if role else "")
        smtp = service.smtp_config(s)
        self.m_host.setText(smtp.host)
        self.m_port.setValue(smtp.port)
        self.m_security.setCurrentText(smtp.security)
        self.m_user.setText(smtp.user)
        self.m_from.setText(smtp.sender)
        self.templates = service.templates(s)
        self._show_template(self.m_kind.currentText())
        pol = service.policy(s)
        self.p_disable.setValue(pol.disable_after)
        self.p_delete.setValue(pol.delete_after)
        self.p_exempt.setText(", ".join(pol.exempt))
        self._show_mode()

    def _show_mode(self) -> None:
        mode = service.current_mode(self.ctx.settings)
        chosen = self.ctx.settings.get("chat.mode", "auto")
        text = ("Standalone Chat (Chat Agents API)" if mode == "standalone"
                else "Chat in Support (Support Users API)")
        self.mode_label.setText(f"<b>Mode:</b> {text}{' — detected' if chosen == 'auto' else ''}")

    @Slot(bool)
    def _management_toggled(self, on: bool) -> None:
        self.ctx.settings.set(MANAGEMENT_KEY, on)
        self._say("Chat management on: re-authenticate in the Authenticate tab so EvalSync gets write access."
                  if on else "Chat management off: EvalSync will only read Chat agents.")
        self.services.signals.connection_changed.emit()

    def save_chat_settings(self) -> None:
        s = self.ctx.settings
        try:
            s.set("chat.domains", normalize_domains(self.s_domains.text().split(",")))
        except ValueError as exc:
            self._say(f"Not saved: {exc}.")
            return
        s.set("chat.mode", self.s_mode.currentText())
        if self.s_mode.currentText() == "auto":
            s.delete("chat.detected_mode")  # detect again on the next run
        role = self.s_role.currentData() or self.s_role.currentText().split(" ")[0].strip()
        if str(role).isdigit():
            s.set("chat.support_role", int(role))
        token_value = self.s_chat_oauth.text().strip()
        self.s_chat_oauth.clear()
        self._show_mode()
        if token_value:
            self._start(jobs.save_chat_oauth, self.ctx, self.open_http, token_value)
            return
        self._show_mode()
        self._say("Chat settings saved.")

    def _show_roles(self, roles: list[dict]) -> None:
        current = self.ctx.settings.get("chat.support_role")
        self.s_role.clear()
        for r in roles:
            if r["chat_access"]:
                self.s_role.addItem(f"{r['id']} {r['name']}", r["id"])
        idx = self.s_role.findData(current)
        if idx >= 0:
            self.s_role.setCurrentIndex(idx)
        self._say(f"{self.s_role.count()} roles grant chat access.")

    def _smtp_from_form(self) -> mailer.SmtpConfig:
        return mailer.SmtpConfig(self.m_host.text().strip(), self.m_port.value(), self.m_security.currentText(),
                                 self.m_user.text().strip(), self.m_from.text().strip())

    def _show_template(self, kind: str) -> None:
        tpl = self.templates.get(kind, {})
        self.m_subject.setText(tpl.get("subject", ""))
        self.m_body.setPlainText(tpl.get("body", ""))

    def _keep_template(self) -> None:
        self.templates[self.m_kind.currentText()] = {"subject": self.m_subject.text(),
                                                     "body": self.m_body.toPlainText()}

    def preview_template(self) -> None:
        self._keep_template()
        to, subject, body = mailer.compose(self.templates, self.m_kind.currentText(), mailer.SAMPLE_REQUEST)
        unknown = mailer.unknown_placeholders(self.m_subject.text() + self.m_body.toPlainText())
        warn = f"Unknown placeholders: {', '.join(unknown)}\n\n" if unknown else ""
        self.m_preview.setPlainText(f"{warn}To: {to}\nSubject: {subject}\n\n{body}")

    def save_mail_settings(self) -> None:
        self._keep_template()
        cfg = self._smtp_from_form()
        s = self.ctx.settings
        s.set("chat.smtp", cfg.to_settings())
        s.set("chat.templates", self.templates)
        if self.m_password.text():
            password = self.m_password.text()
            self.m_password.clear()
            self._start(jobs.save_smtp_password, cfg, password)
        else:
            self._say("E-mail settings saved.")

    def send_test(self) -> None:
        to = self.m_test_to.text().strip() or self.m_from.text().strip()
        self._start(jobs.send_test, self._smtp_from_form(), to)

    # -- actions ---------------------------------------------------------------------------
    def refresh_agents(self) -> None:
        self._start(jobs.refresh_agents, self.ctx, self.open_http)

    def add_request(self) -> None:
        fields = {"requester": self.f_requester.text(), "email": self.f_email.text(),
                  "first_name": self.f_first.text(), "last_name": self.f_last.text()}
        self._start(jobs.add_request, self.ctx, fields, on_done=self._request_added)

    def _request_added(self, text: str) -> None:
        for w in (self.f_email, self.f_first, self.f_last):
            w.clear()
        self._say(text)

    def choose_csv(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import requests", "", "CSV files (*.csv);;All files (*)")
        if not path:
            return
        try:
            columns, rows = rq.preview_rows(path)
        except EvalsyncError as exc:
            self._say(str(exc))
            return
        saved = self.ctx.settings.get("chat.csv_mapping") or {}
        mapping = saved if all(v in columns for v in saved.values()) and saved else rq.guess_mapping(columns)
        dialog = MappingDialog(columns, rows, mapping, self)
        if dialog.exec():
            self.import_csv_file(path, dialog.mapping())

    def import_csv_file(self, path: str, mapping: dict[str, str]) -> None:
        """Import with a chosen mapping (the dialog's second step; tests call it directly)."""
        self._start(jobs.import_csv, self.ctx, path, mapping, on_done=self._show_import)

    def _show_import(self, report: rq.ImportReport) -> None:
        lines = [f"line {n}: {reason}" for n, reason in report.problems]
        self.import_report.setPlainText("\n".join([report.summary(), *lines]))
        self._say(report.summary())

    def process(self, dry_run: bool = False) -> None:
        if not dry_run and not self.management.isChecked():
            self._say("Turn on Chat management (top of this tab) to let EvalSync change agents; Dry run works without.")
            return
        self._start(jobs.process, self.ctx, self.open_http, dry_run)

    def _policy_from_form(self) -> Policy:
        exempt = [e.strip().lower() for e in self.p_exempt.text().split(",") if e.strip()]
        return Policy(self.p_disable.value(), self.p_delete.value(), exempt)

    def preview_policy(self) -> None:
        pol = self._policy_from_form()
        try:
            pol.check()
        except EvalsyncError as exc:
            self._say(str(exc))
            return
        self.ctx.settings.set("chat.inactivity", pol.to_settings())
        self._start(jobs.policy_preview, self.ctx, self.open_http, pol, on_done=self._show_preview)

    def _show_preview(self, preview: dict) -> None:
        self.preview = preview
        rows = jobs.result_rows(preview)
        self.policy_model.set_rows(rows)
        acting = [r for r in rows if r["action"] != KEEP]
        dis = sum(1 for r in acting if r["action"] == "disable")
        self.policy_summary.setText(f"{dis} to disable, {len(acting) - dis} to delete, "
                                    f"{len(rows) - len(acting)} unchanged ({preview['mode']} mode).")
        self.apply_button.setEnabled(bool(acting))
        self._say("Preview ready: nothing has changed yet.")

    def apply_policy(self) -> None:
        if not self.preview:
            return
        if not self.management.isChecked():
            self._say("Turn on Chat management to apply the policy.")
            return
        acting = [r for r in self.preview["rows"] if r.action != KEEP]
        answer = QMessageBox.question(self, "Apply the inactivity policy",
                                      f"Disable or delete {len(acting)} chat agents as shown in the preview?")
        if answer == QMessageBox.Yes:
            self.confirm_apply()

    def confirm_apply(self) -> None:
        """Apply the shown preview (after the confirmation; tests call it directly)."""
        preview, self.preview = self.preview, None
        self.apply_button.setEnabled(False)
        self._start(jobs.policy_apply, self.ctx, self.open_http, preview)

    def export_log(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export the action log", "chat-actions.csv", "CSV files (*.csv)")
        if path:
            self._start(jobs.export_log, self.ctx, path)

    # -- jobs ------------------------------------------------------------------------------
    def _open_client(self):
        from evalsync_gui.core.auth.session import open_client

        return open_client(self.ctx)

    def _start(self, fn, *args, on_done=None) -> None:
        if self.jobs.is_running():
            self._say("Another Chat job is running; wait for it or press Cancel.")
            return
        self._on_done = on_done
        self.jobs.start(fn, *args)

    @Slot(bool)
    def _busy(self, running: bool) -> None:
        self.progress.setVisible(running)
        self.cancel_button.setVisible(running)
        self.progress.setRange(0, 0)
        for b in (self.process_button, self.dry_button, self.import_button, self.add_button, self.refresh_button,
                  self.preview_button):
            b.setEnabled(not running)

    @Slot(object)
    def _job_progress(self, value) -> None:
        done, total, msg = value
        if total:
            self.progress.setRange(0, total)
            self.progress.setValue(done)
        self.status.setText(msg)

    @Slot(object)
    def _job_done(self, result) -> None:
        callback, self._on_done = self._on_done, None
        if callback:
            callback(result)
        elif isinstance(result, str):
            self._say(result)
        self.job_finished.emit(self.status.text())
        self._show_mode()
        self.reload()

    @Slot(str)
    def _job_failed(self, message: str) -> None:
        self._on_done = None
        self._say(message)
        self.job_finished.emit(message)
        self.reload()

    @Slot()
    def _job_cancelled(self) -> None:
        self._on_done = None
        self._say("Cancelled; finished requests are saved, the rest stay queued.")
        self.job_finished.emit(self.status.text())
        self.reload()

    def _say(self, text: str) -> None:
        self.status.setText(text)
        self.services.signals.status_message.emit(text)

    # -- tables ----------------------------------------------------------------------------
    def reload(self) -> None:
        """Re-read the tables in a worker; coalesces calls made while one is running."""
        if self.loader.is_running():
            self._reload_again = True
            return
        self.loader.start(jobs.load_snapshot, self.ctx)

    @Slot(object)
    def _show_snapshot(self, snap: dict) -> None:
        self.agents_model.set_rows(snap["agents"])
        enabled = sum(1 for a in snap["agents"] if a["enabled"])
        self.agents_count.setText(f"{len(snap['agents'])} agents, {enabled} enabled")
        self.requests_model.set_rows(snap["requests"])
        c = snap["counts"]
        self.request_counts.setText("  ".join(f"{k.replace('_', ' ')}: {v}" for k, v in sorted(c.items())))
        self.log_model.set_rows(snap["log"])
        self.outbox_model.set_rows(snap["outbox"])
        self._snapshot_seen = True
        if self._reload_again:
            self._reload_again = False
            self.reload()
            return
        self._maybe_first_refresh()
        self.refreshed.emit()

    def showEvent(self, event) -> None:  # noqa: N802 - Qt naming
        super().showEvent(event)
        self._maybe_first_refresh()

    def _maybe_first_refresh(self) -> None:
        """The first time the tab is seen with no agents cached, fetch them (once, if connected).

        A newcomer opening the tab (the demo, or right after authenticating) should see the
        account's agents rather than an empty table and a button to find.
        """
        if self._auto_refreshed or not self._snapshot_seen or not self.isVisible():
            return
        if self.agents_model.rowCount() or self.jobs.is_running():
            return
        self._auto_refreshed = True
        try:
            from evalsync_gui.core.auth.session import connection_info

            connected = connection_info(self.ctx) is not None
        except Exception:  # noqa: BLE001 - no stored connection is simply "not yet"
            connected = False
        if connected:
            self.refresh_agents()

    def shutdown(self) -> None:
        """Stop this tab's workers; called from the main window's closeEvent (must return within 2 s)."""
        self.jobs.shutdown(1200)
        self.loader.shutdown(600)
