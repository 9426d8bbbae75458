"""The User sync tab: configure and run the sync (left), review and activate users (right).

The tab only composes and wires its pieces:

* :mod:`~evalsync_gui.gui.users_counts` - the status filter with counts, the licence counter;
* :mod:`~evalsync_gui.gui.users_table` - the table (hideable columns, Tab leaves it, cheap Ctrl+A);
* :mod:`~evalsync_gui.gui.users_actions` - the buttons below it, every write on a worker with progress;
* :mod:`~evalsync_gui.gui.users_details` - the details pane with the user's sync history;
* :mod:`~evalsync_gui.gui.users_waits` - why a running sync waits, and for how long;
* :mod:`~evalsync_gui.gui.users_refresh` - counts and id lists read off the GUI thread, also
  while a sync runs, so the rows already imported show without a click.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QLineEdit, QMenu, QPushButton, QScrollArea, QSplitter,
                               QTabWidget, QVBoxLayout, QWidget)

from evalsync_gui.core import directory
from evalsync_gui.core.user_selection import Selection
from evalsync_gui.gui.preview_dialog import PreviewDialog
from evalsync_gui.gui.run_history import RunHistory
from evalsync_gui.gui.services import Services
from evalsync_gui.gui.sync_config_panel import SyncConfigPanel
from evalsync_gui.gui.sync_controller import SyncController
from evalsync_gui.gui.users_actions import UserActions
from evalsync_gui.gui.users_counts import LicenceCorner, StatusFilter
from evalsync_gui.gui.users_details import DetailsPane
from evalsync_gui.gui.users_loader import Snapshot, read_snapshot
from evalsync_gui.gui.users_model import ID_ROLE, UsersModel
from evalsync_gui.gui.users_refresh import ViewRefresher
from evalsync_gui.gui.users_table import UsersTable
from evalsync_gui.gui.users_waits import WaitNote

# 0 ms: the single-shot timer still coalesces keystrokes queued in one event-loop turn, and
# a search answers in 6-55 ms at 100k users, so a longer wait only adds latency.
SEARCH_DEBOUNCE_MS = 0


class UsersTab(QWidget):
    """User sync tab. Constructed by the main window as `UsersTab(services, parent)`."""

    def __init__(self, services: Services, parent: QWidget | None = None, *, start_schedule: bool = True) -> None:
        super().__init__(parent)
        self.services = services
        self.ctx = services.ctx
        self.controller = SyncController(services, self)
        self._counts: dict[str, int] = {}
        self.model = UsersModel(self.ctx.db, self)
        # A header click, like a search or a status switch, reads the ids on the loader thread.
        self.model.view_requested = lambda _view: self.refresher.request("view")
        self.actions = UserActions(services, self.current_selection, lambda: self.model.view, self)
        self.writer = self.actions.writer
        self._build()
        # Counts and id lists after a sync page or a write are read off the GUI thread.
        self.refresher = ViewRefresher(services, self.model, self.table, self.wanted_view, self._show_counts, self)
        self.loader = self.refresher.loader
        self._connect()
        # The first counts and ids are read off the GUI thread too: at 100,000 users SQLite
        # takes ~100 ms for them, and the tab is built right after the window's first paint.
        self.reload_in_background()
        QTimer.singleShot(0, self._load_lists_if_connected)  # after the first paint
        if start_schedule:
            self.controller.start()

    def _load_lists_if_connected(self) -> None:
        """Custom roles and user fields come live from Zendesk whenever a connection exists."""
        try:
            from evalsync_gui.core.auth.session import connection_info

            connected = connection_info(self.ctx) is not None
        except Exception:  # not connected, or the auth module is unavailable: keep the saved choices
            connected = False
        if connected:
            # Says why "Reload roles and fields" is grey meanwhile (Zendesk may be rate-limiting).
            self._message("Reading custom roles and user fields from Zendesk…")
            self.config_panel.load_lists()

    # -- layout --------------------------------------------------------------------------
    def _build(self) -> None:
        split = QSplitter(Qt.Orientation.Horizontal, self)
        self.config_panel = SyncConfigPanel(self.services, self.controller)
        scroll = QScrollArea()
        scroll.setWidget(self.config_panel)
        scroll.setWidgetResizable(True)
        scroll.setMinimumWidth(250)
        scroll.setMaximumWidth(420)
        split.addWidget(scroll)
        self.pages = QTabWidget()
        self.pages.setCornerWidget(self._licence_corner(), Qt.Corner.TopRightCorner)  # visible on every page
        self.pages.addTab(self._users_page(), "Users")
        self.history = RunHistory(self.services)
        self.pages.addTab(self.history, "Runs")
        split.addWidget(self.pages)
        split.setStretchFactor(1, 1)
        split.setSizes([340, 940])
        outer = QVBoxLayout(self)
        outer.setContentsMargins(6, 6, 6, 6)
        outer.addWidget(split)

    def _licence_corner(self) -> QWidget:
        self.licence = LicenceCorner()
        self.licence_label, self.limit_btn = self.licence.label, self.licence.limit_btn
        self.limit_btn.clicked.connect(lambda: self.actions.change_limit(self.licence.licences))
        return self.licence

    def _users_page(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        self.status_filter = StatusFilter()
        self.status_buttons = self.status_filter.buttons
        layout.addWidget(self.status_filter)
        self.held_banner = QPushButton()
        self.held_banner.setAccessibleName("Held deactivations: open the Runs page to review them")
        self.held_banner.setStyleSheet("background: #fff3cd; color: #664d03; text-align: left; padding: 4px;")
        self.held_banner.clicked.connect(lambda: self.pages.setCurrentWidget(self.history))
        self.held_banner.hide()
        layout.addWidget(self.held_banner)
        self.wait_note = WaitNote(self.services)
        layout.addWidget(self.wait_note)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search name, e-mail, identifier, custom role or team (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.search.setAccessibleName("Search users")
        layout.addWidget(self.search)
        self.table = UsersTable(self.services, self.model)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._context_menu)
        self.details = DetailsPane(self.services)
        body = QSplitter(Qt.Orientation.Vertical)
        body.addWidget(self.table)
        body.addWidget(self.details)
        body.setStretchFactor(0, 1)  # the table takes the growth; the pane opens at its own height
        body.setStretchFactor(1, 0)
        body.setChildrenCollapsible(False)
        layout.addWidget(body, 1)
        layout.addLayout(self._button_row())
        return page

    def _button_row(self) -> QHBoxLayout:
        bottom = QHBoxLayout()
        for b in self.actions.buttons:
            bottom.addWidget(b)
        self.activate_btn, self.deactivate_btn = self.actions.activate_btn, self.actions.deactivate_btn
        self.add_btn, self.import_btn, self.export_btn = self.actions.add_btn, self.actions.import_btn, self.actions.export_btn
        bottom.addStretch(1)
        # Progress takes the selection label's place in the same row: showing it shifts no row
        # above, so the 100,000-row table is not resized and repainted when a bulk action starts.
        self.selection_label = QLabel()
        bottom.addWidget(self.actions.busy)
        bottom.addWidget(self.selection_label)
        self.actions.busy.visibility_changed.connect(lambda shown: self.selection_label.setVisible(not shown))
        return bottom

    def _connect(self) -> None:
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DEBOUNCE_MS)
        self._search_timer.timeout.connect(self.apply_view)
        self.search.textChanged.connect(lambda _t: self._search_timer.start())
        self.status_filter.changed.connect(self.apply_view)
        self.table.selectionModel().selectionChanged.connect(self._update_selection)
        self.table.selectionModel().currentRowChanged.connect(
            lambda current, _prev: self.details.follow(current.data(ID_ROLE) if current.isValid() else None))
        self.table.open_requested.connect(self.details.open_user)
        self.model.modelReset.connect(self._update_selection)
        self.model.rowsInserted.connect(self._update_selection)
        # Many change notices (one per sync page) collapse into one reload.
        self._reload_timer = QTimer(self)
        self._reload_timer.setSingleShot(True)
        self._reload_timer.setInterval(250)
        self._reload_timer.timeout.connect(self.reload_in_background)
        signals = self.services.signals
        signals.users_changed.connect(self.refresher.directory_changed)
        signals.users_changed.connect(self._reload_timer.start)
        signals.connection_changed.connect(self._load_lists_if_connected)
        # During a sync: counts and cells per page, the id list every few seconds (see users_refresh).
        self.controller.progress.connect(self.wait_note.on_progress)
        self.controller.progress.connect(lambda _p: self.refresher.sync_progress())
        self.controller.running_changed.connect(self.refresher.sync_running)
        self.controller.running_changed.connect(lambda running: None if running else self.wait_note.stop())
        self.controller.finished.connect(self._show_preview)
        # The window owns the Ctrl+F and F5 shortcuts (a second QShortcut on the same key would
        # make both ambiguous and Qt would fire neither); the tab only answers the requests.
        signals.sync_now_requested.connect(self.config_panel.sync_now)
        signals.find_requested.connect(self.focus_search)

    # -- view ----------------------------------------------------------------------------
    def current_status(self) -> str | None:
        return self.status_filter.current()

    def set_status(self, status: str | None) -> None:
        self.status_filter.set_current(status)
        self.apply_view()

    def apply_view(self) -> None:
        """Show the view the controls ask for; its ids are read on the loader thread."""
        self.refresher.request("view")

    def wanted_view(self) -> directory.View:
        """The view the controls ask for: status buttons, search text, and the header's order."""
        sort, descending = self.model.order
        return directory.View(self.current_status(), self.search.text().strip(), sort, descending)

    def reload(self) -> None:
        """Counts, licence counter, held banner and table rows, re-read now (on this thread).

        For scripts and tests that need the rows at once; the tab itself (at construction and
        after changes) goes through :meth:`reload_in_background`.
        """
        self.refresh_counts()
        self.model.set_view(self.wanted_view())
        self.refresher.shown_now()
        self.history.reload()

    @property
    def rows_loaded(self) -> bool:
        """True once an id list is on screen (the first one is read on the loader thread)."""
        return self.model.loaded

    def reload_in_background(self) -> None:
        """After a sync or a write: counts and the id list are read on the loader thread."""
        self.refresher.request("ids")
        self.history.reload()

    def refresh_live(self) -> None:
        """While a sync runs: counts (read off-thread) and visible cells only, no reset."""
        self.refresher.refresh_live()

    def refresh_counts(self) -> None:
        """Re-read counts, licences and the held banner now (on this thread)."""
        self._show_counts(read_snapshot(self.ctx.db, self.ctx.settings))

    def _show_counts(self, snap: Snapshot) -> None:
        counts, lic, held = snap.counts, snap.licences, snap.held
        self._counts = dict(counts)
        self.status_filter.show_counts(counts)
        self.licence.show_licences(lic)
        self.held_banner.setVisible(held > 0)
        self.held_banner.setText(f"⚠ {held:,} deactivations are held by the deactivation guard — review them on the Runs page.")
        self._update_selection()

    def focus_search(self) -> None:
        """Ctrl+F: only the visible tab answers the window-wide request."""
        if not self.isVisible():
            return
        self.pages.setCurrentIndex(0)
        self.search.setFocus()
        self.search.selectAll()

    # -- selection -----------------------------------------------------------------------
    def selected_rows(self) -> list[int]:
        """Selected row numbers from the selection ranges (for small, explicit selections)."""
        return self.table.selected_rows()

    def selected_ids(self) -> list[int]:
        return self.model.ids_for_rows(self.selected_rows())

    def current_selection(self) -> Selection | None:
        """What the actions act on: every user of the view after Ctrl+A (resolved in SQL on the
        worker), else the selected ids; None when nothing is selected."""
        if self.table.all_selected():
            return Selection(self.model.view, shown=self.model.rowCount())
        ids = self.selected_ids()
        return Selection(self.model.view, tuple(ids), shown=len(ids)) if ids else None

    def _update_selection(self, *_: Any) -> None:
        n, rows = self.table.selection_size(), self.model.rowCount()
        self.selection_label.setText(self._selection_text(n, rows))
        self.actions.set_selection_size(n)

    def _selection_text(self, n: int, rows: int) -> str:
        if n and n >= rows:
            return f"All {rows:,} selected"
        if n:
            return f"{n:,} selected of {rows:,}"
        view = self.model.view
        expected = self._counts.get(view.status, 0) if view.status else sum(self._counts.values())
        if not self.model.loaded or (rows == 0 and expected and not view.search):
            return "Reading the rows…"  # never "0 shown" under "Pending (69,498)"
        return f"{rows:,} shown"

    def _context_menu(self, pos) -> None:
        menu = QMenu(self)
        has = self.table.selection_size() > 0
        menu.addAction("Activate selected…", self.actions.activate_selected).setEnabled(has)
        menu.addAction("Deactivate selected…", self.actions.deactivate_selected).setEnabled(has)
        index = self.table.indexAt(pos)
        if index.isValid():
            menu.addAction("Show details", lambda: self.details.open_user(int(index.data(ID_ROLE))))
        menu.addSeparator()
        menu.addAction("Select all", self.table.selectAll)
        menu.exec(self.table.viewport().mapToGlobal(pos))

    # -- actions (kept for scripts and tests; the buttons call self.actions) -------------------
    def activate(self, ids: list[int], role: str | None, team: str | None) -> bool:
        """Activate ``ids`` with a role and team (worker); refused over the licence limit."""
        return self.actions.activate(Selection(self.model.view, tuple(ids)), role, team)

    def export_csv(self, path: str | None = None) -> None:
        self.actions.export_csv(path)

    def import_csv(self, path: str | None = None) -> None:
        self.actions.import_csv(path)

    def change_limit(self) -> None:
        self.actions.change_limit(self.licence.licences)

    def _show_preview(self, result: Any) -> None:
        if getattr(result, "dry_run", False) and self.isVisible():
            PreviewDialog(result, self).open()

    def _message(self, message: str) -> None:
        self.services.signals.status_message.emit(message)

    # -- lifecycle -----------------------------------------------------------------------
    def shutdown(self) -> None:
        """Stop this tab's workers; called from the main window's closeEvent (must return within 2 s)."""
        self._search_timer.stop()
        self._reload_timer.stop()
        self.controller.cancel()
        self.writer.cancel()
        self.loader.cancel()
        self.details.loader.cancel()
        self.controller.shutdown(1000)
        self.actions.shutdown()
        self.refresher.shutdown()
        self.details.shutdown()
        self.config_panel.shutdown()
        self.history.shutdown()
