"""Remember window geometry, the last tab and table column widths between runs.

State lives in ``window.ini`` (QSettings, INI format) inside the data folder, so each data
folder (and each test's temporary folder) has its own. It holds only layout: never a secret.

Tabs persist a table's columns with two calls, after ``view.setModel(...)``::

    from evalsync_gui.gui import window_state
    window_state.track_header(self.services, "users.table", self.view.horizontalHeader())

``track_header`` restores the saved state now and saves again whenever a column is resized,
moved or re-sorted; :func:`save_header`/:func:`restore_header` do the same by hand.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtWidgets import QHeaderView, QMainWindow

STATE_FILENAME = "window.ini"
_EXTRAS_KEY = "window_state"


class WindowState:
    """A thin typed wrapper over one QSettings INI file."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.settings = QSettings(str(self.path), QSettings.Format.IniFormat)

    # -- main window ---------------------------------------------------------------------
    def save_window(self, window: QMainWindow, current_tab: int | None = None) -> None:
        """Store geometry, dock/toolbar layout and (optionally) the current tab index."""
        self.settings.setValue("window/geometry", window.saveGeometry())
        self.settings.setValue("window/state", window.saveState())
        if current_tab is not None:
            self.settings.setValue("window/tab", int(current_tab))
        self.settings.sync()

    def restore_window(self, window: QMainWindow) -> bool:
        """Restore geometry and layout; False when nothing was saved yet (caller picks a default size)."""
        geometry = self.settings.value("window/geometry")
        state = self.settings.value("window/state")
        restored = isinstance(geometry, QByteArray) and window.restoreGeometry(geometry)
        if isinstance(state, QByteArray):
            window.restoreState(state)
        return bool(restored)

    def last_tab(self, count: int) -> int:
        """The saved tab index, clamped to ``count`` tabs (0 when unknown)."""
        try:
            index = int(self.settings.value("window/tab", 0))
        except (TypeError, ValueError):
            return 0
        return index if 0 <= index < count else 0

    # -- plain values ----------------------------------------------------------------------
    def value(self, key: str, default: Any = None, type_: type | None = None) -> Any:
        """Read a layout/UI preference (e.g. ``"ui/close_to_tray"``)."""
        raw = self.settings.value(key, default)
        if type_ is bool and isinstance(raw, str):
            return raw.lower() in ("1", "true", "yes")
        return type_(raw) if type_ is not None and raw is not None else raw

    def set_value(self, key: str, value: Any) -> None:
        self.settings.setValue(key, value)
        self.settings.sync()

    # -- table headers -----------------------------------------------------------------------
    def save_header(self, key: str, header: QHeaderView) -> None:
        """Store a header's column widths, order, visibility and sort indicator under ``key``."""
        self.settings.setValue(f"headers/{key}", header.saveState())

    def restore_header(self, key: str, header: QHeaderView) -> bool:
        """Restore a header saved under ``key``; False when none was saved or it no longer fits."""
        state = self.settings.value(f"headers/{key}")
        return isinstance(state, QByteArray) and header.restoreState(state)

    def sync(self) -> None:
        self.settings.sync()


def for_services(services: Any) -> WindowState:
    """The WindowState of ``services``' data folder, created once and cached in ``services.extras``."""
    state = services.extras.get(_EXTRAS_KEY)
    if state is None:
        state = WindowState(Path(services.ctx.data_dir) / STATE_FILENAME)
        services.extras[_EXTRAS_KEY] = state
    return state


def save_header(services: Any, key: str, header: QHeaderView) -> None:
    """Save a table header's state under ``key`` (e.g. ``"users.table"``)."""
    for_services(services).save_header(key, header)


def restore_header(services: Any, key: str, header: QHeaderView) -> bool:
    """Restore a table header's state saved under ``key``; call after the view has its model."""
    return for_services(services).restore_header(key, header)


def track_header(services: Any, key: str, header: QHeaderView) -> bool:
    """Restore now, then save on every resize, move or sort change. Returns what restore returned."""
    restored = restore_header(services, key, header)

    def save(*_: Any) -> None:
        save_header(services, key, header)

    header.sectionResized.connect(save)
    header.sectionMoved.connect(save)
    header.sortIndicatorChanged.connect(save)
    return restored
