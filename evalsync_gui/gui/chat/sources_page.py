"""The Sources page: where requests arrive with no admin at the keyboard, and the chat schedule.

Shows each request source (a published Google Sheet or a growing CSV file) with its last poll,
rows taken and last error; when the next chat run is due and what the last one did; "Run now";
and, when a run held a burst of creations, Allow and Discard. A source is added here: EvalSync
reads it once (on the worker) and shows its columns with the guess from the form's headings
for the admin to check or change, or removed.

The schedule runs in the app like user sync's: a timer checks once a minute whether a run is
due (against the next-run time of the last snapshot, so the check itself reads nothing) and starts it on the tab's one worker (:class:`ChatRunner`), never two at once; the run
itself takes the chat lock, so a cron ``evalsync chat run`` and the app never overlap.
"""

from __future__ import annotations

from datetime import datetime, timezone

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (QCheckBox, QGroupBox, QHBoxLayout, QLineEdit, QPushButton, QSpinBox, QVBoxLayout,
                               QWidget)

from evalsync_gui.core.chat import schedule, sources
from evalsync_gui.gui.chat.intake_jobs import (add_source, allow_run, discard_run, peek_source, remove_sources,
                                               run_chat, save_schedule)
from evalsync_gui.gui.chat.runner import ChatRunner
from evalsync_gui.gui.chat.widgets import make_table, plain_label
from evalsync_gui.gui.chat_dialogs import MappingDialog
from evalsync_gui.gui.chat_models import RowsModel, when
from evalsync_gui.gui.formats import format_datetime

CHECK_MS = 60_000
SOURCE_COLUMNS = [
    ("Name", "name", None), ("Kind", "kind", lambda r: "Google Sheet" if r.get("kind") == "sheet" else "CSV file"),
    ("Last poll", "last_poll", when("last_poll", missing="never")), ("Rows taken", "rows_taken", None),
    ("Last error", "last_error", None), ("Where", "location", None),
]
HELP = ("Requests arrive from these sources and are acted on by the chat schedule, with no one at the keyboard: "
        "a Google Sheet published to the web as CSV (its link), or a CSV file another tool appends to (its path). "
        "Adding one shows its columns, guessed from the form's headings, for you to check.")
SOURCE_INTRO = ("Which column holds each field? Each row is told apart from the others by its row id or, without "
                "one, by its timestamp with both addresses: map at least one of them. EvalSync remembers this for "
                "every later run of this source.")
SOURCE_LABELS = {"row_id": "Row id"}


class SourcesPage(QWidget):
    """Sources, the schedule (on/off, every N minutes, next run, last run), Run now, held runs."""

    def __init__(self, runner: ChatRunner, parent: QWidget | None = None, check_ms: int = CHECK_MS) -> None:
        super().__init__(parent)
        self.runner = runner
        self.held_run: int | None = None
        self._drawn: schedule.ScheduleConfig | None = None  # the saved schedule last shown
        self._next_run: datetime | None = None  # from the last snapshot; None when the schedule is off
        v = QVBoxLayout(self)
        v.addWidget(plain_label(HELP))
        v.addLayout(self._schedule_bar())
        self.next_label = plain_label()
        self.next_label.setAccessibleName("Next chat run")
        self.last_label = plain_label()
        self.last_label.setAccessibleName("Last chat run")
        v.addWidget(self.next_label)
        v.addWidget(self.last_label)
        v.addWidget(self._review_box())
        v.addLayout(self._add_bar())
        self.model = RowsModel(SOURCE_COLUMNS)
        self.view, self.proxy = make_table(self.model, self, "Request sources", runner.services)
        self.view.setColumnWidth(2, 150)  # Last poll: a whole date and time
        v.addWidget(self.view)
        runner.snapshot.connect(self.show_snapshot)
        runner.busy_changed.connect(lambda busy: self.run_button.setEnabled(not busy))
        self.timer = QTimer(self)
        self.timer.setInterval(check_ms)
        self.timer.timeout.connect(self.check_schedule)
        self.timer.start()

    def _schedule_bar(self) -> QHBoxLayout:
        bar = QHBoxLayout()
        self.enabled = QCheckBox("Run on a schedule, every")
        self.enabled.setToolTip("Poll the sources, process new requests and send the e-mails on a timer")
        self.every = QSpinBox()
        self.every.setRange(1, 1440)
        self.every.setValue(5)
        self.every.setSuffix(" min")
        self.every.setAccessibleName("Minutes between chat runs")
        self.save_button = QPushButton("Save schedule")
        self.save_button.clicked.connect(self.save_schedule)
        self.run_button = QPushButton("Run now")
        self.run_button.setToolTip("Poll the sources and process new requests now")
        self.run_button.clicked.connect(lambda: self.run_now("button"))
        for w in (self.enabled, self.every, self.save_button):
            bar.addWidget(w)
        bar.addStretch(1)
        bar.addWidget(self.run_button)
        return bar

    def _add_bar(self) -> QHBoxLayout:
        bar = QHBoxLayout()
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("Name, e.g. Form")
        self.name_edit.setAccessibleName("New source name")
        self.name_edit.setMaximumWidth(200)
        self.where_edit = QLineEdit()
        self.where_edit.setPlaceholderText("https://docs.google.com/…/pub?output=csv  or  /path/to/responses.csv")
        self.where_edit.setAccessibleName("Published sheet link or CSV file path")
        self.where_edit.returnPressed.connect(self.add_source)
        self.add_button = QPushButton("Add source…")
        self.add_button.clicked.connect(self.add_source)
        self.remove_button = QPushButton("Remove")
        self.remove_button.setToolTip("Forget the selected source (its requests and log stay)")
        self.remove_button.clicked.connect(self.remove_source)
        for w in (self.name_edit, self.where_edit, self.add_button, self.remove_button):
            bar.addWidget(w)
        return bar

    def _review_box(self) -> QGroupBox:
        self.review = QGroupBox("Held for review")
        h = QHBoxLayout(self.review)
        self.review_label = plain_label()
        self.allow_button = QPushButton("Allow")
        self.allow_button.setToolTip("Create these agents now")
        self.allow_button.clicked.connect(self.allow)
        self.discard_button = QPushButton("Discard")
        self.discard_button.setToolTip("Reject these requests; nothing is created")
        self.discard_button.clicked.connect(self.discard)
        h.addWidget(self.review_label, 1)
        h.addWidget(self.allow_button)
        h.addWidget(self.discard_button)
        self.review.setVisible(False)
        return self.review

    # -- drawing -------------------------------------------------------------------------
    def show_snapshot(self, snap: dict) -> None:
        intake = snap.get("intake") or {}
        self.model.set_rows(intake.get("sources", []))
        cfg: schedule.ScheduleConfig = intake.get("schedule") or schedule.ScheduleConfig()
        if cfg != self._drawn:  # only a saved change redraws: an edit not yet saved is kept
            self._drawn = cfg
            self.enabled.setChecked(cfg.enabled)
            self.every.setValue(cfg.every_minutes)
        nxt = intake.get("next_run")
        self._next_run = intake.get("next_due")
        self.next_label.setText(f"Next run: {format_datetime(nxt)}" if nxt else "Next run: the schedule is off.")
        self.last_label.setText(_last_run_text(intake.get("last_run")))
        held = intake.get("held_runs") or []
        waiting = sum(r["requests"] for r in held)
        self.held_run = held[0]["run_id"] if held else None
        self.review.setVisible(bool(held))
        if held:
            self.review_label.setText(f"Run {self.held_run} would create {held[0]['requests']} new agents, more "
                                      "than the limit for one run. Allow creates them; Discard rejects them.")
        self.runner.services.signals.chat_review_changed.emit(waiting)

    # -- actions -------------------------------------------------------------------------
    def check_schedule(self) -> None:
        """Start a scheduled run if one is due and no Chat job is running."""
        if self.runner.jobs.is_running() or self._next_run is None:
            return
        if self._next_run <= datetime.now(timezone.utc):
            self._next_run = None  # the run's reload brings the next one
            self.run_now("schedule")

    def run_now(self, trigger: str = "button") -> None:
        self.runner.start(run_chat, self.runner.ctx, self.runner.open_support, trigger, on_done=self._run_done)

    def _run_done(self, report: schedule.RunReport) -> None:
        self.runner.say(report.summary())

    def add_source(self) -> None:
        """Read the typed link (https) or file path once, then ask for its columns (see
        :meth:`_ask_columns`); rows already there are skipped when it is added."""
        name, where = self.name_edit.text().strip(), self.where_edit.text().strip()
        if not name or not where:
            self.runner.say("Type a name and the sheet's published CSV link or the CSV file's path.")
            return
        self.runner.start(peek_source, self.runner.ctx, where,
                          on_done=lambda peek: QTimer.singleShot(0, lambda: self._ask_columns(name, where, peek)))

    def _ask_columns(self, name: str, where: str, peek: sources.Peek) -> None:
        """After the read (the worker is free again): the columns dialog, then the add itself."""
        if peek.columns is None:  # a file the other tool has not written yet: columns guessed on its first rows
            self.runner.start(add_source, self.runner.ctx, name, where, on_done=self._added)
            return
        dialog = MappingDialog(peek.columns, peek.rows, peek.guess, self, title=f"Columns of {name}",
                               intro=SOURCE_INTRO, fields=sources.FIELDS, labels=SOURCE_LABELS,
                               ok_text="Add source")
        if dialog.exec():
            self.runner.start(add_source, self.runner.ctx, name, where, dialog.mapping(), on_done=self._added)
        else:
            self.runner.say(f"{name} was not added.")

    def _added(self, text: str) -> None:
        self.name_edit.clear()
        self.where_edit.clear()
        self.runner.say(text)

    def remove_source(self) -> None:
        rows = {self.proxy.mapToSource(i).row() for i in self.view.selectionModel().selectedRows()}
        names = [self.model.rows[r]["name"] for r in sorted(rows)]
        if names:
            self.runner.start(remove_sources, self.runner.ctx, names)

    def save_schedule(self) -> None:
        self.runner.start(save_schedule, self.runner.ctx, self.enabled.isChecked(), self.every.value())

    def allow(self) -> None:
        if self.held_run is not None:
            self.runner.start(allow_run, self.runner.ctx, self.runner.open_support, self.held_run,
                              on_done=self._run_done)

    def discard(self) -> None:
        if self.held_run is not None:
            self.runner.start(discard_run, self.runner.ctx, self.held_run)


def _last_run_text(run: dict | None) -> str:
    if not run:
        return "Last run: none yet."
    c = run.get("counts") or {}
    parts = [f"{c.get(k, 0)} {label}" for k, label in (
        ("taken", "new rows"), ("created", "created"), ("enabled", "enabled"), ("already_enabled", "already enabled"),
        ("rejected", "rejected"), ("failed", "failed"), ("held", "held"))]
    text = f"Last run: {format_datetime(run.get('started_at'))}, {run.get('status')}: " + ", ".join(parts)
    return text + (f" ({run['message']})" if run.get("message") else "")
