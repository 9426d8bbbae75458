"""A line above the users table that says why a sync waits and for how long.

The sync's progress carries ``waiting_seconds`` and ``wait_reason`` while the HTTP client
waits out Zendesk's rate limit (or a retry); this note counts the wait down each second
("Zendesk's limit: resumes in 43 s") and repeats it in the status bar once, so a long wait
never looks like a hang. A resumed sync says so instead of showing zero pages read.
"""

from __future__ import annotations

import math
import time
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QLabel, QWidget

from evalsync_gui.gui.services import Services


def wait_text(reason: str, seconds: float) -> str:
    """"Zendesk's limit: resumes in 43 s"."""
    return f"{reason or 'Waiting'}: resumes in {max(0, math.ceil(seconds)):,} s"


class WaitNote(QLabel):
    """Hidden unless the running sync waits or resumes."""

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setAccessibleName("Sync wait")
        self.setStyleSheet("background: #e7f1ff; color: #084298; padding: 3px;")
        self._reason = ""
        self._until = 0.0
        self._tick = QTimer(self)
        self._tick.setInterval(1000)
        self._tick.timeout.connect(self._update)
        self.hide()

    def on_progress(self, p: Any) -> None:
        """A sync progress report: start, keep or end the countdown."""
        waiting = float(getattr(p, "waiting_seconds", 0) or 0)
        if waiting > 0:
            self._reason = str(getattr(p, "wait_reason", "") or "")
            self._until = time.monotonic() + waiting
            self._update()
            self.services.signals.status_message.emit(self.text())
            self._tick.start()
        elif getattr(p, "phase", "") == "resume":
            self._tick.stop()
            self.setText(f"Sync {getattr(p, 'message', '') or 'resuming'}.")
            self.show()
        elif self._tick.isActive() or self.isVisible():
            self.stop()

    def _update(self) -> None:
        left = self._until - time.monotonic()
        if left <= 0:
            self._tick.stop()
            self.setText(f"{self._reason or 'Waiting'}: resuming now…")
        else:
            self.setText(wait_text(self._reason, left))
        self.show()

    def stop(self) -> None:
        """The sync ended or reads again: hide."""
        self._tick.stop()
        self.hide()
