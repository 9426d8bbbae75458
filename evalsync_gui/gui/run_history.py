"""The Runs page of the User sync tab: sync history, held deactivations, undo and CSV export.

History and held rows are small (the newest runs, the first held changes) and read straight
from the tables. Everything else runs on a worker through the sync engine's
``core.sync.runs`` functions: the counts a confirmation shows (a run that imported 100,000
users has 100,000 change rows), undo, allow, discard and export. Every destructive action
first says what it will do to how many users and waits for the admin's yes.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QAbstractItemView, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from evalsync_gui.core.sync.decisions import (ABSENT_REASON, DELETED_CODE, GONE_CODE, OUT_OF_SCOPE_CODE,
                                              ROLE_CHANGED_CODE, SUSPENDED_CODE)
from evalsync_gui.gui import exports, window_state
from evalsync_gui.gui.confirm import confirm
from evalsync_gui.gui.formats import format_datetime
from evalsync_gui.gui.rows_model import RowsView
from evalsync_gui.gui.services import Services
from evalsync_gui.gui.workers import Task, TaskController

RUN_COLUMNS = ("Run", "Started", "Trigger", "Mode", "Status", "New", "Updated", "Deactivated", "Held", "Requests",
               "Note")
NOTE_COLUMN = RUN_COLUMNS.index("Note")
HELD_COLUMNS = ("User", "E-mail", "Run", "Reason")
MAX_RUNS = 200
MAX_HELD = 500  # Allow/Discard act on whole runs, so the first rows are enough to review
# What started a run, as the admin knows it (sync_runs.trigger holds the left side).
TRIGGER_LABELS = {"button": "Sync now", "schedule": "Schedule", "enable": "Enable User Sync", "cli": "Command line"}
PREVIEW_LABEL = "Preview"
# Held-row reasons by the engine's reason_code (user_changes.reason_code); out_of_scope names the role.
CODE_WORDS = {GONE_CODE: "Gone from Zendesk: not found there any more",
              ROLE_CHANGED_CODE: "Out of scope: the user's role changed in Zendesk",
              SUSPENDED_CODE: "Suspended in Zendesk", DELETED_CODE: "Deleted in Zendesk"}
# The header state key; bumped when the columns change so an old saved layout is not applied.
HEADER_KEY = "users.runs.v2"


def _runs_api():
    from evalsync_gui.core.sync import runs

    return runs


RUN_WIDTHS = (45, 125, 110, 85, 80, 65, 65, 85, 50, 70)
HELD_WIDTHS = (170, 220, 50)


# -- reading (the loader thread; bounded) ------------------------------------------------------
def recent_runs(db) -> list[Any]:
    return db.query("SELECT id, started_at, trigger, mode, status, dry_run, requests, n_new, n_updated, "
                    "n_deactivated, n_held, error, undone_at FROM sync_runs ORDER BY id DESC LIMIT ?", (MAX_RUNS,))


def held_rows(db, roles: list[str], limit: int = MAX_HELD) -> list[Any]:
    """The first held deactivations, with ``in_scope``: whether the user's last-synced role is imported today."""
    from evalsync_gui.core.sync.scope import Scope
    from evalsync_gui.core.sync.scope_change import covered_sql

    try:
        clause, params = covered_sql(Scope.from_roles(roles))  # constants and ? placeholders only
    except ValueError:  # a damaged saved selection: say nothing about scope
        clause, params = "1", ()
    return db.query(f"SELECT c.id, c.run_id, c.reason, c.reason_code, u.name, u.email, u.zendesk_role, u.custom_role_name, "
                    f"{clause} AS in_scope FROM user_changes c JOIN users u ON u.id = c.user_id "
                    "WHERE c.state = 'held' ORDER BY c.id LIMIT ?", (*params, limit))


def held_count(db) -> int:
    return int(db.scalar("SELECT count(*) FROM user_changes WHERE state = 'held'") or 0)


def _role_words(row: Any) -> str:
    """The group a held user belonged to, as the scope list names it."""
    if row["zendesk_role"] == "admin":
        return "admins"
    if row["custom_role_name"]:
        return f"custom role {row['custom_role_name']}"
    return "agents" if row["zendesk_role"] == "agent" else f"role {row['zendesk_role']}"


def held_reason(row: Any) -> str:
    """Why a deactivation was planned, in words that never claim a user left Zendesk when only the scope moved.

    ``reason_code`` (the engine's machine-readable reason) decides; rows written before it
    existed fall back to the user's last-synced role, which tells "no longer imported" from
    "absent from a complete listing".
    """
    code = row["reason_code"]
    if code == OUT_OF_SCOPE_CODE or (code is None and row["reason"] == ABSENT_REASON and not row["in_scope"]):
        still = "still in Zendesk" if code else "may still be in Zendesk"
        return f"Out of scope, {still}: {_role_words(row)} not imported any more"
    if code in CODE_WORDS:
        return CODE_WORDS[code]
    if row["reason"] == ABSENT_REASON:
        return CODE_WORDS[GONE_CODE]
    reason = row["reason"] or ""
    return reason[:1].upper() + reason[1:]


def run_row(r: Any) -> tuple:
    """One history row. A preview changed nothing, so its would-be counts sit in the note, not the columns."""
    preview = bool(r["dry_run"])
    trigger = PREVIEW_LABEL if preview else TRIGGER_LABELS.get(r["trigger"], r["trigger"])
    if r["undone_at"]:
        note = "Undone " + format_datetime(r["undone_at"])
    elif preview:
        note = (f"Nothing changed; would add {r['n_new']:,}, update {r['n_updated']:,}, "
                f"deactivate {r['n_deactivated']:,}" + (f", hold {r['n_held']:,}" if r["n_held"] else ""))
    else:
        note = r["error"] or ""
    counts = ("", "", "", "") if preview else (r["n_new"], r["n_updated"], r["n_deactivated"], r["n_held"])
    return (r["id"], format_datetime(r["started_at"]), trigger, r["mode"], r["status"], *counts, r["requests"], note)


def undo_refusal(r: Any) -> str:
    """Why run ``r`` cannot be undone, or "" when it can."""
    if r["dry_run"]:
        return f"Run {r['id']} was a preview; it changed nothing, so there is nothing to undo."
    if r["undone_at"]:
        return f"Run {r['id']} was already undone."
    if r["status"] == "running":
        return f"Run {r['id']} is still running; wait for it to finish."
    return ""


# -- worker bodies (no widgets) -----------------------------------------------------------------
def _read_history(task: Task, ctx) -> tuple:
    """The newest runs, the number of held deactivations and the first of them; closes this
    thread's connection (the thread ends)."""
    from evalsync_gui.core.sync.config import load_config

    try:
        task.raise_if_cancelled()
        total = held_count(ctx.db)
        return recent_runs(ctx.db), total, held_rows(ctx.db, load_config(ctx).roles) if total else []
    finally:
        ctx.db.close()


def _undo_counts(task: Task, ctx, run_id: int) -> tuple:
    rows = ctx.db.query("SELECT action, count(*) AS n FROM user_changes WHERE run_id = ? AND state = 'applied' "
                        "GROUP BY action", (run_id,))
    return "confirm-undo", run_id, {r["action"]: int(r["n"]) for r in rows}


def _undo(task: Task, ctx, run_id: int) -> tuple:
    counts = _runs_api().undo_run(ctx, run_id)
    return "undone", run_id, counts, held_count(ctx.db)


def _held_counts(task: Task, ctx, name: str, run_ids: list[int]) -> tuple:
    marks = ",".join("?" * len(run_ids))
    n = int(ctx.db.scalar(f"SELECT count(*) FROM user_changes WHERE state = 'held' AND run_id IN ({marks})",
                          tuple(run_ids)) or 0)
    return "confirm-held", name, run_ids, n


def _per_run(task: Task, ctx, name: str, run_ids: list[int]) -> tuple:
    """Allow or discard the held deactivations of each run (the engine decides per run)."""
    fn = getattr(_runs_api(), name)
    n = sum(int(fn(ctx, run_id) or 0) for run_id in run_ids)
    return "held-done", name, n, held_count(ctx.db)


def _export(task: Task, ctx, path: str) -> tuple:
    _runs_api().export_runs_csv(ctx, path)
    return "exported", exports.csv_data_rows(path), path


# -- words ---------------------------------------------------------------------------------------
def undo_question(run_id: int, counts: dict[str, int]) -> tuple[str, str]:
    """(headline, details) for the Undo confirmation."""
    created = counts.get("create", 0)
    deactivated = counts.get("deactivate", 0)
    other = sum(n for action, n in counts.items() if action not in ("create", "deactivate"))
    parts = [f"remove up to {created:,} users it imported (only those still Pending)" if created else "",
             f"reactivate {deactivated:,} users it deactivated" if deactivated else "",
             f"put back {other:,} field changes" if other else ""]
    said = "; ".join(p for p in parts if p) or "change nothing (it made no changes that are still in place)"
    return (f"Undo run {run_id}? This will {said}.",
            "A value changed again since this run (by a newer run or by you) is kept. The next sync reads every "
            "user again.")


def held_question(name: str, n: int, run_ids: list[int]) -> tuple[str, str, str, str]:
    """(title, headline, details, button) for Allow or Discard."""
    runs_text = ", ".join(str(r) for r in run_ids)
    if name == "allow_held":
        return ("Allow deactivations", f"Deactivate {n:,} users now?",
                f"These deactivations of run {runs_text} were held by the deactivation guard. The users lose "
                "their EvalSync licences; Undo run brings them back.", f"Deactivate {n:,}")
    return ("Discard held deactivations", f"Discard {n:,} held deactivations?",
            f"The users stay as they are (not deactivated) and the held rows of run {runs_text} are dropped. "
            "A later sync plans them again if they are still out of scope or gone.", f"Discard {n:,}")


def held_done_text(name: str, n: int) -> str:
    if name == "allow_held":
        return f"Deactivated {n:,} users whose deactivation was held."
    return f"Discarded {n:,} held deactivations; those users were not deactivated."


class RunHistory(QWidget):
    """Run list with Undo/Export, and the held deactivations with Allow/Discard."""

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self._runs: list[Any] = []
        self._held_runs: list[int] = []
        self._task = TaskController(self, name="users.runs")
        self._task.finished.connect(self._done)
        self._task.failed.connect(self._failed)
        #: Reads the runs and held rows off the GUI thread (a request while one runs is merged).
        self.loader = TaskController(self, name="users.runs.read")
        self.loader.finished.connect(self._show)
        self.loader.failed.connect(self._failed)
        self.loader.done.connect(self._read_again_if_asked)
        self._read_asked = False
        self._build()
        # the default column widths first; the remembered ones then replace them
        self.runs.set_rows([], [], widths=RUN_WIDTHS)
        self.held.set_rows([], [], widths=HELD_WIDTHS)
        for w in (self.held, self.allow_btn, self.discard_btn):
            w.setVisible(False)  # until the first read says whether anything is held
        self.reload()
        window_state.track_header(services, HEADER_KEY, self.runs.horizontalHeader())
        window_state.track_header(services, "users.held", self.held.horizontalHeader())

    # -- layout ------------------------------------------------------------------------------
    def _build(self) -> None:
        layout = QVBoxLayout(self)
        self._build_held(layout)
        layout.addWidget(QLabel("<b>Sync history</b>"))
        self.runs = RowsView(RUN_COLUMNS, selection=QAbstractItemView.SelectionMode.SingleSelection)
        self.runs.setAccessibleName("Sync history")
        self.runs.selectionModel().selectionChanged.connect(self._update_undo)
        layout.addWidget(self.runs, 1)
        layout.addLayout(self._history_buttons())

    def _build_held(self, layout: QVBoxLayout) -> None:
        self.held_label = QLabel()
        self.held_label.setWordWrap(True)
        layout.addWidget(self.held_label)
        self.held = RowsView(HELD_COLUMNS)
        self.held.setMaximumHeight(160)
        self.held.setAccessibleName("Held deactivations")
        layout.addWidget(self.held)
        row = QHBoxLayout()
        self.allow_btn = QPushButton("Allow deactivations…")
        self.allow_btn.setToolTip("Deactivate the held users of the selected rows' runs (all runs if none selected)")
        self.allow_btn.clicked.connect(lambda: self._held_action("allow_held"))
        self.discard_btn = QPushButton("Discard…")
        self.discard_btn.setToolTip("Keep these users as they are; the held deactivations of those runs are dropped")
        self.discard_btn.clicked.connect(lambda: self._held_action("discard_held"))
        row.addWidget(self.allow_btn)
        row.addWidget(self.discard_btn)
        row.addStretch(1)
        layout.addLayout(row)

    def _history_buttons(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.undo_btn = QPushButton("Undo run…")
        self.undo_btn.clicked.connect(self.undo_selected)
        self.export_btn = QPushButton("Export history as CSV…")
        self.export_btn.setToolTip("Every run and every change it made, one row per change")
        self.export_btn.clicked.connect(self.export)
        refresh = QPushButton("Refresh")
        refresh.clicked.connect(self.reload)
        for b in (self.undo_btn, self.export_btn, refresh):
            row.addWidget(b)
        row.addStretch(1)
        return row

    # -- reading -------------------------------------------------------------------------------
    def reload(self) -> None:
        """Re-read the newest runs and the first held deactivations, on the loader thread
        (bounded queries); :attr:`loader`'s ``finished`` fires once they are shown."""
        if self.loader.is_running():
            self._read_asked = True  # read again when this one ends: it may predate the change
            return
        self.loader.start(_read_history, self.services.ctx)

    def _read_again_if_asked(self) -> None:
        if self._read_asked:
            self._read_asked = False
            self.reload()

    def _show(self, history: tuple) -> None:
        runs, total, held = history
        self._runs = runs
        self.runs.set_rows([run_row(r) for r in runs], [r["id"] for r in runs])
        self._update_undo()
        self._held_runs = [h["run_id"] for h in held]
        self.held.set_rows([(h["name"], h["email"], h["run_id"], held_reason(h)) for h in held],
                           [h["id"] for h in held])
        more = f" (showing the first {len(held):,})" if total > len(held) else ""
        self.held_label.setText(
            f"<b>{total:,} deactivations held by the deactivation guard</b>{more}. Review the reasons, then Allow "
            "or Discard; both act on every held deactivation of the selected rows' runs."
            if total else "No deactivations are held.")
        for w in (self.held, self.allow_btn, self.discard_btn):
            w.setVisible(bool(total))

    def _selected_run(self) -> Any | None:
        rows = self.runs.selected_rows()
        return self._runs[rows[0]] if rows and rows[0] < len(self._runs) else None

    def _update_undo(self, *_: Any) -> None:
        run = self._selected_run()
        refusal = undo_refusal(run) if run is not None else "Select a run in the list first."
        self.undo_btn.setEnabled(not refusal)
        self.undo_btn.setToolTip(refusal or f"Reverse every change run {run['id']} made (asks first)")

    # -- actions ---------------------------------------------------------------------------------
    def _start(self, fn: Any, *args: Any) -> None:
        if self._task.is_running():
            self.services.signals.status_message.emit("Still working on the previous action; try again in a moment.")
            return
        self._task.start(fn, self.services.ctx, *args)

    def _held_action(self, name: str) -> None:
        """Allow or Discard applies to whole runs: every held row of the selected rows' runs."""
        rows = self.held.selected_rows() or list(range(self.held.rowCount()))
        run_ids = sorted({self._held_runs[r] for r in rows if r < len(self._held_runs)})
        if run_ids:
            self._start(_held_counts, name, run_ids)

    def undo_selected(self) -> None:
        """Count what the selected run changed (worker), then ask, then undo it (worker)."""
        run = self._selected_run()
        refusal = undo_refusal(run) if run is not None else "Select a run to undo."
        if refusal:
            self.services.signals.status_message.emit(refusal)
            return
        self._start(_undo_counts, int(run["id"]))

    def export(self) -> None:
        path = exports.ask_export_path(self, "Export sync history", "evalsync-sync-runs.csv")
        if path:
            self._start(_export, path)

    # -- outcomes ----------------------------------------------------------------------------------
    def _done(self, result: tuple) -> None:
        kind, *rest = result
        if kind == "confirm-undo":
            self._confirm_undo(*rest)
        elif kind == "confirm-held":
            self._confirm_held(*rest)
        elif kind == "exported":
            self.services.signals.status_message.emit(exports.exported_text(rest[0], rest[1]))
        else:
            self._changed(kind, *rest)

    def _confirm_undo(self, run_id: int, counts: dict[str, int]) -> None:
        headline, details = undo_question(run_id, counts)
        if confirm(self, "Undo run", headline, details, f"Undo run {run_id}"):
            self._start(_undo, run_id)

    def _confirm_held(self, name: str, run_ids: list[int], n: int) -> None:
        if not n:
            self.reload()
            return
        title, headline, details, button = held_question(name, n, run_ids)
        if confirm(self, title, headline, details, button):
            self._start(_per_run, name, run_ids)

    def _changed(self, kind: str, *rest: Any) -> None:
        """After undo, allow or discard: re-read, tell the other tabs, clear "held" when none is left."""
        self.reload()
        signals = self.services.signals
        signals.users_changed.emit()
        *details, held_left = rest  # every action's worker ends its result with the held rows left
        if kind == "undone":
            run_id, counts = details
            signals.status_message.emit(f"Run {run_id} undone: " + ", ".join(f"{v:,} {k}" for k, v in counts.items()))
        else:
            signals.status_message.emit(held_done_text(*details))
        if not held_left:
            signals.sync_state_changed.emit("completed")

    def _failed(self, message: str) -> None:
        self.services.signals.status_message.emit(message)

    def shutdown(self) -> None:
        self.loader.shutdown(300)
        self._task.shutdown(300)
