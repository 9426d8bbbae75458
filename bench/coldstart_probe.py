"""Child process for scenario 7: start an app and record when its main window first painted.

``python -m bench.coldstart_probe app|bare STAMP_FILE``. ``app`` runs ``main.py`` as
``python main.py`` would; ``bare`` runs a bare PySide6 QMainWindow script the same way. The
hook installs an event filter on each QMainWindow when it is shown (or when the event loop
starts), and on the window's first Paint event it queues a zero timer, which fires once that
paint cycle (the window and its children) has finished; then it writes ``time.time()`` and
exits at once.
The parent subtracts its own ``time.time()`` taken just before spawning.
"""

from __future__ import annotations

import os
import runpy
import sys
import time
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow, QWidget

REPO = Path(__file__).resolve().parent.parent


class FirstPaint(QObject):
    def __init__(self, stamp: str) -> None:
        super().__init__()
        self.stamp = stamp
        self.seen = False

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt API
        # Installed on the main window only: a window paints itself first in the paint cycle
        # that paints its children, and the zero timer fires once that cycle is done. (A filter
        # on the whole application turned every event of every widget into a Python call and
        # an enum conversion, which taxed a window with more widgets, not the start itself.)
        if not self.seen and event.type() == QEvent.Type.Paint:
            self.seen = True
            QTimer.singleShot(0, self.finish)
        return False

    def finish(self) -> None:
        Path(self.stamp).write_text(repr(time.time()))
        if _profiler is not None:
            _profiler.stop()
            Path(os.environ["BENCH_PROFILE"]).write_text(_profiler.output_text(unicode=True, show_all=False))
        os._exit(0)  # the measurement ends at the first paint; teardown is not part of it


_hook: FirstPaint | None = None
_profiler = None  # BENCH_PROFILE=FILE: a pyinstrument profile of the start, written at first paint


def _install(window: QWidget) -> None:
    if not getattr(window, "_bench_hooked", False):
        window.installEventFilter(_hook)
        window._bench_hooked = True  # type: ignore[attr-defined]


def patch(stamp: str) -> None:
    global _hook
    _hook = FirstPaint(stamp)
    show, exec_ = QMainWindow.show, QApplication.exec

    def hooked_show(self, *a):
        _install(self)
        return show(self, *a)

    def hooked_exec(*_a):  # exec is static in Qt: called on the instance or the class
        for window in QApplication.topLevelWidgets():  # a main window shown another way
            if isinstance(window, QMainWindow):
                _install(window)
        return exec_()

    QMainWindow.show = hooked_show
    QApplication.exec = hooked_exec


BARE = '''
import sys
from PySide6.QtWidgets import QApplication, QMainWindow
app = QApplication(sys.argv)
w = QMainWindow()
w.setWindowTitle("bare")
w.resize(1100, 720)
w.show()
sys.exit(app.exec())
'''


def main() -> int:
    global _profiler
    kind, stamp = sys.argv[1], sys.argv[2]
    if os.environ.get("BENCH_PROFILE"):
        from pyinstrument import Profiler

        _profiler = Profiler(interval=0.0005)
        _profiler.start()
    patch(stamp)
    if kind == "app":
        sys.argv = [str(REPO / "main.py")]
        runpy.run_path(str(REPO / "main.py"), run_name="__main__")
    else:
        sys.argv = ["bare.py"]
        exec(compile(BARE, "bare.py", "exec"), {"__name__": "__main__"})  # noqa: S102 - our own constant
    return 3  # the app exited without ever painting its window


if __name__ == "__main__":
    raise SystemExit(main())
