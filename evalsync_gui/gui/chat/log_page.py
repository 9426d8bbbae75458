"""The Action log page: what EvalSync did, in words; raw answers behind Details; e-mail outbox."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGroupBox, QHBoxLayout, QPushButton, QSplitter, QVBoxLayout, QWidget

from evalsync_gui.gui import chat_jobs as jobs
from evalsync_gui.gui.chat.log_rows import details
from evalsync_gui.gui.chat.runner import ChatRunner
from evalsync_gui.gui.chat.widgets import ask_export_path, make_table, read_only_text, search_box
from evalsync_gui.gui.chat_models import LOG_COLUMNS, OUTBOX_COLUMNS, RowsModel


class LogPage(QWidget):
    """The action log (newest first) with a details toggle, CSV export and the confirmation e-mails."""

    def __init__(self, runner: ChatRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        v = QVBoxLayout(self)
        self.model = RowsModel(LOG_COLUMNS)
        self.view, self.proxy = make_table(self.model, self, "Action log", runner.services)
        self.view.selectionModel().currentRowChanged.connect(self._show_details)
        v.addLayout(self._bar())
        split = QSplitter(Qt.Vertical)
        split.addWidget(self.view)
        self.details = read_only_text("Action details", "Select a row to see everything the log keeps about it.")
        self.details.setVisible(False)
        split.addWidget(self.details)
        split.addWidget(self._outbox())
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        split.setStretchFactor(2, 1)
        v.addWidget(split)
        QWidget.setTabOrder(self.search, self.details_button)
        QWidget.setTabOrder(self.details_button, self.export_button)
        QWidget.setTabOrder(self.export_button, self.view)
        runner.snapshot.connect(self.show_snapshot)

    def _bar(self) -> QHBoxLayout:
        bar = QHBoxLayout()
        self.search = search_box(self.proxy, "Search the log — Ctrl+F", "Search the action log")
        self.details_button = QPushButton("Details")
        self.details_button.setCheckable(True)
        self.details_button.setToolTip("Show the selected row's raw record, with Zendesk's answer")
        self.details_button.toggled.connect(self._toggle_details)
        self.export_button = QPushButton("Export CSV…")
        self.export_button.setToolTip("Save the whole action log as a CSV file")
        self.export_button.clicked.connect(self.export)
        bar.addWidget(self.search)
        bar.addWidget(self.details_button)
        bar.addWidget(self.export_button)
        return bar

    def _outbox(self) -> QGroupBox:
        box = QGroupBox("Confirmation e-mails")
        bv = QVBoxLayout(box)
        self.outbox_model = RowsModel(OUTBOX_COLUMNS, colour_key="status")
        self.outbox_view, _ = make_table(self.outbox_model, box, "Confirmation e-mails", self.runner.services)
        buttons = QHBoxLayout()
        send = QPushButton("Send pending now")
        send.clicked.connect(lambda: self.runner.start(jobs.send_outbox, self.runner.ctx))
        retry = QPushButton("Retry failed")
        retry.clicked.connect(lambda: self.runner.start(jobs.retry_mail, self.runner.ctx))
        buttons.addStretch(1)
        buttons.addWidget(send)
        buttons.addWidget(retry)
        bv.addWidget(self.outbox_view)
        bv.addLayout(buttons)
        return box

    def show_snapshot(self, snap: dict) -> None:
        self.model.set_rows(snap["log"])
        self.outbox_model.set_rows(snap["outbox"])
        self.details.clear()

    def _toggle_details(self, on: bool) -> None:
        self.details.setVisible(on)
        if on:
            self._show_details(self.view.currentIndex())

    def _show_details(self, index, _previous=None) -> None:
        if not self.details_button.isChecked() or not index.isValid():
            return
        row = self.model.rows[self.proxy.mapToSource(index).row()]
        self.details.setPlainText(details(row))

    def export(self) -> None:
        """Ask where (starting in Documents) and write the whole log there as CSV."""
        path = ask_export_path(self, "Export the action log", "chat-actions.csv")
        if path:
            self.runner.start(jobs.export_log, self.runner.ctx, path)
