"""The whole User sync flow against the simulator: real engine, real HTTP, real worker thread."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from evalsync_gui.core import directory
from evalsync_gui.gui.services import AppSignals, Services
from evalsync_gui.gui.users_tab import UsersTab
from tests.keyring_backends import file_keyring  # noqa: F401  (fixture)


@pytest.fixture
def connected(ctx, sim, file_keyring):  # noqa: F811
    from evalsync_gui.core.auth.session import connect_api_token

    connect_api_token(ctx, "abc-energy", sim.admin_email, sim.api_token, base_url=sim.base_url)
    return ctx


def test_enable_sync_pending_appear_activate_three_licence_moves(qtbot, connected):
    ctx = connected
    tab = UsersTab(Services(ctx=ctx, signals=AppSignals()), start_schedule=False)
    qtbot.addWidget(tab)
    try:
        panel = tab.config_panel
        with qtbot.waitSignal(panel._lists.done, timeout=10_000):
            panel.load_lists()  # custom roles and user fields, live from Zendesk
        assert panel.roles.count() >= 2
        panel.roles.item(0).setCheckState(Qt.CheckState.Checked)  # Agents
        assert tab.licence_label.text() == "0 of 150 licences used"
        with qtbot.waitSignal(tab.controller.finished, timeout=30_000) as done:
            panel.enable_btn.click()  # the first sync starts at once
        assert done.args[0].status == "completed", done.args[0].error
        qtbot.waitUntil(lambda: tab.model.rowCount() > 3, timeout=3000)
        pending = directory.counts(ctx.db)["pending"]
        assert tab.status_buttons["pending"].text() == f"Pending ({pending:,})"

        ids = tab.model.ids_for_rows([0, 1, 2])
        with qtbot.waitSignal(tab.writer.finished, timeout=3000):
            tab.activate(ids, "agent", "Billing")
        qtbot.waitUntil(lambda: tab.licence_label.text() == "3 of 150 licences used", timeout=3000)
        assert tab.status_buttons["pending"].text() == f"Pending ({pending - 3:,})"
        qtbot.waitUntil(lambda: tab.history.runs.rowCount() == 1, timeout=3000)  # read on the loader thread
    finally:
        tab.shutdown()


def test_preview_lists_planned_changes_and_changes_nothing(qtbot, connected):
    from evalsync_gui.core.sync.config import SyncConfig, save_config
    from evalsync_gui.gui.preview_dialog import PreviewDialog

    ctx = connected
    save_config(ctx, SyncConfig(roles=["agent", "admin"]))
    tab = UsersTab(Services(ctx=ctx, signals=AppSignals()), start_schedule=False)
    qtbot.addWidget(tab)
    tab.show()
    try:
        with qtbot.waitSignal(tab.controller.finished, timeout=30_000) as done:
            tab.config_panel.preview_btn.click()
        assert done.args[0].dry_run and done.args[0].new > 0
        dialog = tab.findChild(PreviewDialog)
        assert dialog is not None and dialog.table.rowCount() == done.args[0].new
        assert dialog.table.text(0, 0) == "Import as Pending"
        assert directory.counts(ctx.db)["pending"] == 0
        dialog.grab().save(str(ctx.data_dir / "preview.png"))
        dialog.close()
    finally:
        tab.shutdown()


def test_cancel_stops_a_real_sync_within_a_second(qtbot, ctx, sim_factory, file_keyring):  # noqa: F811
    import time

    from evalsync_gui.core.auth.session import connect_api_token
    from evalsync_gui.core.sync.config import SyncConfig, save_config

    sim = sim_factory(agents=3000, latency=0.2)
    connect_api_token(ctx, "abc-energy", sim.admin_email, sim.api_token, base_url=sim.base_url)
    save_config(ctx, SyncConfig(roles=["agent"]))
    tab = UsersTab(Services(ctx=ctx, signals=AppSignals()), start_schedule=False)
    qtbot.addWidget(tab)
    try:
        with qtbot.waitSignal(tab.controller.progress, timeout=10_000):
            tab.config_panel.sync_now()
        started = time.monotonic()
        with qtbot.waitSignal(tab.controller.running_changed, timeout=2000, check_params_cb=lambda r: r is False):
            tab.config_panel.cancel_btn.click()
        assert time.monotonic() - started < 1.0
        assert tab.config_panel.sync_btn.isEnabled()
    finally:
        tab.shutdown()
