"""The users table view: fixed rows, sortable header, hideable columns, cheap big selections.

Two Qt costs grow with the number of selected rows, and both are avoided here:

* QHeaderView asks ``isColumnSelected`` for every section it paints, and Qt answers by
  building a model index for each selected row: with 100,000 rows selected a header repaint
  (a Ctrl+A, a resize when the log panel opens) took 2-3 s of Python ``rowCount`` calls. The
  header gets a selection model of its own that never holds a selection.
* Counting or listing the selection row by row. :meth:`UsersTable.selection_size` adds up the
  ranges, and :meth:`UsersTable.all_selected` tells the tab to act on the whole view in SQL.
"""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QMenu, QTableView, QWidget

from evalsync_gui.gui import window_state
from evalsync_gui.gui.services import Services
from evalsync_gui.gui.users_model import COLUMNS, ID_ROLE, UsersModel

ROW_HEIGHT = 22
WIDTHS = (150, 195, 95, 95, 85, 95, 90, 115, 115)
#: Where the header (widths, order, hidden columns, sort) is remembered; ".v2": two columns were added.
HEADER_KEY = "users.table.v2"
#: Hidden at first: the admin shows them from the header's context menu.
DEFAULT_HIDDEN = ("Imported",)


class UsersTable(QTableView):
    """The users table; emits ``open_requested(user_id)`` on double-click or Enter."""

    open_requested = Signal(int)

    def __init__(self, services: Services, model: UsersModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.setAccessibleName("Users")
        self.setModel(model)
        self.setSortingEnabled(True)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setAlternatingRowColors(True)
        self.setWordWrap(False)
        self.setTabKeyNavigation(False)  # Tab leaves the table instead of walking 100,000 x 9 cells
        vh = self.verticalHeader()
        vh.setVisible(False)
        vh.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vh.setDefaultSectionSize(ROW_HEIGHT)
        self._setup_header(model)
        self.doubleClicked.connect(self._open)
        # PySide wraps the viewport (and builds QWidget's enum types) on its first use from
        # Python, ~15 ms; done here it does not land in a running sync's first live refresh.
        self.viewport()

    def _setup_header(self, model: UsersModel) -> None:
        hh = self.horizontalHeader()
        hh.setSelectionModel(QItemSelectionModel(model, hh))  # see the module docstring
        hh.setSortIndicator(0, Qt.SortOrder.AscendingOrder)
        hh.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        hh.setStretchLastSection(True)
        for col, width in enumerate(WIDTHS[:len(COLUMNS)]):
            self.setColumnWidth(col, width)
        hh.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        hh.customContextMenuRequested.connect(lambda pos: self.columns_menu().exec(hh.mapToGlobal(pos)))
        for col, (label, _key, _sort) in enumerate(COLUMNS):
            self.setColumnHidden(col, label in DEFAULT_HIDDEN)
        window_state.track_header(self.services, HEADER_KEY, hh)  # the admin's saved layout wins

    # -- columns -------------------------------------------------------------------------

    def columns_menu(self) -> QMenu:
        """The header's context menu: one checkable action per column (Name always shown)."""
        menu = QMenu(self)
        menu.setTitle("Columns")
        for col, (label, _key, _sort) in enumerate(COLUMNS):
            action = menu.addAction(label)
            action.setCheckable(True)
            action.setChecked(not self.isColumnHidden(col))
            action.setEnabled(col != 0)
            action.toggled.connect(lambda shown, c=col: self.show_column(c, shown))
        return menu

    def show_column(self, column: int, shown: bool) -> None:
        """Show or hide a column and remember the choice across restarts (the window's QSettings)."""
        self.setColumnHidden(column, not shown)
        if shown and self.columnWidth(column) < 30:
            self.setColumnWidth(column, WIDTHS[column] if column < len(WIDTHS) else 100)
        window_state.save_header(self.services, HEADER_KEY, self.horizontalHeader())

    # -- selection -----------------------------------------------------------------------
    def selection_size(self) -> int:
        """Selected rows, added up from the ranges (never row by row)."""
        model = self.selectionModel()
        return sum(r.bottom() - r.top() + 1 for r in model.selection()) if model is not None else 0

    def all_selected(self) -> bool:
        """True when every row is selected (Ctrl+A): the tab then acts on the view in SQL."""
        rows = self.model().rowCount()
        return rows > 0 and self.selection_size() >= rows

    def selected_rows(self) -> list[int]:
        """Selected row numbers in order (for small, explicit selections)."""
        rows: set[int] = set()
        for rng in self.selectionModel().selection():
            rows.update(range(rng.top(), rng.bottom() + 1))
        return sorted(rows)

    # -- opening a user ------------------------------------------------------------------
    def _open(self, index: QModelIndex) -> None:
        uid = index.data(ID_ROLE)
        if uid is not None:
            self.open_requested.emit(int(uid))

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt API
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.currentIndex().isValid():
            self._open(self.currentIndex())
            return
        super().keyPressEvent(event)
