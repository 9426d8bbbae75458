"""The users table model: an ordered id list plus a bounded, lazily filled row cache.

Built for 100,000 users the Anki way: sorting and filtering re-run one ``SELECT id`` in SQL
(no QSortFilterProxyModel, which would call ``data()`` for every row), and ``data()`` loads
rows in blocks of :data:`BLOCK` around the one asked for, so only what is painted is read.
"""

from __future__ import annotations

from array import array
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush

from evalsync_gui.core import directory
from evalsync_gui.core.store.db import Database
from evalsync_gui.gui import theme

BLOCK = 200
CACHE_ROWS = 4000

#: (header, row key, sort key); every column sorts in SQL.
COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("Name", "name", "name"),
    ("E-mail", "email", "email"),
    ("Zendesk role", "zendesk_role", "zendesk_role"),
    ("Custom role", "custom_role_name", "custom_role"),
    ("Status", "status", "status"),
    ("EvalSync role", "evalsync_role", "evalsync_role"),
    ("Team", "team", "team"),
    ("Imported", "imported_at", "imported"),
    ("Last change", "updated_at", "updated"),
)
ID_ROLE = Qt.ItemDataRole.UserRole + 1
_FOREGROUND, _TOOLTIP = int(Qt.ItemDataRole.ForegroundRole), int(Qt.ItemDataRole.ToolTipRole)
_ROLES = frozenset((int(Qt.ItemDataRole.DisplayRole), _TOOLTIP, _FOREGROUND, int(ID_ROLE)))

_STATUS_TEXT = {"pending": "Pending", "active": "Active", "deactivated": "Deactivated"}


def short_time(text: str | None) -> str:
    """'2026-01-05T10:00:00Z' -> '2026-01-05 10:00' (cheap: no datetime parsing per cell)."""
    return text[:16].replace("T", " ") if text else ""


class UsersModel(QAbstractTableModel):
    """Rows are users of the current :class:`directory.View`; ``ID_ROLE`` gives a row's user id."""

    def __init__(self, db: Database, parent=None) -> None:
        super().__init__(parent)
        self._db = db
        self._view = directory.View(status="pending")
        #: The order asked for last: shown, or being read when ``view_requested`` is set.
        self.order: tuple[str, bool] = (self._view.sort, self._view.descending)
        #: Set by the tab to read a new order's ids off the GUI thread (then :meth:`show_ids`);
        #: without it a header click reads them at once (scripts, model tests).
        self.view_requested: Callable[[directory.View], None] | None = None
        self._ids = array("q")
        #: The highest id shown: a running sync's new users are the ids above it.
        self.max_id = 0
        self._cache: OrderedDict[int, Any] = OrderedDict()
        self._loaded = False  # the view's first sort() (from the header) only records the order

    # -- view control ----------------------------------------------------------------------
    @property
    def view(self) -> directory.View:
        return self._view

    def set_view(self, view: directory.View) -> None:
        """Show ``view``: one SQL query for the ids (on this thread), then a reset."""
        self.show_ids(view, directory.query_ids(self._db, view))

    def show_ids(self, view: directory.View, ids: array) -> None:
        """Show ``view`` with ids already read (by a worker thread); resets the model."""
        self._loaded = True
        self.beginResetModel()
        self._view, self._ids = view, ids
        self.max_id = max(ids) if ids else 0
        self.order = (view.sort, view.descending)
        self._cache.clear()
        self.endResetModel()

    @property
    def loaded(self) -> bool:
        """True once an id list has been shown (the tab reads the first one on its loader thread)."""
        return self._loaded

    @property
    def shown_ids(self) -> array:
        """The ids on screen, in order (never changed in place: safe to read from a loader thread)."""
        return self._ids

    def refresh(self) -> None:
        """Re-read ids and rows after the directory changed (a sync page, an activation)."""
        self.set_view(self._view)

    def mark_stale(self, fresh: dict | None = None) -> None:
        """Drop cached rows without changing the id list; visible rows re-read on next paint,
        unless ``fresh`` (id -> row, read off-thread) already holds them.

        When every fresh row equals the one on screen nothing is repainted: a repaint of the
        table costs tens of milliseconds of the GUI thread, and during a sync the rows on
        screen rarely change while the counts are re-read every 500 ms."""
        changed = not fresh or any(self._cache.get(uid) != row for uid, row in fresh.items())
        self._cache.clear()
        if fresh:
            self._cache.update(fresh)
        if self._ids and changed:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._ids) - 1, len(COLUMNS) - 1))

    def user_id(self, row: int) -> int:
        return self._ids[row]

    def append_ids(self, ids: array) -> None:
        """Add rows at the end (users a running sync imported): no reset, so the admin's
        selection and scroll position stay; the next full read puts them in order."""
        if not ids:
            return
        first = len(self._ids)
        self.beginInsertRows(QModelIndex(), first, first + len(ids) - 1)
        self._ids = self._ids + ids  # a new array: a loader thread may still read the old one
        self.max_id = max(self.max_id, max(ids))
        self.endInsertRows()

    def ids_between(self, first: int, last: int) -> list[int]:
        """The ids of rows ``first``..``last`` (clipped to the list)."""
        return list(self._ids[max(0, first):max(0, last + 1)])

    def row_of(self, user_id: int) -> int | None:
        """The row showing ``user_id``, or None (one C-level scan of the id array: ~1 ms at 100k)."""
        try:
            return self._ids.index(user_id)
        except ValueError:
            return None

    def ids_for_rows(self, rows: list[int]) -> list[int]:
        return [self._ids[r] for r in rows if 0 <= r < len(self._ids)]

    # -- Qt model API --------------------------------------------------------------------
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._ids)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal and 0 <= section < len(COLUMNS):
            return COLUMNS[section][0]
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(COLUMNS):
            return
        descending = order == Qt.SortOrder.DescendingOrder
        view = directory.View(self._view.status, self._view.search, COLUMNS[column][2], descending)
        if not self._loaded:
            self._view = view
            self.order = (view.sort, view.descending)
            return
        if self.view_requested is not None:
            self.order = (view.sort, view.descending)
            self.view_requested(view)
        else:
            self.set_view(view)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        # A painted cell asks for ~7 roles and only 3 have answers: the cheap int test comes first
        # (at 30 rows x 9 columns a repaint makes ~1,900 calls into this method).
        if role not in _ROLES or not index.isValid():
            return None
        r = index.row()
        if not 0 <= r < len(self._ids):
            return None
        if role == ID_ROLE:
            return self._ids[r]
        row = self._row(r)
        if row is None:
            return None
        if role == _FOREGROUND:
            if row["status"] == "deactivated":
                return QBrush(theme.colour("muted"))  # deactivated rows: theme-aware grey
            return QBrush(theme.colour("warn")) if row["flag"] == "returned" else None
        if role == _TOOLTIP:
            return self._tooltip(row)
        key = COLUMNS[index.column()][1]
        value = row[key]
        if key == "status":
            return _STATUS_TEXT.get(value, value) + (" (returned in Zendesk)" if row["flag"] == "returned" else "")
        if key in ("imported_at", "updated_at"):
            return short_time(value)
        if key == "evalsync_role":
            return directory.ROLES.get(value, value) if value else ""
        if key == "zendesk_role":
            return (value or "").capitalize() if value else ("Added by hand" if row["source"] != "zendesk" else "")
        return value or ""

    # -- cache ---------------------------------------------------------------------------
    def _row(self, row: int):
        uid = self._ids[row]
        hit = self._cache.get(uid)
        if hit is not None:
            self._cache.move_to_end(uid)
            return hit
        start = max(0, row - BLOCK // 4)
        block = [i for i in self._ids[start:start + BLOCK] if i not in self._cache]
        self._cache.update(directory.fetch_rows(self._db, block))
        while len(self._cache) > CACHE_ROWS:
            self._cache.popitem(last=False)
        return self._cache.get(uid)

    @staticmethod
    def _tooltip(row) -> str:
        parts = [f"{row['name']} <{row['email'] or 'no e-mail'}>"]
        if row["zendesk_id"]:
            parts.append(f"Zendesk user {row['zendesk_id']}")
        if row["identifier"]:
            parts.append(f"Identifier: {row['identifier']}")
        if row["evalsync_role"] or row["team"]:
            role = directory.ROLES.get(row["evalsync_role"] or "", row["evalsync_role"] or "no role")
            parts.append(f"EvalSync: {role}" + (f", team {row['team']}" if row["team"] else ""))
        if row["status"] == "deactivated" and row["deactivation_reason"]:
            parts.append(f"Deactivated by {row['deactivated_by'] or 'sync'}: {row['deactivation_reason']}")
        if row["flag"] == "returned":
            parts.append("Active again in Zendesk; reactivate here if they should count again.")
        return "\n".join(parts)
