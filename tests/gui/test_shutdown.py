"""Issue 7: closing the window mid-sync and mid-chat-batch stops every thread within 2 s."""

from __future__ import annotations

import time

import pytest
from PySide6.QtCore import QThread
from PySide6.QtWidgets import QApplication

from evalsync_gui.gui.main_window import MainWindow
from evalsync_gui.gui.services import AppSignals, Services
from evalsync_gui.gui.workers import TaskController
from tests.keyring_backends import file_keyring  # noqa: F401  (fixture)

DOMAIN = "abc-energy.example.com"


@pytest.fixture
def slow_sim(sim_factory):
    # Enough users for several pages; latency is switched on once the window is set up.
    return sim_factory(agents=400, end_users=200, chat_agents=40, rate_limit_per_minute=None,
                       incremental_per_minute=None, chat_per_minute=None)


def test_close_during_sync_and_chat_batch_stops_all_threads_within_2s(qtbot, ctx, slow_sim, file_keyring, tmp_path):  # noqa: F811
    from evalsync_gui.core.sync.config import SyncConfig, save_config
    from tests.chat_helpers import connect_both

    connect_both(ctx, slow_sim)  # Support sign-in and the Chat API connection
    save_config(ctx, SyncConfig(roles=["agent", "admin"]))
    ctx.settings.set("chat.domains", [DOMAIN])
    ctx.settings.set("chat.mode", "standalone")
    services = Services(ctx=ctx, signals=AppSignals())
    window = MainWindow(services)
    qtbot.addWidget(window)
    window.show()
    users, chat = window.tab_pages[1], window.tab_pages[2]
    qtbot.waitUntil(lambda: not chat.loader.is_running() and not chat.jobs.is_running(), timeout=10_000)

    csv = tmp_path / "requests.csv"
    rows = "\n".join(f"11/23/2026 10:{i:02d}:00,lead@{DOMAIN},new.person{i}@{DOMAIN},New,Person{i}" for i in range(30))
    csv.write_text("Timestamp,Email Address,Email address of the user requiring chat access,First Name,Second Name\n"
                   + rows + "\n", encoding="utf-8")
    from evalsync_gui.core.chat.requests import guess_mapping, preview_rows

    with qtbot.waitSignal(chat.job_finished, timeout=10_000):
        chat.import_csv_file(str(csv), guess_mapping(preview_rows(csv)[0]))
    qtbot.waitUntil(lambda: not chat.loader.is_running(), timeout=10_000)

    slow_sim.config.latency = 0.25  # every request now takes a while: both jobs are surely mid-run
    with qtbot.waitSignal(users.controller.progress, timeout=10_000):
        users.config_panel.sync_now()
    chat.management.setChecked(True)
    with qtbot.waitSignal(chat.jobs.progress, timeout=10_000):
        chat.process(dry_run=False)
    assert users.controller.is_running() and chat.jobs.is_running()
    threads = [c._thread for c in window.findChildren(TaskController) if c._thread is not None]
    assert len(threads) >= 2

    t0 = time.monotonic()
    window.close()
    elapsed = time.monotonic() - t0
    assert elapsed < 2.0, f"closing took {elapsed:.2f} s"
    assert all(t.isFinished() for t in threads)
    assert not [t for t in threads if isinstance(t, QThread) and t.isRunning()]
    QApplication.processEvents()
