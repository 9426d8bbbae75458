"""The details pane: one user's fields and their sync history, read on a worker thread.

Opened by a double-click (or Enter) on a row; while open it follows the current row. Every
value comes from Zendesk or an admin, so every label is plain text.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from evalsync_gui.core import directory
from evalsync_gui.gui import theme
from evalsync_gui.gui.rows_model import RowsView
from evalsync_gui.gui.services import Services
from evalsync_gui.gui.users_model import short_time
from evalsync_gui.gui.workers import Task, TaskController

FIELDS = (("E-mail", "email"), ("Status", "status"), ("EvalSync role", "evalsync_role"), ("Team", "team"),
          ("Zendesk role", "zendesk_role"), ("Custom role", "custom_role_name"), ("Identifier", "identifier"),
          ("Zendesk id", "zendesk_id"), ("Imported", "imported_at"), ("Last change", "updated_at"),
          ("Deactivated", "deactivation_reason"))
HISTORY_HEADERS = ("When", "By", "Change", "Reason", "State")
HISTORY_LIMIT = 200
_STATUS_TEXT = {"pending": "Pending", "active": "Active", "deactivated": "Deactivated"}


def read_details(task: Task, db, user_id: int) -> tuple[dict, list[dict]]:
    """Worker body: the user and their newest changes."""
    task.raise_if_cancelled()
    return directory.get_user(db, user_id), directory.user_history(db, user_id, HISTORY_LIMIT)


def _value(user: dict, key: str) -> str:
    value = user.get(key)
    if key == "status":
        return _STATUS_TEXT.get(value, str(value))
    if key == "zendesk_role":
        return str(value).capitalize() if value else "—"
    if key == "evalsync_role":
        return directory.ROLES.get(value or "", value or "—")
    if key in ("imported_at", "updated_at"):
        return short_time(value) or "—"
    if key == "deactivation_reason" and value:
        return f"by {user.get('deactivated_by') or 'sync'}: {value}"
    return str(value) if value not in (None, "") else "—"


def history_row(change: dict) -> tuple:
    """One history row: when, who (run number and trigger, or an admin), what, why, state."""
    by = f"Run {change['run_id']} ({change['trigger'] or 'sync'})" if change["run_id"] else "An admin"
    what = change["action"]
    if change["field"]:
        what += f": {change['field']} {change['old_value'] or '—'} → {change['new_value'] or '—'}"
    return short_time(change["at"]), by, what, change["reason"] or "", change["state"]


class DetailsPane(QWidget):
    """Shows one user; ``closed`` when the admin hides it."""

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API: open short, the table keeps most rows
        return QSize(super().sizeHint().width(), 170)

    closed = Signal()

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.user_id: int | None = None
        self._wanted: int | None = None
        self.loader = TaskController(self, name="users.details")
        self.loader.finished.connect(self._show)
        self.loader.failed.connect(self._failed)
        self.loader.done.connect(self._load_next)
        self._build()
        self.hide()

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        top = QHBoxLayout()
        self.title = QLabel()
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        self.title.setStyleSheet("font-weight: bold;")
        self.close_btn = QPushButton("Close details")
        self.close_btn.clicked.connect(self.close_pane)
        top.addWidget(self.title, 1)
        top.addWidget(self.close_btn)
        layout.addLayout(top)
        body = QHBoxLayout()
        body.addLayout(self._fields(), 2)
        right = QVBoxLayout()
        self.history_note = QLabel()
        self.history = RowsView(HISTORY_HEADERS)
        self.history.setAccessibleName("Sync history of this user")
        self.history.setMinimumHeight(80)
        right.addWidget(self.history_note)
        right.addWidget(self.history, 1)
        body.addLayout(right, 3)
        layout.addLayout(body)

    def _fields(self) -> QGridLayout:
        """Two label/value pairs a row, so the pane stays short and the table keeps its rows."""
        grid = QGridLayout()
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(2)
        self.values: dict[str, QLabel] = {}
        for i, (label, key) in enumerate(FIELDS):
            value = QLabel()
            value.setTextFormat(Qt.TextFormat.PlainText)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.values[key] = value
            name = QLabel(label)
            name.setStyleSheet(theme.colour_css("muted"))
            row, col = divmod(i, 2)
            grid.addWidget(name, row, col * 2)
            grid.addWidget(value, row, col * 2 + 1)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(3, 1)
        grid.setRowStretch(len(FIELDS) // 2 + 1, 1)
        return grid

    # -- loading -------------------------------------------------------------------------
    def open_user(self, user_id: int) -> None:
        """Show ``user_id`` (read off the GUI thread); a newer request supersedes an older one."""
        self.show()
        self._wanted = user_id
        if not self.loader.is_running():
            self._load_next()

    def follow(self, user_id: int | None) -> None:
        """The current row changed: follow it while the pane is open."""
        if user_id is not None and self.isVisible() and user_id != self.user_id:
            QTimer.singleShot(0, lambda: self.open_user(user_id))

    def _load_next(self) -> None:
        uid, self._wanted = self._wanted, None
        if uid is not None:
            self.loader.start(read_details, self.services.ctx.db, uid)

    def _show(self, result: tuple[dict, list[dict]]) -> None:
        user, changes = result
        self.user_id = user["id"]
        self.title.setText(f"{user['name']}")
        for key, label in self.values.items():
            label.setText(_value(user, key))
        self.history.set_rows([history_row(c) for c in changes], widths=(120, 150, 260, 200))
        self.history_note.setText(f"Sync history: the newest {len(changes):,} changes" if len(changes) >= HISTORY_LIMIT
                                  else f"Sync history: {len(changes):,} change{'s' if len(changes) != 1 else ''}"
                                  if changes else "No changes recorded for this user yet.")

    def _failed(self, message: str) -> None:
        self.title.setText(message)

    def close_pane(self) -> None:
        self.hide()
        self.user_id = None
        self.closed.emit()

    def shutdown(self) -> None:
        self.loader.shutdown(300)
