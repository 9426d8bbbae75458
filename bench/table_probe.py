"""Child process for scenario 5: time the users table on an existing data folder, offscreen.

``python -m bench.table_probe DATA_DIR`` prints one JSON object (milliseconds):
``{"construct_ms", "first_paint_ms", "sort_ms": {column: ms}, "search_ms": [..], "jump_last_ms"}``.
Each interaction is timed from the action to the end of the first viewport paint after the
model changed (a QTimer.singleShot(0) queued from the Paint event fires once that paint is done).
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from collections.abc import Callable

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QEvent, QEventLoop, QObject, Qt, QTimer  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication, QTableView  # noqa: E402

TIMEOUT_MS = 10_000


class PaintWatch(QObject):
    """Calls ``on_painted`` after the next viewport paint once ``armed``."""

    def __init__(self, viewport) -> None:
        super().__init__()
        self.armed = False
        self.on_painted: Callable[[], None] | None = None
        viewport.installEventFilter(self)

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt API
        if self.armed and event.type() == QEvent.Type.Paint:
            self.armed = False
            QTimer.singleShot(0, self._done)
        return False

    def _done(self) -> None:
        if self.on_painted:
            self.on_painted()


def settle(app: QApplication, ms: int = 80) -> None:
    """Let pending work (repaints, debounce timers) finish so it is not timed as the next action."""
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def timed(app: QApplication, watch: PaintWatch, model, action: Callable[[], None], *, need_change: bool) -> float:
    """Milliseconds from ``action`` to the end of the first paint after the model changed."""
    settle(app)
    loop = QEventLoop()
    result: dict[str, float] = {}
    t0 = 0.0

    def arm(*_args) -> None:
        watch.armed = True

    def painted() -> None:
        result["ms"] = (time.perf_counter() - t0) * 1000
        loop.quit()

    signals = [model.modelReset, model.layoutChanged, model.dataChanged, model.rowsInserted, model.rowsRemoved]
    if need_change:
        for s in signals:
            s.connect(arm)
    watch.on_painted = painted
    timer = QTimer()
    timer.setSingleShot(True)
    timer.timeout.connect(loop.quit)
    timer.start(TIMEOUT_MS)
    t0 = time.perf_counter()
    if not need_change:
        watch.armed = True
    action()
    if "ms" not in result:
        loop.exec()
    timer.stop()
    watch.armed = False
    watch.on_painted = None
    if need_change:
        for s in signals:
            s.disconnect(arm)
    return result.get("ms", float("nan"))


def main() -> int:
    data_dir = sys.argv[1]
    profiler = None
    if os.environ.get("BENCH_PROFILE"):  # a pyinstrument profile of the whole probe, for the issue note
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0005)
        profiler.start()
    app = QApplication.instance() or QApplication([sys.argv[0]])
    from evalsync_gui.core.context import AppContext
    from evalsync_gui.gui.services import AppSignals, Services
    from evalsync_gui.gui.users_tab import UsersTab

    t0 = time.perf_counter()
    services = Services(ctx=AppContext.create(data_dir), signals=AppSignals())
    tab = UsersTab(services, None, start_schedule=False)
    construct_ms = (time.perf_counter() - t0) * 1000
    # The tab reads its first ids on a loader thread (in the app it is built right after the
    # window's first paint); wait for them, so "first rows painted" paints rows, not an empty table.
    # A running event loop, not processEvents() polling: only exec() lets the loader thread
    # have the GIL while the GUI thread waits.
    if not getattr(tab, "rows_loaded", True):
        loop = QEventLoop()
        tab.model.modelReset.connect(loop.quit)
        QTimer.singleShot(TIMEOUT_MS, loop.quit)
        loop.exec()
    loaded_ms = (time.perf_counter() - t0) * 1000
    tab.resize(1280, 800)
    table = getattr(tab, "table", None) or tab.findChild(QTableView)
    model = table.model()
    watch = PaintWatch(table.viewport())
    out: dict = {"construct_ms": construct_ms, "loaded_ms": loaded_ms, "rows": model.rowCount()}

    out["first_paint_ms"] = timed(app, watch, model, tab.show, need_change=False)
    out["visible_rows"] = model.rowCount()

    sort: dict[str, float] = {}
    header = table.horizontalHeader()
    for col in range(model.columnCount()):
        order = Qt.SortOrder.DescendingOrder if col == header.sortIndicatorSection() else Qt.SortOrder.AscendingOrder
        name = str(model.headerData(col, Qt.Orientation.Horizontal, Qt.ItemDataRole.DisplayRole))
        sort[name] = timed(app, watch, model, lambda c=col, o=order: table.sortByColumn(c, o), need_change=True)
    out["sort_ms"] = sort

    search = getattr(tab, "search", None)
    out["search_ms"] = []
    if search is not None:
        search.setFocus()
        for ch in "mar":
            out["search_ms"].append(timed(app, watch, model, lambda c=ch: QTest.keyClicks(search, c), need_change=True))
        out["search_rows"] = model.rowCount()
        timed(app, watch, model, search.clear, need_change=True)

    table.setFocus()
    table.setCurrentIndex(model.index(0, 0))
    out["jump_last_ms"] = timed(app, watch, model, lambda: QTest.keyClick(table, Qt.Key.Key_End,
                                                                           Qt.KeyboardModifier.ControlModifier),
                                need_change=False)
    out["last_row_visible"] = table.rowAt(table.viewport().height() - 2) >= model.rowCount() - 40
    out["maxrss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))
    sys.stdout.flush()
    if profiler is not None:
        profiler.stop()
        with open(os.environ["BENCH_PROFILE"], "w") as fh:
            fh.write(profiler.output_text(unicode=True))
    shutdown = getattr(tab, "shutdown", None)
    if shutdown:
        shutdown()
    os._exit(0)  # skip teardown of 100,000 cached rows: not part of what is measured


if __name__ == "__main__":
    raise SystemExit(main())
