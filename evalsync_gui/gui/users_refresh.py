"""Keeps the users table and its counts current, reading everything on a loader thread.

Requests merge: "counts" (a sync page), "view" (the admin switched status, searched or
sorted: ids only) and "ids" (the directory changed: ids and counts). While a sync runs the
counts are re-read every 500 ms and, every :data:`LIVE_IDS_MS`, the users it added since (ids
above the highest shown) are appended at the end of the table when the end is on screen: the
rows already imported appear without a click, and nothing is reset, so selection and scroll
stay (below a full screen nothing is appended: it could not be seen, and the counts and the
end-of-sync re-read show them). The new ids ride on the
counts read, with the rows of those that land on screen, and are shown in the same turn as the
counts: a repaint of the table costs tens of milliseconds, so one repaint, not two, and no row
read on the GUI thread (a separate append cost the heartbeat 85 ms gaps). When the sync ends the
list is read again in order; that re-read of the view on screen keeps the scroll position and
the selection (all of it after Ctrl+A, or up to :data:`KEEP_SELECTED` rows).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QItemSelectionModel, QObject, QTimer

from evalsync_gui.core import directory
from evalsync_gui.gui.services import Services
from evalsync_gui.gui.users_loader import Snapshot, load_snapshot
from evalsync_gui.gui.users_model import UsersModel
from evalsync_gui.gui.users_table import UsersTable
from evalsync_gui.gui.workers import TaskController

#: During a sync the id list is re-read this often, so new rows appear without a click.
LIVE_IDS_MS = 2000
#: Selections up to this size survive a live refresh row by row; "all" always survives.
KEEP_SELECTED = 1000
#: Rows a live refresh reads when the table cannot say what is on screen (hidden, not laid out).
VISIBLE_GUESS = 60


class ViewRefresher(QObject):
    """Reads counts and id lists off the GUI thread and shows them in ``model``/``table``."""

    def __init__(self, services: Services, model: UsersModel, table: UsersTable,
                 wanted_view: Callable[[], directory.View], show_counts: Callable[[Snapshot], None],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.services, self.model, self.table = services, model, table
        self._wanted_view, self._show_counts = wanted_view, show_counts
        self.loader = TaskController(self, name="users.load")
        self.loader.finished.connect(self._show_snapshot)
        self.loader.failed.connect(services.signals.status_message)
        self.loader.done.connect(self._load_next)
        self._wanted: str | None = None  # None, "counts", "view" or "ids": the next load to run
        # The shown ids are current while no change arrived since the load that read them
        # began; only then may a search typed further filter them (see users_loader).
        self._data_gen = self._loading_gen = self._shown_gen = 0
        self._closing = False
        self._live_rows = False  # the next counts read also brings the rows on screen
        self._new_ids_due = False  # ...and the users the running sync added since
        self.stale_timer = _timer(self, 500, self.refresh_live)
        self.live_ids_timer = _timer(self, LIVE_IDS_MS, self._append_new, single=False)

    # -- requests --------------------------------------------------------------------------
    def request(self, what: str) -> None:
        """Queue a read of "counts", "view" or "ids"; pending requests merge into one."""
        wanted = {what, self._wanted} - {None}
        if "ids" in wanted or wanted == {"counts", "view"}:
            self._wanted = "ids"
        else:
            self._wanted = what
        if not self.loader.is_running():
            self._load_next()

    def directory_changed(self) -> None:
        """The directory changed: the shown ids may no longer be narrowed in place."""
        self._data_gen += 1

    def shown_now(self) -> None:
        """The caller just showed the wanted view's ids itself (read on its own thread)."""
        self._shown_gen = self._data_gen

    def sync_progress(self) -> None:
        """A sync page arrived: refresh counts and cells within 500 ms (coalesced)."""
        if not self.stale_timer.isActive():
            self.stale_timer.start()

    def sync_running(self, running: bool) -> None:
        if running:
            self.live_ids_timer.start()
        else:
            self.live_ids_timer.stop()  # the sync's users_changed re-reads the list in order

    def refresh_live(self) -> None:
        """While a sync runs: counts and the visible rows, both read off-thread; no reset."""
        self.directory_changed()
        self._live_rows = True
        self.request("counts")

    def _append_new(self) -> None:
        """Time to show the users the running sync added: the next live refresh (within 500 ms,
        coalesced with the one a sync page asks for) reads them too."""
        self._new_ids_due = True
        self.sync_progress()

    # -- loading ---------------------------------------------------------------------------
    def _load_next(self) -> None:
        what, self._wanted = self._wanted, None
        if what is None or self._closing:
            return
        view = self._wanted_view() if what in ("ids", "view") else None
        current = what == "view" and self._shown_gen == self._data_gen
        shown = (self.model.view, self.model.shown_ids) if current else None
        self._loading_gen = self._data_gen
        live = self._live_rows and what == "counts"
        visible, self._live_rows = (self._visible_ids() if live else None), False
        after, room = None, 0
        if live and self._new_ids_due and self.model.loaded:
            self._new_ids_due = False
            room = self._room_below()
            # Rows appended below a full screen cannot be seen, and each append repaints the
            # table (~40 ms at 1280x800): only append where the admin can see the end of the list.
            after = (self.model.view, self.model.max_id) if room > 0 else None
        ctx = self.services.ctx
        self.loader.start(load_snapshot, ctx.db, ctx.settings, view, what != "view", shown, visible, after, room)

    def _visible_ids(self) -> list[int]:
        """The ids on screen (with a few rows' margin): what a live refresh re-reads."""
        top = max(0, self.table.rowAt(0))
        bottom = self.table.rowAt(self.table.viewport().height() - 1)
        if bottom < 0:  # a short list, or the table not laid out yet: a screenful at most
            bottom = top + VISIBLE_GUESS
        return self.model.ids_between(top - 5, bottom + 5)

    def _room_below(self) -> int:
        """How many rows added at the end would be on screen (with a few rows' margin)."""
        top = max(0, self.table.rowAt(0))
        height = self.table.viewport().height()
        fits = height // max(1, self.table.verticalHeader().defaultSectionSize()) + 1 if height > 0 else VISIBLE_GUESS
        return max(0, top + fits + 5 - self.model.rowCount())

    def _show_new(self, snap: Snapshot) -> None:
        """Append the users a running sync added, unless the list was re-read meanwhile."""
        if snap.after == (self.model.view, self.model.max_id) and len(snap.new_ids or ()):
            keep_all = self.table.all_selected()
            self.model.append_ids(snap.new_ids)
            if keep_all:
                self.table.selectAll()

    def _show_snapshot(self, snap: Snapshot) -> None:
        if snap.counts is not None:
            self._show_counts(snap)
        if snap.rows is not None:
            self.model.mark_stale(snap.rows)
        if snap.new_ids is not None:
            self._show_new(snap)
        # The admin may have switched status or searched meanwhile (that re-read at once).
        if snap.ids is not None and snap.view == self._wanted_view():
            self._show_ids(snap)
            self._shown_gen = self._loading_gen

    def _show_ids(self, snap: Snapshot) -> None:
        """Show a new id list; the same view re-read (a live refresh) keeps scroll and selection."""
        table, model = self.table, self.model
        same_view = model.loaded and snap.view == model.view
        keep_all = same_view and table.all_selected()
        small = table.selection_size() <= KEEP_SELECTED
        keep = model.ids_for_rows(table.selected_rows()) if same_view and not keep_all and small else []
        top = table.rowAt(0) if same_view else -1
        top_id = model.user_id(top) if 0 <= top < model.rowCount() else None
        model.show_ids(snap.view, snap.ids)
        if keep_all:
            table.selectAll()
        elif keep:
            self._reselect(keep)
        row = model.row_of(top_id) if top_id is not None else None
        if row is not None:
            table.scrollTo(model.index(row, 0), table.ScrollHint.PositionAtTop)

    def _reselect(self, ids: list[int]) -> None:
        flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
        for uid in ids:
            row = self.model.row_of(uid)
            if row is not None:
                self.table.selectionModel().select(self.model.index(row, 0), flags)

    def shutdown(self) -> None:
        self._closing = True
        self.stale_timer.stop()
        self.live_ids_timer.stop()
        self.loader.shutdown(300)


def _timer(parent: QObject, ms: int, slot: Callable[[], None], *, single: bool = True) -> QTimer:
    timer = QTimer(parent)
    timer.setSingleShot(single)
    timer.setInterval(ms)
    timer.timeout.connect(slot)
    return timer
