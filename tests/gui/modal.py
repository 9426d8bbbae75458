"""Answer the modal dialogs a click opens, as the user would: read it, then click one of its buttons.

A modal ``exec()`` runs its own event loop, so the answer must come from a timer armed before
the click. :class:`ModalAnswerer` polls for the active modal widget and records what it said.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QAbstractButton, QApplication, QDialog, QMessageBox, QWidget


def dialog_text(w: QWidget) -> str:
    """Title, text and informative text of a message box (the title only for other dialogs)."""
    if isinstance(w, QMessageBox):
        return "\n".join((w.windowTitle(), w.text(), w.informativeText()))
    return w.windowTitle()


@dataclass
class ModalAnswerer:
    """Click the button whose text starts with ``button`` (None: reject) on each modal that opens."""

    button: str | None = None
    limit: int = 1  #: how many modals to answer before stopping
    #: instead of clicking ``button``: called with the modal widget (fill a file dialog, then accept it)
    handle: Callable[[QWidget], None] | None = None
    seen: list[str] = field(default_factory=list)
    timer: QTimer = field(default_factory=QTimer)

    def __post_init__(self) -> None:
        self.timer.setInterval(20)
        self.timer.timeout.connect(self._poll)
        self.timer.start()

    def _poll(self) -> None:
        w = QApplication.activeModalWidget()
        if w is None or not w.isVisible():
            return
        self.seen.append(dialog_text(w))
        if self.handle is not None:
            self.handle(w)
            self._count()
            return
        target = None
        if self.button is not None:
            target = next((b for b in w.findChildren(QAbstractButton)
                           if b.isVisible() and b.text().replace("&", "").startswith(self.button)), None)
        if target is not None:
            target.click()
        elif isinstance(w, QDialog):
            w.reject()
        else:
            w.close()
        self._count()

    def _count(self) -> None:
        if len(self.seen) >= self.limit:
            self.timer.stop()

    def stop(self) -> None:
        self.timer.stop()
