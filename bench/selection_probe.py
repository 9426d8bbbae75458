"""Child process for scenario 9: big selections in the window while a 10 ms heartbeat runs.

``python -m bench.selection_probe DATA_DIR`` (a data folder holding many pending users)
prints one JSON object. Three steps, each driven as the admin does it, each with its own
heartbeat record (the largest gap between 10 ms ticks is how long the GUI thread was blocked):

* ``idle``: 1.5 s of nothing, the machine's own share of every gap (a busy, shared machine);
* ``select_all``: Ctrl+A in the users table, until 500 ms after the label says "All … selected";
* ``log_toggle``: with everything selected, the window's Log action (Ctrl+L) shows the log
  dock and then hides it again; also the wall time of each toggle to the next paint;
* ``activate``: Activate… → the dialog's Activate button → the writer finishes → the table
  re-read after the change is shown, plus 500 ms.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from collections.abc import Callable

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QEventLoop, Qt, QTimer  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

TIMEOUT_MS = 120_000


class Heartbeat:
    """A 10 ms PreciseTimer whose tick gaps show how long the GUI thread was blocked."""

    def __init__(self) -> None:
        self.ticks: list[float] = []
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(10)
        self.timer.timeout.connect(lambda: self.ticks.append(time.perf_counter()))

    def start(self) -> None:
        self.ticks = [time.perf_counter()]
        self.timer.start()

    def stop(self) -> float:
        """Stop; the largest gap in milliseconds."""
        self.timer.stop()
        self.ticks.append(time.perf_counter())
        return self.max_gap_ms

    @property
    def max_gap_ms(self) -> float:
        return max((b - a) * 1000 for a, b in zip(self.ticks, self.ticks[1:]))

    def __enter__(self) -> "Heartbeat":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def wait_until(condition: Callable[[], bool], timeout_ms: int = TIMEOUT_MS, then_ms: int = 500) -> bool:
    """Run the event loop until ``condition()`` holds, then ``then_ms`` more; False on timeout."""
    deadline = time.perf_counter() + timeout_ms / 1000
    loop = QEventLoop()
    ok = False

    def poll() -> None:
        nonlocal ok
        if condition():
            ok = True
            QTimer.singleShot(then_ms, loop.quit)
        elif time.perf_counter() > deadline:
            loop.quit()
        else:
            QTimer.singleShot(5, poll)

    QTimer.singleShot(0, poll)
    loop.exec()
    return ok


def settle(ms: int = 300) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def main() -> int:
    app = QApplication.instance() or QApplication([sys.argv[0]])
    from bench.heartbeat_probe import _build
    from evalsync_gui.core import directory
    from evalsync_gui.core.context import AppContext
    from evalsync_gui.gui.services import AppSignals, Services

    ctx = AppContext.create(sys.argv[1])
    pending = directory.counts(ctx.db)["pending"]
    ctx.settings.set(directory.LICENCE_KEY, sum(directory.counts(ctx.db).values()) + 1000)  # this step measures the work, not a refusal
    services = Services(ctx=ctx, signals=AppSignals())
    window, tab, kind = _build(services)
    window.resize(1280, 800)
    window.show()
    wait_until(lambda: tab.rows_loaded and tab.model.rowCount() > 0, then_ms=300)
    wait_until(lambda: hasattr(window, "log_action") or kind != "MainWindow", timeout_ms=5000, then_ms=100)
    out: dict = {"widget": kind, "rows": tab.model.rowCount()}
    beat = Heartbeat()
    beat.start()  # nothing happening: what the machine itself adds to every gap below
    settle(1500)
    out["idle"] = {"max_gap_ms": beat.stop()}

    tab.table.setFocus()
    beat.start()
    t0 = time.perf_counter()
    QTest.keyClick(tab.table, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    ok = wait_until(lambda: tab.selection_label.text().startswith("All "))
    out["select_all"] = {"max_gap_ms": beat.stop(), "ok": ok, "label": tab.selection_label.text(),
                         "wall_ms": (time.perf_counter() - t0) * 1000 - 500}

    action = getattr(window, "log_action", None)
    if action is not None:
        beat.start()
        walls = []
        for _ in range(2):  # show, then hide
            t0 = time.perf_counter()
            action.trigger()
            app.processEvents()
            walls.append((time.perf_counter() - t0) * 1000)
            settle(300)
        out["log_toggle"] = {"max_gap_ms": beat.stop(), "wall_ms": max(walls),
                             "still_all": tab.selection_label.text().startswith("All ")}

    def press_activate() -> None:
        dialog = getattr(tab.actions, "dialog", None)
        if dialog is not None and dialog.isVisible():
            dialog.ok_button.click()
        else:
            QTimer.singleShot(5, press_activate)

    before = directory.counts(ctx.db)["active"]
    beat.start()
    t0 = time.perf_counter()
    QTimer.singleShot(0, press_activate)
    QTest.mouseClick(tab.activate_btn, Qt.MouseButton.LeftButton)
    ok = wait_until(lambda: not tab.writer.is_running() and tab.status_buttons["active"].text()
                    == f"Active ({before + pending:,})" and tab.model.rowCount() == 0)
    out["activate"] = {"max_gap_ms": beat.stop(), "ok": ok, "wall_s": time.perf_counter() - t0 - 0.5,
                       "activated": directory.counts(ctx.db)["active"] - before}
    out["maxrss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    raise SystemExit(main())
