"""Issue 8: every control in the main window can be found by a screen reader and by keyboard."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QAbstractButton, QAbstractItemView, QLabel, QLineEdit, QWidget

from evalsync_gui.gui.main_window import MainWindow
from evalsync_gui.gui.services import AppSignals, Services


@pytest.fixture
def window(qtbot, ctx):
    w = MainWindow(Services(ctx=ctx, signals=AppSignals()))
    qtbot.addWidget(w)
    with qtbot.waitSignal(w.tabs_ready, timeout=5000):  # the contents follow the first paint
        w.show()
    qtbot.waitExposed(w)
    return w


def _internal(widget: QWidget, root: QWidget) -> bool:
    """Qt's own sub-controls: headers, a line edit's clear button, spin/combo box parts, popups."""
    from PySide6.QtWidgets import QAbstractSpinBox, QComboBox, QHeaderView, QTabBar

    if widget.objectName().startswith("qt_") or isinstance(widget, QHeaderView) or widget.window() is not root:
        return True
    parent = widget.parentWidget()
    return isinstance(parent, (QAbstractSpinBox, QComboBox, QTabBar, QLineEdit)) or type(widget).__name__ == "QTableCornerButton"


def _has_label(widget: QWidget, buddies: set[int]) -> bool:
    if widget.accessibleName().strip():
        return True
    if isinstance(widget, QAbstractButton) and widget.text().replace("&", "").strip():
        return True
    return id(widget) in buddies


def unlabelled(root: QWidget) -> list[str]:
    buddies = {id(label.buddy()) for label in root.findChildren(QLabel) if label.buddy() is not None}
    missing = []
    for widget in root.findChildren(QWidget):
        if not isinstance(widget, (QAbstractButton, QLineEdit, QAbstractItemView)) or _internal(widget, root):
            continue
        if not _has_label(widget, buddies):
            hint = widget.placeholderText() if isinstance(widget, QLineEdit) else widget.toolTip()
            missing.append(f"{type(widget).__name__} in {type(widget.parentWidget()).__name__} ({hint!r})")
    return missing


def test_every_control_has_an_accessible_name_or_label(window):
    assert unlabelled(window) == []


def test_find_focuses_the_search_box_of_the_visible_tab_only(qtbot, window):
    users, chat = window.tab_pages[1], window.tab_pages[2]
    window.tabs.setCurrentIndex(1)
    window.find_action.trigger()
    assert users.search.hasFocus() or QWidget.focusWidget(users.search) is users.search
    window.tabs.setCurrentIndex(2)
    window.find_action.trigger()
    qtbot.waitUntil(lambda: chat.current_search_box() is not None and chat.current_search_box().hasFocus(), timeout=1000)
    assert not users.search.hasFocus()


def test_no_tab_adds_its_own_find_or_sync_shortcut(window):
    """Qt fires neither of two QShortcuts on the same key: only the window's actions may own them."""
    from PySide6.QtGui import QKeySequence, QShortcut

    taken = {QKeySequence(QKeySequence.StandardKey.Find), QKeySequence("F5")}
    assert [s.key() for s in window.findChildren(QShortcut) if s.key() in taken] == []


def test_every_table_remembers_its_columns(window):
    from PySide6.QtWidgets import QTableView

    window.tabs.setCurrentIndex(2)
    views = [v for v in window.findChildren(QTableView) if v.window() is window]
    assert len(views) >= 8
    for view in views:  # track_header connects the save slot to sectionResized
        assert view.horizontalHeader().receivers("2sectionResized(int,int,int)") > 0, view.accessibleName()


def test_status_colours_follow_light_and_dark_palettes():
    from PySide6.QtGui import QColor, QPalette

    from evalsync_gui.gui import theme
    from evalsync_gui.gui.chat_models import REQUEST_COLUMNS, STATUS_TEXT, RowsModel

    light, dark = QPalette(QColor("#efefef")), QPalette(QColor("#2b2b2b"))
    assert not theme.is_dark(light) and theme.is_dark(dark)
    for kind in ("ok", "error", "warn", "muted"):
        assert theme.colour(kind, light).lightness() < 140 < theme.colour(kind, dark).lightness() or kind == "muted"
    assert theme.muted(dark).lightness() > dark.color(QPalette.ColorRole.Window).lightness()
    from PySide6.QtCore import Qt

    model = RowsModel(REQUEST_COLUMNS, colour_key="status")
    model.set_rows([{"status": "failed"}, {"status": "keep"}])
    assert model.data(model.index(0, 0), Qt.ForegroundRole) == QColor(STATUS_TEXT)  # dark text on a pale tint
    assert model.data(model.index(1, 0), Qt.BackgroundRole) is None


def test_system_roles_are_not_offered_as_custom_roles():
    from evalsync_gui.gui.sync_config_panel import choosable_roles

    roles = [{"id": 1, "name": "Admin", "role_type": 4}, {"id": 2, "name": "Billing admin", "role_type": 5},
             {"id": 3, "name": "Light agent", "role_type": 1}, {"id": 4, "name": "Tier 1", "role_type": 0}]
    assert [r["name"] for r in choosable_roles(roles)] == ["Light agent", "Tier 1"]


def test_demo_preconfigures_agents_and_admins_but_does_not_enable(ctx):
    from evalsync_gui.app import preconfigure_demo
    from evalsync_gui.core.sync.config import load_config

    preconfigure_demo(ctx)
    cfg = load_config(ctx)
    assert cfg.roles == ["agent", "admin"] and not cfg.enabled


def test_window_fits_a_small_laptop_screen(window):
    hint = window.minimumSizeHint()
    assert hint.width() <= 1024 and hint.height() <= 700, hint


def _next_tab_stop(widget):
    from PySide6.QtCore import Qt

    w = widget.nextInFocusChain()
    while not (w.focusPolicy() & Qt.FocusPolicy.TabFocus):
        w = w.nextInFocusChain()
    return w


def test_tab_order_runs_top_down_on_chat_pages(window):
    chat = window.tab_pages[2]
    assert _next_tab_stop(chat.agents.search) is chat.agents.refresh_button
    assert _next_tab_stop(chat.requests.search) is chat.requests.import_button
    assert _next_tab_stop(chat.requests.process_button) is chat.requests.view
    assert _next_tab_stop(chat.log.search) is chat.log.details_button
