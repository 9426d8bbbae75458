"""GUI test hygiene (napari style): a test that leaves a worker thread running or a window open fails.

The check runs after pytest-qt has closed the widgets registered with ``qtbot.addWidget`` and
after the fixtures' own teardown, so a tab's ``shutdown()`` in a fixture counts as cleaning up.
"""

from __future__ import annotations

import pytest

GRACE_MS = 2000  # a cancelled job may need a moment to notice; longer is a real leak


def _running_worker_threads() -> list[str]:
    from evalsync_gui.gui import workers

    names = []
    for controller in list(workers._live):
        thread = controller._thread
        try:
            if thread is not None and thread.isRunning() and not thread.wait(GRACE_MS):
                names.append(controller.name)
        except RuntimeError:  # the C++ thread is already gone: not running
            continue
    for thread, _worker in list(workers._orphans):
        try:
            if not thread.wait(GRACE_MS):
                names.append(f"orphan {thread.objectName()}")
        except RuntimeError:
            continue
    return names


def _visible_windows() -> list[str]:
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        return []
    return [f"{type(w).__name__}({w.objectName() or w.windowTitle()})" for w in app.topLevelWidgets()
            if w.isVisible() and not w.windowType() == w.windowType().Desktop]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    result = yield
    threads = _running_worker_threads()
    windows = _visible_windows()
    if threads or windows:
        for w in _leaked_widgets():
            w.close()
        raise AssertionError(f"{item.nodeid} leaked running worker threads {threads} / open windows {windows}; "
                             "call the widget's shutdown()/close() or register it with qtbot.addWidget")
    return result


def _leaked_widgets():
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    return [w for w in app.topLevelWidgets() if w.isVisible()] if app is not None else []
