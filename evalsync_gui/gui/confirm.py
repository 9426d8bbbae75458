"""Ask before a destructive action, with the counts, and Cancel as the default answer.

Used by Undo run, Allow/Discard held deactivations and scope changes, so every such question
looks the same: a title, one bold line saying what will happen to how many users, a second
line with the details, and a button named for the action (never a bare "Yes").
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget

CONFIRM_OBJECT_NAME = "confirmDialog"


def confirm(parent: QWidget | None, title: str, text: str, details: str, action: str) -> bool:
    """Show a modal question; True only when the user clicks the ``action`` button."""
    box = QMessageBox(parent)
    box.setObjectName(CONFIRM_OBJECT_NAME)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle(title)
    box.setTextFormat(Qt.TextFormat.PlainText)  # counts and user names, never markup
    box.setText(text)
    box.setInformativeText(details)
    go = box.addButton(action, QMessageBox.ButtonRole.AcceptRole)
    cancel = box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(cancel)
    box.setEscapeButton(cancel)
    box.exec()
    clicked = box.clickedButton()
    box.deleteLater()
    return clicked is go
