"""Issue 12 point 6 in the User sync tab: on a plan without custom roles (Zendesk refuses
/api/v2/custom_roles below Enterprise) the custom-role choices give way to a one-line note."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from evalsync_gui.gui.services import AppSignals, Services
from evalsync_gui.gui.users_tab import UsersTab
from tests.chat_helpers import connect_support


@pytest.mark.parametrize("plan, note", [("team", True), ("enterprise", False)])
def test_custom_role_choices_follow_the_plan(qtbot, ctx, sim_factory, plan, note):
    sim = sim_factory(plan=plan)
    connect_support(ctx, sim)
    tab = UsersTab(Services(ctx=ctx, signals=AppSignals()), start_schedule=False)
    qtbot.addWidget(tab)
    try:
        qtbot.waitUntil(lambda: tab.rows_loaded, timeout=5000)
        panel = tab.config_panel
        qtbot.waitUntil(lambda: panel.reload_btn.isEnabled(), timeout=10_000)
        qtbot.mouseClick(panel.reload_btn, Qt.LeftButton)

        def labels() -> list[str]:
            return [panel.roles.item(i).text() for i in range(panel.roles.count())]

        # Either outcome is visible: the note (no custom roles on this plan) or the roles themselves.
        qtbot.waitUntil(lambda: panel.no_custom_roles.isVisibleTo(panel)
                        or any(t.startswith("Custom role") for t in labels()), timeout=10_000)
        qtbot.waitUntil(panel.reload_btn.isEnabled, timeout=10_000)
        assert panel.no_custom_roles.isVisibleTo(panel) is note
        assert any(t.startswith("Custom role") for t in labels()) is not note
    finally:
        tab.shutdown()
