"""The Runs page driven as an admin drives it: click a run, click Undo, answer the question (issue 17)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from evalsync_gui.core import directory
from evalsync_gui.core.sync.config import SyncConfig, save_config
from evalsync_gui.gui.services import AppSignals, Services
from evalsync_gui.gui.users_tab import UsersTab
from tests.gui.modal import ModalAnswerer
from tests.gui.connected import connected, file_keyring  # noqa: F401  (fixtures)


@pytest.fixture
def tab(qtbot, connected):
    t = UsersTab(Services(ctx=connected, signals=AppSignals()), start_schedule=False)
    qtbot.addWidget(t)
    t.resize(1280, 760)
    t.show()
    t.pages.setCurrentWidget(t.history)
    yield t
    t.shutdown()


def _sync(qtbot, tab, button=None):
    with qtbot.waitSignal(tab.controller.finished, timeout=30_000) as done:
        qtbot.mouseClick(button or tab.config_panel.sync_btn, Qt.MouseButton.LeftButton)
    return done.args[0]


def _click_run(qtbot, tab, row: int) -> None:
    view = tab.history.runs
    rect = view.visualRect(view.model().index(row, 0))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_undo_button_asks_with_counts_and_undoes_the_run(qtbot, tab, connected):
    save_config(connected, SyncConfig(roles=["admin"]))
    result = _sync(qtbot, tab)
    qtbot.waitUntil(lambda: tab.history.runs.rowCount() == 1, timeout=3000)
    history = tab.history
    assert history.runs.text(0, 0) == "1"  # the run id column the held rows refer to
    assert history.runs.text(0, 2) == "Sync now"
    assert not history.undo_btn.isEnabled()  # nothing selected yet
    _click_run(qtbot, tab, 0)
    assert history.undo_btn.isEnabled()

    cancel = ModalAnswerer("Cancel")
    with qtbot.waitSignal(history._task.done, timeout=5000):
        qtbot.mouseClick(history.undo_btn, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(cancel.seen), timeout=3000)
    assert directory.counts(connected.db)["pending"] == result.new  # Cancel changed nothing

    answer = ModalAnswerer("Undo run 1")
    with qtbot.waitSignal(history._task.finished, timeout=5000,
                          check_params_cb=lambda r: r[0] == "undone"):
        qtbot.mouseClick(history.undo_btn, Qt.MouseButton.LeftButton)
    assert f"remove up to {result.new:,} users it imported" in answer.seen[0]
    assert directory.counts(connected.db)["pending"] == 0
    qtbot.waitUntil(lambda: history.runs.text(0, 10).startswith("Undone "), timeout=3000)
    _click_run(qtbot, tab, 0)
    assert not history.undo_btn.isEnabled()
    assert "already undone" in history.undo_btn.toolTip()


def test_preview_is_labelled_and_its_counts_are_not_history(qtbot, tab, connected):
    from evalsync_gui.gui.preview_dialog import PreviewDialog

    save_config(connected, SyncConfig(roles=["agent", "admin"]))
    result = _sync(qtbot, tab, tab.config_panel.preview_btn)
    tab.findChild(PreviewDialog).close()
    qtbot.waitUntil(lambda: tab.history.runs.rowCount() == 1, timeout=3000)
    runs = tab.history.runs
    assert runs.text(0, 2) == "Preview"
    assert [runs.text(0, c) for c in range(5, 9)] == ["", "", "", ""]  # no "New 1,508" for a preview
    assert f"would add {result.new:,}" in runs.text(0, 10)
    _click_run(qtbot, tab, 0)
    assert not tab.history.undo_btn.isEnabled()
    assert "preview" in tab.history.undo_btn.toolTip()


def test_narrowed_scope_is_held_as_out_of_scope_and_discard_asks_then_clears_held(qtbot, tab, connected):
    save_config(connected, SyncConfig(roles=["agent", "admin"]))
    _sync(qtbot, tab)
    save_config(connected, SyncConfig(roles=["admin"]))  # agents leave the scope, still in Zendesk
    held = _sync(qtbot, tab)
    assert held.status == "held" and held.held > 10
    history = tab.history
    qtbot.waitUntil(lambda: history.held.rowCount() == held.held, timeout=3000)
    reasons = {history.held.text(r, 3) for r in range(history.held.rowCount())}
    assert "Out of scope, still in Zendesk: agents not imported any more" in reasons
    assert all(r.startswith("Out of scope, still in Zendesk: ") for r in reasons), reasons  # never "gone"

    states: list[str] = []
    tab.services.signals.sync_state_changed.connect(states.append)
    answer = ModalAnswerer(f"Discard {held.held:,}")
    with qtbot.waitSignal(history._task.finished, timeout=5000, check_params_cb=lambda r: r[0] == "held-done"):
        qtbot.mouseClick(history.discard_btn, Qt.MouseButton.LeftButton)
    assert f"Discard {held.held:,} held deactivations?" in answer.seen[0]
    assert directory.counts(connected.db)["deactivated"] == 0
    assert states == ["completed"]  # the status bar's "Sync: held" goes
    qtbot.waitUntil(lambda: not history.discard_btn.isVisible(), timeout=3000)  # re-read off the GUI thread
    assert history.held_label.text() == "No deactivations are held."


def test_the_history_is_read_off_the_gui_thread_and_refresh_shows_a_new_run(qtbot, tab, connected, monkeypatch):
    """Refresh (and every re-read) queries on the loader thread; the list follows the database."""
    import threading

    from PySide6.QtWidgets import QPushButton

    from evalsync_gui.gui import run_history

    save_config(connected, SyncConfig(roles=["admin"]))
    _sync(qtbot, tab)
    history = tab.history
    qtbot.waitUntil(lambda: history.runs.rowCount() == 1, timeout=3000)
    threads: list[bool] = []
    real = run_history.recent_runs
    monkeypatch.setattr(run_history, "recent_runs",
                        lambda db: (threads.append(threading.current_thread() is threading.main_thread()), real(db))[1])
    _sync(qtbot, tab)  # a second run, then the admin clicks Refresh as well
    refresh = next(b for b in history.findChildren(QPushButton) if b.text() == "Refresh")
    with qtbot.waitSignal(history.loader.finished, timeout=5000):
        qtbot.mouseClick(refresh, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: history.runs.rowCount() == 2, timeout=3000)
    assert threads and not any(threads)


def test_export_starts_in_documents_and_says_where_and_how_many(qtbot, tab, connected, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    home = tmp_path / "home"
    (home / "Documents").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    save_config(connected, SyncConfig(roles=["admin"]))
    result = _sync(qtbot, tab)
    out = home / "Documents" / "evalsync-sync-runs.csv"
    opened_in: list[str] = []

    def save_here(dialog):
        assert isinstance(dialog, QFileDialog)
        opened_in.append(dialog.directory().absolutePath())
        dialog.selectFile(str(out))
        dialog.accept()

    answer = ModalAnswerer(handle=save_here)
    messages: list[str] = []
    tab.services.signals.status_message.connect(messages.append)
    with qtbot.waitSignal(tab.history._task.finished, timeout=10_000):
        qtbot.mouseClick(tab.history.export_btn, Qt.MouseButton.LeftButton)
    assert answer.seen and opened_in == [str(home / "Documents")]
    assert messages[-1] == f"Exported {result.new:,} rows to {out}."


@pytest.mark.parametrize(("code", "reason", "in_scope", "words"), [
    (None, "no longer in Zendesk (absent from a complete listing)", 0,
     "Out of scope, may still be in Zendesk: admins not imported any more"),
    (None, "no longer in Zendesk (absent from a complete listing)", 1, "Gone from Zendesk: not found there any more"),
    ("gone", "no longer in Zendesk (absent from a complete listing)", 0, "Gone from Zendesk: not found there any more"),
    ("suspended", "suspended in Zendesk", 1, "Suspended in Zendesk"),
])
def test_held_reason_words_for_rows_with_and_without_a_reason_code(code, reason, in_scope, words):
    """Rows held before reason_code existed still say out of scope when the role is no longer imported."""
    from evalsync_gui.gui.run_history import held_reason

    row = {"reason_code": code, "reason": reason, "in_scope": in_scope, "zendesk_role": "admin", "custom_role_name": None}
    assert held_reason(row) == words
