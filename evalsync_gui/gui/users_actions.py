"""The users tab's actions: activate, deactivate, add, import, export, change the limit.

Every one runs on a worker thread (one at a time); the bulk ones report progress into a
:class:`BusyBar` with a Cancel button, and a cancel rolls the whole change back. The
selection they act on comes from the tab as a :class:`~evalsync_gui.core.user_selection.Selection`
(for Ctrl+A: the shown view, resolved in SQL on the worker), so no action walks 100,000 rows
on the GUI thread.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QDialog, QFileDialog, QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from evalsync_gui.core import directory, user_selection
from evalsync_gui.core.user_selection import ActivationPlan, Selection
from evalsync_gui.gui.confirm import confirm
from evalsync_gui.gui.exports import ask_export_path, documents_folder, exported_text
from evalsync_gui.gui.services import Services
from evalsync_gui.gui.users_dialogs import ActivateDialog, AddUserDialog, ask_limit
from evalsync_gui.gui.workers import Task, TaskController


def _call(task: Task, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Worker body for a short write or read: ``fn(*args, **kwargs)``."""
    return fn(*args, **kwargs)


def _bulk(task: Task, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Worker body for a bulk change: progress as (done, total) and the task's cancel flag."""
    return fn(*args, progress=lambda done, total: task.report((done, total)), is_cancelled=task.is_cancelled,
              **kwargs)


class BusyBar(QWidget):
    """"Activating 80,037 users… [#####    ] Cancel": shown while a bulk action runs."""

    visibility_changed = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.label = QLabel()
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.bar = QProgressBar()
        self.bar.setMinimumWidth(120)
        self.bar.setMaximumWidth(240)
        self.cancel_btn = QPushButton("Cancel")
        self.cancel_btn.setToolTip("Stop; nothing is changed")
        row.addWidget(self.label)
        row.addWidget(self.bar)
        row.addWidget(self.cancel_btn)
        self.hide()

    def setVisible(self, visible: bool) -> None:  # noqa: N802 - Qt API
        super().setVisible(visible)
        self.visibility_changed.emit(visible)

    def begin(self, text: str) -> None:
        self.label.setText(text)
        # Determinate from the start: Qt animates a busy (0, 0) bar with a repaint every frame.
        self.bar.setRange(0, 1)
        self.bar.setValue(0)
        self.show()

    def report(self, value: Any) -> None:
        if isinstance(value, tuple) and len(value) == 2 and value[1]:
            self.bar.setRange(0, int(value[1]))
            self.bar.setValue(int(value[0]))


class UserActions(QObject):
    """The buttons under the table and what they do; ``selection()`` is asked at click time."""

    def __init__(self, services: Services, selection: Callable[[], Selection | None],
                 view: Callable[[], directory.View], parent: QWidget) -> None:
        super().__init__(parent)
        self.services = services
        self.ctx = services.ctx
        self._selection = selection
        self._view = view
        self._parent = parent
        self._then: Callable[[Any], None] = lambda _r: None
        self.dialog: ActivateDialog | None = None  # the Activate dialog while it is open
        self.writer = TaskController(self, name="users.write")
        self.writer.finished.connect(lambda result: self._then(result))
        self.writer.failed.connect(self._message)
        self.writer.cancelled.connect(lambda: self._message("Cancelled; nothing was changed."))
        self.busy = BusyBar(parent)
        self.busy.cancel_btn.clicked.connect(self.writer.cancel)
        self.writer.progress.connect(self.busy.report)
        self.writer.done.connect(lambda: None if self.writer.is_running() else self.busy.hide())
        self._build_buttons()

    def _build_buttons(self) -> None:
        self.activate_btn = QPushButton("Activate…")
        self.activate_btn.setToolTip("Activate the selected users with an EvalSync role and team (uses licences)")
        self.deactivate_btn = QPushButton("Deactivate")
        self.deactivate_btn.setToolTip("Deactivate the selected users (frees their licences)")
        self.add_btn = QPushButton("Add user…")
        self.import_btn = QPushButton("Import CSV…")
        self.import_btn.setToolTip("Import existing EvalSync users: columns name, email, identifier")
        self.export_btn = QPushButton("Export CSV…")
        self.export_btn.setToolTip("Export the users shown (this status, search and order) as CSV")
        self.activate_btn.clicked.connect(self.activate_selected)
        self.deactivate_btn.clicked.connect(self.deactivate_selected)
        self.add_btn.clicked.connect(self.add_user)
        self.import_btn.clicked.connect(lambda: self.import_csv())
        self.export_btn.clicked.connect(lambda: self.export_csv())

    @property
    def buttons(self) -> tuple[QPushButton, ...]:
        return self.activate_btn, self.deactivate_btn, self.add_btn, self.import_btn, self.export_btn

    def set_selection_size(self, n: int) -> None:
        self.activate_btn.setEnabled(n > 0)
        self.deactivate_btn.setEnabled(n > 0)

    # -- running -------------------------------------------------------------------------
    def _run(self, then: Callable[[Any], None], fn: Callable[..., Any], *args: Any, busy: str = "",
             **kwargs: Any) -> bool:
        if self.writer.is_running():
            self._message("Still saving the previous change; wait for it or cancel it.")
            return False
        self._then = then
        if busy:
            self.busy.begin(busy)
            self.writer.start(_bulk, fn, *args, **kwargs)
        else:
            self.writer.start(_call, fn, *args, **kwargs)
        return True

    def _message(self, text: str) -> None:
        self.services.signals.status_message.emit(text)

    def _changed(self, text: str) -> Callable[[Any], None]:
        def done(_result: Any) -> None:
            self._message(text.format(n=_result) if "{n" in text else text)
            self.services.signals.users_changed.emit()
        return done

    # -- activate ------------------------------------------------------------------------
    def activate_selected(self) -> None:
        """Count what the selection needs (worker), then ask for role and team in the dialog."""
        selection = self._selection()
        if selection is not None:
            # The dialog opens after the counting job has fully ended (not inside its outcome).
            self._run(lambda plan: QTimer.singleShot(0, lambda: self._ask_activate(selection, plan)),
                      user_selection.plan_activation, self.ctx.db, self.ctx.settings, selection)

    def _ask_activate(self, selection: Selection, plan: ActivationPlan) -> None:
        if plan.selected == 0:
            return self._message("The selected users are no longer in the directory.")
        dialog = ActivateDialog(plan, self._parent)
        self.dialog = dialog
        try:
            if dialog.exec() == QDialog.DialogCode.Accepted:
                self.activate(selection, dialog.role_key(), dialog.team_text(), fit=dialog.fit, planned=plan)
        finally:
            self.dialog = None

    def activate(self, selection: Selection, role: str | None, team: str | None, *, fit: bool = False,
                 planned: ActivationPlan | None = None) -> bool:
        """Activate ``selection`` on the worker; over the limit it is refused (unless ``fit``)."""
        n = planned.selected if planned else None
        text = "Activated {n:,} users." if not fit or planned is None else (
            "Activated {n:,} of " + f"{n:,}" + " selected users: the licence limit is reached. "
            "Raise it with Change limit… to activate the rest.")
        busy = f"Activating {n:,} users…" if n else "Activating users…"
        return self._run(self._changed(text), user_selection.activate, self.ctx.db, self.ctx.settings, selection,
                         role=role, team=team or None, fit=fit, busy=busy)

    # -- deactivate ----------------------------------------------------------------------
    def deactivate_selected(self) -> None:
        """Confirm with the count (a big selection is counted in the view), then deactivate."""
        selection = self._selection()
        if selection is None:
            return
        n = selection.shown
        if confirm(self._parent, "Deactivate users", f"Deactivate {n:,} user{'s' if n != 1 else ''}?",
                   "Their licences are freed; they can be activated again later.", "Deactivate"):
            self._run(self._changed("Deactivated {n:,} users."), user_selection.deactivate, self.ctx.db, selection,
                      busy=f"Deactivating {n:,} users…")

    # -- add, import, export, limit ------------------------------------------------------
    def add_user(self) -> None:
        dialog = AddUserDialog(self._parent)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self._run(self._changed("Added user {n}."), directory.add_user, self.ctx.db, self.ctx.settings,
                      dialog.new_user())

    def import_csv(self, path: str | None = None) -> None:
        if not path:
            path, _ = QFileDialog.getOpenFileName(self._parent, "Import EvalSync users", str(documents_folder()),
                                                  "CSV files (*.csv *.txt)")
        if path:
            self._run(lambda result: self._changed(str(result))(result), directory.import_csv, self.ctx.db,
                      self.ctx.settings, path)

    def export_csv(self, path: str | None = None) -> None:
        """Export the users shown (status, search, order) with progress; Cancel writes no file."""
        path = path or ask_export_path(self._parent, "Export users", "evalsync-users.csv")
        if path:
            self._run(lambda n: self._message(exported_text(n, path, "users")), user_selection.export,
                      self.ctx.db, path, self._view(), busy="Exporting users…")

    def change_limit(self, shown: directory.Licences | None = None) -> None:
        """Edit the licence limit (active users allowed); ``shown`` is the counter on screen (its
        active count was read off-thread; without it only the one-row setting is read here)."""
        limit = shown.limit if shown else directory.licence_limit(self.ctx.settings)
        value = ask_limit(self._parent, limit, shown.used if shown else None)
        if value is not None:
            self._run(self._changed(f"Licence limit set to {value:,}."), user_selection.set_licence_limit,
                      self.ctx.settings, value)

    def shutdown(self) -> None:
        self.writer.shutdown(300)
