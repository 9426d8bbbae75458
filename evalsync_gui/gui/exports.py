"""Where exports go and what they say when done (issue 17 point 8).

Every "Export … as CSV" dialog starts in the user's documents folder (not the folder the
app was started from), and every finished export says how many rows it wrote and where.
"""

from __future__ import annotations

import csv
from pathlib import Path

from PySide6.QtCore import QStandardPaths
from PySide6.QtWidgets import QFileDialog, QWidget

CSV_FILTER = "CSV files (*.csv)"


def documents_folder() -> Path:
    """The user's documents folder, or the home folder when there is none."""
    found = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    folder = Path(found) if found else Path.home()
    return folder if folder.is_dir() else Path.home()


def ask_export_path(parent: QWidget | None, title: str, filename: str, filters: str = CSV_FILTER) -> str:
    """A save dialog opened in the documents folder with ``filename`` proposed; "" when cancelled."""
    path, _ = QFileDialog.getSaveFileName(parent, title, str(documents_folder() / filename), filters)
    return path


def csv_data_rows(path: str | Path) -> int:
    """Rows in a CSV file after its header line (quoted line breaks count once). Run off the GUI thread."""
    with open(path, newline="", encoding="utf-8-sig") as fh:
        return max(sum(1 for _ in csv.reader(fh)) - 1, 0)


def exported_text(rows: int, path: str | Path, what: str = "rows") -> str:
    """The one line an export ends with: how many and where."""
    return f"Exported {rows:,} {what} to {path}."
