"""The counts above the users table: the status filter buttons and the licence counter."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QButtonGroup, QHBoxLayout, QLabel, QPushButton, QWidget

from evalsync_gui.core import directory
from evalsync_gui.gui import theme

STATUS_BUTTONS = (("pending", "Pending"), ("active", "Active"), ("deactivated", "Deactivated"), (None, "All"))


class StatusFilter(QWidget):
    """"Pending (69,498)  Active (3)  Deactivated (12)  All (69,513)": one checked at a time."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.group = QButtonGroup(self)
        self.group.setExclusive(True)
        self.buttons: dict[str | None, QPushButton] = {}
        for i, (key, label) in enumerate(STATUS_BUTTONS):
            b = QPushButton(label)
            b.setCheckable(True)
            b.setChecked(key == "pending")
            self.group.addButton(b, i)
            self.buttons[key] = b
            row.addWidget(b)
        row.addStretch(1)
        self.group.idClicked.connect(lambda _i: self.changed.emit())

    def current(self) -> str | None:
        return next((key for key, b in self.buttons.items() if b.isChecked()), "pending")

    def set_current(self, status: str | None) -> None:
        self.buttons[status].setChecked(True)

    def show_counts(self, counts: dict[str, int]) -> None:
        for key, label in STATUS_BUTTONS:
            n = counts[key] if key else sum(counts.values())
            self.buttons[key].setText(f"{label} ({n:,})")


class LicenceCorner(QWidget):
    """"3 of 150 licences used  Change limit…", in red once the limit is reached."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 4, 2)
        self.label = QLabel()
        self.label.setStyleSheet("font-weight: bold;")
        row.addWidget(self.label)
        self.limit_btn = QPushButton("Change limit…")
        self.limit_btn.setFlat(True)
        self.limit_btn.setToolTip("Set how many active users your EvalSync plan allows")
        row.addWidget(self.limit_btn)
        self.licences: directory.Licences | None = None  # the counts shown (read off-thread)

    def show_licences(self, lic: directory.Licences) -> None:
        self.licences = lic
        self.label.setText(str(lic))
        self.label.setStyleSheet("font-weight: bold;" + (theme.colour_css("error") if lic.used >= lic.limit else ""))
