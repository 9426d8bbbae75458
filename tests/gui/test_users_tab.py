"""The User sync tab with pytest-qt: review, activate under the licence limit, sync flow."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from PySide6.QtCore import Qt

from evalsync_gui.core import directory
from evalsync_gui.gui import sync_controller, users_model
from evalsync_gui.gui.services import AppSignals, Services
from evalsync_gui.gui.users_tab import UsersTab
from tests.gui.users_fixtures import seed_users


@pytest.fixture
def make_tab(qtbot, ctx):
    tabs = []

    def make(**kwargs):
        services = Services(ctx=ctx, signals=AppSignals())
        tab = UsersTab(services, **kwargs)
        qtbot.addWidget(tab)
        tabs.append(tab)
        qtbot.waitUntil(lambda: tab.rows_loaded, timeout=5000)  # the first ids are read off this thread
        return tab

    yield make
    for tab in tabs:
        tab.shutdown()


def fake_engine(ctx, n_new=5):
    """Stand-in for core.sync.runner.run_sync: imports ``n_new`` pending users and reports progress."""

    def run(task, ctx_, **options):
        task.report(SimpleNamespace(phase="listing", pages=1, users=n_new, requests=1, rate_wait=0, message="Reading users"))
        if not options.get("dry_run"):
            with ctx_.db.transaction() as conn:
                conn.executemany("INSERT INTO users (zendesk_id, name, email, status, zendesk_role) "
                                 "VALUES (?, ?, ?, 'pending', 'agent')",
                                 [(500 + i, f"Agent {i}", f"agent{i}@abc-energy.com") for i in range(n_new)])
        return SimpleNamespace(run_id=1, status="completed", mode="full", requests=1, new=n_new, updated=0,
                               deactivated=0, held=0, error=None, dry_run=bool(options.get("dry_run")), planned=[])

    return run


def test_shows_counts_licences_and_pending_rows(make_tab, ctx):
    seed_users(ctx.db, 300)
    tab = make_tab(start_schedule=False)
    counts = directory.counts(ctx.db)
    assert tab.status_buttons["pending"].text() == f"Pending ({counts['pending']:,})"
    assert tab.model.rowCount() == counts["pending"]
    assert tab.licence_label.text() == f"{counts['active']} of 150 licences used"


def test_search_and_status_switch(make_tab, ctx, qtbot):
    seed_users(ctx.db, 300)
    tab = make_tab(start_schedule=False)
    tab.search.setText("kemi")
    qtbot.waitUntil(lambda: tab.model.view.search == "kemi", timeout=1000)
    assert 0 < tab.model.rowCount() < directory.counts(ctx.db)["pending"]
    tab.set_status(None)
    qtbot.waitUntil(lambda: tab.model.view.status is None, timeout=2000)  # ids read off the GUI thread
    assert tab.model.view.search == "kemi"


def test_header_sort_reads_ids_off_the_gui_thread_and_keeps_the_latest(make_tab, ctx, qtbot):
    seed_users(ctx.db, 300)
    tab = make_tab(start_schedule=False)
    header_sorts: list[str] = []
    tab.model.modelReset.connect(lambda: header_sorts.append(tab.model.view.sort))
    email, status = (next(i for i, c in enumerate(users_model.COLUMNS) if c[2] == key) for key in ("email", "status"))
    tab.table.sortByColumn(email, Qt.SortOrder.DescendingOrder)
    assert tab.model.view.sort == "name"  # nothing read on this thread: the old order stays until the ids arrive
    tab.table.sortByColumn(status, Qt.SortOrder.AscendingOrder)  # supersedes the e-mail order
    qtbot.waitUntil(lambda: tab.model.view.sort == "status", timeout=2000)
    assert header_sorts[-1] == "status" and (tab.model.view.descending is False)
    shown = [tab.model.data(tab.model.index(r, 0), users_model.ID_ROLE) for r in range(tab.model.rowCount())]
    assert shown == list(directory.query_ids(ctx.db, tab.model.view))


def test_activation_over_licence_is_refused_with_a_message(make_tab, ctx, qtbot):
    seed_users(ctx.db, 50, status_mix=(1.0, 0, 0))
    ctx.settings.set(directory.LICENCE_KEY, 2)
    tab = make_tab(start_schedule=False)
    with qtbot.waitSignal(tab.services.signals.status_message, timeout=3000) as msg:
        tab.activate(tab.model.ids_for_rows([0, 1, 2]), "agent", "")
    assert "limit is 2" in msg.args[0]
    assert directory.counts(ctx.db)["active"] == 0


def test_enable_sync_pending_appear_activate_three(make_tab, ctx, qtbot, monkeypatch):
    """Enable User Sync, Pending users appear, activate three, licence counter moves."""
    monkeypatch.setattr(sync_controller, "run_sync_task", fake_engine(ctx, n_new=6))
    tab = make_tab(start_schedule=False)
    panel = tab.config_panel
    assert tab.licence_label.text() == "0 of 150 licences used"
    panel.roles.item(0).setCheckState(panel.roles.item(0).checkState().Checked)  # Agents
    assert "agents" in panel.rule.text().lower()
    with qtbot.waitSignal(tab.controller.finished, timeout=5000):
        panel.enable_btn.click()  # the first sync starts at once
    assert panel.enable_btn.text() == "Disable User Sync"
    qtbot.waitUntil(lambda: tab.model.rowCount() == 6, timeout=2000)
    assert tab.status_buttons["pending"].text() == "Pending (6)"
    assert "6 new" in panel.result_label.text()

    tab.table.selectRow(0)
    for row in (1, 2):
        tab.table.selectionModel().select(tab.model.index(row, 0),
                                          tab.table.selectionModel().SelectionFlag.Select
                                          | tab.table.selectionModel().SelectionFlag.Rows)
    ids = tab.selected_ids()
    assert len(ids) == 3
    with qtbot.waitSignal(tab.writer.finished, timeout=3000):
        tab.activate(ids, "team_leader", "North")
    qtbot.waitUntil(lambda: tab.licence_label.text() == "3 of 150 licences used", timeout=2000)
    assert tab.status_buttons["pending"].text() == "Pending (3)"
    assert directory.get_user(ctx.db, ids[0])["evalsync_role"] == "team_leader"


def test_cancel_reaches_the_worker(make_tab, ctx, qtbot, monkeypatch):
    def slow(task, ctx_, **options):
        while not task.sleep(0.02):
            pass
        task.raise_if_cancelled()

    monkeypatch.setattr(sync_controller, "run_sync_task", slow)
    tab = make_tab(start_schedule=False)
    assert tab.controller.sync_now()
    assert not tab.config_panel.sync_btn.isEnabled()
    with qtbot.waitSignal(tab.controller.cancelled, timeout=1000):
        tab.config_panel.cancel_btn.click()
    assert tab.config_panel.sync_btn.isEnabled()


def test_export_view_writes_csv(make_tab, ctx, qtbot, tmp_path):
    seed_users(ctx.db, 40)
    tab = make_tab(start_schedule=False)
    out = tmp_path / "view.csv"
    with qtbot.waitSignal(tab.writer.finished, timeout=3000):
        tab.export_csv(str(out))
    lines = out.read_text(encoding="utf-8-sig").splitlines()
    assert len(lines) == tab.model.rowCount() + 1


def test_overdue_sync_runs_at_start_and_disable_stops_schedule(make_tab, ctx, qtbot, monkeypatch):
    from evalsync_gui.core.sync.config import SyncConfig, load_config, save_config

    monkeypatch.setattr(sync_controller, "run_sync_task", fake_engine(ctx, n_new=2))
    save_config(ctx, SyncConfig(roles=["agent"], enabled=True))  # enabled, never ran: overdue
    tab = make_tab(start_schedule=False)
    with qtbot.waitSignal(tab.controller.finished, timeout=5000):
        tab.controller.start()
    assert tab.controller.last_options["trigger"] == "schedule"
    tab.config_panel.enable_btn.click()  # now "Disable User Sync"
    assert load_config(ctx).enabled is False
    assert sync_controller.due_now(ctx) is False


def test_held_deactivations_banner_and_discard(make_tab, ctx, qtbot):
    seed_users(ctx.db, 10, status_mix=(0, 1.0, 0))
    with ctx.db.transaction() as conn:
        conn.execute("INSERT INTO sync_runs (id, started_at, trigger, mode, status, n_held) "
                     "VALUES (7, '2026-11-20T10:00:00Z', 'schedule', 'full', 'held', 2)")
        conn.executemany("INSERT INTO user_changes (run_id, user_id, action, field, old_value, new_value, reason, state) "
                         "VALUES (7, ?, 'deactivate', 'status', 'active', 'deactivated', 'gone from Zendesk', 'held')",
                         [(1,), (2,)])
    tab = make_tab(start_schedule=False)
    assert not tab.held_banner.isHidden() and "2 deactivations" in tab.held_banner.text()
    qtbot.waitUntil(lambda: tab.history.held.rowCount() == 2, timeout=3000)  # read on the loader thread
    assert not tab.history.discard_btn.isHidden()  # shown once the read says something is held
    from tests.gui.modal import ModalAnswerer

    answer = ModalAnswerer("Discard 2")  # Discard asks first, with the count
    with qtbot.waitSignal(tab.history._task.finished, timeout=3000, check_params_cb=lambda r: r[0] == "held-done"):
        tab.history.discard_btn.click()
    assert answer.seen
    qtbot.waitUntil(lambda: tab.held_banner.isHidden(), timeout=2000)
    assert directory.counts(ctx.db)["active"] == 10


def test_import_csv_from_the_tab(make_tab, ctx, qtbot, tmp_path):
    src = tmp_path / "people.csv"
    src.write_text("name,email,identifier\nAnn,ann@x.org,A1\nBob,bob@x.org,B2\n", encoding="utf-8")
    tab = make_tab(start_schedule=False)
    with qtbot.waitSignal(tab.services.signals.status_message, timeout=3000) as msg:
        tab.import_csv(str(src))
    assert msg.args[0].startswith("Imported 2 users")
    qtbot.waitUntil(lambda: tab.licence_label.text() == "2 of 150 licences used", timeout=2000)


def test_dialogs_activate_selected_and_add_user(make_tab, ctx, qtbot, monkeypatch):
    from PySide6.QtWidgets import QDialog

    from evalsync_gui.gui import users_dialogs

    seed_users(ctx.db, 20, status_mix=(1.0, 0, 0))
    tab = make_tab(start_schedule=False)

    def accept_activate(dialog):
        dialog.role.setCurrentIndex(dialog.role.findData("evaluator"))
        dialog.team.setText("QA")
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(users_dialogs.ActivateDialog, "exec", accept_activate)
    tab.table.selectRow(0)
    qtbot.mouseClick(tab.activate_btn, Qt.MouseButton.LeftButton)  # counts on a worker, then the dialog
    qtbot.waitUntil(lambda: directory.counts(ctx.db)["active"] == 1, timeout=3000)
    qtbot.waitUntil(lambda: not tab.writer.is_running(), timeout=3000)
    active = directory.list_users(ctx.db, "active")[0]
    assert (active["evalsync_role"], active["team"]) == ("evaluator", "QA")

    def accept_add(dialog):
        dialog.name.setText("Hand Made")
        dialog.email.setText("hand@x.org")
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(users_dialogs.AddUserDialog, "exec", accept_add)
    with qtbot.waitSignal(tab.writer.finished, timeout=3000):
        tab.add_btn.click()
    assert any(u["email"] == "hand@x.org" and u["source"] == "manual" for u in directory.list_users(ctx.db, "pending"))


def test_reads_after_a_write_run_off_the_gui_thread(make_tab, ctx, qtbot, monkeypatch):
    """Counts and the id list after a change come from the loader thread, never this one."""
    import threading

    from evalsync_gui.gui import users_loader

    seed_users(ctx.db, 30, status_mix=(1.0, 0, 0))
    tab = make_tab(start_schedule=False)
    gui = threading.get_ident()
    threads: list[int] = []
    real = users_loader.read_snapshot
    monkeypatch.setattr(users_loader, "read_snapshot",
                        lambda *a, **k: (threads.append(threading.get_ident()), real(*a, **k))[1])
    with ctx.db.transaction() as conn:
        conn.execute("UPDATE users SET status = 'active' WHERE id IN (1, 2)")
    with qtbot.waitSignal(tab.loader.finished, timeout=3000):
        tab.services.signals.users_changed.emit()
    assert threads and gui not in threads
    assert tab.status_buttons["pending"].text() == "Pending (28)"
    assert tab.model.rowCount() == 28
    assert tab.licence_label.text() == "2 of 150 licences used"


def test_live_refresh_during_a_sync_keeps_rows_and_reads_counts_off_thread(make_tab, ctx, qtbot):
    seed_users(ctx.db, 30, status_mix=(1.0, 0, 0))
    tab = make_tab(start_schedule=False)
    with ctx.db.transaction() as conn:
        conn.execute("INSERT INTO users (zendesk_id, name, email, status, zendesk_role) "
                     "VALUES (77, 'New One', 'new@x.org', 'pending', 'agent')")
    with qtbot.waitSignal(tab.loader.finished, timeout=3000) as done:
        tab.refresh_live()
    assert done.args[0].ids is None  # counts only: the id list waits for the end of the sync
    # ...and the rows on screen, read on the loader thread too, so the repaint reads nothing here
    assert set(tab.model.ids_for_rows(list(range(10)))) <= set(done.args[0].rows)
    assert tab.status_buttons["pending"].text() == "Pending (31)"
    assert tab.model.rowCount() == 30


def _shown_tab_of_pending(make_tab, ctx, qtbot, n: int):
    """A users tab on screen (1000x600) listing ``n`` Pending users."""
    seed_users(ctx.db, n, status_mix=(1.0, 0, 0))
    tab = make_tab(start_schedule=False)
    tab.resize(1000, 600)
    tab.show()
    qtbot.waitUntil(lambda: tab.model.rowCount() == n, timeout=3000)
    return tab


def test_users_a_sync_adds_arrive_with_their_rows_in_one_read_off_the_gui_thread(make_tab, ctx, qtbot, monkeypatch):
    """The live append rides on the counts read: the new rows that land on screen are read on
    the loader thread, so painting them reads nothing on the GUI thread (a read there cost the
    heartbeat 85 ms gaps in bench scenario 6)."""
    import threading

    tab = _shown_tab_of_pending(make_tab, ctx, qtbot, 3)
    with ctx.db.transaction() as conn:
        conn.executemany("INSERT INTO users (zendesk_id, name, email, status, zendesk_role) "
                         "VALUES (?, ?, ?, 'pending', 'agent')",
                         [(900 + i, f"Zz New {i}", f"new{i}@x.org") for i in range(5)])
    reads: list[tuple[bool, list[int]]] = []
    real = directory.fetch_rows
    gui = threading.current_thread()
    monkeypatch.setattr(directory, "fetch_rows",
                        lambda db, ids: (reads.append((threading.current_thread() is gui, list(ids))), real(db, ids))[1])
    with qtbot.waitSignal(tab.loader.finished, timeout=3000) as done:
        tab.refresher.live_ids_timer.timeout.emit()  # what the 2 s timer does during a sync
    assert len(done.args[0].new_ids) == 5 and tab.model.rowCount() == 8
    new = set(tab.model.ids_for_rows(range(3, 8)))
    assert new <= set(done.args[0].rows)  # the new rows came with the counts
    reads.clear()
    tab.table.viewport().grab()  # paint every visible row, the new ones included
    assert [ids for on_gui, ids in reads if on_gui] == []
    assert [tab.model.index(r, 0).data() for r in range(3, 8)] == [f"Zz New {i}" for i in range(5)]


def test_a_sync_appends_new_users_only_where_the_admin_can_see_the_end_of_the_list(make_tab, ctx, qtbot):
    """Below a full screen an append cannot be seen but costs a repaint of the table: the rows
    wait for the end of the sync, unless the admin scrolls to the end (Ctrl+End)."""
    from PySide6.QtCore import Qt

    tab = _shown_tab_of_pending(make_tab, ctx, qtbot, 200)
    with ctx.db.transaction() as conn:
        conn.executemany("INSERT INTO users (zendesk_id, name, email, status, zendesk_role) "
                         "VALUES (?, ?, ?, 'pending', 'agent')", [(900 + i, f"New {i}", f"n{i}@x.org") for i in range(3)])
    with qtbot.waitSignal(tab.loader.finished, timeout=3000) as done:
        tab.refresher.live_ids_timer.timeout.emit()
    assert done.args[0].new_ids is None and tab.model.rowCount() == 200  # the screen shows the top
    tab.table.setFocus()
    qtbot.keyClick(tab.table, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)
    with qtbot.waitSignal(tab.loader.finished, timeout=3000) as done:
        tab.refresher.live_ids_timer.timeout.emit()
    assert len(done.args[0].new_ids) == 3 and tab.model.rowCount() == 203


def test_a_live_refresh_repaints_only_when_a_row_on_screen_changed(make_tab, ctx, qtbot):
    """During a sync the counts and the visible rows are re-read every 500 ms; the table is only
    repainted (tens of ms of the GUI thread at 1280x800) when one of those rows changed."""
    tab = _shown_tab_of_pending(make_tab, ctx, qtbot, 30)
    tab.table.viewport().grab()  # the rows on screen are painted (and cached)
    changes: list[int] = []
    tab.model.dataChanged.connect(lambda *a: changes.append(1))
    with qtbot.waitSignal(tab.loader.finished, timeout=3000):
        tab.refresh_live()
    assert changes == []
    uid = tab.model.user_id(2)
    with ctx.db.transaction() as conn:
        conn.execute("UPDATE users SET name = 'Renamed In Zendesk' WHERE id = ?", (uid,))
    with qtbot.waitSignal(tab.loader.finished, timeout=3000):
        tab.refresh_live()
    assert changes == [1] and tab.model.index(2, 0).data() == "Renamed In Zendesk"


def test_sync_progress_is_coalesced(qtbot, ctx):
    from evalsync_gui.gui.sync_controller import SyncController

    controller = SyncController(Services(ctx=ctx, signals=AppSignals()))
    seen: list[int] = []
    controller.progress.connect(seen.append)
    for i in range(50):
        controller._on_progress(i)
    assert seen == [0]
    qtbot.waitUntil(lambda: seen[-1] == 49, timeout=1000)
    assert len(seen) == 2
    controller.shutdown()


def test_typing_on_filters_the_shown_ids_until_the_directory_changes(make_tab, ctx, qtbot, monkeypatch):
    from evalsync_gui.gui import users_loader

    seed_users(ctx.db, 300)
    tab = make_tab(start_schedule=False)
    narrowed: list[str] = []
    real = directory.narrow_ids
    monkeypatch.setattr(directory, "narrow_ids", lambda db, view, shown: (narrowed.append(view.search), real(db, view, shown))[1])
    assert users_loader.directory is directory
    for text in ("a", "an"):
        tab.search.setText(text)
        qtbot.waitUntil(lambda t=text: tab.model.view.search == t, timeout=2000)
        assert list(tab.model.shown_ids) == list(directory.query_ids(ctx.db, tab.model.view))
    assert narrowed == ["a", "an"]
    with ctx.db.transaction() as conn:  # a new match arrives: the shown ids are no longer current
        conn.execute("INSERT INTO users (name, email, status) VALUES ('Anna New', 'anna.new@x.org', 'pending')")
    tab.services.signals.users_changed.emit()
    tab.search.setText("ann")
    qtbot.waitUntil(lambda: tab.model.view.search == "ann", timeout=2000)
    assert narrowed == ["a", "an"]  # queried afresh
    assert list(tab.model.shown_ids) == list(directory.query_ids(ctx.db, tab.model.view))
