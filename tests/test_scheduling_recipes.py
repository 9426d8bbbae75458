"""The scheduling recipes in packaging/scheduling/ work as written, as far as this machine allows,
and the README's scheduling section is exactly them.

* systemd: ``systemd-analyze verify --user`` accepts the units; the service's command, run with the
  environment and the credential the unit gives it, syncs from the encrypted-file keyring.
* cron: the line's schedule is valid and its command runs (the simulator stands in for Zendesk).
* launchd: the plist parses and its program arguments run. Windows: the task XML parses.
"""

from __future__ import annotations

import json
import os
import plistlib
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
RECIPES = REPO / "packaging" / "scheduling"
EVALSYNC = Path(sys.executable).parent / "evalsync"


def _readme_section() -> str:
    text = (REPO / "README.md").read_text()
    start = text.index("### Scheduling from the system")
    return text[start:text.index("### Running on a server", start)]


def _unit(name: str) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for line in (RECIPES / name).read_text().splitlines():
        if line and not line.startswith(("#", "[")) and "=" in line:
            key, _, value = line.partition("=")
            values.setdefault(key, []).append(value)
    return values


def _connected(sim, env: dict[str, str], data_dir: Path) -> None:
    r = subprocess.run([str(EVALSYNC), "--data-dir", str(data_dir), "connect", "--subdomain", "abc-energy",
                        "--base-url", sim.base_url, "--email", sim.admin_email, "--api-token-stdin"],
                       input=sim.api_token + "\n", capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    r = subprocess.run([str(EVALSYNC), "--data-dir", str(data_dir), "configure", "--roles", "agent,admin"],
                       capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 0, r.stderr


def test_readme_section_is_the_recipes():
    section = _readme_section()
    cron = [line for line in (RECIPES / "evalsync-sync.cron").read_text().splitlines()
            if line and not line.startswith("#")]
    assert len(cron) == 1 and cron[0] in section
    for name in ("evalsync-sync.service", "evalsync-sync.timer", "io.evalsync.sync.plist", "evalsync-sync.task.xml"):
        assert f"packaging/scheduling/{name}" in section or f"packaging\\scheduling\\{name}" in section, name
    for recipe, command in (("evalsync-sync.service", "systemctl --user daemon-reload && systemctl --user enable "
                                                     "--now evalsync-sync.timer"),
                            ("io.evalsync.sync.plist", "launchctl bootstrap gui/$(id -u) "
                                                      "~/Library/LaunchAgents/io.evalsync.sync.plist"),
                            ("evalsync-sync.task.xml", "schtasks /Create /TN EvalSyncSync /XML")):
        assert command in (RECIPES / recipe).read_text() and command in section, command


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed here")
def test_systemd_units_verify(tmp_path):
    home = tmp_path / "home"
    (home / ".local" / "bin").mkdir(parents=True)
    (home / ".local" / "bin" / "evalsync").symlink_to(EVALSYNC)
    units = tmp_path / "units"
    units.mkdir()
    for name in ("evalsync-sync.service", "evalsync-sync.timer"):
        shutil.copy(RECIPES / name, units / name)
    run = tmp_path / "run"
    run.mkdir(mode=0o700)
    r = subprocess.run(["systemd-analyze", "verify", "--user", "--man=no", "evalsync-sync.service",
                        "evalsync-sync.timer"], capture_output=True, text=True, cwd=units, timeout=120,
                       env={**os.environ, "HOME": str(home), "XDG_RUNTIME_DIR": str(run)})
    assert r.returncode == 0, r.stdout + r.stderr
    assert "evalsync" not in r.stderr, r.stderr  # no warning about our units


def test_systemd_service_command_syncs_with_its_credential(tmp_path, sim):
    unit = _unit("evalsync-sync.service")
    assert _unit("evalsync-sync.timer")["OnCalendar"] == ["*-*-* 00/6:15:00"]
    home = tmp_path / "home"
    (home / ".local" / "bin").mkdir(parents=True)
    (home / ".local" / "bin" / "evalsync").symlink_to(EVALSYNC)
    # What the README's install steps create, and what LoadCredential= hands the service.
    name, _, source = unit["LoadCredential"][0].partition(":")
    source_path = Path(source.replace("%h", str(home)))
    source_path.parent.mkdir(parents=True)
    source_path.write_text("a long random passphrase from /dev/urandom\n")
    source_path.chmod(0o600)
    creds = tmp_path / "credentials"
    creds.mkdir()
    shutil.copy(source_path, creds / name)
    (creds / name).chmod(0o400)
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHON_KEYRING_BACKEND", "EVALSYNC_TEST_KEYRING_FILE", "DBUS_SESSION_BUS_ADDRESS")}
    env.update(dict(item.split("=", 1) for item in unit["Environment"]))
    env.update(HOME=str(home), CREDENTIALS_DIRECTORY=str(creds), PYTHONPATH=str(REPO),
               EVALSYNC_DATA_DIR=str(tmp_path / "data"))
    _connected(sim, env, tmp_path / "data")
    command = unit["ExecStart"][0].replace("%h", str(home)).split()
    r = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["status"] == "completed"


def test_cron_line_schedule_and_command_run(tmp_path, sim):
    line = next(line for line in (RECIPES / "evalsync-sync.cron").read_text().splitlines()
                if line and not line.startswith("#"))
    fields = line.split(None, 5)
    assert fields[:5] == ["15", "*/6", "*", "*", "*"]
    command = fields[5].replace("/path/to/EvalSync/.venv/bin/evalsync", str(EVALSYNC))
    assert "%" not in command  # cron would turn % into a newline
    home = tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "HOME": str(home), "EVALSYNC_DATA_DIR": str(tmp_path / "data"), "PYTHONPATH": str(REPO)}
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)  # cron gives none: the line must supply it
    _connected(sim, env, tmp_path / "data")
    r = subprocess.run(["/bin/sh", "-c", command], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    log = (home / "evalsync-sync.log").read_text()
    assert json.loads(log.splitlines()[-1])["status"] == "completed"
    prefix = command[:command.index(str(EVALSYNC))]  # the line's environment assignment
    shown = subprocess.run(["/bin/sh", "-c", prefix + "env"], capture_output=True, text=True, env=env,
                           timeout=30).stdout
    assert f"DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/{os.getuid()}/bus" in shown


def test_launchd_plist_parses_and_its_arguments_run(tmp_path, sim):
    plist = plistlib.loads((RECIPES / "io.evalsync.sync.plist").read_bytes())
    assert plist["Label"] == "io.evalsync.sync" and plist["StartInterval"] == 6 * 3600
    args = plist["ProgramArguments"]
    assert args[0].endswith("/.venv/bin/evalsync") and args[1:] == ["sync", "--json"]
    env = {**os.environ, "EVALSYNC_DATA_DIR": str(tmp_path / "data"), "PYTHONPATH": str(REPO)}
    _connected(sim, env, tmp_path / "data")
    r = subprocess.run([str(EVALSYNC), *args[1:]], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0 and json.loads(r.stdout)["status"] == "completed", r.stderr


def test_windows_task_xml_parses():
    ns = {"t": "http://schemas.microsoft.com/windows/2004/02/mit/task"}
    root = ET.parse(RECIPES / "evalsync-sync.task.xml").getroot()
    assert root.find("t:Triggers/t:TimeTrigger/t:Repetition/t:Interval", ns).text == "PT6H"
    assert root.find("t:Actions/t:Exec/t:Command", ns).text.endswith(r"\.venv\Scripts\evalsync.exe")
    assert root.find("t:Actions/t:Exec/t:Arguments", ns).text == "sync --json"
    assert root.find("t:Settings/t:MultipleInstancesPolicy", ns).text == "IgnoreNew"
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$", root.find("t:Triggers/t:TimeTrigger/t:StartBoundary", ns).text)
