"""The User sync tab: configure and run the sync (left), review and activate users (right).

What a sync or a write changes is re-read on a worker thread (counts, licences and the
ordered id list: :mod:`evalsync_gui.gui.users_loader`), and the live refresh during a sync is
throttled to one every 500 ms, so a 100,000-user sync never makes the window stutter. Only
small reads stay on the GUI thread: blocks of 200 rows for the visible cells, and the id list
when the admin switches status, searches or sorts (one indexed query). Every write (activate,
deactivate, add, import, export) and every sync runs on a worker thread.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (QAbstractItemView, QButtonGroup, QComboBox, QDialog, QDialogButtonBox, QFileDialog,
                               QFormLayout, QHBoxLayout, QHeaderView, QInputDialog, QLabel, QLineEdit, QMenu, QPushButton, QScrollArea,
                               QSplitter, QTableView, QTabWidget, QVBoxLayout, QWidget)

from evalsync_gui.core import directory
from evalsync_gui.gui import theme, window_state
from evalsync_gui.gui.preview_dialog import PreviewDialog
from evalsync_gui.gui.run_history import RunHistory
from evalsync_gui.gui.services import Services
from evalsync_gui.gui.sync_config_panel import SyncConfigPanel
from evalsync_gui.gui.sync_controller import SyncController
from evalsync_gui.gui.users_loader import Snapshot, load_snapshot, read_snapshot
from evalsync_gui.gui.users_model import COLUMNS, UsersModel
from evalsync_gui.gui.workers import Task, TaskController

ROW_HEIGHT = 22
# 0 ms: the single-shot timer still coalesces keystrokes queued in one event-loop turn, and
# the FTS5 search answers in 6-55 ms at 100k users, so a longer wait only adds latency.
SEARCH_DEBOUNCE_MS = 0
STATUS_BUTTONS = (("pending", "Pending"), ("active", "Active"), ("deactivated", "Deactivated"), (None, "All"))


def _write(task: Task, fn, *args, **kwargs) -> Any:
    """Worker body for directory writes: ``fn(*args, **kwargs)``."""
    return fn(*args, **kwargs)


class ActivateDialog(QDialog):
    """Choose the EvalSync role and team for a batch of users."""

    def __init__(self, count: int, licences: directory.Licences, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Activate users")
        form = QFormLayout(self)
        form.addRow(QLabel(f"Activate <b>{count:,}</b> user{'s' if count != 1 else ''}. "
                           f"{licences}; {licences.free:,} free."))
        self.role = QComboBox()
        for key, label in directory.ROLES.items():
            self.role.addItem(label, key)
        self.team = QLineEdit()
        self.team.setPlaceholderText("optional")
        form.addRow("EvalSync role", self.role)
        form.addRow("Team", self.team)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Activate")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)


class AddUserDialog(QDialog):
    """Add one user by hand."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Add a user")
        form = QFormLayout(self)
        self.name, self.email, self.identifier, self.team = QLineEdit(), QLineEdit(), QLineEdit(), QLineEdit()
        self.status = QComboBox()
        self.status.addItem("Pending", "pending")
        self.status.addItem("Active (uses a licence)", "active")
        self.role = QComboBox()
        for key, label in directory.ROLES.items():
            self.role.addItem(label, key)
        for label, w in (("Name", self.name), ("E-mail", self.email), ("Identifier", self.identifier),
                         ("Status", self.status), ("EvalSync role", self.role), ("Team", self.team)):
            form.addRow(label, w)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def new_user(self) -> directory.NewUser:
        return directory.NewUser(name=self.name.text(), email=self.email.text(), identifier=self.identifier.text(),
                                 status=self.status.currentData(), role=self.role.currentData(), team=self.team.text())


class UsersTab(QWidget):
    """User sync tab. Constructed by the main window as `UsersTab(services, parent)`."""

    def __init__(self, services: Services, parent: QWidget | None = None, *, start_schedule: bool = True) -> None:
        super().__init__(parent)
        self.services = services
        self.ctx = services.ctx
        self.controller = SyncController(services, self)
        self.writer = TaskController(self, name="users.write")
        self.writer.finished.connect(self._write_done)
        self.writer.failed.connect(self._write_failed)
        # Counts and id lists after a sync page or a write are read here, off the GUI thread.
        self.loader = TaskController(self, name="users.load")
        self.loader.finished.connect(self._show_snapshot)
        self.loader.failed.connect(self._write_failed)
        self.loader.done.connect(self._load_next)
        self._wanted: str | None = None  # None, "counts", "view" or "ids": the next load to run
        # The shown ids are current while no change arrived since the load that read them
        # began; only then may a search typed further filter them (see users_loader).
        self._data_gen = self._loading_gen = self._shown_gen = 0
        self._closing = False
        self.model = UsersModel(self.ctx.db, self)
        # A header click, like a search or a status switch, reads the ids on the loader thread.
        self.model.view_requested = lambda _view: self._request_load("view")
        self._build()
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
        corner = QWidget()
        row = QHBoxLayout(corner)
        row.setContentsMargins(0, 0, 4, 2)
        self.licence_label = QLabel()
        self.licence_label.setStyleSheet("font-weight: bold;")
        row.addWidget(self.licence_label)
        self.limit_btn = QPushButton("Change limit…")
        self.limit_btn.setFlat(True)
        self.limit_btn.setToolTip("Set how many active users your EvalSync plan allows")
        self.limit_btn.clicked.connect(self.change_limit)
        row.addWidget(self.limit_btn)
        return corner

    def _users_page(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        top = QHBoxLayout()
        self.status_group = QButtonGroup(self)
        self.status_group.setExclusive(True)
        self.status_buttons: dict[str | None, QPushButton] = {}
        for i, (key, label) in enumerate(STATUS_BUTTONS):
            b = QPushButton(label)
            b.setCheckable(True)
            b.setChecked(key == "pending")
            self.status_group.addButton(b, i)
            self.status_buttons[key] = b
            top.addWidget(b)
        top.addStretch(1)
        layout.addLayout(top)

        self.held_banner = QPushButton()
        self.held_banner.setAccessibleName("Held deactivations: open the Runs page to review them")
        self.held_banner.setStyleSheet("background: #fff3cd; color: #664d03; text-align: left; padding: 4px;")
        self.held_banner.clicked.connect(lambda: self.pages.setCurrentWidget(self.history))
        self.held_banner.hide()
        layout.addWidget(self.held_banner)

        self.search = QLineEdit()
        self.search.setPlaceholderText("Search name, e-mail, identifier, custom role or team (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.search.setAccessibleName("Search users")
        layout.addWidget(self.search)

        self.table = QTableView()
        self.table.setAccessibleName("Users")
        self.table.setModel(self.model)
        self.table.setSortingEnabled(True)
        self.table.horizontalHeader().setSortIndicator(0, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._context_menu)
        vh = self.table.verticalHeader()
        vh.setVisible(False)
        vh.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vh.setDefaultSectionSize(ROW_HEIGHT)
        hh = self.table.horizontalHeader()
        hh.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        hh.setStretchLastSection(True)
        for col, width in enumerate((150, 195, 95, 95, 85, 115, 115)[:len(COLUMNS)]):
            self.table.setColumnWidth(col, width)
        window_state.track_header(self.services, "users.table", hh)
        layout.addWidget(self.table, 1)

        bottom = QHBoxLayout()
        self.activate_btn = QPushButton("Activate…")
        self.activate_btn.setToolTip("Activate the selected users with an EvalSync role and team (uses licences)")
        self.deactivate_btn = QPushButton("Deactivate")
        self.deactivate_btn.setToolTip("Deactivate the selected users (frees their licences)")
        self.add_btn = QPushButton("Add user…")
        self.import_btn = QPushButton("Import CSV…")
        self.import_btn.setToolTip("Import existing EvalSync users: columns name, email, identifier")
        self.export_btn = QPushButton("Export CSV…")
        self.export_btn.setToolTip("Export the users shown (this status, search and order) as CSV")
        for b in (self.activate_btn, self.deactivate_btn, self.add_btn, self.import_btn, self.export_btn):
            bottom.addWidget(b)
        bottom.addStretch(1)
        self.selection_label = QLabel()
        bottom.addWidget(self.selection_label)
        layout.addLayout(bottom)
        return page

    def _connect(self) -> None:
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DEBOUNCE_MS)
        self._search_timer.timeout.connect(self.apply_view)
        self.search.textChanged.connect(lambda _t: self._search_timer.start())
        self.status_group.idClicked.connect(lambda _i: self.apply_view())
        self.table.selectionModel().selectionChanged.connect(self._update_selection)
        self.model.modelReset.connect(self._update_selection)
        self.activate_btn.clicked.connect(self.activate_selected)
        self.deactivate_btn.clicked.connect(self.deactivate_selected)
        self.add_btn.clicked.connect(self.add_user)
        self.import_btn.clicked.connect(self.import_csv)
        self.export_btn.clicked.connect(self.export_csv)
        # Many change notices (one per sync page) collapse into one reload.
        self._reload_timer = QTimer(self)
        self._reload_timer.setSingleShot(True)
        self._reload_timer.setInterval(250)
        self._reload_timer.timeout.connect(self.reload_in_background)
        signals = self.services.signals
        signals.users_changed.connect(self._directory_changed)
        signals.users_changed.connect(self._reload_timer.start)
        signals.connection_changed.connect(self._load_lists_if_connected)
        # During a sync: fresh counts and cell values per page, but no reset (it would drop the
        # admin's selection and scroll position); the id list is re-read once when it finishes.
        self._stale_timer = QTimer(self)
        self._stale_timer.setSingleShot(True)
        self._stale_timer.setInterval(500)
        self._stale_timer.timeout.connect(self.refresh_live)
        self.controller.progress.connect(lambda _p: None if self._stale_timer.isActive() else self._stale_timer.start())
        self.controller.finished.connect(self._show_preview)
        # The window owns the Ctrl+F and F5 shortcuts (a second QShortcut on the same key would
        # make both ambiguous and Qt would fire neither); the tab only answers the requests.
        signals.sync_now_requested.connect(self.config_panel.sync_now)
        signals.find_requested.connect(self.focus_search)

    # -- view ----------------------------------------------------------------------------
    def current_status(self) -> str | None:
        for key, b in self.status_buttons.items():
            if b.isChecked():
                return key
        return "pending"

    def set_status(self, status: str | None) -> None:
        self.status_buttons[status].setChecked(True)
        self.apply_view()

    def apply_view(self) -> None:
        """Show the view the controls ask for; its ids are read on the loader thread.

        Sorting or searching 100,000 rows takes SQLite up to ~100 ms: the window keeps
        painting meanwhile, and a newer request supersedes an older one (see _show_snapshot)."""
        self._request_load("view")

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
        self._shown_gen = self._data_gen
        self.history.reload()

    @property
    def rows_loaded(self) -> bool:
        """True once an id list is on screen (the first one is read on the loader thread)."""
        return self.model.loaded

    def reload_in_background(self) -> None:
        """After a sync or a write: counts and the id list are read on the loader thread."""
        self._request_load("ids")
        self.history.reload()

    def refresh_live(self) -> None:
        """While a sync runs: counts (read off-thread) and visible cells only, no reset."""
        self._directory_changed()
        self._request_load("counts")
        self.model.mark_stale()

    def refresh_counts(self) -> None:
        """Re-read counts, licences and the held banner now (on this thread)."""
        self._show_counts(read_snapshot(self.ctx.db, self.ctx.settings))

    def _request_load(self, what: str) -> None:
        """Queue a read: "counts" (a sync page), "view" (the controls changed: ids only) or
        "ids" (the directory changed: ids and counts). Pending requests merge into one."""
        wanted = {what, self._wanted} - {None}
        if "ids" in wanted or wanted == {"counts", "view"}:
            self._wanted = "ids"
        else:
            self._wanted = what
        if not self.loader.is_running():
            self._load_next()

    def _directory_changed(self) -> None:
        self._data_gen += 1

    def _load_next(self) -> None:
        what, self._wanted = self._wanted, None
        if what is None or self._closing:
            return
        view = self.wanted_view() if what in ("ids", "view") else None
        current = what == "view" and self._shown_gen == self._data_gen
        shown = (self.model.view, self.model.shown_ids) if current else None
        self._loading_gen = self._data_gen
        self.loader.start(load_snapshot, self.ctx.db, self.ctx.settings, view, what != "view", shown)

    def _show_snapshot(self, snap: Snapshot) -> None:
        if snap.counts is not None:
            self._show_counts(snap)
        # The admin may have switched status or searched meanwhile (that re-read at once).
        if snap.ids is not None and snap.view == self.wanted_view():
            self.model.show_ids(snap.view, snap.ids)
            self._shown_gen = self._loading_gen

    def _show_counts(self, snap: Snapshot) -> None:
        counts, lic, held = snap.counts, snap.licences, snap.held
        for key, label in STATUS_BUTTONS:
            n = counts[key] if key else sum(counts.values())
            self.status_buttons[key].setText(f"{label} ({n:,})")
        self.licence_label.setText(str(lic))
        self.licence_label.setStyleSheet("font-weight: bold;" + (theme.colour_css("error") if lic.used >= lic.limit else ""))
        self.held_banner.setVisible(held > 0)
        self.held_banner.setText(f"⚠ {held:,} deactivations are held by the deactivation guard — review them on the Runs page.")

    def focus_search(self) -> None:
        """Ctrl+F: only the visible tab answers the window-wide request."""
        if not self.isVisible():
            return
        self.pages.setCurrentIndex(0)
        self.search.setFocus()
        self.search.selectAll()

    def selected_rows(self) -> list[int]:
        """Selected row numbers from the selection ranges (selectedRows() is O(rows x columns))."""
        model = self.table.selectionModel()
        if model is None:
            return []
        rows: set[int] = set()
        for rng in model.selection():
            rows.update(range(rng.top(), rng.bottom() + 1))
        return sorted(rows)

    def selected_ids(self) -> list[int]:
        return self.model.ids_for_rows(self.selected_rows())

    def _update_selection(self, *_: Any) -> None:
        n = len(self.selected_rows())
        self.selection_label.setText(f"{n:,} selected of {self.model.rowCount():,}" if n else f"{self.model.rowCount():,} shown")
        self.activate_btn.setEnabled(n > 0)
        self.deactivate_btn.setEnabled(n > 0)

    def _context_menu(self, pos) -> None:
        if not self.selected_rows():
            return
        menu = QMenu(self)
        menu.addAction("Activate selected…", self.activate_selected)
        menu.addAction("Deactivate selected", self.deactivate_selected)
        menu.exec(self.table.viewport().mapToGlobal(pos))

    # -- writes (off the GUI thread) ----------------------------------------------------
    def _write(self, fn, *args, **kwargs) -> bool:
        if self.writer.is_running():
            self.services.signals.status_message.emit("Still saving the previous change; try again in a moment.")
            return False
        self.writer.start(_write, fn, *args, **kwargs)
        return True

    def activate(self, ids: list[int], role: str | None, team: str | None) -> bool:
        """Activate ``ids`` with a role and team (worker); refused over the licence limit."""
        self._pending_message = "Activated {n:,} users."
        return self._write(directory.activate, self.ctx.db, self.ctx.settings, ids, role=role, team=team or None)

    def activate_selected(self) -> None:
        ids = self.selected_ids()
        if not ids:
            return
        dialog = ActivateDialog(len(ids), directory.licences(self.ctx.db, self.ctx.settings), self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.activate(ids, dialog.role.currentData(), dialog.team.text().strip())

    def deactivate_selected(self) -> None:
        ids = self.selected_ids()
        if ids:
            self._pending_message = "Deactivated {n:,} users."
            self._write(directory.deactivate, self.ctx.db, ids)

    def add_user(self) -> None:
        dialog = AddUserDialog(self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self._pending_message = "Added user {n}."
            self._write(directory.add_user, self.ctx.db, self.ctx.settings, dialog.new_user())

    def import_csv(self, path: str | None = None) -> None:
        if not path:
            path, _ = QFileDialog.getOpenFileName(self, "Import EvalSync users", "", "CSV files (*.csv *.txt)")
        if path:
            self._pending_message = "{n}"
            self._write(directory.import_csv, self.ctx.db, self.ctx.settings, path)

    def export_csv(self, path: str | None = None) -> None:
        if not path:
            path, _ = QFileDialog.getSaveFileName(self, "Export users", "evalsync-users.csv", "CSV files (*.csv)")
        if path:
            self._pending_message = "Exported {n:,} users to " + str(path).replace("{", "{{").replace("}", "}}") + "."
            self._write(directory.export_csv, self.ctx.db, path, self.model.view)

    def change_limit(self) -> None:
        """Edit the licence limit setting (active users allowed)."""
        current = directory.licence_limit(self.ctx.settings)
        value, ok = QInputDialog.getInt(self, "Licence limit", "Active users your plan allows:", current, 1, 10_000_000)
        if ok and value != current:
            self._pending_message = f"Licence limit set to {value:,}."
            self._write(self.ctx.settings.set, directory.LICENCE_KEY, value)

    def _show_preview(self, result: Any) -> None:
        if getattr(result, "dry_run", False) and self.isVisible():
            PreviewDialog(result, self).open()

    def _write_done(self, result: Any) -> None:
        message = getattr(self, "_pending_message", "{n}")
        self.services.signals.status_message.emit(message.format(n=result) if "{" in message else message)
        self.services.signals.users_changed.emit()

    def _write_failed(self, message: str) -> None:
        self.services.signals.status_message.emit(message)

    # -- lifecycle -----------------------------------------------------------------------
    def shutdown(self) -> None:
        """Stop this tab's workers; called from the main window's closeEvent (must return within 2 s)."""
        self._closing = True
        self._search_timer.stop()
        self._reload_timer.stop()
        self._stale_timer.stop()
        self.controller.cancel()
        self.writer.cancel()
        self.loader.cancel()
        self.controller.shutdown(1000)
        self.writer.shutdown(300)
        self.loader.shutdown(300)
        self.config_panel.shutdown()
        self.history.shutdown()
