"""Runs user syncs off the GUI thread and keeps the schedule (every N hours, overdue at start).

One :class:`SyncController` per window. It owns a :class:`TaskController` (a QObject worker on
a QThread) for the sync and a QTimer that checks once a minute whether the schedule is due.
Two syncs never overlap: in-process because the controller runs one job at a time, across
processes because the engine takes a lock and raises ``SyncLocked``.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from evalsync_gui.core.errors import UsageError
from evalsync_gui.gui.services import Services
from evalsync_gui.gui.workers import Task, TaskController

log = logging.getLogger(__name__)
CHECK_MS = 60_000
#: The engine reports every page (hundreds a second at 100k users); the window needs ~10 a second.
PROGRESS_MS = 100
_NOTHING = object()


def run_sync_task(task: Task, ctx, **options: Any):
    """Worker-thread body: call the engine with the task's progress and cancel hooks."""
    try:
        from evalsync_gui.core.sync.runner import run_sync
    except ImportError as exc:  # the engine ships separately during development
        raise UsageError("The sync engine is not available in this build; update EvalSync.") from exc
    return run_sync(ctx, progress=task.report, is_cancelled=task.is_cancelled, **options)


def due_now(ctx) -> bool:
    """True when the schedule is enabled and its next run time has come."""
    try:
        from evalsync_gui.core.sync.config import next_due
    except ImportError:
        return False
    when = next_due(ctx)
    return when is not None and when <= datetime.now(timezone.utc)


class SyncController(QObject):
    """Start, cancel and schedule syncs; re-emits the engine's progress on the GUI thread."""

    progress = Signal(object)        # SyncProgress
    running_changed = Signal(bool)
    finished = Signal(object)        # SyncResult
    failed = Signal(str)
    cancelled = Signal()

    def __init__(self, services: Services, parent: QObject | None = None, check_ms: int = CHECK_MS) -> None:
        super().__init__(parent)
        self.services = services
        self.last_options: dict[str, Any] = {}
        self._task = TaskController(self, name="sync")
        self._task.progress.connect(self._on_progress)
        self._pending_progress: Any = _NOTHING
        self._progress_timer = QTimer(self)
        self._progress_timer.setSingleShot(True)
        self._progress_timer.setInterval(PROGRESS_MS)
        self._progress_timer.timeout.connect(self._flush_progress)
        self._task.running_changed.connect(self.running_changed)
        self._task.finished.connect(self._on_finished)
        self._task.failed.connect(self._on_failed)
        self._task.cancelled.connect(self._on_cancelled)
        self._timer = QTimer(self)
        self._timer.setInterval(check_ms)
        self._timer.timeout.connect(self.check_schedule)

    # -- public API --------------------------------------------------------------------
    def start(self) -> None:
        """Begin watching the schedule; an overdue sync starts right away."""
        self._timer.start()
        QTimer.singleShot(0, self.check_schedule)

    def is_running(self) -> bool:
        return self._task.is_running()

    def sync_now(self, *, trigger: str = "button", dry_run: bool = False, full: bool = False,
                 allow_deactivations: bool = False) -> bool:
        """Start a sync (or a preview with ``dry_run``); False if one is already running."""
        if self._task.is_running():
            self.services.signals.status_message.emit("A sync is already running; wait for it or cancel it.")
            return False
        self.last_options = dict(trigger=trigger, dry_run=dry_run, full=full, allow_deactivations=allow_deactivations)
        self.services.signals.sync_state_changed.emit("running")
        self._task.start(run_sync_task, self.services.ctx, **self.last_options)
        return True

    def cancel(self) -> None:
        """Ask the running sync to stop; the engine checks between requests and rate-limit waits."""
        self._task.cancel()

    def check_schedule(self) -> None:
        """Start a scheduled sync if one is due and none is running."""
        if self._task.is_running():
            return
        try:
            due = due_now(self.services.ctx)
        except Exception as exc:  # a damaged setting must not kill the timer
            log.warning("schedule check failed: %s", exc)
            return
        if due:
            self.sync_now(trigger="schedule")

    def shutdown(self, timeout_ms: int = 1500) -> None:
        """Stop the timer, cancel the sync and wait for the thread (bounded)."""
        self._timer.stop()
        self._progress_timer.stop()
        self._pending_progress = _NOTHING
        self._task.shutdown(timeout_ms)

    # -- progress ------------------------------------------------------------------------
    def _on_progress(self, value: Any) -> None:
        """Coalesce: the first report goes out at once, then at most one per PROGRESS_MS (the latest)."""
        if self._progress_timer.isActive():
            self._pending_progress = value
            return
        self.progress.emit(value)
        self._progress_timer.start()

    def _flush_progress(self) -> None:
        value, self._pending_progress = self._pending_progress, _NOTHING
        if value is not _NOTHING:
            self.progress.emit(value)
            self._progress_timer.start()

    def _end_progress(self) -> None:
        """Before an outcome: deliver the last report held back, then stop the timer."""
        self._progress_timer.stop()
        self._flush_progress()
        self._progress_timer.stop()

    # -- outcomes ------------------------------------------------------------------------
    def _on_finished(self, result: Any) -> None:
        self._end_progress()
        status = getattr(result, "status", "completed")
        signals = self.services.signals
        signals.sync_state_changed.emit(status if status in ("completed", "failed", "held") else "idle")
        signals.sync_finished.emit(result)
        signals.users_changed.emit()
        self.finished.emit(result)

    def _on_failed(self, message: str) -> None:
        self._end_progress()
        self.services.signals.sync_state_changed.emit("failed")
        self.services.signals.status_message.emit(message)
        self.services.signals.users_changed.emit()
        self.failed.emit(message)

    def _on_cancelled(self) -> None:
        self._end_progress()
        self.services.signals.sync_state_changed.emit("idle")
        self.services.signals.status_message.emit("Sync cancelled; the pages already read are kept.")
        self.services.signals.users_changed.emit()
        self.cancelled.emit()
