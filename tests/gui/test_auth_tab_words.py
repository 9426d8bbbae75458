"""Authenticate tab: what Zendesk says about the user is shown as text, never as markup; times in one format."""

from __future__ import annotations

import re

from PySide6.QtCore import Qt

from evalsync_gui.gui.auth_tab import AuthTab
from evalsync_gui.gui.services import AppSignals, Services
from tests.keyring_backends import file_keyring  # noqa: F401  (fixture)


def test_names_from_zendesk_are_not_markup_and_times_use_the_window_format(qtbot, ctx, sim, file_keyring):  # noqa: F811
    from evalsync_gui.core.auth.session import connect_api_token

    owner = next(u for u in sim.store.users.values() if u.get("email") == sim.admin_email)
    owner["name"] = "<i>Ada</i> Admin"
    connect_api_token(ctx, "abc-energy", sim.admin_email, sim.api_token, base_url=sim.base_url)
    tab = AuthTab(Services(ctx=ctx, signals=AppSignals()))
    qtbot.addWidget(tab)
    try:
        # Plain-text labels (issue 13): the name is shown exactly as Zendesk has it, never rendered.
        assert tab.status_label.textFormat() == Qt.TextFormat.PlainText
        assert "<i>Ada</i> Admin" in tab.status_label.text()
        assert re.search(r"Last checked: \d{4}-\d\d-\d\d \d\d:\d\d(\n|$)", tab.details_label.text())
    finally:
        tab.shutdown()
