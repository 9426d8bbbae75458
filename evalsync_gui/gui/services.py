"""What every tab is handed by ``app.py``: the core context and the window-wide signals.

Tabs never build core objects for themselves from global state; they get them here, so
``app.py`` stays the one place that wires core to gui and tests can hand in their own.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from PySide6.QtCore import QObject, Signal

from evalsync_gui.core.context import AppContext


class AppSignals(QObject):
    """Window-wide notifications between tabs (all emitted on the GUI thread)."""

    connection_changed = Signal()          # signed in, signed out or re-checked
    sync_state_changed = Signal(str)       # 'idle' | 'running' | 'completed' | 'failed' | 'held'
    sync_finished = Signal(object)         # core SyncResult
    status_message = Signal(str)           # one line for the status bar
    users_changed = Signal()               # directory rows changed (reload tables/counters)
    sync_now_requested = Signal()          # F5 / tray "Sync now": the User sync tab starts a sync
    chat_review_changed = Signal(int)      # chat requests held for review by a chat run (0 = none)
    find_requested = Signal()              # Ctrl+F: the visible tab (check self.isVisible()) focuses its search box


@dataclass
class Services:
    ctx: AppContext
    signals: AppSignals
    demo: bool = False
    # The in-process simulator in --demo mode (evalsync_gui.sim.Simulator), else None.
    simulator: object | None = None
    extras: dict = field(default_factory=dict)
