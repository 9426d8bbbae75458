"""Window size and layout on small screens, the log panel, one time format (issue 17 "Keyboard and layout")."""

from __future__ import annotations

import logging
import re

import pytest
from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QApplication

from evalsync_gui.gui.main_window import FRAME_ALLOWANCE, MainWindow
from evalsync_gui.gui.services import AppSignals, Services


@pytest.fixture
def window(qtbot, ctx):
    w = MainWindow(Services(ctx=ctx, signals=AppSignals()))
    qtbot.addWidget(w)
    with qtbot.waitSignal(w.tabs_ready, timeout=5000):
        w.show()
    qtbot.waitExposed(w)
    return w


def test_first_window_fits_the_free_screen_area_with_its_status_bar(window):
    free = window.screen().availableGeometry()
    assert window.frameGeometry().height() <= free.height() or window.height() < free.height()
    assert window.width() < free.width() and window.height() < free.height()
    assert window.minimumSizeHint().height() <= 768 - 48 - 40  # 1366x768 with a panel and a title bar
    bar = window.statusBar()
    assert bar.isVisible() and bar.mapTo(window, QPoint(0, bar.height())).y() <= window.height()


def test_at_1024x700_the_sync_result_is_not_cut(qtbot, window):
    window.set_banner("Demo: simulated Zendesk at http://127.0.0.1:1234 — nothing here touches a real account.")
    window.tabs.setCurrentIndex(1)
    window.resize(1024, 700 - FRAME_ALLOWANCE[1])  # a 1024x700 window, title bar and frame included
    panel = window.tab_pages[1].config_panel
    panel.result_label.setText("Sync completed: 1,508 new (Pending), 12 updated, 3 deactivated; 3,004 "
                               "deactivations held for review (1,234 requests).")
    for _ in range(3):  # a label's new height reaches the layouts one event-loop turn later
        QApplication.processEvents()
    for w in (panel.result_label, panel.sync_btn, panel.preview_btn):
        seen = w.visibleRegion().boundingRect()
        assert (seen.width(), seen.height()) == (w.width(), w.height()), w


def test_log_panel_opens_scrolled_left_and_stays_left_as_lines_arrive(qtbot, window):
    long_line = "x" * 600
    log = logging.getLogger("evalsync.test")
    window.log_action.trigger()  # open, then lines arrive while it is shown
    qtbot.waitUntil(window.log_view.isVisible, timeout=2000)
    across = window.log_view.text.horizontalScrollBar()
    for i in range(40):
        with qtbot.waitSignal(window.log_handler.line, timeout=1000):
            log.warning("line %d %s", i, long_line)
    qtbot.waitUntil(lambda: "line 39" in window.log_view.text.toPlainText(), timeout=1000)
    assert across.maximum() > 0 and across.value() == 0
    window.log_action.trigger()  # close and open again: still at the start of the lines
    window.log_action.trigger()
    qtbot.waitUntil(window.log_view.isVisible, timeout=2000)
    assert across.value() == 0


def test_log_dock_built_on_long_history_opens_at_the_left(qtbot):
    from evalsync_gui.gui.log_view import LogView, QtLogHandler

    handler = QtLogHandler()
    for i in range(30):
        handler.handle(logging.LogRecord("evalsync.test", logging.INFO, __file__, 1, "line %d %s", (i, "y" * 500), None))
    view = LogView(handler)
    qtbot.addWidget(view)
    view.resize(600, 300)
    view.show()
    qtbot.waitExposed(view)
    across = view.text.horizontalScrollBar()
    assert across.maximum() > 0 and across.value() == 0


def test_log_lines_use_the_window_time_format(qtbot, window):
    with qtbot.waitSignal(window.log_handler.line, timeout=1000) as line:
        logging.getLogger("evalsync.test").warning("hello")
    assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d WARNING ", line.args[0]), line.args[0]
