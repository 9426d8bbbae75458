"""The Agents page: the cached chat agents, searchable, and a button to read them again."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from evalsync_gui.gui import chat_jobs as jobs
from evalsync_gui.gui.chat.runner import ChatRunner
from evalsync_gui.gui.chat.widgets import make_table, search_box
from evalsync_gui.gui.chat_models import AGENT_COLUMNS, RowsModel


class AgentsPage(QWidget):
    """Chat agents as last read from Zendesk (the cache a Process or Refresh fills)."""

    def __init__(self, runner: ChatRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        v = QVBoxLayout(self)
        self.model = RowsModel(AGENT_COLUMNS, colour_key="enabled")
        self.view, proxy = make_table(self.model, self, "Chat agents", runner.services)
        top = QHBoxLayout()
        self.search = search_box(proxy, "Search agents (e-mail, name…) — Ctrl+F", "Search agents")
        self.count = QLabel()
        self.refresh_button = QPushButton("Refresh from Zendesk")
        self.refresh_button.clicked.connect(self.refresh)
        top.addWidget(self.search)
        top.addWidget(self.count)
        top.addWidget(self.refresh_button)
        v.addLayout(top)
        v.addWidget(self.view)
        # The table is built first (the search box needs its proxy); Tab should still go top-down.
        QWidget.setTabOrder(self.search, self.refresh_button)
        QWidget.setTabOrder(self.refresh_button, self.view)
        runner.snapshot.connect(self.show_snapshot)
        runner.busy_changed.connect(lambda busy: self.refresh_button.setEnabled(not busy))

    def refresh(self) -> None:
        """Read the chat agents from Zendesk into the cache (a worker job)."""
        self.runner.start(jobs.refresh_agents, self.runner.ctx, self.runner.open_support)

    def show_snapshot(self, snap: dict) -> None:
        agents = snap["agents"]
        self.model.set_rows(agents)
        enabled = sum(1 for a in agents if a["enabled"])
        self.count.setText(f"{len(agents)} agents, {enabled} enabled")
