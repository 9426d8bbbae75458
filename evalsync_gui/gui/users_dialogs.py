"""The users tab's dialogs: activate (within the licence limit), add a user, change the limit."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QFormLayout, QInputDialog, QLabel, QLineEdit,
                               QWidget)

from evalsync_gui.core import directory
from evalsync_gui.core.user_selection import ActivationPlan
from evalsync_gui.gui import theme


def _plain(text: str) -> QLabel:
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    return label


def _role_box() -> QComboBox:
    box = QComboBox()
    for key, label in directory.ROLES.items():
        box.addItem(label, key)
    return box


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


class ActivateDialog(QDialog):
    """Choose the EvalSync role and team for a batch of users; refuses past the licence limit.

    When the users needing a licence outnumber the free ones, the dialog itself says so and
    offers to activate only the first ones that fit (``fit`` is then True on accept); with no
    licence free it cannot be accepted at all.
    """

    def __init__(self, plan: ActivationPlan, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plan = plan
        lic = plan.licences
        self.fit = not plan.fits
        self.setWindowTitle("Activate users")
        self.setMinimumWidth(420)
        form = QFormLayout(self)
        form.addRow(_plain(f"Activate {_plural(plan.selected, 'user')}. {lic}; {lic.free:,} free."))
        self.limit_note = _plain(self._limit_text())
        self.limit_note.setStyleSheet(theme.colour_css("error"))
        self.limit_note.setVisible(not plan.fits)
        form.addRow(self.limit_note)
        self.role = _role_box()
        self.team = QLineEdit()
        self.team.setPlaceholderText("optional")
        form.addRow("EvalSync role", self.role)
        form.addRow("Team", self.team)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText(f"Activate the first {lic.free:,}" if self.fit else "Activate")
        self.ok_button.setEnabled(plan.fits or lic.free > 0)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _limit_text(self) -> str:
        plan, lic = self.plan, self.plan.licences
        if plan.fits:
            return ""
        need = f"{plan.needing:,} of these users need{'s' if plan.needing == 1 else ''} a licence"
        if lic.free == 0:
            return f"{need} but none is free. Deactivate users, or raise the limit with Change limit…"
        return (f"{need} but only {lic.free:,} {'is' if lic.free == 1 else 'are'} free. Activate the first "
                f"{lic.free:,} in the table's order, or cancel and raise the limit with Change limit…")

    def role_key(self) -> str | None:
        return self.role.currentData()

    def team_text(self) -> str:
        return self.team.text().strip()


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
        self.role = _role_box()
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


class _LimitDialog(QInputDialog):
    """QInputDialog builds its layout when shown, resetting the minimum width: set it after."""

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt API
        super().showEvent(event)
        self.setMinimumWidth(380)  # wide enough that the window title is not cut


def ask_limit(parent: QWidget, current: int, used: int | None) -> int | None:
    """Ask for a new licence limit; None when cancelled or unchanged."""
    dialog = _LimitDialog(parent)
    dialog.setWindowTitle("Licence limit")
    dialog.setInputMode(QInputDialog.InputMode.IntInput)
    now = f" ({used:,} active now)" if used is not None else ""
    dialog.setLabelText(f"Active users your EvalSync plan allows{now}:")
    dialog.setIntRange(1, directory.MAX_LICENCES)
    dialog.setIntValue(current)
    if dialog.exec() != QInputDialog.DialogCode.Accepted or dialog.intValue() == current:
        return None
    return dialog.intValue()
