"""Users tab at the keyboard and mouse: Tab, columns, details pane, licence dialog, waits, live rows."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication

from evalsync_gui.core import directory
from evalsync_gui.gui import sync_controller
from evalsync_gui.gui.services import AppSignals, Services
from evalsync_gui.gui.users_model import COLUMNS
from evalsync_gui.gui.users_tab import UsersTab


def _pending(ctx, n: int) -> None:
    rows = [{"name": f"User {i:03d}", "email": f"u{i}@x.org"} for i in range(n)]
    directory.import_rows(ctx.db, ctx.settings, rows, default_status="pending")


@pytest.fixture
def make_tab(qtbot, ctx):
    tabs = []

    def make():
        tab = UsersTab(Services(ctx=ctx, signals=AppSignals()), start_schedule=False)
        qtbot.addWidget(tab)
        tabs.append(tab)
        tab.resize(1280, 800)
        tab.show()
        qtbot.waitUntil(lambda: tab.rows_loaded, timeout=5000)
        return tab

    yield make
    for tab in tabs:
        tab.shutdown()


def _column(label: str) -> int:
    return next(i for i, c in enumerate(COLUMNS) if c[0] == label)


def _click_when_open(qtbot, tab, check=None, button: str = "ok_button"):
    """Once the Activate dialog is open: let ``check`` look at it, then click one of its buttons."""
    seen = {}

    def poll():
        dialog = getattr(tab.actions, "dialog", None)
        if dialog is None or not dialog.isVisible():
            QTimer.singleShot(10, poll)
            return
        seen["dialog"] = SimpleNamespace(note=dialog.limit_note.text(), note_shown=not dialog.limit_note.isHidden(),
                                         ok=dialog.ok_button.text(), ok_enabled=dialog.ok_button.isEnabled())
        if check:
            check(dialog)
        if button == "ok_button" and dialog.ok_button.isEnabled():
            qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
        else:
            dialog.reject()

    QTimer.singleShot(0, poll)
    return seen


def test_tab_leaves_the_users_table(make_tab, ctx, qtbot):
    _pending(ctx, 5)
    tab = make_tab()
    qtbot.waitUntil(lambda: tab.model.rowCount() == 5, timeout=3000)
    tab.table.setFocus()
    tab.table.setCurrentIndex(tab.model.index(0, 0))
    qtbot.keyClick(tab.table, Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is not tab.table
    assert tab.table.currentIndex().column() == 0  # it did not walk to the next cell


def _one_active(make_tab, ctx, qtbot, user_id: int, role: str, team: str):
    """Three users, one of them active with ``role`` and ``team``; the tab shows the Active page."""
    _pending(ctx, 3)
    directory.activate(ctx.db, ctx.settings, [user_id], role=role, team=team)
    tab = make_tab()
    tab.set_status("active")
    qtbot.waitUntil(lambda: tab.model.rowCount() == 1, timeout=3000)
    return tab


def test_role_and_team_columns_hide_from_the_header_menu_and_stay_hidden(make_tab, ctx, qtbot):
    tab = _one_active(make_tab, ctx, qtbot, 1, "team_leader", "North")
    role, team = _column("EvalSync role"), _column("Team")
    assert tab.model.index(0, role).data() == "Team leader" and tab.model.index(0, team).data() == "North"
    assert not tab.table.isColumnHidden(team)
    menu = tab.table.columns_menu()
    next(a for a in menu.actions() if a.text() == "Team").trigger()
    assert tab.table.isColumnHidden(team)
    menu.deleteLater()
    again = make_tab()  # a restart of the tab reads the remembered header
    assert again.table.isColumnHidden(team) and not again.table.isColumnHidden(role)


def test_double_click_opens_details_with_the_sync_history(make_tab, ctx, qtbot):
    tab = _one_active(make_tab, ctx, qtbot, 2, "agent", "QA")
    assert tab.details.isHidden()
    rect = tab.table.visualRect(tab.model.index(0, 0))
    # A real double-click: press/release, then the double-click event (Qt matches it to the press).
    qtbot.mouseClick(tab.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(tab.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: tab.details.user_id == 2, timeout=3000)
    assert tab.details.isVisible() and tab.details.title.text() == "User 001"
    assert tab.details.values["team"].text() == "QA"
    history = [tab.details.history.text(r, 2) for r in range(tab.details.history.rowCount())]
    assert history[0] == "activate: status pending → active" and history[-1].startswith("add")
    qtbot.mouseClick(tab.details.close_btn, Qt.MouseButton.LeftButton)
    assert tab.details.isHidden()


def test_activate_dialog_offers_only_what_fits(make_tab, ctx, qtbot):
    _pending(ctx, 5)
    ctx.settings.set(directory.LICENCE_KEY, 2)
    tab = make_tab()
    qtbot.waitUntil(lambda: tab.model.rowCount() == 5, timeout=3000)
    tab.table.setFocus()
    qtbot.keyClick(tab.table, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    assert tab.selection_label.text() == "All 5 selected"
    seen = _click_when_open(qtbot, tab)
    qtbot.mouseClick(tab.activate_btn, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: directory.counts(ctx.db)["active"] == 2, timeout=3000)
    d = seen["dialog"]
    assert d.note_shown and d.ok == "Activate the first 2" and "Change limit…" in d.note and "only 2 are free" in d.note
    assert [u["name"] for u in directory.list_users(ctx.db, "active")] == ["User 000", "User 001"]

    qtbot.waitUntil(lambda: tab.model.rowCount() == 3 and not tab.writer.is_running(), timeout=3000)
    qtbot.keyClick(tab.table, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    seen = _click_when_open(qtbot, tab)
    qtbot.mouseClick(tab.activate_btn, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "dialog" in seen, timeout=3000)
    assert not seen["dialog"].ok_enabled and "none is free" in seen["dialog"].note
    assert directory.counts(ctx.db)["active"] == 2


def _waiting_engine(ctx, release: threading.Event, n_new: int = 6):
    """A sync that imports ``n_new`` users, reports a 43 s rate-limit wait, and waits until released."""

    def run(task, ctx_, **options):
        with ctx_.db.transaction() as conn:
            conn.executemany("INSERT INTO users (zendesk_id, name, email, status, zendesk_role) "
                             "VALUES (?, ?, ?, 'pending', 'agent')",
                             [(500 + i, f"Agent {i}", f"agent{i}@x.org") for i in range(n_new)])
        task.report(SimpleNamespace(phase="fetch", pages=1, users=n_new, requests=1, rate_wait=0, message="",
                                    waiting_seconds=0.0, wait_reason=""))
        task.report(SimpleNamespace(phase="waiting", pages=1, users=n_new, requests=2, rate_wait=0,
                                    message="Zendesk's limit", waiting_seconds=43.0, wait_reason="Zendesk's limit"))
        while not release.wait(0.02):
            task.raise_if_cancelled()
        return SimpleNamespace(run_id=1, status="completed", mode="full", requests=2, new=n_new, updated=0,
                               deactivated=0, held=0, error=None, dry_run=False, planned=[])

    return run


def test_a_running_sync_says_why_it_waits_and_shows_the_rows_already_imported(make_tab, ctx, qtbot, monkeypatch):
    release = threading.Event()
    monkeypatch.setattr(sync_controller, "run_sync_task", _waiting_engine(ctx, release))
    _pending(ctx, 3)
    tab = make_tab()
    qtbot.waitUntil(lambda: tab.model.rowCount() == 3, timeout=3000)
    rect = tab.table.visualRect(tab.model.index(1, 0))
    qtbot.mouseClick(tab.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    chosen = tab.selected_ids()
    resets: list[int] = []
    messages: list[str] = []
    tab.services.signals.status_message.connect(messages.append)
    labels: list[str] = []
    try:
        qtbot.mouseClick(tab.config_panel.sync_btn, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: tab.wait_note.isVisible(), timeout=3000)
        assert tab.wait_note.text() in ("Zendesk's limit: resumes in 43 s", "Zendesk's limit: resumes in 42 s")
        assert messages and messages[-1].startswith("Zendesk's limit: resumes in 4")
        tab.model.modelReset.connect(lambda: resets.append(1))
        qtbot.waitUntil(lambda: tab.status_buttons["pending"].text() == "Pending (9)", timeout=3000)
        labels.append(tab.selection_label.text())
        qtbot.waitUntil(lambda: tab.model.rowCount() == 9, timeout=4000)  # while the sync still runs
        assert tab.controller.is_running() and not resets  # appended: no reset
        assert tab.selected_ids() == chosen  # the admin's selection stayed
        assert "0 shown" not in labels and tab.selection_label.text() == "1 selected of 9"
    finally:
        release.set()
    qtbot.waitUntil(lambda: not tab.controller.is_running(), timeout=3000)
    assert tab.wait_note.isHidden()


def test_change_limit_button_sets_the_limit_and_the_counter_follows(make_tab, ctx, qtbot):
    _pending(ctx, 3)
    directory.activate(ctx.db, ctx.settings, [1])
    tab = make_tab()
    qtbot.waitUntil(lambda: tab.licence_label.text() == "1 of 150 licences used", timeout=3000)
    seen = {}

    def answer():
        from PySide6.QtWidgets import QInputDialog

        dialog = next((w for w in QApplication.topLevelWidgets() if isinstance(w, QInputDialog) and w.isVisible()), None)
        if dialog is None:
            QTimer.singleShot(10, answer)
            return
        seen["label"], seen["width"] = dialog.labelText(), dialog.width()
        dialog.setIntValue(7)
        dialog.accept()

    QTimer.singleShot(0, answer)
    qtbot.mouseClick(tab.limit_btn, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: tab.licence_label.text() == "1 of 7 licences used", timeout=3000)
    assert directory.licence_limit(ctx.settings) == 7
    assert seen["label"] == "Active users your EvalSync plan allows (1 active now):" and seen["width"] >= 380
