"""The Runs page of the User sync tab: sync history, held deactivations, undo and CSV export.

History and held rows are small (the newest runs, the held changes) and read straight from
the tables; every change (undo, allow, discard, export) runs on a worker through the sync
engine's ``core.sync.runs`` functions.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (QAbstractItemView, QFileDialog, QHBoxLayout, QLabel, QMessageBox, QPushButton,
                               QVBoxLayout, QWidget)

from evalsync_gui.gui import window_state
from evalsync_gui.gui.rows_model import RowsView
from evalsync_gui.gui.services import Services
from evalsync_gui.gui.workers import Task, TaskController

RUN_COLUMNS = ("Started", "Trigger", "Mode", "Status", "New", "Updated", "Deactivated", "Held", "Requests", "Note")
HELD_COLUMNS = ("User", "E-mail", "Run", "Reason")
MAX_RUNS = 200
MAX_HELD = 500  # Allow/Discard act on whole runs, so the first rows are enough to review


def _runs_api():
    from evalsync_gui.core.sync import runs

    return runs


def recent_runs(db) -> list[Any]:
    return db.query("SELECT id, started_at, trigger, mode, status, dry_run, requests, n_new, n_updated, "
                    "n_deactivated, n_held, error, undone_at FROM sync_runs ORDER BY id DESC LIMIT ?", (MAX_RUNS,))


def held_rows(db, limit: int = MAX_HELD) -> list[Any]:
    return db.query("SELECT c.id, c.run_id, c.reason, u.name, u.email FROM user_changes c "
                    "JOIN users u ON u.id = c.user_id WHERE c.state = 'held' ORDER BY c.id LIMIT ?", (limit,))


def held_count(db) -> int:
    return int(db.scalar("SELECT count(*) FROM user_changes WHERE state = 'held'") or 0)


def _call(task: Task, name: str, *args: Any) -> Any:
    """Worker body: call ``core.sync.runs.<name>(*args)``."""
    return getattr(_runs_api(), name)(*args)


def _per_run(task: Task, name: str, ctx, run_ids: list[int]) -> str:
    """Worker body: allow or discard the held deactivations of each run (the engine decides per run)."""
    fn = getattr(_runs_api(), name)
    total = sum(int(fn(ctx, run_id) or 0) for run_id in run_ids)
    verb = "Deactivated" if name == "allow_held" else "Kept"
    return f"{verb} {total:,} users held by the deactivation guard."


class RunHistory(QWidget):
    """Run list with Undo/Export, and the held deactivations with Allow/Discard."""

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self._task = TaskController(self, name="users.runs")
        self._task.finished.connect(self._done)
        self._task.failed.connect(self._failed)
        self._build()
        self.reload()  # applies the default column widths; the remembered ones then replace them
        window_state.track_header(services, "users.runs", self.runs.horizontalHeader())
        window_state.track_header(services, "users.held", self.held.horizontalHeader())

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        self.held_label = QLabel()
        self.held_label.setWordWrap(True)
        layout.addWidget(self.held_label)
        self.held = RowsView(HELD_COLUMNS)
        self.held.setMaximumHeight(160)
        self.held.setAccessibleName("Held deactivations")
        layout.addWidget(self.held)
        held_buttons = QHBoxLayout()
        self.allow_btn = QPushButton("Allow deactivations")
        self.allow_btn.setToolTip("Deactivate the held users of the selected rows' runs (all runs if none selected)")
        self.allow_btn.clicked.connect(lambda: self._held_action("allow_held"))
        self.discard_btn = QPushButton("Discard")
        self.discard_btn.setToolTip("Keep these users active; the sync will not deactivate them for this run")
        self.discard_btn.clicked.connect(lambda: self._held_action("discard_held"))
        held_buttons.addWidget(self.allow_btn)
        held_buttons.addWidget(self.discard_btn)
        held_buttons.addStretch(1)
        layout.addLayout(held_buttons)

        layout.addWidget(QLabel("<b>Sync history</b>"))
        self.runs = RowsView(RUN_COLUMNS, selection=QAbstractItemView.SelectionMode.SingleSelection)
        self.runs.setAccessibleName("Sync history")
        layout.addWidget(self.runs, 1)
        buttons = QHBoxLayout()
        self.undo_btn = QPushButton("Undo run…")
        self.undo_btn.setToolTip("Reverse every change the selected run made")
        self.undo_btn.clicked.connect(self.undo_selected)
        self.export_btn = QPushButton("Export history as CSV…")
        self.export_btn.clicked.connect(self.export)
        refresh = QPushButton("Refresh")
        refresh.clicked.connect(self.reload)
        for b in (self.undo_btn, self.export_btn, refresh):
            buttons.addWidget(b)
        buttons.addStretch(1)
        layout.addLayout(buttons)

    # -- reading -------------------------------------------------------------------------
    def reload(self) -> None:
        """Re-read the newest runs and the first held deactivations (bounded queries)."""
        db = self.services.ctx.db
        runs = recent_runs(db)
        rows = []
        for r in runs:
            note = r["error"] or ("undone " + r["undone_at"][:16].replace("T", " ") if r["undone_at"] else "")
            mode = r["mode"] + (" (preview)" if r["dry_run"] else "")
            rows.append((r["started_at"][:16].replace("T", " "), r["trigger"], mode, r["status"], r["n_new"],
                         r["n_updated"], r["n_deactivated"], r["n_held"], r["requests"], note))
        self.runs.set_rows(rows, [r["id"] for r in runs], widths=(125, 75, 110, 85, 70, 70, 85, 55, 70))
        total = held_count(db)
        held = held_rows(db) if total else []
        self._held_runs = [h["run_id"] for h in held]
        self.held.set_rows([(h["name"], h["email"], h["run_id"], h["reason"]) for h in held],
                           [h["id"] for h in held], widths=(170, 220, 50))
        more = f" (showing the first {len(held):,})" if total > len(held) else ""
        self.held_label.setText(
            f"<b>{total:,} deactivations held by the deactivation guard</b>{more}. Review the reasons, then Allow "
            "or Discard; both act on every held deactivation of the selected rows' runs."
            if total else "No deactivations are held.")
        for w in (self.held, self.allow_btn, self.discard_btn):
            w.setVisible(bool(total))

    # -- actions -------------------------------------------------------------------------
    def _start(self, name: str, *args: Any) -> None:
        if self._task.is_running():
            self.services.signals.status_message.emit("Still working on the previous action; try again in a moment.")
            return
        self._task.start(_call, name, self.services.ctx, *args)

    def _held_action(self, name: str) -> None:
        """Allow or Discard applies to whole runs: every held row of the selected rows' runs."""
        rows = self.held.selected_rows() or list(range(self.held.rowCount()))
        run_ids = sorted({self._held_runs[r] for r in rows})
        if not run_ids:
            return
        if self._task.is_running():
            self.services.signals.status_message.emit("Still working on the previous action; try again in a moment.")
            return
        self._task.start(_per_run, name, self.services.ctx, run_ids)

    def undo_selected(self) -> None:
        ids = self._selected_ids(self.runs)
        if not ids:
            self.services.signals.status_message.emit("Select a run to undo.")
            return
        answer = QMessageBox.question(self, "Undo run", f"Reverse every change of run {ids[0]}?")
        if answer == QMessageBox.StandardButton.Yes:
            self._start("undo_run", ids[0])

    def export(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export sync history", "evalsync-sync-runs.csv", "CSV files (*.csv)")
        if path:
            self._start("export_runs_csv", path)

    def _done(self, result: Any) -> None:
        self.reload()
        self.services.signals.users_changed.emit()
        if isinstance(result, str):
            self.services.signals.status_message.emit(result)
        elif isinstance(result, dict):
            self.services.signals.status_message.emit("Run undone: " + ", ".join(f"{k} {v}" for k, v in result.items()))
        else:
            self.services.signals.status_message.emit("Done.")

    def _failed(self, message: str) -> None:
        self.services.signals.status_message.emit(message)

    def shutdown(self) -> None:
        self._task.shutdown(300)
