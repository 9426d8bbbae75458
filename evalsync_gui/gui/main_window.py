"""The main window: three tabs, menus, status bar, demo banner, log dock and tray.

It is handed a ready :class:`Services` by ``app.py`` and never builds core objects itself.
The window paints its shell first (title, menus, the three tab titles, status bar, demo
banner) and builds the tabs' contents right after that first paint, so a cold start shows a
window as fast as a bare Qt one; :meth:`MainWindow.ensure_tabs` (or ``tab_pages``) builds them
at once for tests and scripts, and ``tabs_ready`` announces them.
Closing it (unless "close to tray" is on) calls every tab's ``shutdown()``, runs the
shutdown hooks ``app.py`` registered, stops the demo simulator and returns within ~2 s.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

from typing import TYPE_CHECKING

# No ``Qt`` namespace here: its first use builds every Qt.* enum (~15 ms), so the shell avoids
# it and the code that runs after the first paint imports it locally.
from PySide6.QtCore import QEvent, QObject, QTimer, QUrl, Signal, SignalInstance, Slot
from PySide6.QtGui import QAction, QCloseEvent, QDesktopServices, QIcon, QKeySequence, QShowEvent
from PySide6.QtWidgets import QLabel, QMainWindow, QTabWidget, QVBoxLayout, QWidget

from evalsync_gui import APP_NAME
from evalsync_gui.gui import window_state, workers
from evalsync_gui.gui.services import Services

if TYPE_CHECKING:  # imported when first used, after the first paint
    from evalsync_gui.gui.about import AboutDialog
    from evalsync_gui.gui.log_view import LogView, QtLogHandler
    from evalsync_gui.gui.tray import TrayIcon

log = logging.getLogger(__name__)

DEFAULT_SIZE = (1200, 780)
# Room left around a first window for the title bar and frame the window manager adds, so
# the whole window (status bar included) fits the screen's free area, e.g. 1366x768 minus a panel.
FRAME_ALLOWANCE = (16, 48)
TAB_TITLES = ("Authenticate", "User sync", "Chat agents")
TAB_MENU_TEXT = ("&Authenticate", "User &sync", "C&hat agents")
# Amber with near-black text: readable in light and dark themes because both colours are set.
BANNER_STYLE = "QLabel#demoBanner { background: #ffd54f; color: #1b1b1b; padding: 6px 12px; font-weight: 600; }"
CLOSE_TO_TRAY_KEY = "ui/close_to_tray"
# Issue 7: closing must stop everything within 2 s. Workers of all tabs share one deadline;
# the rest of the budget is for tab clean-up, shutdown hooks and stopping the demo simulator.
WORKER_BUDGET_MS = 1400
# If the first paint never comes (a platform that does not expose the window), build anyway.
TABS_FALLBACK_MS = 1000


def _build_tabs(services: Services, parent: QWidget) -> list[QWidget]:
    """Construct the three tabs; a tab that fails to build becomes an error page, not a crash."""
    from PySide6.QtCore import Qt

    from evalsync_gui.gui.auth_tab import AuthTab
    from evalsync_gui.gui.chat_tab import ChatTab
    from evalsync_gui.gui.users_tab import UsersTab

    tabs: list[QWidget] = []
    for cls in (AuthTab, UsersTab, ChatTab):
        try:
            tabs.append(cls(services, parent))
        except Exception as exc:  # keep the other tabs usable
            log.exception("Could not build the %s tab", cls.__name__)
            page = QLabel(f"This tab could not be opened ({type(exc).__name__}: {exc}). Details are in the log.", parent)
            page.setWordWrap(True)
            page.setTextFormat(Qt.TextFormat.PlainText)  # exception text is not markup
            page.setAlignment(Qt.AlignmentFlag.AlignCenter)
            tabs.append(page)
    return tabs


class MainWindow(QMainWindow):
    """The EvalSync window. ``shutdown_hooks`` are callables run once on final close.

    ``tabs_ready`` is emitted once the three tabs' contents exist (right after the first
    paint, or when :meth:`ensure_tabs` is called earlier).
    """

    tabs_ready = Signal()

    def __init__(self, services: Services, *, icon: QIcon | Callable[[], QIcon] | None = None,
                 log_folder: Path | str | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        # A callable icon is built after the first paint (reading the icon files takes ~10 ms).
        self._icon_factory = icon if callable(icon) and not isinstance(icon, QIcon) else None
        self.icon = QIcon() if self._icon_factory is not None else (icon or QIcon())
        self.log_folder = str(log_folder) if log_folder else ""
        self.shutdown_hooks: list[Callable[[], None]] = []
        self._quitting = False
        self._is_shut_down = False
        self._tray_hint_shown = False
        self._pages: list[QWidget] | None = None
        self._first_paint_seen = False
        self.state = window_state.for_services(services)

        self.setWindowTitle(APP_NAME)
        self.setWindowIcon(self.icon)
        self.setObjectName("mainWindow")
        self.tray: TrayIcon | None = None  # built with the tabs, after the first paint
        self._build_central()
        self._build_menus()
        self._build_status_bar()
        self._restore()

    # -- construction ----------------------------------------------------------------------
    def _build_central(self) -> None:
        central = QWidget(self)
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        self.banner = QLabel(central)
        self.banner.setObjectName("demoBanner")
        self.banner.setStyleSheet(BANNER_STYLE)
        self.banner.setAccessibleName("Demo mode notice")
        self.banner.hide()
        layout.addWidget(self.banner)
        self.tabs = QTabWidget(central)
        self.tabs.setObjectName("mainTabs")
        self.tabs.setAccessibleName("Sections")
        self.tabs.setDocumentMode(True)
        for title in TAB_TITLES:  # empty pages until the first paint; see ensure_tabs()
            self.tabs.addTab(QWidget(), title)
        self.tabs.tabBar().installEventFilter(self)
        body = QWidget(central)
        body_layout = QVBoxLayout(body)
        body_layout.setContentsMargins(6, 6, 6, 0)
        body_layout.addWidget(self.tabs)
        layout.addWidget(body, 1)
        self.setCentralWidget(central)

    def _build_log_dock(self) -> None:
        from PySide6.QtCore import Qt

        from evalsync_gui.gui.log_view import LogView, QtLogHandler

        self.log_handler = QtLogHandler()
        logging.getLogger().addHandler(self.log_handler)
        self.log_view = LogView(self.log_handler, self.log_folder or None, self)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.log_view)
        self.log_view.hide()  # the dock opens on request, not because it was open last time
        self.log_action = self.log_view.toggleViewAction()
        self.log_action.setText("&Log")
        self.log_action.setShortcut(QKeySequence("Ctrl+L"))
        self.log_action.setStatusTip("Show or hide the log")
        self.view_menu.insertAction(self.tray_action, self.log_action)

    def _build_tray(self) -> None:
        from evalsync_gui.gui.tray import TrayIcon

        if TrayIcon.available():
            self.tray = TrayIcon(self.icon, self.services.signals, self)
            self.tray.show_requested.connect(self.bring_to_front)
            self.tray.quit_requested.connect(self.quit)
            self.tray.show()
        self.tray_action.setChecked(self.close_to_tray())
        self.tray_action.setEnabled(self.tray is not None)

    def _finish_shell(self) -> None:
        """The parts of the window nobody sees in the first frame: log dock, tray, selectable banner."""
        from PySide6.QtCore import Qt

        if self._icon_factory is not None:
            self.icon = self._icon_factory()
            self.setWindowIcon(self.icon)
        self.banner.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._build_log_dock()
        self._build_tray()

    def _action(self, text: str, slot: Callable | SignalInstance, shortcut: str | QKeySequence | None = None,
                tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut:
            # setShortcuts([...]) sets the same shortcut; setShortcut()'s overload resolution
            # would build every Qt.* enum (~15 ms) before the first paint.
            action.setShortcuts([QKeySequence(shortcut)])
        if tip:
            action.setStatusTip(tip)
            action.setToolTip(tip)
        action.triggered.connect(slot)
        return action

    def _build_menus(self) -> None:
        bar = self.menuBar()
        signals = self.services.signals
        file_menu = bar.addMenu("&File")
        self.quit_action = self._action("&Quit", self.quit, "Ctrl+Q", "Stop all work and quit")
        self.quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        file_menu.addAction(self.quit_action)

        view = self.view_menu = bar.addMenu("&View")
        self.tab_actions = []
        for index, title in enumerate(TAB_MENU_TEXT):
            action = self._action(title, lambda _=False, i=index: self.tabs.setCurrentIndex(i), f"Ctrl+{index + 1}")
            view.addAction(action)
            self.tab_actions.append(action)
        view.addSeparator()  # the Log action goes here once the dock exists (_build_log_dock)
        self.tray_action = QAction("Close to &tray", self)
        self.tray_action.setCheckable(True)
        self.tray_action.setChecked(self.close_to_tray())
        self.tray_action.setEnabled(self.tray is not None)
        self.tray_action.setStatusTip("Keep running in the system tray when the window is closed")
        self.tray_action.toggled.connect(lambda on: self.state.set_value(CLOSE_TO_TRAY_KEY, bool(on)))
        view.addAction(self.tray_action)

        actions = bar.addMenu("&Actions")
        self.sync_action = self._action("&Sync now", signals.sync_now_requested, "F5",
                                        "Sync users from Zendesk now")
        self.find_action = self._action("&Find…", signals.find_requested, QKeySequence.StandardKey.Find,
                                        "Search in the current tab")
        actions.addActions([self.sync_action, self.find_action])

        help_menu = bar.addMenu("&Help")
        self.about_action = self._action(f"&About {APP_NAME}", self.show_about)
        self.about_action.setMenuRole(QAction.MenuRole.AboutRole)
        self.logs_action = self._action("Open &logs folder", self.open_logs_folder, tip="Open the folder with the log files")
        self.data_action = self._action("Open &data folder", self.open_data_folder, tip="Open the folder with the database")
        help_menu.addActions([self.logs_action, self.data_action])
        help_menu.addSeparator()
        help_menu.addAction(self.about_action)

    def _build_status_bar(self) -> None:
        status = self.statusBar()
        self.sync_state_label = QLabel("Sync: idle", self)
        self.sync_state_label.setAccessibleName("Sync state")
        status.addPermanentWidget(self.sync_state_label)
        signals = self.services.signals
        signals.status_message.connect(self.show_status)
        signals.status_done.connect(self.clear_status)
        signals.sync_state_changed.connect(lambda s: self.sync_state_label.setText(f"Sync: {s}"))
        status.showMessage("Ready", 5000)

    def _restore(self) -> None:
        if not self.state.restore_window(self):
            self._first_size()
        self.tabs.setCurrentIndex(self.state.last_tab(self.tabs.count()))

    def _first_size(self) -> None:
        """DEFAULT_SIZE, made smaller where the screen's free area is smaller, and centred on it."""
        screen = self.screen()
        if screen is None:
            self.resize(*DEFAULT_SIZE)
            return
        free = screen.availableGeometry()
        width = min(DEFAULT_SIZE[0], free.width() - FRAME_ALLOWANCE[0])
        height = min(DEFAULT_SIZE[1], free.height() - FRAME_ALLOWANCE[1])
        self.resize(width, height)
        self.move(free.x() + (free.width() - width) // 2, free.y() + max((free.height() - height - FRAME_ALLOWANCE[1]) // 2, 0))

    # -- tabs: built right after the first paint ----------------------------------------------
    @property
    def tab_pages(self) -> list[QWidget]:
        """The three tab pages (Authenticate, User sync, Chat agents); built now if not yet."""
        return self.ensure_tabs()

    def tabs_built(self) -> bool:
        return self._pages is not None

    def ensure_tabs(self) -> list[QWidget]:
        """Build the tabs' contents if they are not built yet; returns the pages. Idempotent."""
        if self._pages is not None or self._is_shut_down:
            return self._pages or []
        self._pages = []  # a re-entrant call (a tab's constructor pumping events) finds it started
        self._finish_shell()
        pages = _build_tabs(self.services, self.tabs)
        current = self.tabs.currentIndex()  # the remembered tab, set on the empty pages
        self.tabs.setUpdatesEnabled(False)
        blocked = self.tabs.blockSignals(True)
        try:
            for index, (page, title) in enumerate(zip(pages, TAB_TITLES, strict=True)):
                empty = self.tabs.widget(index)
                self.tabs.removeTab(index)
                self.tabs.insertTab(index, page, title)
                if empty is not None:
                    empty.deleteLater()
            self.tabs.setCurrentIndex(current)
        finally:
            self.tabs.blockSignals(blocked)
            self.tabs.setUpdatesEnabled(True)
        self._pages = pages
        self.tabs_ready.emit()
        return pages

    def event(self, event: QEvent) -> bool:  # noqa: N802 - Qt API
        """Every event of the window, its repaints included, is handled with the GIL held.

        Qt repaints the whole window inside this call (an UpdateRequest). Entered from the
        event loop, which runs without the GIL, each call a repaint makes into Python (a table
        cell's data, a row count, a header title: ~1,000 for the users table) would have to win
        the GIL back from a running sync thread, up to 5 ms apiece. Entered from Python, the
        repaint keeps the GIL from start to end; the sync thread waits for one repaint."""
        return super().event(event)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt API
        # The tab bar's first paint is part of the window's first paint; the zero timer runs
        # once that whole paint cycle has finished.
        if not self._first_paint_seen and event.type() == QEvent.Type.Paint:
            self._first_paint_seen = True
            watched.removeEventFilter(self)
            QTimer.singleShot(0, self, self.ensure_tabs)
        return False

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt API
        super().showEvent(event)
        if self._pages is None:
            QTimer.singleShot(TABS_FALLBACK_MS, self, self.ensure_tabs)

    # -- public API --------------------------------------------------------------------------
    def set_banner(self, text: str) -> None:
        """Show the coloured notice bar at the top (demo mode); empty text hides it."""
        self.banner.setText(text)
        self.banner.setVisible(bool(text))

    @Slot(str)
    def show_status(self, message: str) -> None:
        self.statusBar().showMessage(message, 15000)

    @Slot(str)
    def clear_status(self, message: str) -> None:
        """``message``'s subject ended: clear it, unless a newer message replaced it already."""
        if self.statusBar().currentMessage() == message:
            self.statusBar().clearMessage()

    def close_to_tray(self) -> bool:
        return bool(self.tray is not None and self.state.value(CLOSE_TO_TRAY_KEY, False, bool))

    @Slot()
    def bring_to_front(self) -> None:
        """Show, un-minimise and raise the window (second launch, tray click)."""
        from PySide6.QtCore import Qt

        self.setWindowState((self.windowState() & ~Qt.WindowState.WindowMinimized) | Qt.WindowState.WindowActive)
        self.show()
        self.raise_()
        self.activateWindow()

    @Slot()
    def show_about(self) -> AboutDialog:
        from PySide6.QtCore import Qt

        from evalsync_gui.gui.about import AboutDialog

        dialog = AboutDialog(self.icon, str(self.services.ctx.data_dir), self.log_folder or "(not logging to a file)", self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    @Slot()
    def open_logs_folder(self) -> None:
        if self.log_folder:
            Path(self.log_folder).mkdir(parents=True, exist_ok=True)
            QDesktopServices.openUrl(QUrl.fromLocalFile(self.log_folder))

    @Slot()
    def open_data_folder(self) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.services.ctx.data_dir)))

    @Slot()
    def quit(self) -> None:
        """Really close, even when "close to tray" is on."""
        self._quitting = True
        self.close()

    # -- shutdown ----------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:
        if self.close_to_tray() and not self._quitting:
            self.hide()
            event.ignore()
            if not self._tray_hint_shown and self.tray is not None:
                self._tray_hint_shown = True
                self.tray.tray.showMessage(APP_NAME, "Still running in the tray; choose Quit to stop it.")
            return
        self.state.save_window(self, self.tabs.currentIndex())
        self.shutdown()
        event.accept()

    def shutdown(self) -> None:
        """Stop every tab's workers, run shutdown hooks, stop the simulator. Idempotent."""
        if self._is_shut_down:
            return
        self._is_shut_down = True
        started = time.monotonic()
        # Every job in the window is cancelled first and all are waited for against one shared
        # deadline, so the tabs' shutdown() below finds their threads already stopped.
        workers.shutdown_controllers(self.findChildren(workers.TaskController), WORKER_BUDGET_MS)
        for page in self._pages or []:
            self._safely(getattr(page, "shutdown", None), type(page).__name__)
        for hook in self.shutdown_hooks:
            self._safely(hook, getattr(hook, "__name__", "hook"))
        simulator = self.services.simulator
        if simulator is not None:
            self._safely(getattr(simulator, "stop", None), "simulator")
            self.services.simulator = None
        if hasattr(self, "log_handler"):
            logging.getLogger().removeHandler(self.log_handler)
        if self.tray is not None:
            self.tray.hide()
        self.state.sync()
        log.info("Window shut down in %.2f s", time.monotonic() - started)

    @staticmethod
    def _safely(fn: Callable[[], object] | None, what: str) -> None:
        if fn is None:
            return
        try:
            fn()
        except Exception:  # one failing part must not keep the others running
            log.exception("Error while shutting down %s", what)
