"""Take docs/screenshots/*.png from the real app in --demo mode, offscreen, at 1280x800.

    QT_QPA_PLATFORM=offscreen .venv/bin/python packaging/take_screenshots.py [--out DIR] [--size 1280x800]

Runs the real app code (``app.create_window`` with ``demo=True``) against the in-process
simulator in a throwaway data folder and drives the tabs the way a newcomer would: a real
sync (Pending users appear), the chat agents loaded, a few access requests processed. Every
wait is on a Qt signal with a timeout, never a fixed sleep.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QEventLoop, QTimer, qInstallMessageHandler  # noqa: E402
from PySide6.QtWidgets import QApplication, QWidget  # noqa: E402

from evalsync_gui.app import create_window, make_qapp  # noqa: E402


class Timeout(RuntimeError):
    """A step of the script did not happen in time."""


def wait_signal(signal, start: Callable[[], object] | None = None, timeout: float = 60.0, what: str = "") -> list:
    """Connect to ``signal``, run ``start()``, spin the event loop until it fires; return its args."""
    loop = QEventLoop()
    got: list = []

    def fired(*args: object) -> None:
        got.append(args)
        loop.quit()

    signal.connect(fired)
    timer = QTimer()
    timer.setSingleShot(True)
    timer.timeout.connect(loop.quit)
    try:
        if start is not None:
            start()
        if not got:
            timer.start(int(timeout * 1000))
            loop.exec()
    finally:
        signal.disconnect(fired)
    if not got:
        raise Timeout(f"timed out after {timeout:.0f} s waiting for {what or signal}")
    return list(got[0])


def flush() -> None:
    """Deliver queued events (layout, repaint) before a grab."""
    for _ in range(3):
        QApplication.processEvents()


def shoot(widget: QWidget, out: Path, name: str) -> None:
    flush()
    path = out / f"{name}.png"
    widget.grab().save(str(path))
    print(f"wrote {path}")


def user_sync(window, out: Path) -> None:
    """Part 2 is pre-ticked in demo mode; press Sync now and wait for the engine to finish."""
    users = window.tab_pages[1]
    window.tabs.setCurrentWidget(users)
    panel = users.config_panel
    if users.controller.is_running():  # a scheduled sync may already be on its way
        wait_signal(window.services.signals.sync_finished, timeout=120, what="the running sync")
    if not panel.current_roles():
        panel.roles.item(0).setCheckState(panel.roles.item(0).checkState().Checked)
    result = wait_signal(window.services.signals.sync_finished, panel.sync_btn.click, 180, "sync_finished")[0]
    if getattr(result, "status", "") not in ("completed", "held"):
        raise Timeout(f"the demo sync ended as {getattr(result, 'status', '?')}: {getattr(result, 'error', '')}")
    users.reload()  # the tab reloads on a short timer; do it now so the grab shows the rows
    shoot(window, out, "user-sync")
    users.pages.setCurrentWidget(users.history)
    shoot(window, out, "user-sync-runs")
    users.pages.setCurrentIndex(0)


def chat(window, out: Path) -> None:
    """The tab refreshes agents on first show; then a few requests are added and processed."""
    tab = window.tab_pages[2]
    if tab.agents_model.rowCount() == 0:
        wait_signal(tab.refreshed, lambda: window.tabs.setCurrentWidget(tab), 60, "chat agents")
        if tab.agents_model.rowCount() == 0 or tab.jobs.is_running():
            wait_signal(tab.refreshed, None, 60, "chat agents after the first refresh")
    window.tabs.setCurrentWidget(tab)
    shoot(window, out, "chat-agents")

    agents = tab.agents_model.rows
    domain = agents[0]["email"].split("@", 1)[1]
    tab.pages.setCurrentIndex(4)
    tab.s_domains.setText(domain)
    tab.save_chat_settings()
    tab.pages.setCurrentIndex(1)
    disabled = next((a for a in agents if not a["enabled"]), agents[-1])
    enabled = next(a for a in agents if a["enabled"] and not a.get("is_owner"))
    requests = ((disabled["email"], "Returning", "Agent"), (enabled["email"], "Already", "Enabled"),
                (f"new.starter@{domain}", "New", "Starter"), ("someone@outside.example.org", "Wrong", "Domain"))
    tab.f_requester.setText(f"team.lead@{domain}")
    for email, first, last in requests:
        tab.f_email.setText(email)
        tab.f_first.setText(first)
        tab.f_last.setText(last)
        wait_signal(tab.refreshed, tab.add_button.click, 30, f"request for {email}")
    tab.management.setChecked(True)
    wait_signal(tab.refreshed, tab.process_button.click, 60, "processing the requests")
    shoot(window, out, "chat-requests")
    tab.pages.setCurrentIndex(0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    parser.add_argument("--size", default="1280x800", help="window size WIDTHxHEIGHT")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    width, height = (int(v) for v in args.size.lower().split("x"))

    qInstallMessageHandler(lambda *a: None if "propagateSizeHints" in a[2] else print(a[2], file=sys.stderr))
    make_qapp([])  # Qt keeps the QApplication as its singleton
    data_dir = Path(tempfile.mkdtemp(prefix="evalsync-shots-"))
    window = create_window(data_dir, demo=True, log_folder=data_dir / "logs")
    try:
        window.resize(width, height)
        window.show()
        if window.services.simulator is None:
            wait_signal(window.services.signals.connection_changed, None, 120, "the demo simulator")
        window.tabs.setCurrentIndex(0)
        shoot(window, out, "authenticate")
        user_sync(window, out)
        chat(window, out)
        dialog = window.show_about()
        shoot(dialog, out, "about")
        dialog.close()
        return 0
    except Timeout as exc:
        print(f"take_screenshots: {exc}", file=sys.stderr)
        return 1
    finally:
        window.quit()
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
