"""100,000 pending users: Ctrl+A, the log panel, activate (with Cancel), deactivate and export never
block the GUI thread for long (a 10 ms heartbeat), and the long ones show progress.

The bench (scenario 9) holds the 50 ms target on a quiet machine; these tests use a looser bound
that still fails by far on the old behaviour (2-4 s freezes) while the CI machine is busy.
"""

from __future__ import annotations

import shutil

import pytest
from PySide6.QtCore import Qt, QTimer

from bench.selection_probe import Heartbeat
from evalsync_gui.core import directory
from evalsync_gui.core.context import AppContext
from evalsync_gui.gui.services import AppSignals, Services
from tests.gui.modal import ModalAnswerer

pytestmark = pytest.mark.slow
N = 100_000
MAX_GAP_MS = 400


@pytest.fixture(scope="module")
def directory_100k(tmp_path_factory):
    """A data folder with 100,000 pending users, imported once with the store's own import."""
    folder = tmp_path_factory.mktemp("users100k")
    ctx = AppContext.create(folder)
    rows = [{"name": f"User {i:06d}", "email": f"user{i}@abc-energy.com", "identifier": f"U{i}"} for i in range(N)]
    directory.import_rows(ctx.db, ctx.settings, rows, default_status="pending")
    ctx.settings.set(directory.LICENCE_KEY, N + 10)
    ctx.db.close()
    return folder


@pytest.fixture
def window(qtbot, directory_100k, tmp_path):
    from evalsync_gui.gui.main_window import MainWindow
    from evalsync_gui.gui.users_tab import UsersTab

    data = tmp_path / "data"
    shutil.copytree(directory_100k, data)
    services = Services(ctx=AppContext.create(data), signals=AppSignals())
    w = MainWindow(services)
    qtbot.addWidget(w)
    tab = next(p for p in w.tab_pages if isinstance(p, UsersTab))
    w.tabs.setCurrentWidget(tab)
    w.resize(1280, 800)
    w.show()
    qtbot.waitUntil(lambda: tab.model.rowCount() == N, timeout=20_000)
    qtbot.waitUntil(lambda: hasattr(w, "log_action"), timeout=5000)
    yield w, tab, services.ctx
    w.close()
    services.ctx.db.close()


def _select_all(qtbot, tab) -> None:
    tab.table.setFocus()
    qtbot.keyClick(tab.table, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    assert tab.selection_label.text() == f"All {N:,} selected"


def _accept_activate_dialog(qtbot, tab) -> None:
    def poll():
        dialog = getattr(tab.actions, "dialog", None)
        if dialog is not None and dialog.isVisible():
            qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
        else:
            QTimer.singleShot(10, poll)

    QTimer.singleShot(0, poll)


def test_ctrl_a_and_the_log_panel_with_100k_selected_stay_responsive(window, qtbot):
    w, tab, _ctx = window
    with Heartbeat() as beat:
        _select_all(qtbot, tab)
        qtbot.wait(300)
        for _ in range(2):  # show the log panel, then hide it
            w.log_action.trigger()
            qtbot.wait(200)
    assert beat.max_gap_ms < MAX_GAP_MS, beat.max_gap_ms
    assert tab.selection_label.text() == f"All {N:,} selected"
    assert tab.current_selection().is_all


def test_activate_100k_shows_progress_cancels_cleanly_then_completes(window, qtbot):
    _w, tab, ctx = window
    _select_all(qtbot, tab)
    progress: list[int] = []
    tab.writer.progress.connect(lambda value: progress.append(value[0]))
    with Heartbeat() as beat:
        _accept_activate_dialog(qtbot, tab)
        qtbot.mouseClick(tab.activate_btn, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: bool(progress), timeout=20_000)
        assert tab.actions.busy.isVisible() and tab.actions.busy.label.text() == f"Activating {N:,} users…"
        with qtbot.waitSignal(tab.writer.cancelled, timeout=10_000):
            qtbot.mouseClick(tab.actions.busy.cancel_btn, Qt.MouseButton.LeftButton)
    assert beat.max_gap_ms < MAX_GAP_MS, beat.max_gap_ms
    assert directory.counts(ctx.db)["active"] == 0  # rolled back as a whole
    assert tab.actions.busy.isHidden()

    with Heartbeat() as beat:
        _accept_activate_dialog(qtbot, tab)
        qtbot.mouseClick(tab.activate_btn, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: tab.status_buttons["active"].text() == f"Active ({N:,})", timeout=60_000)
        qtbot.waitUntil(lambda: tab.model.rowCount() == 0, timeout=10_000)
    assert beat.max_gap_ms < MAX_GAP_MS, beat.max_gap_ms
    assert progress[-1] == N


def test_deactivate_and_export_100k_off_the_gui_thread(window, qtbot, monkeypatch, tmp_path):
    _w, tab, ctx = window
    out = tmp_path / "all.csv"
    monkeypatch.setattr("evalsync_gui.gui.exports.QFileDialog.getSaveFileName",
                        lambda *a, **k: (str(out), "CSV files (*.csv)"))
    messages: list[str] = []
    tab.services.signals.status_message.connect(messages.append)
    with Heartbeat() as beat:
        qtbot.mouseClick(tab.export_btn, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: any(m.startswith("Exported") for m in messages), timeout=60_000)
    assert beat.max_gap_ms < MAX_GAP_MS, beat.max_gap_ms
    assert messages[-1] == f"Exported {N:,} users to {out}."
    assert sum(1 for _ in out.open(encoding="utf-8-sig")) == N + 1

    _select_all(qtbot, tab)
    answer = ModalAnswerer("Deactivate")
    with Heartbeat() as beat:
        qtbot.mouseClick(tab.deactivate_btn, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: tab.status_buttons["deactivated"].text() == f"Deactivated ({N:,})", timeout=60_000)
    answer.stop()
    assert beat.max_gap_ms < MAX_GAP_MS, beat.max_gap_ms
    assert answer.seen == [f"Deactivate users\nDeactivate {N:,} users?\n"
                           "Their licences are freed; they can be activated again later."]
    assert directory.counts(ctx.db)["deactivated"] == N
