"""The application shell: window, menus, shortcuts, state, shutdown, single instance."""

from __future__ import annotations

import threading
import time

import pytest
from PySide6.QtGui import QKeySequence, QStandardItemModel
from PySide6.QtWidgets import QTableView

from evalsync_gui import APP_NAME, __version__
from evalsync_gui.gui import window_state
from evalsync_gui.gui.main_window import MainWindow
from evalsync_gui.gui.services import AppSignals, Services
from evalsync_gui.gui.single_instance import SingleInstance, notify_running, server_name_for
from evalsync_gui.gui.workers import TaskController
from tests.gui.connected import connected, file_keyring  # noqa: F401  (fixtures)


@pytest.fixture
def services(ctx):
    return Services(ctx=ctx, signals=AppSignals())


@pytest.fixture
def window(qtbot, services):
    from evalsync_gui.app import app_icon

    w = MainWindow(services, icon=app_icon())
    qtbot.addWidget(w)
    with qtbot.waitSignal(w.tabs_ready, timeout=5000):  # the contents follow the first paint
        w.show()
    qtbot.waitExposed(w)
    return w


def test_window_has_title_icon_and_three_tabs(window):
    assert window.windowTitle() == APP_NAME
    assert not window.windowIcon().isNull()
    titles = [window.tabs.tabText(i) for i in range(window.tabs.count())]
    assert titles == ["Authenticate", "User sync", "Chat agents"]
    assert window.statusBar().isVisible()
    assert window.tabs.accessibleName()


def test_about_dialog_shows_version(qtbot, window):
    dialog = window.show_about()
    qtbot.waitExposed(dialog)
    assert __version__ in dialog.version_label.text()
    assert dialog.windowTitle() == f"About {APP_NAME}"
    dialog.close()


def test_help_menu_has_folder_actions(window):
    texts = [a.text().replace("&", "") for a in window.menuBar().actions()]
    assert texts == ["File", "View", "Actions", "Help"]
    assert window.logs_action.isEnabled() and window.data_action.isEnabled()


def test_demo_banner_shows_above_the_tabs_and_hides(window, qtbot):
    def top(widget) -> int:  # in window coordinates: what the user sees
        return widget.mapTo(window, widget.rect().topLeft()).y()

    assert not window.banner.isVisible()
    tabs_top = top(window.tabs)
    window.set_banner("Demo: simulated Zendesk at http://127.0.0.1:1234")
    # The layout makes room for it above the tabs, not just a text property.
    qtbot.waitUntil(lambda: top(window.tabs) > tabs_top)
    assert window.banner.isVisible() and top(window.banner) + window.banner.height() <= top(window.tabs)
    window.set_banner("")
    assert not window.banner.isVisible()
    qtbot.waitUntil(lambda: top(window.tabs) == tabs_top)


def test_shortcuts_emit_requests_and_switch_tabs(qtbot, window):
    assert window.sync_action.shortcut() == QKeySequence("F5")
    assert window.find_action.shortcut() == QKeySequence(QKeySequence.StandardKey.Find)
    assert window.quit_action.shortcut() == QKeySequence("Ctrl+Q")
    with qtbot.waitSignal(window.services.signals.sync_now_requested, timeout=1000):
        window.sync_action.trigger()
    with qtbot.waitSignal(window.services.signals.find_requested, timeout=1000):
        window.find_action.trigger()
    for index, action in enumerate(window.tab_actions):
        assert action.shortcut() == QKeySequence(f"Ctrl+{index + 1}")
        action.trigger()
        assert window.tabs.currentIndex() == index


def test_log_view_shows_redacted_records(qtbot, window):
    import logging

    window.log_action.trigger()
    assert window.log_view.isVisible()
    with qtbot.waitSignal(window.log_handler.line, timeout=1000):
        logging.getLogger("evalsync.test").warning("token refresh_token=abcdef123456 sent")
    qtbot.waitUntil(lambda: "refresh_token=[redacted]" in window.log_view.text.toPlainText(), timeout=1000)
    assert "abcdef123456" not in window.log_view.text.toPlainText()


def test_status_message_reaches_status_bar(window):
    window.services.signals.status_message.emit("Synced 12 users")
    assert window.statusBar().currentMessage() == "Synced 12 users"
    window.services.signals.sync_state_changed.emit("running")
    assert window.sync_state_label.text() == "Sync: running"


def test_closing_stops_threads_tabs_and_simulator(qtbot, services):
    w = MainWindow(services)
    qtbot.addWidget(w)
    w.show()
    calls: list[str] = []
    def spy(page):
        original, name = page.shutdown, type(page).__name__
        page.shutdown = lambda: (calls.append(name), original())

    for page in w.tab_pages:
        spy(page)

    class FakeSimulator:
        def stop(self):
            calls.append("simulator")

    services.simulator = FakeSimulator()
    controller = TaskController(w, name="long")
    started = threading.Event()

    def job(task):
        started.set()
        while not task.sleep(0.05):
            pass
        return None

    controller.start(job)
    assert started.wait(2)
    w.shutdown_hooks.append(controller.shutdown)
    t0 = time.monotonic()
    w.close()
    assert time.monotonic() - t0 < 2.0
    assert calls == ["AuthTab", "UsersTab", "ChatTab", "simulator"]
    assert not controller.is_running()
    assert services.simulator is None
    assert w.log_handler not in __import__("logging").getLogger().handlers


def test_window_state_is_restored(qtbot, services):
    from PySide6.QtCore import QSize

    first = MainWindow(services)
    qtbot.addWidget(first)
    first.show()
    # Not the default size, and no smaller than the tabs allow (their minimum may grow).
    target = first.minimumSizeHint().expandedTo(QSize(700, 500)) + QSize(13, 7)
    first.resize(target)
    first.tabs.setCurrentIndex(2)
    saved = (first.width(), first.height())
    assert saved == (target.width(), target.height())
    first.close()

    services2 = Services(ctx=services.ctx, signals=AppSignals())
    second = MainWindow(services2)
    qtbot.addWidget(second)
    second.show()
    assert second.tabs.currentIndex() == 2
    assert (second.width(), second.height()) == saved
    assert (services.ctx.data_dir / window_state.STATE_FILENAME).exists()
    text = (services.ctx.data_dir / window_state.STATE_FILENAME).read_text()
    assert "token" not in text.lower()


def test_shell_paints_first_then_tabs_open_on_the_remembered_one(qtbot, services):
    """Cold start: the shell shows the three titles at once; contents follow the first paint."""
    from evalsync_gui.gui.auth_tab import AuthTab
    from evalsync_gui.gui.chat_tab import ChatTab
    from evalsync_gui.gui.users_tab import UsersTab

    first = MainWindow(services)
    qtbot.addWidget(first)
    first.ensure_tabs()
    first.tabs.setCurrentIndex(1)
    first.close()

    second = MainWindow(Services(ctx=services.ctx, signals=AppSignals()))
    qtbot.addWidget(second)
    assert not second.tabs_built()
    assert [second.tabs.tabText(i) for i in range(second.tabs.count())] == ["Authenticate", "User sync", "Chat agents"]
    assert second.tabs.currentIndex() == 1
    with qtbot.waitSignal(second.tabs_ready, timeout=5000):
        second.show()
    pages = second.tab_pages
    assert [type(p) for p in pages] == [AuthTab, UsersTab, ChatTab]
    assert [second.tabs.widget(i) for i in range(3)] == pages
    assert second.tabs.currentIndex() == 1 and second.tabs.currentWidget() is pages[1]
    assert second.ensure_tabs() is pages  # idempotent


def test_window_closed_before_its_tabs_were_built_starts_nothing(qtbot, services):
    w = MainWindow(services)
    qtbot.addWidget(w)
    w.close()
    assert w.ensure_tabs() == [] and not w.findChildren(TaskController)


def test_header_state_helper_round_trips(qtbot, services):
    def make_view():
        model = QStandardItemModel(3, 4)
        view = QTableView()
        view.setModel(model)
        view._model = model  # keep the model alive with the view
        qtbot.addWidget(view)
        return view

    view = make_view()
    window_state.track_header(services, "test.table", view.horizontalHeader())
    view.horizontalHeader().resizeSection(1, 222)
    window_state.for_services(services).sync()

    fresh = Services(ctx=services.ctx, signals=AppSignals())
    other = make_view()
    assert window_state.restore_header(fresh, "test.table", other.horizontalHeader())
    assert other.horizontalHeader().sectionSize(1) == 222


def test_close_to_tray_setting_off_by_default(window):
    assert window.close_to_tray() is False


def test_second_launch_activates_first_instance(qtbot, tmp_path):
    name_a = server_name_for(tmp_path / "a")
    name_b = server_name_for(tmp_path / "b")
    assert name_a != name_b and name_a == server_name_for(tmp_path / "a")
    first = SingleInstance(name_a)
    other = SingleInstance(name_b)
    try:
        assert first.listen() and other.listen()
        other_hits: list[bool] = []
        other.activation_requested.connect(lambda: other_hits.append(True))
        with qtbot.waitSignal(first.activation_requested, timeout=2000):
            assert notify_running(name_a)
        assert other_hits == []
        assert not notify_running(server_name_for(tmp_path / "nobody"), timeout_ms=200)
    finally:
        first.close()
        other.close()
    assert not first.is_listening() and not other.is_listening()
    assert not notify_running(name_a, timeout_ms=200)


def test_activation_brings_window_forward(qtbot, window):
    window.showMinimized()
    window.bring_to_front()
    assert window.isVisible()
    assert not window.isMinimized()


def test_self_test_passes_from_source(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", EVALSYNC_LOG_DIR=str(tmp_path / "logs"),
               PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring")
    done = subprocess.run([sys.executable, str(root / "main.py"), "--self-test"], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "self-test passed" in done.stdout
    assert "keyring.backends.null.Keyring" in done.stdout


def test_tray_helpers_describe_results_and_badge_icons(qtbot):
    from types import SimpleNamespace

    from evalsync_gui.app import app_icon
    from evalsync_gui.gui.tray import describe_result, state_icon

    assert describe_result(SimpleNamespace(status="held", summary="12 deactivations held")) == (
        "held", "12 deactivations held")
    assert describe_result(SimpleNamespace(status="failed", message="Zendesk answered 503")) == (
        "failed", "Zendesk answered 503")
    assert describe_result(object()) == ("completed", "Sync completed.")
    icon = app_icon()
    assert state_icon(icon, "idle") is icon
    assert not state_icon(icon, "failed").isNull()


def test_demo_starts_simulator_off_thread_connects_and_stops_on_close(qtbot, services, monkeypatch):
    import keyring

    from evalsync_gui import app

    monkeypatch.setattr(app, "DEMO_ORG", dict(agents=20, admins=2, end_users=10, chat_agents=5, seed=3))
    previous = keyring.get_keyring()
    app.use_memory_keyring()
    try:
        w = MainWindow(services)
        qtbot.addWidget(w)
        w.show()
        messages: list[str] = []
        services.signals.status_message.connect(messages.append)
        with qtbot.waitSignal(services.signals.connection_changed, timeout=10000):
            controller = app.start_demo(w, services)
        sim = services.simulator
        assert sim is not None and services.ctx.base_url == sim.base_url
        assert w.banner.isVisible() and sim.base_url in w.banner.text()
        assert any(sim.admin_email in m for m in messages), messages
        from evalsync_gui.core.chat.connection import chat_connection

        assert chat_connection(services.ctx).client_id == sim.chat_client_id  # the Chat API, made for you
        w.close()
        assert services.simulator is None
        assert not controller.is_running()
        import httpx

        with pytest.raises(httpx.TransportError):
            httpx.get(f"{sim.base_url}/api/v2/users/me.json", timeout=1)
    finally:
        keyring.set_keyring(previous)


def _window(qtbot, services):
    from evalsync_gui.app import app_icon

    w = MainWindow(services, icon=app_icon())
    qtbot.addWidget(w)
    with qtbot.waitSignal(w.tabs_ready, timeout=5000):
        w.show()
    return w


def test_reading_roles_and_fields_leaves_the_status_bar_once_the_lists_are_in(qtbot, connected):
    services = Services(ctx=connected, signals=AppSignals())
    shown: list[str] = []
    services.signals.status_message.connect(shown.append)
    w = _window(qtbot, services)
    panel = w.tab_pages[1].config_panel
    qtbot.waitUntil(lambda: "Reading custom roles and user fields from Zendesk…" in shown, timeout=5000)
    qtbot.waitUntil(lambda: panel.reload_btn.isEnabled(), timeout=10_000)  # the lists are in
    qtbot.waitUntil(lambda: "Reading custom roles" not in w.statusBar().currentMessage(), timeout=3000)  # not 15 s later


def test_a_rate_limit_wait_leaves_the_status_bar_when_the_sync_ends(qtbot, services, monkeypatch):
    from evalsync_gui.gui import sync_controller
    from tests.gui.test_users_table_features import _waiting_engine

    release = threading.Event()
    monkeypatch.setattr(sync_controller, "run_sync_task", _waiting_engine(services.ctx, release))
    w = _window(qtbot, services)
    users = w.tab_pages[1]
    w.tabs.setCurrentWidget(users)
    try:
        w.sync_action.trigger()
        qtbot.waitUntil(lambda: w.statusBar().currentMessage().startswith("Zendesk's limit: resumes in 4"), timeout=5000)
    finally:
        release.set()
    qtbot.waitUntil(lambda: not users.controller.is_running(), timeout=5000)
    qtbot.waitUntil(lambda: "resumes in" not in w.statusBar().currentMessage(), timeout=3000)


def test_a_status_message_is_cleared_only_while_it_still_shows(window):
    signals = window.services.signals
    signals.status_message.emit("Reading…")
    signals.status_message.emit("Counted: 12 team members take a paid agent seat.")
    signals.status_done.emit("Reading…")  # a newer message replaced it: that one stays
    assert window.statusBar().currentMessage() == "Counted: 12 team members take a paid agent seat."
    signals.status_done.emit("Counted: 12 team members take a paid agent seat.")
    assert window.statusBar().currentMessage() == ""


def test_a_repaint_is_not_starved_by_a_busy_python_thread(qtbot, ctx):
    """A running sync (a busy Python thread) must not stretch a repaint of the users table.

    Each Python call a repaint makes (cells, row counts, header titles) would have to take the
    GIL back from that thread, up to 5 ms apiece, ~1,000 of them: seconds, whatever the speed
    of the machine. The window handles its repaint with the GIL held (milliseconds here); the
    1 s bound only catches the starved case, never a slow machine."""
    from PySide6.QtWidgets import QApplication

    from evalsync_gui.gui.users_table import UsersTable
    from tests.gui.users_fixtures import seed_users

    seed_users(ctx.db, 500, status_mix=(1.0, 0.0, 0.0))
    w = MainWindow(Services(ctx=ctx, signals=AppSignals()))
    qtbot.addWidget(w)
    w.resize(1280, 800)
    with qtbot.waitSignal(w.tabs_ready, timeout=5000):
        w.show()
    table = w.findChild(UsersTable)
    w.tabs.setCurrentWidget(next(p for p in w.tab_pages if table in p.findChildren(UsersTable)))
    qtbot.waitUntil(lambda: table.model().rowCount() == 500 and table.isVisible(), timeout=5000)

    stop = threading.Event()

    def busy() -> None:
        while not stop.is_set():
            sum(i * i for i in range(1000))

    thread = threading.Thread(target=busy, daemon=True)
    thread.start()
    try:
        worst = 0.0
        for _ in range(3):
            table.viewport().update()
            started = time.perf_counter()
            QApplication.processEvents()
            worst = max(worst, time.perf_counter() - started)
    finally:
        stop.set()
        thread.join()
    assert worst < 1.0, f"a repaint took {worst:.2f} s while a Python thread was busy"
