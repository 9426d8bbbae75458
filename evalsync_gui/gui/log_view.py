"""The in-window log: a logging handler that forwards records to a dock as a Qt signal.

:class:`QtLogHandler` may be called from any thread (workers log too); it formats the record
(already redacted by core.logsetup's filter), keeps the last lines in a ring buffer so a log
view opened later still shows history, and emits ``line`` which Qt queues to the GUI thread.
"""

from __future__ import annotations

import logging
import threading
from collections import deque

from PySide6.QtCore import QObject, Qt, QUrl, Signal, Slot
from PySide6.QtGui import QDesktopServices, QFontDatabase, QShowEvent, QTextCursor
from PySide6.QtWidgets import QDockWidget, QHBoxLayout, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget

from evalsync_gui.core.logsetup import LOG_FORMAT, RedactingFilter
from evalsync_gui.gui.formats import format_datetime

HISTORY_LINES = 2000


class _LocalTimeFormatter(logging.Formatter):
    """The log file's line format, with the window's one date-time format (local, to the second)."""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802 - logging API
        return format_datetime(record.created, seconds=True)


class _Bridge(QObject):
    line = Signal(str)


class QtLogHandler(logging.Handler):
    """Thread-safe handler; connect to :attr:`line` (a ``Signal(str)``) for new lines."""

    def __init__(self, level: int = logging.INFO, history: int = HISTORY_LINES) -> None:
        super().__init__(level)
        self._bridge = _Bridge()
        self.line = self._bridge.line
        self._history: deque[str] = deque(maxlen=history)
        self._history_lock = threading.Lock()
        self.addFilter(RedactingFilter())
        self.setFormatter(_LocalTimeFormatter(LOG_FORMAT))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record)
            with self._history_lock:
                self._history.append(text)
            self._bridge.line.emit(text)
        except RuntimeError:  # the bridge is gone during interpreter shutdown
            pass
        except Exception:
            self.handleError(record)

    def history(self) -> list[str]:
        """The most recent formatted lines, oldest first."""
        with self._history_lock:
            return list(self._history)


class LogView(QDockWidget):
    """A dock showing the live log, with buttons to clear it and open the log folder."""

    def __init__(self, handler: QtLogHandler, log_folder: str | None = None, parent: QWidget | None = None) -> None:
        super().__init__("Log", parent)
        self.setObjectName("logDock")  # saveState() needs a name
        self.setAccessibleName("Log")
        self._log_folder = log_folder
        body = QWidget(self)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)
        self.text = QPlainTextEdit(body)
        self.text.setReadOnly(True)
        self.text.setMaximumBlockCount(HISTORY_LINES)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.text.setAccessibleName("Log messages")
        layout.addWidget(self.text)
        buttons = QHBoxLayout()
        clear = QPushButton("&Clear", body)
        clear.setAccessibleName("Clear log view")
        clear.clicked.connect(self.text.clear)
        folder = QPushButton("Open log &folder", body)
        folder.setAccessibleName("Open log folder")
        folder.clicked.connect(self.open_folder)
        folder.setEnabled(bool(log_folder))
        buttons.addWidget(clear)
        buttons.addWidget(folder)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self.setWidget(body)
        for line in handler.history():
            self.text.appendPlainText(line)
        self._cursor_to_last_line_start()
        handler.line.connect(self.append_line, Qt.ConnectionType.QueuedConnection)

    def _cursor_to_last_line_start(self) -> None:
        """Lines are long and unwrapped; a cursor at the end of the last one would scroll the view right."""
        cursor = self.text.textCursor()
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.movePosition(QTextCursor.MoveOperation.StartOfBlock)
        self.text.setTextCursor(cursor)

    @Slot(str)
    def append_line(self, line: str) -> None:
        """Add a line without moving the reader sideways (only the bottom follows new lines)."""
        across = self.text.horizontalScrollBar()
        left = across.value()
        self.text.appendPlainText(line)
        across.setValue(left)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt API
        super().showEvent(event)
        self.text.horizontalScrollBar().setValue(0)  # opens at the start of the lines, where the time is

    @Slot()
    def open_folder(self) -> None:
        if self._log_folder:
            QDesktopServices.openUrl(QUrl.fromLocalFile(self._log_folder))
