"""One place where the Chat pages run their work: a job at a time, then a reload of the tables.

``jobs`` runs one Zendesk/database job at a time with progress and Cancel; ``loader`` re-reads
everything the pages show (:func:`evalsync_gui.gui.chat_jobs.load_snapshot`) after each job.
Pages never talk to each other: they start jobs here and redraw on :attr:`ChatRunner.snapshot`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from evalsync_gui.gui import chat_jobs as jobs
from evalsync_gui.gui.services import Services
from evalsync_gui.gui.workers import TaskController

CANCELLED = "Cancelled; finished requests are saved, the rest stay queued."


class ChatRunner(QObject):
    """Starts the tab's jobs off the GUI thread and tells the pages what happened."""

    snapshot = Signal(object)       # a fresh load_snapshot() dict
    refreshed = Signal()            # emitted after every page has drawn a snapshot
    busy_changed = Signal(bool)     # a job started (True) or ended (False)
    progress = Signal(int, int, str)  # done, total (0 = unknown), message
    message = Signal(str)           # one line for the tab's status label and the status bar
    job_finished = Signal(str)      # a job's one-line outcome

    def __init__(self, services: Services, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.ctx = services.ctx
        # The Support client factory (tests hand in a simulator's); None means the stored sign-in.
        # The Chat client always comes from the stored Chat API connection.
        self.open_support = services.extras.get("chat_http_factory")
        self.jobs = TaskController(self, name="chat.jobs")
        self.jobs.finished.connect(self._job_done)
        self.jobs.failed.connect(self._job_failed)
        self.jobs.cancelled.connect(self._job_cancelled)
        self.jobs.progress.connect(self._job_progress)
        self.jobs.running_changed.connect(self.busy_changed)
        self.loader = TaskController(self, name="chat.loader")
        self.loader.finished.connect(self._loaded)
        self.loader.failed.connect(self._job_failed)
        self._on_done: Callable[[Any], None] | None = None
        self._cancelled_text = CANCELLED
        self._reload_again = False
        self.last_message = ""

    def start(self, fn: Callable[..., Any], *args: Any, on_done: Callable[[Any], None] | None = None,
              cancelled_text: str = CANCELLED) -> bool:
        """Run ``fn(task, *args)`` in the worker; ``on_done(result)`` replaces the default
        "say the result" on success; ``cancelled_text`` is said if the user cancels.
        False (and a word to the user) when another job runs."""
        if self.jobs.is_running():
            self.say("Another Chat job is running; wait for it or press Cancel.")
            return False
        self._on_done = on_done
        self._cancelled_text = cancelled_text
        self.jobs.start(fn, *args)
        return True

    def say(self, text: str) -> None:
        """Show one line in the tab's status label and the window's status bar."""
        self.last_message = text
        self.message.emit(text)
        self.services.signals.status_message.emit(text)

    def reload(self) -> None:
        """Re-read the tables in a worker; coalesces calls made while one is running."""
        if self.loader.is_running():
            self._reload_again = True
            return
        self.loader.start(jobs.load_snapshot, self.ctx)

    def cancel(self) -> None:
        self.jobs.cancel()

    def shutdown(self) -> None:
        """Stop both workers (the main window's closeEvent must return within 2 s)."""
        self.jobs.shutdown(1200)
        self.loader.shutdown(600)

    # -- outcomes ------------------------------------------------------------------------
    @Slot(object)
    def _job_progress(self, value) -> None:
        done, total, msg = value
        self.progress.emit(int(done or 0), int(total or 0), str(msg))

    @Slot(object)
    def _job_done(self, result) -> None:
        callback, self._on_done = self._on_done, None
        if callback:
            callback(result)
        elif isinstance(result, str):
            self.say(result)
        self.job_finished.emit(self.last_message)
        self.reload()

    @Slot(str)
    def _job_failed(self, message: str) -> None:
        self._on_done = None
        self.say(message)
        self.job_finished.emit(message)
        self.reload()

    @Slot()
    def _job_cancelled(self) -> None:
        self._on_done = None
        self.say(self._cancelled_text)
        self.job_finished.emit(self.last_message)
        self.reload()

    @Slot(object)
    def _loaded(self, snap: dict) -> None:
        self.snapshot.emit(snap)
        if self._reload_again:  # something changed while this was read: read again before "refreshed"
            self._reload_again = False
            self.reload()
            return
        self.refreshed.emit()
