"""The column-mapping step of a CSV import or a new request source: pick a column per field."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

from evalsync_gui.core.chat.requests import FIELD_LABELS, FIELDS, REQUIRED

NONE = "(not in this file)"
IMPORT_INTRO = "Which column holds each field? EvalSync remembers this for the next import."


class MappingDialog(QDialog):
    """Shows the file's first rows and one combo per field, pre-filled with the remembered or
    guessed mapping; ``mapping()`` is field -> column."""

    def __init__(self, columns: list[str], rows: list[dict], mapping: dict[str, str],
                 parent: QWidget | None = None, *, title: str = "Map the CSV columns", intro: str = IMPORT_INTRO,
                 fields: Sequence[str] = FIELDS, labels: dict[str, str] | None = None,
                 ok_text: str | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        layout = QVBoxLayout(self)
        note = QLabel(intro)
        note.setWordWrap(True)
        layout.addWidget(note)
        form = QFormLayout()
        self.combos: dict[str, QComboBox] = {}
        names = {**FIELD_LABELS, **(labels or {})}
        # a source's mapping holds lower-cased columns; match them to the header's spelling
        by_lower = {c.strip().lower(): c for c in columns}
        for fld in fields:
            combo = QComboBox()
            combo.addItems([NONE, *columns])
            chosen = by_lower.get((mapping.get(fld) or "").strip().lower())
            if chosen is not None:
                combo.setCurrentText(chosen)
            combo.setAccessibleName(names[fld])
            self.combos[fld] = combo
            form.addRow(names[fld] + (" *" if fld in REQUIRED else ""), combo)
        layout.addLayout(form)
        preview = QTableWidget(min(len(rows), 5), len(columns))
        preview.setHorizontalHeaderLabels(columns)
        for r, row in enumerate(rows[:5]):
            for c, col in enumerate(columns):
                preview.setItem(r, c, QTableWidgetItem(row.get(col, row.get(col.strip().lower(), ""))))
        preview.setMaximumHeight(170)
        layout.addWidget(preview)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        if ok_text:
            buttons.button(QDialogButtonBox.Ok).setText(ok_text)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def mapping(self) -> dict[str, str]:
        return {f: c.currentText() for f, c in self.combos.items() if c.currentText() != NONE}
