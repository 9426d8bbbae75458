"""The Authenticate tab (placeholder until the feature lands)."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from evalsync_gui.gui.services import Services


class AuthTab(QWidget):
    """Authenticate tab. Constructed by the main window as `AuthTab(services, parent)`."""

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Authenticate: coming soon"))

    def shutdown(self) -> None:
        """Stop this tab's workers; called from the main window's closeEvent (must return within 2 s)."""
