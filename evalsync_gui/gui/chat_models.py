"""Table models for the Chat agents tab: plain rows (dicts) in, Qt roles out.

The tab holds at most a few thousand agents and requests, so a list of dicts behind a
QSortFilterProxyModel (search + header sort) is enough; rows arrive as snapshots loaded by a
worker, never queried from the GUI thread.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtGui import QColor

from evalsync_gui.gui.formats import format_datetime

STATUS_COLOURS = {
    "queued": "#e8eef7", "processing": "#fff1c2", "enabled": "#d4f5d9", "created": "#c3f0c8",
    "already_enabled": "#e3f6e6", "rejected": "#ffe0c2", "failed": "#ffd0d0",
    "needs_admin_step": "#fde7c8", "completed_after_admin_step": "#c3f0c8",
    "pending": "#fff1c2", "sent": "#d4f5d9",
    "disable": "#fff1c2", "delete": "#ffd0d0", "admin_step": "#fde7c8",
    "0": "#ececec",  # a disabled agent (colour_key "enabled")
}
# The status tints are pale, so their text is always near-black: readable in light AND dark themes
# (the theme's own text colour would be near-white on a pale tint in a dark theme).
STATUS_TEXT = "#1b1b1b"
_LABELLED = set(STATUS_COLOURS) | {"keep"}
STATUS_LABELS = {"already_enabled": "Already enabled", "needs_admin_step": "To do in Zendesk",
                 "completed_after_admin_step": "Done after admin step", "admin_step": "Admin step"}

Column = tuple[str, str, Callable[[dict], Any] | None]  # (header, key, formatter)


def label(value: Any) -> str:
    if isinstance(value, str) and value in STATUS_LABELS:
        return STATUS_LABELS[value]
    if isinstance(value, str) and value in _LABELLED:
        return value.capitalize()
    return "" if value is None else str(value)


class RowsModel(QAbstractTableModel):
    """Rows of dicts; ``colour_key`` names the field whose value picks the row colour."""

    def __init__(self, columns: Sequence[Column], colour_key: str | None = None, parent=None) -> None:
        super().__init__(parent)
        self.columns = list(columns)
        self.colour_key = colour_key
        self.rows: list[dict] = []

    def set_rows(self, rows: list[dict]) -> None:
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008 - Qt signature
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.DisplayRole) -> Any:
        if role == Qt.DisplayRole and orientation == Qt.Horizontal:
            return self.columns[section][0]
        return None

    def value(self, row: int, col: int) -> Any:
        _, key, fmt = self.columns[col]
        data = self.rows[row]
        return fmt(data) if fmt else data.get(key)

    def data(self, index: QModelIndex, role: int = Qt.DisplayRole) -> Any:
        if not index.isValid():
            return None
        if role == Qt.DisplayRole:
            return label(self.value(index.row(), index.column()))
        if role == Qt.UserRole:  # sort key: raw values sort numbers and dates properly
            v = self.value(index.row(), index.column())
            return "" if v is None else v
        if role == Qt.BackgroundRole and self.colour_key:
            colour = STATUS_COLOURS.get(str(self.rows[index.row()].get(self.colour_key)))
            return QColor(colour) if colour else None
        if role == Qt.ForegroundRole and self.colour_key:
            tinted = str(self.rows[index.row()].get(self.colour_key)) in STATUS_COLOURS
            return QColor(STATUS_TEXT) if tinted else None
        if role == Qt.ToolTipRole:
            return label(self.value(index.row(), index.column())) or None
        return None


def proxy_for(model: RowsModel, parent=None) -> QSortFilterProxyModel:
    """Sortable, searchable (all columns, case-insensitive) view of ``model``."""
    proxy = QSortFilterProxyModel(parent)
    proxy.setSourceModel(model)
    proxy.setSortRole(Qt.UserRole)
    proxy.setFilterKeyColumn(-1)
    proxy.setFilterCaseSensitivity(Qt.CaseInsensitive)
    return proxy


def yes_no(key: str) -> Callable[[dict], str]:
    return lambda row: "yes" if row.get(key) else "no"


def when(key: str, *, seconds: bool = False, missing: str = "") -> Callable[[dict], str]:
    """A column formatter showing ``row[key]`` in the app's one date-time format."""
    return lambda row: format_datetime(row.get(key), seconds=seconds) if row.get(key) else missing


AGENT_COLUMNS: list[Column] = [
    ("E-mail", "email", None), ("Name", "display_name", None), ("Enabled", "enabled", yes_no("enabled")),
    ("Last login", "last_login", when("last_login", missing="never")),
    ("Departments", "departments", lambda r: ", ".join(str(d) for d in r.get("departments") or [])),
    ("Role", "is_admin", lambda r: "owner" if r.get("is_owner") else ("admin" if r.get("is_admin") else "")),
]
REQUEST_COLUMNS: list[Column] = [
    ("#", "id", None), ("Status", "status", None), ("E-mail", "email", None), ("Reason", "reason", None),
    ("First name", "first_name", None), ("Last name", "last_name", None), ("Requested by", "requester", None),
    ("Requested at", "requested_at", when("requested_at")), ("Source", "source", None),
]
POLICY_COLUMNS: list[Column] = [
    ("Action", "action", None), ("E-mail", "email", None), ("Name", "name", None),
    ("Last login", "last_login", when("last_login", missing="never")), ("Idle days", "idle_days", None),
    ("Why", "why", None),
]
# Human rows (gui.chat.log_rows adds "what"); the raw record is behind the log page's Details toggle.
LOG_COLUMNS: list[Column] = [
    ("When", "at", when("at", seconds=True)), ("What happened", "what", None), ("Requested by", "requester", None),
    ("Zendesk status", "zendesk_status", None),
]
OUTBOX_COLUMNS: list[Column] = [
    ("To", "to_addr", None), ("Subject", "subject", None), ("Status", "status", None),
    ("Attempts", "attempts", None), ("Last error", "last_error", None), ("Sent", "sent_at", when("sent_at")),
]
TODO_COLUMNS: list[Column] = [
    ("#", "id", None), ("E-mail", "email", None),
    ("Name", "first_name", lambda r: f"{r.get('first_name') or ''} {r.get('last_name') or ''}".strip()),
    ("Requested by", "requester", None), ("Since", "updated_at", when("updated_at")),
    ("Admin Center link", "admin_url", None),
]
