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
