"""A small read-only table (model + view) for lists of a few hundred or thousand rows.

Used instead of QTableWidget, whose per-cell ``setItem`` costs a Python->C++ call per cell
(and, on PySide6 6.12.0 with Python 3.11, leaks a reference to None on each call until the
process aborts); here filling a table is one ``set_rows`` call and cells are read on paint.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QWidget

KEY_ROLE = Qt.ItemDataRole.UserRole + 1
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter


class RowsModel(QAbstractTableModel):
    """Rows of display values plus one key per row (``KEY_ROLE``); integers are right-aligned."""

    def __init__(self, headers: Sequence[str], parent=None) -> None:
        super().__init__(parent)
        self._headers = list(headers)
        self._rows: list[tuple] = []
        self._keys: list[Any] = []

    def set_rows(self, rows: Sequence[tuple], keys: Sequence[Any] | None = None) -> None:
        self.beginResetModel()
        self._rows = [tuple(r) for r in rows]
        self._keys = list(keys) if keys is not None else list(range(len(self._rows)))
        self.endResetModel()

    def key(self, row: int) -> Any:
        return self._keys[row]

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._headers)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self._headers[section] if 0 <= section < len(self._headers) else None
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        value = self._rows[index.row()][index.column()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            if isinstance(value, bool) or value is None:
                return "" if value is None else ("yes" if value else "no")
            return f"{value:,}" if isinstance(value, int) else str(value)
        if role == Qt.ItemDataRole.TextAlignmentRole and isinstance(value, int) and not isinstance(value, bool):
            return int(_RIGHT.value)
        if role == KEY_ROLE:
            return self._keys[index.row()]
        return None


class RowsView(QTableView):
    """A QTableView over a :class:`RowsModel` with fixed row heights and QTableWidget-like helpers."""

    def __init__(self, headers: Sequence[str], parent: QWidget | None = None,
                 selection: QAbstractItemView.SelectionMode = QAbstractItemView.SelectionMode.ExtendedSelection) -> None:
        super().__init__(parent)
        self.rows_model = RowsModel(headers, self)
        self.setModel(self.rows_model)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(selection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setWordWrap(False)
        self.verticalHeader().setVisible(False)
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.verticalHeader().setDefaultSectionSize(22)
        self.horizontalHeader().setStretchLastSection(True)
        self._widths_applied = False

    def set_rows(self, rows: Sequence[tuple], keys: Sequence[Any] | None = None, widths: Sequence[int] = ()) -> None:
        self.rows_model.set_rows(rows, keys)
        if widths and not self._widths_applied:  # defaults once; later the user's (remembered) widths win
            self._widths_applied = True
            for col, width in enumerate(widths):
                self.setColumnWidth(col, width)

    def rowCount(self) -> int:
        return self.rows_model.rowCount()

    def text(self, row: int, column: int) -> str:
        return self.rows_model.data(self.rows_model.index(row, column)) or ""

    def key(self, row: int) -> Any:
        return self.rows_model.key(row)

    def selected_rows(self) -> list[int]:
        rows: set[int] = set()
        for rng in self.selectionModel().selection():
            rows.update(range(rng.top(), rng.bottom() + 1))
        return sorted(rows)
