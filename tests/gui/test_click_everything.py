"""Click everything (issue 17): every enabled button and menu action of every tab and page, once, on the demo.

The window is built as ``--demo`` builds it (the simulator in-process, pre-connected, Agents
and Admins ticked) and one sync fills the tables. Then the walk finds what to press by
itself, so buttons other people add later are pressed too:

* every visible, enabled ``QAbstractButton``, page by page: each ``QTabWidget`` and
  ``QStackedWidget`` is turned to each of its pages, and every table gets its first row
  selected so the buttons that need a selection are enabled;
* every enabled ``QAction`` of the window (menus, docks, context actions), via ``trigger()``.

Modal dialogs and popup menus that open are answered by a timer that rejects them (Cancel),
so nothing destructive is confirmed; windows left open are closed after each press. The test
fails on any Python exception (``sys.excepthook``), any unexpected error a background job
logs, and any Qt warning not on :data:`ALLOWED_QT_MESSAGES`.
"""

from __future__ import annotations

import logging
import re
import sys
import time
from collections.abc import Iterator

import pytest
from PySide6.QtCore import QObject, Qt, QTimer, QUrl, QtMsgType, qInstallMessageHandler
from PySide6.QtGui import QAction, QDesktopServices
from PySide6.QtWidgets import (QAbstractButton, QAbstractItemView, QApplication, QDialog, QHeaderView, QMenu,
                               QStackedWidget, QTabWidget, QWidget)

# Actions never triggered, each with why. Matched against the action's text without "&".
EXCLUDED_ACTIONS = {
    "Quit": "quits the application (the walk needs the window; closing is covered by test_shutdown)",
}
# Buttons never pressed, each with why. Matched against the button's text without "&".
EXCLUDED_BUTTONS: dict[str, str] = {}
# Qt messages that are not defects, each with why. Regular expressions, matched from the start.
ALLOWED_QT_MESSAGES = {
    r"This plugin does not support propagateSizeHints\(\)": "the offscreen platform has no window manager",
    r"This plugin does not support raise\(\)": "the offscreen platform has no window stacking",
    r"This plugin does not support grabbing the keyboard": "offscreen: popup menus ask for a keyboard grab",
    r"QSystemTrayIcon::setVisible: No Icon set": "offscreen has no system tray; the tray stays unused",
}
SETTLE_MS = 20_000  # the longest a press may keep a background job busy (a full demo sync: a few seconds)
WALK_BUDGET_S = 100  # the whole walk; CI must finish in under two minutes


class _Recorder(QObject):
    """Collects what must fail the test: exceptions, unexpected job errors, unlisted Qt warnings."""

    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []
        self.opened_urls: list[str] = []

    def excepthook(self, kind, value, tb) -> None:
        import traceback

        self.problems.append("".join(traceback.format_exception(kind, value, tb)))

    def qt_message(self, mode, context, message: str) -> None:
        if mode == QtMsgType.QtDebugMsg or mode == QtMsgType.QtInfoMsg:
            return
        if not any(re.match(pattern, message) for pattern in ALLOWED_QT_MESSAGES):
            self.problems.append(f"Qt {mode.name}: {message}")


class _ErrorLog(logging.Handler):
    """A background job's unexpected exception is logged with its traceback; that is a defect too."""

    def __init__(self, recorder: _Recorder) -> None:
        super().__init__(logging.ERROR)
        self.recorder = recorder

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info:
            self.recorder.problems.append(f"logged: {record.getMessage()}\n{self.format(record)}")


def _answer_modals() -> QTimer:
    """Reject every modal dialog and close every popup menu as soon as it shows (Cancel, never OK)."""
    timer = QTimer()
    timer.setInterval(15)

    def poll() -> None:
        popup = QApplication.activePopupWidget()
        if popup is not None:
            popup.close()
        modal = QApplication.activeModalWidget()
        if modal is not None and modal.isVisible():
            modal.reject() if isinstance(modal, QDialog) else modal.close()

    timer.timeout.connect(poll)
    timer.start()
    return timer


def _text(obj: QAbstractButton | QAction) -> str:
    return obj.text().replace("&", "").strip()


def _key(button: QAbstractButton) -> str:
    """A button's identity across rebuilds: its words and where it sits."""
    chain, w = [], button.parentWidget()
    while w is not None:
        chain.append(w.objectName() or type(w).__name__)
        w = w.parentWidget()
    return "/".join([type(button).__name__, _text(button), button.accessibleName(), button.toolTip(), *chain])


def _visible_buttons(window: QWidget) -> Iterator[QAbstractButton]:
    for button in window.findChildren(QAbstractButton):
        if button.isVisibleTo(window) and button.isVisible() and button.isEnabled():
            yield button


class Walk:
    """Presses things in one window and waits for what they started."""

    def __init__(self, qtbot, window, recorder: _Recorder) -> None:
        self.qtbot, self.window, self.recorder = qtbot, window, recorder
        self.pressed: list[str] = []
        self._seen: set[str] = set()
        self.started = time.monotonic()

    def settle(self) -> None:
        """Wait until no background job of the window runs, then close stray windows."""
        from evalsync_gui.gui import workers

        def idle() -> bool:
            return not any(c.is_running() for c in list(workers._live))

        self.qtbot.waitUntil(idle, timeout=SETTLE_MS)
        for w in QApplication.topLevelWidgets():
            if w is not self.window and w.isVisible() and not isinstance(w, QMenu):
                w.close()

    def press_new_buttons(self) -> None:
        """Press every visible enabled button not pressed yet, re-reading the page after each press."""
        while True:
            fresh = [b for b in _visible_buttons(self.window)
                     if _key(b) not in self._seen and _text(b) not in EXCLUDED_BUTTONS]
            # Plain buttons before toggles, so what a toggle reveals (OAuth's Copy) is pressed too.
            fresh.sort(key=lambda b: b.isCheckable())
            if not fresh:
                return
            button = fresh[0]
            self._seen.add(_key(button))
            self.pressed.append(_text(button) or button.accessibleName() or type(button).__name__)
            assert time.monotonic() - self.started < WALK_BUDGET_S, f"walk too slow; pressed {self.pressed}"
            self.qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
            self.settle()

    def select_rows(self) -> None:
        """Select the last row of every visible table that has no selection (the oldest run, say)."""
        for view in self.window.findChildren(QAbstractItemView):
            if isinstance(view, QHeaderView):  # a header has its own selection model (users_table); not a table
                continue
            model = view.model()
            if view.isVisible() and model is not None and model.rowCount() and view.selectionModel() is not None:
                if not view.selectionModel().hasSelection():
                    index = model.index(model.rowCount() - 1, 0)
                    view.scrollTo(index)
                    self.qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton,
                                          pos=view.visualRect(index).center())

    def visit(self, page: QWidget) -> None:
        """``page`` and, depth first, every page of every tab or stack inside it."""
        self.select_rows()
        self.press_new_buttons()
        for pages in self._page_switchers(page):
            for index in range(pages.count()):
                if not pages.isVisible():
                    break
                pages.setCurrentIndex(index)
                self.settle()
                self.visit(pages.currentWidget())

    @staticmethod
    def _page_switchers(root: QWidget) -> list[QTabWidget | QStackedWidget]:
        """The outermost visible tab and stack widgets under ``root`` (inner ones are reached by recursion)."""
        found = [w for kind in (QTabWidget, QStackedWidget) for w in root.findChildren(kind) if w.isVisible()]

        def outermost(w: QWidget) -> bool:
            parent = w.parentWidget()
            while parent is not None and parent is not root:
                if isinstance(parent, (QTabWidget, QStackedWidget)):
                    return False
                parent = parent.parentWidget()
            return True

        # A QTabWidget's own stack is driven through the tab widget.
        return [w for w in found if outermost(w) and not isinstance(w.parentWidget(), QTabWidget)]

    def trigger_actions(self) -> list[str]:
        triggered = []
        for action in self.window.findChildren(QAction):
            text = _text(action)
            if action.isSeparator() or action.menu() is not None or not action.isEnabled() or text in EXCLUDED_ACTIONS:
                continue
            triggered.append(text or action.objectName())
            action.trigger()
            self.settle()
        return triggered


@pytest.fixture
def demo_window(qtbot, tmp_path, monkeypatch):
    """The window as ``main.py --demo`` builds it, with one finished sync."""
    import keyring

    from evalsync_gui import app

    previous = keyring.get_keyring()
    window = app.create_window(tmp_path / "demo-data", demo=True, log_folder=tmp_path / "logs")
    qtbot.addWidget(window)
    try:
        with qtbot.waitSignal(window.services.signals.connection_changed, timeout=60_000):
            window.show()
        window.ensure_tabs()
        users = window.tab_pages[1]
        with qtbot.waitSignal(users.controller.finished, timeout=60_000):
            users.config_panel.sync_now()
        yield window
    finally:
        window.close()
        keyring.set_keyring(previous)


def test_every_button_and_action_runs_without_error(qtbot, demo_window, monkeypatch):
    recorder = _Recorder()
    # Opening a folder or a browser would start another program; record the request instead.
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: recorder.opened_urls.append(QUrl(url).toString()))
    for page in demo_window.tab_pages:
        if hasattr(page, "open_browser"):
            page.open_browser = recorder.opened_urls.append
    previous_hook = sys.excepthook
    previous_handler = qInstallMessageHandler(recorder.qt_message)
    errors = _ErrorLog(recorder)
    logging.getLogger().addHandler(errors)
    sys.excepthook = recorder.excepthook
    answering = _answer_modals()
    walk = Walk(qtbot, demo_window, recorder)
    try:
        # The Authenticate tab last: its Sign out would leave the other tabs without Zendesk.
        for index in (1, 2, 0):
            demo_window.tabs.setCurrentIndex(index)
            walk.settle()
            walk.visit(demo_window.tabs.currentWidget())
        actions = walk.trigger_actions()
    finally:
        answering.stop()
        sys.excepthook = previous_hook
        qInstallMessageHandler(previous_handler)
        logging.getLogger().removeHandler(errors)
    assert not recorder.problems, "\n\n".join(recorder.problems)
    # The walk really walked: the main buttons of each tab and page were among the presses.
    for expected in ("Sync now", "Preview", "Undo run…", "Export history as CSV…", "Test connection"):
        assert expected in walk.pressed, (expected, walk.pressed)
    assert {"Sync now", "About EvalSync", "Log"} <= set(actions), actions
