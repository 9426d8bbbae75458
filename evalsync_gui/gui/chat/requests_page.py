"""The Requests page: a one-line form, CSV import, Dry run / Process, and the queue."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QFileDialog, QGroupBox, QHBoxLayout, QLabel, QLineEdit, QPushButton, QSplitter,
                               QVBoxLayout, QWidget)

from evalsync_gui.core.chat import requests as rq
from evalsync_gui.core.errors import EvalsyncError
from evalsync_gui.gui import chat_jobs as jobs
from evalsync_gui.gui.chat.intake_jobs import retry_failed
from evalsync_gui.gui.chat.runner import ChatRunner
from evalsync_gui.gui.chat.widgets import documents_folder, make_table, read_only_text, search_box
from evalsync_gui.gui.chat_dialogs import MappingDialog
from evalsync_gui.gui.chat_models import REQUEST_COLUMNS, RowsModel

FORM_FIELDS = (("requester", "Requester's e-mail"), ("email", "E-mail needing access"),
               ("first_name", "First name"), ("last_name", "Last name"))


class RequestForm(QGroupBox):
    """"New request": four fields and Add; Enter in any field adds, and focus stays in the form."""

    def __init__(self, runner: ChatRunner, parent: QWidget | None = None) -> None:
        super().__init__("New request", parent)
        self.runner = runner
        row = QHBoxLayout(self)
        self.fields: dict[str, QLineEdit] = {}
        for key, text in FORM_FIELDS:
            edit = QLineEdit()
            edit.setPlaceholderText(text)
            edit.setAccessibleName(text)
            edit.returnPressed.connect(self.add)
            row.addWidget(edit)
            self.fields[key] = edit
        self.add_button = QPushButton("Add")
        self.add_button.setToolTip("Queue this access request (Process sends it to Zendesk) — or press Enter")
        self.add_button.setAccessibleName("Add request")
        self.add_button.clicked.connect(self.add)
        row.addWidget(self.add_button)

    def first_field(self) -> QLineEdit:
        return self.fields[FORM_FIELDS[0][0]]

    def add(self) -> None:
        """Queue the typed request (a worker job); the form is cleared except the requester."""
        values = {key: edit.text() for key, edit in self.fields.items()}
        if self.runner.start(jobs.add_request, self.runner.ctx, values, on_done=self._added):
            self.first_field().setFocus()

    def _added(self, text: str) -> None:
        for key in ("email", "first_name", "last_name"):
            self.fields[key].clear()
        self.runner.say(text)
        first = self.first_field()
        first.setFocus()  # the next request starts here, not in the search box Add's greying pushed focus to
        first.selectAll()


class RequestsPage(QWidget):
    """Queue requests by hand or from a CSV, then Dry run or Process them."""

    def __init__(self, runner: ChatRunner, management_on, parent: QWidget | None = None) -> None:
        """``management_on()`` says whether the admin allowed writes (the tab's header checkbox)."""
        super().__init__(parent)
        self.runner = runner
        self.management_on = management_on
        v = QVBoxLayout(self)
        self.form = RequestForm(runner, self)
        v.addWidget(self.form)
        v.addLayout(self._bar())
        split = QSplitter(Qt.Vertical)
        split.addWidget(self.view)
        self.import_report = read_only_text("Import problems",
                                            "Rows an import could not use are listed here with their reason.")
        self.import_report.setMaximumHeight(110)
        split.addWidget(self.import_report)
        v.addWidget(split)
        for a, b in ((self.form.add_button, self.search), (self.search, self.import_button),
                     (self.import_button, self.dry_button), (self.dry_button, self.process_button),
                     (self.process_button, self.view), (self.view, self.import_report)):
            QWidget.setTabOrder(a, b)
        runner.snapshot.connect(self.show_snapshot)
        runner.busy_changed.connect(self._busy)

    def _bar(self) -> QHBoxLayout:
        bar = QHBoxLayout()
        self.import_button = QPushButton("Import CSV…")
        self.import_button.clicked.connect(self.choose_csv)
        self.dry_button = QPushButton("Dry run")
        self.dry_button.setToolTip("Say what Process would do, changing nothing")
        self.dry_button.clicked.connect(lambda: self.process(dry_run=True))
        self.process_button = QPushButton("Process")
        self.process_button.clicked.connect(lambda: self.process(dry_run=False))
        self.retry_button = QPushButton("Retry failed")
        self.retry_button.setToolTip("Queue the requests that failed after every attempt again; Process sends them")
        self.retry_button.clicked.connect(lambda: self.runner.start(retry_failed, self.runner.ctx))
        self.counts = QLabel()
        self.model = RowsModel(REQUEST_COLUMNS, colour_key="status")
        self.view, proxy = make_table(self.model, self, "Access requests", self.runner.services)
        self.search = search_box(proxy, "Search requests — Ctrl+F", "Search requests")
        self.search.setMinimumWidth(240)
        bar.addWidget(self.search)
        bar.addWidget(self.counts, 1)
        for b in (self.import_button, self.retry_button, self.dry_button, self.process_button):
            bar.addWidget(b)
        return bar

    def _busy(self, running: bool) -> None:
        for b in (self.process_button, self.dry_button, self.import_button, self.retry_button, self.form.add_button):
            b.setEnabled(not running)

    def show_snapshot(self, snap: dict) -> None:
        self.model.set_rows(snap["requests"])
        self.counts.setText("  ".join(f"{k.replace('_', ' ')}: {v}" for k, v in sorted(snap["counts"].items())))

    def choose_csv(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import requests", documents_folder(),
                                              "CSV files (*.csv);;All files (*)")
        if not path:
            return
        try:
            columns, rows = rq.preview_rows(path)
        except EvalsyncError as exc:
            self.runner.say(str(exc))
            return
        saved = self.runner.ctx.settings.get("chat.csv_mapping") or {}
        mapping = saved if saved and all(v in columns for v in saved.values()) else rq.guess_mapping(columns)
        dialog = MappingDialog(columns, rows, mapping, self)
        if dialog.exec():
            self.import_csv_file(path, dialog.mapping())

    def import_csv_file(self, path: str, mapping: dict[str, str]) -> None:
        """Import with a chosen mapping (the dialog's second step)."""
        self.runner.start(jobs.import_csv, self.runner.ctx, path, mapping, on_done=self._show_import)

    def _show_import(self, report: rq.ImportReport) -> None:
        lines = [f"line {n}: {reason}" for n, reason in report.problems]
        self.import_report.setPlainText("\n".join([report.summary(), *lines]))
        self.runner.say(report.summary())

    def process(self, dry_run: bool = False) -> None:
        """Send the queue to Zendesk (or only say what would happen, with ``dry_run``)."""
        if not dry_run and not self.management_on():
            self.runner.say("Turn on Chat management (top of this tab) to let EvalSync change agents; "
                            "Dry run works without.")
            return
        self.runner.start(jobs.process, self.runner.ctx, self.runner.open_support, dry_run)
