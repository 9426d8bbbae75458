"""The User sync tab (placeholder until the feature lands)."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from evalsync_gui.gui.services import Services


class UsersTab(QWidget):
    """User sync tab. Constructed by the main window as `UsersTab(services, parent)`."""

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("User sync: coming soon"))

    def shutdown(self) -> None:
        """Stop this tab's workers; called from the main window's closeEvent (must return within 2 s)."""
