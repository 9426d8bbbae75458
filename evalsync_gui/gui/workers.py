"""Run a function off the GUI thread and get its outcome back as Qt signals.

The one rule of the GUI: network and database work never runs on the GUI thread. This module
is the standard way to obey it. A :class:`TaskController` owns one QThread and one
:class:`Worker` at a time; the worker calls your function in that thread and the controller
re-emits the outcome on the GUI thread.

Usage in a tab::

    from evalsync_gui.gui.workers import Task, TaskController

    def load_counts(task: Task, db) -> dict:          # runs in the worker thread: no widgets here!
        task.report("counting")                       # -> controller.progress("counting")
        for chunk in chunks:
            task.raise_if_cancelled()                 # raises core Cancelled -> controller.cancelled
            ...
        return counts                                 # -> controller.finished(counts)

    self.loader = TaskController(self, name="users.counts")
    self.loader.finished.connect(self.show_counts)
    self.loader.failed.connect(self.status_bar_message)   # one readable line
    self.loader.start(load_counts, self.services.ctx.db)
    ...
    def shutdown(self):                               # from the tab's shutdown()
        self.loader.shutdown()                        # cancel -> quit -> wait (bounded)

Rules:

* The function's first argument is always the :class:`Task` (wrap a plain call as
  ``lambda task: f(x)``). It must not touch widgets; it may call ``task.report(value)``.
* Cancellation is cooperative: ``cancel()`` sets a ``threading.Event``; the function polls
  ``task.is_cancelled()`` (or passes it to core as ``is_cancelled=task.is_cancelled``) and
  either returns or raises :class:`~evalsync_gui.core.errors.Cancelled`. Use
  ``task.sleep(s)`` instead of ``time.sleep`` so a back-off wakes up on cancel.
* Outcome signals (exactly one per run, on the GUI thread): ``finished(result)``,
  ``failed(message)`` + ``error(exception)``, or ``cancelled()``. ``done()`` follows each.
* One run at a time per controller: ``start()`` while busy raises ``RuntimeError``; use two
  controllers for two concurrent jobs. Database work: each thread gets its own SQLite
  connection from ``Database`` automatically, so just use ``ctx.db`` inside the function.
* Lifetime: call ``shutdown()`` before the owning widget goes away; a QThread destroyed while
  running aborts the process. A job that ignores cancel past the timeout is parked and
  :func:`wait_for_orphans` (called by ``app.py`` at exit) waits for it.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from evalsync_gui.core.errors import Cancelled, EvalsyncError

log = logging.getLogger(__name__)

#: Threads whose function ignored cancel past the shutdown timeout. Kept referenced so Qt
#: does not destroy a running QThread (which aborts the process); they end with their function.
_orphans: list[tuple[QThread, QObject]] = []

#: Every controller alive, so the window can ask all jobs to stop at once before it waits.
_live: "weakref.WeakSet[TaskController]" = weakref.WeakSet()


def cancel_all() -> int:
    """Request cancel of every running job (all controllers); return how many were running.

    The main window calls this first on close, so jobs in different tabs wind down in
    parallel and each tab's ``shutdown()`` then mostly finds its thread already done.
    """
    running = [c for c in list(_live) if c.is_running()]
    for controller in running:
        controller.cancel()
    return len(running)


def shutdown_controllers(controllers: list["TaskController"], timeout_ms: int) -> bool:
    """Cancel every controller first, then wait for all of them against ONE shared deadline.

    Waiting tab by tab with a timeout each adds the timeouts up; here the whole set gets
    ``timeout_ms`` in total. Jobs still running at the deadline are parked as orphans.
    Returns True when every thread stopped in time.
    """
    deadline = time.monotonic() + max(0, timeout_ms) / 1000
    for controller in controllers:
        controller.cancel()
    stopped = True
    for controller in controllers:
        remaining = max(0, int((deadline - time.monotonic()) * 1000))
        stopped = controller.shutdown(remaining) and stopped
    return stopped


class Task:
    """What the worker function receives: the cancel flag and a progress channel."""

    def __init__(self, worker: "Worker") -> None:
        self._worker = worker
        self.event = threading.Event()

    def is_cancelled(self) -> bool:
        """True once :meth:`TaskController.cancel` (or shutdown) was called."""
        return self.event.is_set()

    def raise_if_cancelled(self) -> None:
        """Raise :class:`Cancelled` if cancel was requested; call between units of work."""
        if self.event.is_set():
            raise Cancelled("Cancelled; nothing was half-applied.")

    def sleep(self, seconds: float) -> bool:
        """Wait up to ``seconds``; return True early if cancelled (use for back-offs)."""
        return self.event.wait(seconds)

    def report(self, value: Any) -> None:
        """Emit ``progress(value)`` to the GUI thread (any picklable-ish Python object)."""
        self._worker.progress.emit(value)


class Worker(QObject):
    """Calls ``fn(task, *args, **kwargs)`` once, in whatever thread it was moved to."""

    finished = Signal(object)
    failed = Signal(str)
    error = Signal(object)
    cancelled = Signal()
    progress = Signal(object)

    def __init__(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        super().__init__()
        self.task = Task(self)
        self._call = (fn, args, kwargs)

    def cancel(self) -> None:
        """Ask the function to stop (thread-safe)."""
        self.task.event.set()

    @Slot()
    def run(self) -> None:
        fn, args, kwargs = self._call
        try:
            result = fn(self.task, *args, **kwargs)
        except Cancelled:
            self.cancelled.emit()
        except EvalsyncError as exc:
            log.warning("%s failed: %s", getattr(fn, "__name__", "task"), exc)
            self.error.emit(exc)
            self.failed.emit(str(exc))
        except Exception as exc:  # any bug must still reach the GUI as one line, not kill the thread
            log.exception("Unexpected error in background task %s", getattr(fn, "__name__", "task"))
            self.error.emit(exc)
            self.failed.emit(f"Unexpected error ({type(exc).__name__}: {exc}); details are in the log.")
        else:
            self.finished.emit(result)
        finally:
            self._call = (fn, (), {})  # drop references to large arguments early
            thread = self.thread()
            if thread is not None:
                thread.quit()


class TaskController(QObject):
    """Owns the thread and worker of one background job at a time; lives on the GUI thread.

    Signals mirror :class:`Worker`'s and are always delivered on the GUI thread. Call
    :meth:`shutdown` from your widget's ``shutdown()``/``closeEvent``.
    """

    finished = Signal(object)
    failed = Signal(str)
    error = Signal(object)
    cancelled = Signal()
    progress = Signal(object)
    done = Signal()
    running_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None, name: str = "task") -> None:
        super().__init__(parent)
        self.name = name
        self._thread: QThread | None = None
        self._worker: Worker | None = None
        self._busy = False
        self._closed = False
        _live.add(self)

    # -- public API ---------------------------------------------------------------------
    def is_running(self) -> bool:
        """True from :meth:`start` until the outcome signal has been delivered."""
        return self._busy

    def start(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Run ``fn(task, *args, **kwargs)`` in a new thread. Raises RuntimeError if busy or shut down."""
        if self._closed:
            raise RuntimeError(f"{self.name}: controller was shut down")
        if self._busy:
            raise RuntimeError(f"{self.name}: a job is already running")
        self._reap(1000)
        worker = Worker(fn, *args, **kwargs)
        thread = QThread()
        thread.setObjectName(f"evalsync-{self.name}")
        worker.moveToThread(thread)
        worker.finished.connect(self._on_finished)
        worker.failed.connect(self._on_failed)
        worker.error.connect(self._on_error)
        worker.cancelled.connect(self._on_cancelled)
        worker.progress.connect(self._on_progress)
        thread.started.connect(worker.run)
        self._thread, self._worker, self._busy = thread, worker, True
        self.running_changed.emit(True)
        thread.start()

    def cancel(self) -> None:
        """Request cooperative cancel of the current job (no-op when idle)."""
        if self._worker is not None:
            self._worker.cancel()

    def shutdown(self, timeout_ms: int = 1500) -> bool:
        """Cancel, stop the thread and wait up to ``timeout_ms``; True if it stopped in time.

        After shutdown the controller ignores late outcomes and refuses new jobs.
        """
        self._closed = True
        self.cancel()
        stopped = self._reap(timeout_ms)
        if self._busy:
            self._busy = False
            self.running_changed.emit(False)
        return stopped

    # -- internals ----------------------------------------------------------------------
    def _reap(self, timeout_ms: int) -> bool:
        thread, worker = self._thread, self._worker
        if thread is None:
            return True
        thread.quit()
        stopped = thread.wait(timeout_ms)
        if not stopped:
            log.warning("%s: background job did not stop within %d ms; leaving it to finish", self.name, timeout_ms)
            _orphans.append((thread, worker))
            thread.finished.connect(lambda: _orphans.remove((thread, worker)) if (thread, worker) in _orphans else None)
        self._thread = self._worker = None
        return stopped

    def _outcome(self, signal: Any, *args: Any) -> None:
        if self._closed or self.sender() is not self._worker:
            return  # a late result from a job we already abandoned
        self._busy = False
        signal.emit(*args)
        self.running_changed.emit(False)
        self.done.emit()

    @Slot(object)
    def _on_finished(self, result: Any) -> None:
        self._outcome(self.finished, result)

    @Slot(object)
    def _on_error(self, exc: Any) -> None:
        if not self._closed and self.sender() is self._worker:
            self.error.emit(exc)  # precedes failed(str), which carries the outcome bookkeeping

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self._outcome(self.failed, message)

    @Slot()
    def _on_cancelled(self) -> None:
        self._outcome(self.cancelled)

    @Slot(object)
    def _on_progress(self, value: Any) -> None:
        if not self._closed and self.sender() is self._worker:
            self.progress.emit(value)


def wait_for_orphans(timeout_ms: int = 3000) -> bool:
    """At exit: give threads that outlived their controller's shutdown a last chance to end.

    ``app.py`` calls this after the event loop returns. True when none is left running (so the
    interpreter can exit without Qt aborting on a running QThread).
    """
    deadline = time.monotonic() + timeout_ms / 1000
    for thread, worker in list(_orphans):
        remaining = max(0, int((deadline - time.monotonic()) * 1000))
        if not thread.wait(remaining):
            return False
        if (thread, worker) in _orphans:
            _orphans.remove((thread, worker))
    return True
