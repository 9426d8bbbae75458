"""The Chat tab in the demo, as a newcomer meets it: connected for them, the agents already
listed when they open the tab, the kind named with how it was known (both demo kinds)."""

from __future__ import annotations

import os

import keyring
import pytest

from evalsync_gui import app
from evalsync_gui.gui.main_window import MainWindow
from evalsync_gui.gui.services import AppSignals, Services


@pytest.mark.parametrize("kind, words", [("writable", "writable"), ("support", "created in Support")])
def test_the_demo_chat_tab_lists_agents_without_a_click(qtbot, ctx, monkeypatch, kind, words):
    monkeypatch.setattr(app, "DEMO_ORG", dict(agents=20, admins=2, end_users=10, chat_agents=8, seed=3))
    previous = keyring.get_keyring()
    app.use_memory_keyring()
    services = Services(ctx=ctx, signals=AppSignals())
    try:
        w = MainWindow(services)
        qtbot.addWidget(w)
        w.resize(1280, 800)
        w.show()
        with qtbot.waitSignal(services.signals.connection_changed, timeout=10_000):
            app.start_demo(w, services, kind)
        chat = w.tab_pages[2]
        w.tabs.setCurrentWidget(chat)
        qtbot.waitUntil(lambda: chat.agents.model.rowCount() > 0, timeout=10_000)
        qtbot.waitUntil(lambda: not chat.jobs.is_running(), timeout=10_000)
        assert words in chat.kind_label.text(), chat.kind_label.text()
        assert chat.kind_label.text().endswith(("— detected", "— chosen"))
        if os.environ.get("EVALSYNC_SHOTS"):
            w.grab().save(os.path.join(os.environ["EVALSYNC_SHOTS"], f"demo_chat_{kind}.png"))
        w.close()
    finally:
        keyring.set_keyring(previous)
