"""Help > About: name, version, what it does, and where its files are."""

from __future__ import annotations

import html
import platform

import PySide6
from PySide6.QtCore import Qt, qVersion
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

from evalsync_gui import APP_NAME, __version__


class AboutDialog(QDialog):
    """Modal About box; :attr:`version_label` shows ``evalsync_gui.__version__``."""

    def __init__(self, icon: QIcon, data_dir: str, log_dir: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"About {APP_NAME}")
        self.setAccessibleName(f"About {APP_NAME}")
        layout = QVBoxLayout(self)
        layout.setSpacing(10)
        logo = QLabel(self)
        logo.setPixmap(icon.pixmap(96, 96))
        logo.setAlignment(Qt.AlignmentFlag.AlignCenter)
        logo.setAccessibleName(f"{APP_NAME} logo")
        layout.addWidget(logo)
        title = QLabel(f"<h2>{APP_NAME}</h2>", self)
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(title)
        self.version_label = QLabel(f"Version {__version__}", self)
        self.version_label.setObjectName("versionLabel")
        self.version_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.version_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.version_label)
        blurb = QLabel("Keeps a QA user directory in step with Zendesk and automates "
                       "Zendesk Chat agent access. Secrets stay in the system keyring.", self)
        blurb.setWordWrap(True)
        blurb.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(blurb)
        details = QLabel(
            f"Data folder: {html.escape(data_dir)}<br>Log folder: {html.escape(log_dir)}<br>"
            f"Qt {qVersion()} · PySide6 {PySide6.__version__} · Python {platform.python_version()}<br>"
            "License: MIT", self)
        details.setTextFormat(Qt.TextFormat.RichText)
        details.setWordWrap(True)
        details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        details.setAccessibleName("Version and folder details")
        layout.addWidget(details)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        buttons.accepted.connect(self.accept)
        layout.addWidget(buttons)
        self.setMinimumWidth(420)
