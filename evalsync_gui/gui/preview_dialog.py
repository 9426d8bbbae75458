"""What a Preview (dry-run sync) would change, one row per planned action; nothing is applied."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (QAbstractItemView, QDialog, QDialogButtonBox, QLabel, QTableWidget, QTableWidgetItem,
                               QVBoxLayout, QWidget)

from evalsync_gui.gui.sync_config_panel import result_text

ACTION_TEXT = {"create": "Import as Pending", "update": "Update", "rename": "Rename", "deactivate": "Deactivate",
               "reactivate": "Flag as returned", "link": "Link"}
MAX_ROWS = 2000  # a preview of a first sync can list every user; more than this is noise on screen


def _changes(item: dict[str, Any]) -> str:
    return "; ".join(f"{c.get('field')}: {c.get('old') or '—'} → {c.get('new') or '—'}" for c in item.get("changes") or [])


class PreviewDialog(QDialog):
    """Lists ``result.planned`` (dicts from the engine's ``describe_action``)."""

    def __init__(self, result: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Preview of the next sync")
        self.resize(900, 520)
        planned = list(getattr(result, "planned", None) or [])
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(result_text(result)))
        table = QTableWidget(min(len(planned), MAX_ROWS), 5)
        table.setHorizontalHeaderLabels(["Action", "Name", "E-mail", "Changes", "Reason"])
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.verticalHeader().setVisible(False)
        table.verticalHeader().setDefaultSectionSize(22)
        table.horizontalHeader().setStretchLastSection(True)
        for row, item in enumerate(planned[:MAX_ROWS]):
            values = (ACTION_TEXT.get(item.get("action"), item.get("action")), item.get("name"), item.get("email"),
                      _changes(item), item.get("reason"))
            for col, value in enumerate(values):
                table.setItem(row, col, QTableWidgetItem(str(value or "")))
        table.resizeColumnsToContents()
        self.table = table
        layout.addWidget(table, 1)
        if len(planned) > MAX_ROWS:
            layout.addWidget(QLabel(f"Showing the first {MAX_ROWS:,} of {len(planned):,} planned changes."))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
