"""The system tray icon: sync state at a glance, a notification when a sync ends.

Also shows chat requests a chat run held for review (``AppSignals.chat_review_changed``).

Listens to ``AppSignals.sync_state_changed`` ('idle' | 'running' | 'completed' | 'failed' |
'held') and ``sync_finished`` (a core SyncResult, read duck-typed so this module does not
depend on its exact shape). Not created where the platform has no tray (e.g. offscreen).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, QPointF, Signal, Slot
from PySide6.QtGui import QAction, QColor, QIcon, QPainter
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from evalsync_gui import APP_NAME

# Status-dot colours are semantic (traffic lights), drawn on the icon, not theme colours.
_STATE_DOTS = {"running": "#1e88e5", "completed": "#43a047", "failed": "#e53935", "held": "#fb8c00"}
_STATE_TEXT = {
    "idle": "idle", "running": "syncing…", "completed": "last sync completed",
    "failed": "last sync failed", "held": "deactivations held for review",
}


def state_icon(base: QIcon, state: str, size: int = 64) -> QIcon:
    """``base`` with a coloured dot in the corner for non-idle states."""
    color = _STATE_DOTS.get(state)
    if color is None:
        return base
    pixmap = base.pixmap(size, size)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(QColor("white"))
    painter.setBrush(QColor(color))
    r = size * 0.2
    painter.drawEllipse(QPointF(size - r - 1, size - r - 1), r, r)
    painter.end()
    return QIcon(pixmap)


def describe_result(result: Any) -> tuple[str, str]:
    """(status, one-line summary) from a SyncResult-like object, tolerant of missing fields."""
    status = str(getattr(result, "status", "completed") or "completed")
    summary = getattr(result, "summary", None)
    if callable(summary):
        summary = summary()
    if not summary:
        message = getattr(result, "message", None) or getattr(result, "error", None)
        summary = str(message) if message else f"Sync {status}."
    return status, str(summary)


class TrayIcon(QObject):
    """Owns a QSystemTrayIcon with Show, Sync now and Quit; call :meth:`hide` on exit."""

    show_requested = Signal()
    quit_requested = Signal()

    def __init__(self, icon: QIcon, signals: Any, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._base_icon = icon
        self._signals = signals
        self.state = "idle"
        self.chat_review = 0  # chat requests held for review by a chat run
        self.tray = QSystemTrayIcon(icon, self)
        self.tray.setToolTip(f"{APP_NAME}: idle")
        menu = QMenu()
        self._menu = menu  # QSystemTrayIcon does not take ownership of its menu
        show = QAction("&Show EvalSync", menu)
        show.triggered.connect(self.show_requested)
        sync = QAction("Sync &now", menu)
        sync.triggered.connect(signals.sync_now_requested)
        quit_ = QAction("&Quit", menu)
        quit_.triggered.connect(self.quit_requested)
        menu.addActions([show, sync])
        menu.addSeparator()
        menu.addAction(quit_)
        self.tray.setContextMenu(menu)
        self.tray.activated.connect(self._on_activated)
        signals.sync_state_changed.connect(self.set_state)
        signals.sync_finished.connect(self.notify_finished)
        signals.chat_review_changed.connect(self.set_chat_review)

    @staticmethod
    def available() -> bool:
        return QSystemTrayIcon.isSystemTrayAvailable()

    def show(self) -> None:
        self.tray.show()

    def hide(self) -> None:
        self.tray.hide()

    @Slot(str)
    def set_state(self, state: str) -> None:
        self.state = state
        self._draw()
        if state == "held":
            self.tray.showMessage(APP_NAME, "Deactivations are held by the guard; review them in User sync.",
                                  QSystemTrayIcon.MessageIcon.Warning)

    @Slot(int)
    def set_chat_review(self, waiting: int) -> None:
        """Show (and announce once) chat requests a chat run held for review."""
        before, self.chat_review = self.chat_review, max(0, int(waiting))
        self._draw()
        if self.chat_review and not before:
            self.tray.showMessage(APP_NAME, f"A chat run held {self.chat_review} new agents for review; Allow or "
                                  "Discard them in Chat agents → Sources.", QSystemTrayIcon.MessageIcon.Warning)

    def _draw(self) -> None:
        shown = "held" if self.chat_review and self.state in ("idle", "completed") else self.state
        self.tray.setIcon(state_icon(self._base_icon, shown))
        tip = f"{APP_NAME}: {_STATE_TEXT.get(self.state, self.state)}"
        if self.chat_review:
            tip += f"; {self.chat_review} chat requests need review"
        self.tray.setToolTip(tip)

    @Slot(object)
    def notify_finished(self, result: Any) -> None:
        status, summary = describe_result(result)
        icon = (QSystemTrayIcon.MessageIcon.Critical if status == "failed"
                else QSystemTrayIcon.MessageIcon.Warning if status == "held"
                else QSystemTrayIcon.MessageIcon.Information)
        self.tray.showMessage(f"{APP_NAME}: sync {status}", summary, icon)

    @Slot(QSystemTrayIcon.ActivationReason)
    def _on_activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason in (QSystemTrayIcon.ActivationReason.Trigger, QSystemTrayIcon.ActivationReason.DoubleClick):
            self.show_requested.emit()
