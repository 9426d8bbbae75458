"""Take docs/screenshots/*.png: the app in --demo mode, offscreen, one PNG per tab plus About.

    QT_QPA_PLATFORM=offscreen .venv/bin/python packaging/take_screenshots.py [--out DIR]

Runs the real app code (``app.create_window`` with ``demo=True``) against the in-process
simulator in a throwaway data folder, waits for the demo connection, then grabs each tab.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from evalsync_gui.app import create_window, make_qapp  # noqa: E402

SIZE = (1280, 800)
SHOTS = ("authenticate", "user-sync", "chat-agents")


def settle(seconds: float) -> None:
    """Let queued signals and background loads land, processing events meanwhile."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        QApplication.processEvents()
        time.sleep(0.02)


def wait_for(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        QApplication.processEvents()
        if condition():
            return True
        time.sleep(0.02)
    return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    parser.add_argument("--settle", type=float, default=2.0, help="seconds to let each tab load")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    make_qapp([])  # Qt keeps the QApplication as its singleton
    data_dir = Path(tempfile.mkdtemp(prefix="evalsync-shots-"))
    window = create_window(data_dir, demo=True, log_folder=data_dir / "logs")
    try:
        window.resize(*SIZE)
        window.show()
        if not wait_for(lambda: window.services.simulator is not None, 60):
            print("the demo simulator did not start within 60 s", file=sys.stderr)
            return 1
        settle(args.settle)
        for index, name in enumerate(SHOTS):
            window.tabs.setCurrentIndex(index)
            settle(args.settle)
            path = out / f"{name}.png"
            window.grab().save(str(path))
            print(f"wrote {path}")
        dialog = window.show_about()
        settle(0.3)
        dialog.grab().save(str(out / "about.png"))
        print(f"wrote {out / 'about.png'}")
        dialog.close()
        return 0
    finally:
        QTimer.singleShot(0, window.close)
        settle(0.2)
        window.shutdown()
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
