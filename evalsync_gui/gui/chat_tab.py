"""The Chat agents tab: a header (account kind, Chat management, job status) over its pages.

The pages live in :mod:`evalsync_gui.gui.chat` (one module each); they share a
:class:`~evalsync_gui.gui.chat.runner.ChatRunner` that runs every Zendesk or database job in a
worker thread and re-reads the tables afterwards. The widgets only ever see plain rows.
"""

from __future__ import annotations

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (QCheckBox, QHBoxLayout, QLineEdit, QProgressBar, QPushButton, QTabWidget, QVBoxLayout,
                               QWidget)

from evalsync_gui.gui.chat import status_words
from evalsync_gui.gui.chat.agents_page import AgentsPage
from evalsync_gui.gui.chat.inactivity_page import InactivityPage
from evalsync_gui.gui.chat.log_page import LogPage
from evalsync_gui.gui.chat.requests_page import RequestsPage
from evalsync_gui.gui.chat.runner import ChatRunner
from evalsync_gui.gui.chat.settings_page import SettingsPage
from evalsync_gui.gui.chat.sources_page import SourcesPage
from evalsync_gui.gui.chat.todo_page import TodoPage
from evalsync_gui.gui.chat.widgets import plain_label
from evalsync_gui.gui.services import Services

MANAGEMENT_KEY = "chat.management_enabled"


class ChatTab(QWidget):
    """Chat agents tab. Constructed by the main window as `ChatTab(services, parent)`."""

    refreshed = Signal()          # tables reloaded from the database
    job_finished = Signal(str)    # a job's one-line outcome (also shown in the status line)

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.ctx = services.ctx
        self.runner = ChatRunner(services, self)
        self.jobs, self.loader = self.runner.jobs, self.runner.loader
        self._auto_refreshed = False
        self._snap: dict | None = None  # the last snapshot drawn
        layout = QVBoxLayout(self)
        layout.addLayout(self._header())
        management_on = self.management.isChecked
        self.agents = AgentsPage(self.runner)
        self.requests = RequestsPage(self.runner, management_on)
        self.todo = TodoPage(self.runner)
        self.inactivity = InactivityPage(self.runner, management_on)
        self.log = LogPage(self.runner)
        self.settings = SettingsPage(self.runner)
        self.sources = SourcesPage(self.runner, check_ms=services.extras.get("chat_check_ms", 60_000))
        self.pages = QTabWidget()
        for page, title in ((self.agents, "Agents"), (self.requests, "Requests"), (self.todo, "To do in Zendesk"),
                            (self.sources, "Sources"),
                            (self.inactivity, "Inactivity"), (self.log, "Action log"), (self.settings, "Settings")):
            self.pages.addTab(page, title)
        layout.addWidget(self.pages)
        self.runner.snapshot.connect(self._show_snapshot)
        self.runner.refreshed.connect(self.refreshed)
        self.runner.job_finished.connect(self.job_finished)
        services.signals.find_requested.connect(self.focus_search)
        services.signals.connection_changed.connect(self.runner.reload)
        self.runner.reload()

    def _header(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.kind_label = plain_label(wrap=False)
        self.kind_label.setAccessibleName("Chat account kind")
        self.management = QCheckBox("Chat management (lets EvalSync change agents)")
        self.management.setToolTip("Nothing is written to Zendesk while this is off; Dry run and Preview still work. "
                                   "Support write access is asked for only when this is on.")
        self.management.setChecked(bool(self.ctx.settings.get(MANAGEMENT_KEY, False)))
        self.management.toggled.connect(self._management_toggled)
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(220)
        self.progress.setVisible(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setVisible(False)
        self.cancel_button.clicked.connect(self.runner.cancel)
        self.status = plain_label()
        self.runner.message.connect(self.status.setText)
        self.runner.progress.connect(self._job_progress)
        self.runner.busy_changed.connect(self._busy)
        row.addWidget(self.kind_label)
        row.addWidget(self.management)
        row.addWidget(self.status, 1)
        row.addWidget(self.progress)
        row.addWidget(self.cancel_button)
        return row

    # -- what other parts of the app (and the shutdown tests) drive -----------------------------
    def process(self, dry_run: bool = False) -> None:
        """Process the queued requests (the Requests page's Process button)."""
        self.requests.process(dry_run)

    def import_csv_file(self, path: str, mapping: dict[str, str]) -> None:
        """Import a CSV of requests with a chosen column mapping."""
        self.requests.import_csv_file(path, mapping)

    def current_search_box(self) -> QLineEdit | None:
        """The search box of the visible page (Agents, Requests, Action log), else None."""
        return getattr(self.pages.currentWidget(), "search", None)

    @Slot()
    def focus_search(self) -> None:
        """Ctrl+F (AppSignals.find_requested): only the visible tab reacts; pages without a
        search box switch to Agents, whose search is the one most often wanted."""
        if not self.isVisible():
            return
        box = self.current_search_box()
        if box is None:
            self.pages.setCurrentWidget(self.agents)
            box = self.agents.search
        box.setFocus()
        box.selectAll()

    # -- header ----------------------------------------------------------------------------------
    @Slot(bool)
    def _management_toggled(self, on: bool) -> None:
        self.ctx.settings.set(MANAGEMENT_KEY, on)
        self.runner.say("Chat management on: re-authenticate in the Authenticate tab so EvalSync gets Support write "
                        "access (needed to create agents)." if on
                        else "Chat management off: EvalSync will only read Chat agents.")
        self.services.signals.connection_changed.emit()

    @Slot(bool)
    def _busy(self, running: bool) -> None:
        self.progress.setVisible(running)
        self.cancel_button.setVisible(running)
        self.progress.setRange(0, 0)

    @Slot(int, int, str)
    def _job_progress(self, done: int, total: int, msg: str) -> None:
        if total:
            self.progress.setRange(0, total)
            self.progress.setValue(done)
        self.status.setText(msg)

    @Slot(object)
    def _show_snapshot(self, snap: dict) -> None:
        self.kind_label.setText(status_words.kind_line(snap))
        self.kind_label.setToolTip(status_words.kind_tooltip(snap))
        self._snap = snap
        self._maybe_first_refresh()

    def showEvent(self, event) -> None:  # noqa: N802 - Qt naming
        super().showEvent(event)
        self._maybe_first_refresh()

    def _maybe_first_refresh(self) -> None:
        """The first time the tab is seen with no agents cached, fetch them (once, if connected).

        A newcomer opening the tab (the demo, or right after connecting) should see the
        account's agents rather than an empty table and a button to find.
        """
        if self._auto_refreshed or self._snap is None or not self.isVisible():
            return
        if self.agents.model.rowCount() or self.jobs.is_running() or not self._snap.get("connected"):
            return
        self._auto_refreshed = True
        self.agents.refresh()

    def shutdown(self) -> None:
        """Stop this tab's workers; called from the main window's closeEvent (must return within 2 s)."""
        self.sources.timer.stop()  # no scheduled chat run may start after this
        self.runner.shutdown()
