"""The User sync panel driven by mouse and keyboard: scope changes ask first, Enable labels its run, layout holds."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication

from evalsync_gui.core import directory
from evalsync_gui.core.sync.config import SyncConfig, load_config, save_config
from evalsync_gui.gui.services import AppSignals, Services
from evalsync_gui.gui.users_tab import UsersTab
from tests.gui.modal import ModalAnswerer
from tests.gui.connected import connected, file_keyring  # noqa: F401  (fixtures)


@pytest.fixture
def tab(qtbot, connected):
    save_config(connected, SyncConfig(roles=["agent", "admin"]))
    t = UsersTab(Services(ctx=connected, signals=AppSignals()), start_schedule=False)
    qtbot.addWidget(t)
    t.resize(1280, 760)
    t.show()
    yield t
    t.shutdown()


def _toggle(qtbot, panel, row: int) -> None:
    """Click the row's text (selects it), then Space: the keyboard way to tick or untick."""
    view = panel.roles
    rect = view.visualItemRect(view.item(row))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(rect.right() - 10, rect.center().y()))
    qtbot.keyClick(view, Qt.Key.Key_Space)


def test_unticking_a_group_says_how_many_leave_and_what_happens_before_saving(qtbot, tab, connected):
    panel = tab.config_panel
    with qtbot.waitSignal(tab.controller.finished, timeout=30_000):
        qtbot.mouseClick(panel.sync_btn, Qt.MouseButton.LeftButton)
    admins = directory.counts(connected.db)["pending"] - sum(
        1 for _ in connected.db.query("SELECT 1 FROM users WHERE zendesk_role = 'agent'"))
    assert panel.roles.item(1).text().startswith("Admins") and admins > 0

    no = ModalAnswerer("Cancel")
    with qtbot.waitSignal(panel._scope_check.done, timeout=5000):
        _toggle(qtbot, panel, 1)
    assert f"{admins:,} imported users would leave the scope if you untick Admins." in no.seen[0]
    assert "deactivat" in no.seen[0]  # says what happens to them
    assert panel.roles.item(1).checkState() == Qt.CheckState.Checked  # declined: back as saved
    assert load_config(connected).roles == ["agent", "admin"]

    yes = ModalAnswerer("Untick and save")
    with qtbot.waitSignal(panel.config_saved, timeout=5000):
        _toggle(qtbot, panel, 1)
    assert yes.seen and load_config(connected).roles == ["agent"]

    with qtbot.waitSignal(panel.config_saved, timeout=5000):  # widening asks nothing
        _toggle(qtbot, panel, 1)
    assert load_config(connected).roles == ["agent", "admin"]


def test_enable_user_sync_labels_its_first_run(qtbot, tab):
    with qtbot.waitSignal(tab.controller.finished, timeout=30_000):
        qtbot.mouseClick(tab.config_panel.enable_btn, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: tab.history.runs.rowCount() == 1, timeout=3000)
    assert tab.history.runs.text(0, 2) == "Enable User Sync"  # not "schedule"


def test_sync_buttons_stay_put_when_the_texts_above_them_change(qtbot, tab):
    panel = tab.config_panel
    where = lambda: (panel.sync_btn.mapTo(panel, QPoint(0, 0)), panel.preview_btn.mapTo(panel, QPoint(0, 0)))  # noqa: E731
    before = where()
    with qtbot.waitSignal(panel.config_saved, timeout=5000):
        _toggle(qtbot, panel, 0)  # "all agents, and all admins" -> "all admins"
    _toggle(qtbot, panel, 1)  # nothing ticked: the two-line "Choose at least one group…" hint
    assert panel.rule.text().startswith("<b>Choose at least one group")
    panel.result_label.setText("Sync completed: 1,508 new (Pending), 12 updated, 3 deactivated; 3,004 "
                               "deactivations held for review (1,234 requests).")
    for _ in range(3):  # a label's new height reaches the panel's layout one event-loop turn later
        QApplication.processEvents()
    assert where() == before


def test_kinds_without_a_paid_seat_are_separate_choices_off_by_default_with_counts(qtbot, tab, sim):
    panel = tab.config_panel
    texts = [panel.roles.item(i).text() for i in range(5)]
    assert [t.split(" (")[0] for t in texts] == ["Agents", "Admins", "Light agents", "Contributors", "Chat-only agents"]
    assert [panel.roles.item(i).checkState() for i in range(2, 5)] == [Qt.CheckState.Unchecked] * 3
    assert texts[2].endswith("(not counted) · no paid seat") and texts[0].endswith("· paid seat")

    with qtbot.waitSignal(panel._counting.finished, timeout=10_000) as counted:
        qtbot.mouseClick(panel.count_btn, Qt.MouseButton.LeftButton)
    light = counted.args[0]["counts"]["light_agent"]
    assert light > 0 and panel.roles.item(2).text() == f"Light agents ({light:,}) · no paid seat"

    with qtbot.waitSignal(panel.config_saved, timeout=5000):
        _toggle(qtbot, panel, 2)
    assert "light_agent" in load_config(tab.services.ctx).roles
    with qtbot.waitSignal(tab.controller.finished, timeout=30_000):
        qtbot.mouseClick(panel.sync_btn, Qt.MouseButton.LeftButton)
    answer = ModalAnswerer("Cancel")
    with qtbot.waitSignal(panel._scope_check.done, timeout=5000):
        _toggle(qtbot, panel, 2)
    assert f"Unticking Light agents takes {light:,} light agents in Zendesk (last count) out of the scope." in answer.seen[0]
