"""Small widgets the Chat pages share: a remembered, sortable table, a search box, a save dialog."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSortFilterProxyModel, QStandardPaths, Qt
from PySide6.QtWidgets import QFileDialog, QHeaderView, QLabel, QLineEdit, QPlainTextEdit, QTableView, QWidget

from evalsync_gui.gui import window_state
from evalsync_gui.gui.chat_models import RowsModel, proxy_for
from evalsync_gui.gui.services import Services

WIDTHS = {"#": 50, "E-mail": 300, "Name": 170, "Requested by": 200, "Status": 110, "Action": 130,
          "When": 150, "Last login": 150, "Requested at": 150, "Detail": 260, "Reason": 300, "To": 220,
          "Subject": 260, "What happened": 460, "Admin Center link": 420, "Since": 150}


def make_table(model: RowsModel, parent: QWidget, name: str,
               services: Services) -> tuple[QTableView, QSortFilterProxyModel]:
    """A sortable table over ``model``; ``name`` is its accessible name and remembered-columns key."""
    proxy = proxy_for(model, parent)
    view = QTableView(parent)
    view.setAccessibleName(name)
    view.setModel(proxy)
    view.horizontalHeader().setSortIndicator(-1, Qt.AscendingOrder)  # keep the loaded order until a click
    view.setSortingEnabled(True)
    view.setSelectionBehavior(QTableView.SelectRows)
    view.verticalHeader().setVisible(False)
    view.verticalHeader().setDefaultSectionSize(22)
    view.horizontalHeader().setStretchLastSection(True)
    view.horizontalHeader().setSectionResizeMode(QHeaderView.Interactive)
    for col, (title, _key, _fmt) in enumerate(model.columns):
        view.setColumnWidth(col, WIDTHS.get(title, 110))
    window_state.track_header(services, "chat." + name.lower().replace(" ", "_"), view.horizontalHeader())
    return view, proxy


def search_box(proxy: QSortFilterProxyModel, placeholder: str, name: str) -> QLineEdit:
    """A clearable search box that filters ``proxy`` on every column as the user types."""
    box = QLineEdit()
    box.setPlaceholderText(placeholder)
    box.setAccessibleName(name)
    box.setClearButtonEnabled(True)
    box.textChanged.connect(proxy.setFilterFixedString)
    return box


def plain_label(text: str = "", wrap: bool = True) -> QLabel:
    """A label that never interprets its text as HTML (names and messages come from Zendesk/users)."""
    label = QLabel(text)
    label.setTextFormat(Qt.PlainText)
    label.setWordWrap(wrap)
    return label


def read_only_text(name: str, placeholder: str) -> QPlainTextEdit:
    """A read-only text panel (reports, raw records) with an accessible name and a hint."""
    box = QPlainTextEdit()
    box.setReadOnly(True)
    box.setAccessibleName(name)
    box.setPlaceholderText(placeholder)
    return box


def documents_folder() -> str:
    """The user's documents folder (where every export dialog starts), else the home folder."""
    return QStandardPaths.writableLocation(QStandardPaths.DocumentsLocation) or str(Path.home())


def ask_export_path(parent: QWidget, title: str, file_name: str) -> str:
    """Ask where to save a CSV export, starting in the documents folder; "" when cancelled."""
    start = str(Path(documents_folder()) / file_name)
    path, _ = QFileDialog.getSaveFileName(parent, title, start, "CSV files (*.csv)")
    return path
