"""The CSV column-mapping step of an import: pick a column for each request field."""

from __future__ import annotations

from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

from evalsync_gui.core.chat.requests import FIELD_LABELS, FIELDS, REQUIRED

NONE = "(not in this file)"


class MappingDialog(QDialog):
    """Shows the file's first rows and one combo per field, pre-filled with the remembered or
    guessed mapping; ``mapping()`` is field -> column."""

    def __init__(self, columns: list[str], rows: list[dict], mapping: dict[str, str],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Map the CSV columns")
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Which column holds each field? EvalSync remembers this for the next import."))
        form = QFormLayout()
        self.combos: dict[str, QComboBox] = {}
        for fld in FIELDS:
            combo = QComboBox()
            combo.addItems([NONE, *columns])
            if mapping.get(fld) in columns:
                combo.setCurrentText(mapping[fld])
            self.combos[fld] = combo
            form.addRow(FIELD_LABELS[fld] + (" *" if fld in REQUIRED else ""), combo)
        layout.addLayout(form)
        preview = QTableWidget(min(len(rows), 5), len(columns))
        preview.setHorizontalHeaderLabels(columns)
        for r, row in enumerate(rows[:5]):
            for c, col in enumerate(columns):
                preview.setItem(r, c, QTableWidgetItem(row.get(col, "")))
        preview.setMaximumHeight(170)
        layout.addWidget(preview)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def mapping(self) -> dict[str, str]:
        return {f: c.currentText() for f, c in self.combos.items() if c.currentText() != NONE}
