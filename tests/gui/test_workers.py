"""TaskController: results, errors, progress and cancel arrive as signals on the GUI thread."""

from __future__ import annotations

import threading
import time

import pytest
from PySide6.QtCore import QThread

from evalsync_gui.core.errors import Cancelled, StoreError
from evalsync_gui.gui.workers import TaskController


@pytest.fixture
def controller(qtbot):
    c = TaskController(name="test")
    yield c
    assert c.shutdown(2000)


def test_result_arrives_on_gui_thread(qtbot, controller):
    seen = {}

    def work(task, a, b):
        seen["thread"] = threading.current_thread()
        return a + b

    with qtbot.waitSignal(controller.finished, timeout=2000) as blocker:
        controller.start(work, 2, b=3)
    assert blocker.args == [5]
    assert seen["thread"] is not threading.main_thread()
    assert not controller.is_running()


def test_failure_is_one_readable_line(qtbot, controller):
    def work(task):
        raise StoreError("The database is busy; try again in a moment.")

    errors = []
    controller.error.connect(errors.append)
    with qtbot.waitSignal(controller.failed, timeout=2000) as blocker:
        controller.start(work)
    assert blocker.args == ["The database is busy; try again in a moment."]
    assert isinstance(errors[0], StoreError)


def test_unexpected_exception_is_reported_not_raised(qtbot, controller):
    with qtbot.waitSignal(controller.failed, timeout=2000) as blocker:
        controller.start(lambda task: 1 / 0)
    assert "ZeroDivisionError" in blocker.args[0]


def test_progress_then_finished(qtbot, controller):
    progress = []
    controller.progress.connect(progress.append)

    def work(task):
        for i in range(3):
            task.report(i)
        return "ok"

    with qtbot.waitSignal(controller.finished, timeout=2000):
        controller.start(work)
    assert progress == [0, 1, 2]


def test_cancel_stops_within_one_second(qtbot, controller):
    started = threading.Event()

    def work(task):
        started.set()
        while True:
            task.raise_if_cancelled()
            time.sleep(0.01)

    controller.start(work)
    assert started.wait(2)
    t0 = time.monotonic()
    with qtbot.waitSignal(controller.cancelled, timeout=1000):
        controller.cancel()
    assert time.monotonic() - t0 < 1.0


def test_start_while_busy_is_refused_and_restart_after_done_works(qtbot, controller):
    gate = threading.Event()
    controller.start(lambda task: gate.wait(2))
    with pytest.raises(RuntimeError):
        controller.start(lambda task: None)
    with qtbot.waitSignal(controller.done, timeout=2000):
        gate.set()
    with qtbot.waitSignal(controller.finished, timeout=2000) as blocker:
        controller.start(lambda task: "again")
    assert blocker.args == ["again"]


def test_shutdown_stops_thread_and_ignores_late_results(qtbot):
    c = TaskController(name="shutdown")
    threads: list[QThread] = []

    def work(task):
        threads.append(QThread.currentThread())
        task.sleep(5)  # wakes on cancel
        return "late"

    results = []
    c.finished.connect(results.append)
    c.start(work)
    qtbot.waitUntil(lambda: bool(threads), timeout=2000)
    t0 = time.monotonic()
    assert c.shutdown(2000)
    assert time.monotonic() - t0 < 1.0
    qtbot.wait(50)
    assert results == []
    with pytest.raises(RuntimeError):
        c.start(lambda task: None)


def test_cancelled_raised_by_core_maps_to_cancelled(qtbot, controller):
    def work(task):
        raise Cancelled("stopped")

    with qtbot.waitSignal(controller.cancelled, timeout=2000):
        controller.start(work)


def test_job_ignoring_cancel_is_parked_then_reaped(qtbot):
    from evalsync_gui.gui import workers

    c = TaskController(name="stubborn")
    gate = threading.Event()
    c.start(lambda task: gate.wait(5))  # ignores cancel
    assert c.shutdown(100) is False
    assert len(workers._orphans) == 1
    gate.set()
    assert workers.wait_for_orphans(2000)
    assert workers._orphans == []


def test_cancel_all_reaches_every_running_controller(qtbot):
    from evalsync_gui.gui import workers

    controllers = [TaskController(name=f"c{i}") for i in range(3)]
    started = threading.Semaphore(0)

    def job(task):
        started.release()
        while not task.sleep(0.02):
            pass
        raise Cancelled("stopped")

    for c in controllers:
        c.start(job)
    for _ in controllers:
        assert started.acquire(timeout=2)
    assert workers.cancel_all() == 3
    for c in controllers:
        qtbot.waitUntil(lambda c=c: not c.is_running(), timeout=1000)
        assert c.shutdown(1000)
