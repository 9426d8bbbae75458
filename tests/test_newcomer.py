"""The newcomer path: `make run` without a display says one helpful line, and the simulator's
banner gives a `connect` line that works when pasted."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from evalsync_gui.app import NO_DISPLAY, no_display

REPO = Path(__file__).resolve().parents[1]


def _headless_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env["PYTHONPATH"] = str(REPO)
    return env


def test_no_display_is_one_line_before_qt_starts():
    out = subprocess.run([sys.executable, "-X", "importtime", "main.py", "--demo"], capture_output=True,
                         text=True, env=_headless_env(), cwd=REPO, timeout=60)
    assert out.returncode == 1
    lines = [line for line in out.stderr.splitlines() if not line.startswith("import time:")]
    assert lines == [NO_DISPLAY]
    assert "PySide6" not in out.stderr  # Qt was never imported, so it could not abort
    assert no_display({"QT_QPA_PLATFORM": "offscreen"}, "linux") is False
    assert no_display({"WAYLAND_DISPLAY": "wayland-0"}, "linux") is False
    assert no_display({}, "win32") is False and no_display({}, "linux") is True


def test_simulator_banner_connect_line_works_when_pasted(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    sim = subprocess.Popen([sys.executable, "-m", "evalsync_gui.cli", "simulator", "--port", "0", "--users", "20",
                            "--end-users", "5", "--chat-agents", "2"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO)
    try:
        banner = []
        for line in sim.stdout:
            banner.append(line.rstrip("\n"))
            if line.startswith("Press Ctrl-C"):
                break
        assert any(line.strip() == "account:         abc-energy" for line in banner), banner
        connect = next(line.strip() for line in banner if "evalsync connect" in line)
        data = tmp_path / "cli-data"
        r = subprocess.run(["bash", "-c", connect], capture_output=True, text=True, cwd=tmp_path, timeout=60,
                           env={**env, "EVALSYNC_DATA_DIR": str(data)})
        assert r.returncode == 0, r.stderr
        assert "Connected to 127.0.0.1" in r.stdout
    finally:
        sim.terminate()
        sim.wait(timeout=30)
