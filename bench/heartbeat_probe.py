"""Child process for scenario 6: the window runs a sync while a 10 ms QTimer records its gaps.

``python -m bench.heartbeat_probe DATA_DIR`` (a connected, configured data folder) prints
``{"max_gap_ms", "p99_gap_ms", "ticks", "sync_s", "outcome", "widget"}``. The heartbeat
runs from just before Sync now until 1 s after the sync's outcome reached the window (the
table reload that follows a sync is part of what the admin sees).
"""

from __future__ import annotations

import json
import math
import os
import resource
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QEventLoop, Qt, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402


def _build(services):
    """The real window if it can be built, else the users tab alone."""
    from evalsync_gui.gui.users_tab import UsersTab

    try:
        from evalsync_gui.gui.main_window import MainWindow

        window = MainWindow(services)
        tab = next(p for p in getattr(window, "tab_pages", []) if isinstance(p, UsersTab))
        window.tabs.setCurrentWidget(tab)
        return window, tab, "MainWindow"
    except (ImportError, StopIteration, AttributeError):
        tab = UsersTab(services, None, start_schedule=False)
        return tab, tab, "UsersTab"


def main() -> int:
    app = QApplication.instance() or QApplication([sys.argv[0]])
    profiler = None
    from evalsync_gui.core.context import AppContext
    from evalsync_gui.gui.services import AppSignals, Services

    services = Services(ctx=AppContext.create(sys.argv[1]), signals=AppSignals())
    window, tab, kind = _build(services)
    window.resize(1280, 800)
    window.show()
    settle = QEventLoop()
    QTimer.singleShot(500, settle.quit)
    settle.exec()

    ticks: list[float] = []
    beat = QTimer()
    beat.setTimerType(Qt.TimerType.PreciseTimer)
    beat.setInterval(10)
    beat.timeout.connect(lambda: ticks.append(time.perf_counter()))
    loop = QEventLoop()
    outcome: dict = {}

    def done(kind_: str, value=None) -> None:
        if "kind" in outcome:
            return
        outcome.update(kind=kind_, at=time.perf_counter(), status=getattr(value, "status", None),
                       error=value if isinstance(value, str) else getattr(value, "error", None))
        QTimer.singleShot(1000, loop.quit)

    ctl = tab.controller
    ctl.finished.connect(lambda r: done("finished", r))
    ctl.failed.connect(lambda m: done("failed", m))
    ctl.cancelled.connect(lambda: done("cancelled"))
    guard = QTimer()
    guard.setSingleShot(True)
    guard.timeout.connect(loop.quit)
    guard.start(30 * 60 * 1000)
    if os.environ.get("BENCH_PROFILE"):  # pyinstrument samples this (the GUI) thread only
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.001)
        profiler.start()
    beat.start()
    t0 = time.perf_counter()
    ticks.append(t0)
    if not ctl.sync_now(trigger="button"):
        pass  # a scheduled sync already started: measure that one
    loop.exec()
    beat.stop()
    if profiler is not None:
        profiler.stop()
        with open(os.environ["BENCH_PROFILE"], "w") as fh:
            fh.write(profiler.output_text(unicode=True))
    gaps = sorted((b - a) * 1000 for a, b in zip(ticks, ticks[1:]))
    p99 = gaps[min(len(gaps) - 1, math.ceil(0.99 * len(gaps)) - 1)] if gaps else float("nan")
    out = {"max_gap_ms": gaps[-1] if gaps else float("nan"), "p99_gap_ms": p99, "ticks": len(ticks),
           "over_50ms": sum(1 for g in gaps if g > 50), "sync_s": outcome.get("at", time.perf_counter()) - t0,
           "outcome": outcome.get("kind", "timeout"), "status": outcome.get("status"),
           "error": str(outcome.get("error") or "")[:200], "widget": kind,
           "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    print(json.dumps(out))
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    raise SystemExit(main())
