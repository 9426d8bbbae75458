"""The "To do in Zendesk" page: requests only an admin can finish, in Admin Center.

On an account whose Chat was created in Support, Zendesk's API cannot switch on an existing
agent's chat access; such a request waits as ``needs_admin_step`` with ``admin_url``, the
agent's page in Admin Center. Open takes the admin there; Copy puts the link on the clipboard.
The next Process re-reads the agent and completes the request once chat is on.
"""

from __future__ import annotations

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from evalsync_gui.gui.chat.runner import ChatRunner
from evalsync_gui.gui.chat.widgets import make_table, plain_label, search_box
from evalsync_gui.gui.chat_models import TODO_COLUMNS, RowsModel

HELP = ("Zendesk's API cannot switch on chat for these agents. For each one: Open their page in Admin Center, "
        "under Roles and access turn Chat on, save. The next Process sees the change and completes the request.")


def safe_admin_url(row: dict) -> str:
    """The row's Admin Center link when it is an https (or loopback simulator) URL, else ""."""
    url = QUrl(str(row.get("admin_url") or ""))
    if not url.isValid() or url.scheme() not in ("https", "http"):
        return ""
    if url.scheme() == "http" and url.host() not in ("127.0.0.1", "localhost", "::1"):
        return ""  # HTTPS only, except the simulator on loopback
    return url.toString()


class TodoPage(QWidget):
    """needs_admin_step requests with Open (in the browser) and Copy (the link)."""

    def __init__(self, runner: ChatRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        v = QVBoxLayout(self)
        v.addWidget(plain_label(HELP))
        self.model = RowsModel(TODO_COLUMNS)
        self.view, self.proxy = make_table(self.model, self, "To do in Zendesk", runner.services)
        bar = QHBoxLayout()
        self.search = search_box(self.proxy, "Search the to-do list — Ctrl+F", "Search the to-do list")
        self.search.setMinimumWidth(240)
        self.count = QLabel()
        self.open_button = QPushButton("Open in Admin Center")
        self.open_button.setToolTip("Open the selected agent's page in Admin Center in your browser")
        self.open_button.clicked.connect(self.open_selected)
        self.copy_button = QPushButton("Copy link")
        self.copy_button.setToolTip("Copy the selected agent's Admin Center link")
        self.copy_button.clicked.connect(self.copy_selected)
        for w in (self.search, self.count):
            bar.addWidget(w)
        bar.addStretch(1)
        bar.addWidget(self.open_button)
        bar.addWidget(self.copy_button)
        v.addLayout(bar)
        v.addWidget(self.view)
        self.view.doubleClicked.connect(lambda _index: self.open_selected())
        self.view.selectionModel().selectionChanged.connect(self._update_buttons)
        QWidget.setTabOrder(self.search, self.open_button)
        QWidget.setTabOrder(self.open_button, self.copy_button)
        QWidget.setTabOrder(self.copy_button, self.view)
        runner.snapshot.connect(self.show_snapshot)
        self._update_buttons()

    def show_snapshot(self, snap: dict) -> None:
        rows = snap["todo"]
        self.model.set_rows(rows)
        self.count.setText(f"{len(rows)} waiting for a step in Admin Center" if rows
                           else "Nothing to do in Zendesk.")
        if rows and not self.view.currentIndex().isValid():
            self.view.selectRow(0)
        self._update_buttons()

    def selected_rows(self) -> list[dict]:
        rows = {self.proxy.mapToSource(i).row() for i in self.view.selectionModel().selectedRows()}
        return [self.model.rows[r] for r in sorted(rows)]

    def _update_buttons(self, *_args) -> None:
        has = any(safe_admin_url(r) for r in self.selected_rows())
        self.open_button.setEnabled(has)
        self.copy_button.setEnabled(has)

    def open_selected(self) -> None:
        """Open each selected agent's Admin Center page in the default browser."""
        urls = [u for u in (safe_admin_url(r) for r in self.selected_rows()) if u]
        for url in urls:
            QDesktopServices.openUrl(QUrl(url))
        if urls:
            self.runner.say(f"Opened {len(urls)} Admin Center page{'s' if len(urls) != 1 else ''} in your browser.")

    def copy_selected(self) -> None:
        """Copy the selected agents' Admin Center links, one per line."""
        urls = [u for u in (safe_admin_url(r) for r in self.selected_rows()) if u]
        if urls:
            QGuiApplication.clipboard().setText("\n".join(urls))
            self.runner.say(f"Copied {len(urls)} Admin Center link{'s' if len(urls) != 1 else ''}.")
