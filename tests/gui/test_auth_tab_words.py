"""Authenticate tab: what Zendesk says about the user is shown as text, never as markup; times in one format."""

from __future__ import annotations

import re

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
        assert "&lt;i&gt;Ada&lt;/i&gt; Admin" in tab.status_label.text()
        assert "<i>" not in tab.status_label.text()
        assert re.search(r"Last checked: \d{4}-\d\d-\d\d \d\d:\d\d(<|$)", tab.details_label.text())
    finally:
        tab.shutdown()
