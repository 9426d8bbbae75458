"""What a Preview (dry-run sync) would change, one row per planned action; nothing is applied."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

from evalsync_gui.gui.rows_model import RowsView
from evalsync_gui.gui.sync_config_panel import result_text

ACTION_TEXT = {"create": "Import as Pending", "update": "Update", "rename": "Rename", "deactivate": "Deactivate",
               "reactivate": "Flag as returned", "link": "Link"}
MAX_ROWS = 20_000  # a preview of a first sync can list every user; more than this is noise on screen


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
        table = RowsView(["Action", "Name", "E-mail", "Changes", "Reason"])
        table.set_rows([(ACTION_TEXT.get(item.get("action"), item.get("action")), item.get("name"), item.get("email"),
                         _changes(item), item.get("reason")) for item in planned[:MAX_ROWS]],
                       widths=(130, 170, 220, 220))
        self.table = table
        layout.addWidget(table, 1)
        if len(planned) > MAX_ROWS:
            layout.addWidget(QLabel(f"Showing the first {MAX_ROWS:,} of {len(planned):,} planned changes."))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
