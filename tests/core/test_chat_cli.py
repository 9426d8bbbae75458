"""`evalsync chat …` end to end against the simulator (in-process, real HTTP and SQLite)."""

from __future__ import annotations

import json

import pytest

from evalsync_gui.cli import main
from tests.keyring_backends import file_keyring  # noqa: F401 - fixture

pytestmark = pytest.mark.usefixtures("file_keyring")
DOMAIN = "abc-energy.example.com"


@pytest.fixture
def connected(data_dir, sim):
    from evalsync_gui.core.auth.session import connect_api_token
    from evalsync_gui.core.context import AppContext

    ctx = AppContext.create(data_dir)
    connect_api_token(ctx, "abc-energy", sim.admin_email, sim.api_token, base_url=sim.base_url)
    ctx.db.close()
    return data_dir


def cli(data_dir, capsys, *args) -> tuple[int, str, str]:
    code = main(["--data-dir", str(data_dir), "chat", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_full_flow(connected, sim, capsys, tmp_path):
    d = connected
    assert cli(d, capsys, "config", "--domains", DOMAIN, "--mode", "standalone")[0] == 0
    code, out, _ = cli(d, capsys, "agents", "list", "--json")
    assert code == 0 and len(json.loads(out)) == len(sim.chat_agents)
    off = next(a for a in sim.chat_agents.values() if not a["roles"]["owner"])
    off["enabled"] = False
    code, out, _ = cli(d, capsys, "requests", "add", "--requester", f"lead@{DOMAIN}", "--email", off["email"],
                       "--first", "Off", "--last", "Agent", "--json")
    assert code == 0 and json.loads(out)["status"] == "queued"
    csv = tmp_path / "sheet.csv"
    csv.write_text(f"Who,Agent mail,Given,Family\nlead@{DOMAIN},new.one@{DOMAIN},New,One\n"
                   f"lead@{DOMAIN},x@evil.io,Evil,One\n", encoding="utf-8")
    code, out, _ = cli(d, capsys, "requests", "import", str(csv), "--map", "Who=requester", "--map",
                       "Agent mail=email", "--map", "Given=first_name", "--map", "Family=last_name", "--json")
    rep = json.loads(out)
    assert code == 0 and rep["added"] == 1 and rep["rejected"] == 1 and rep["problems"][0]["line"] == 3
    code, out, _ = cli(d, capsys, "requests", "import", str(csv))  # the mapping was remembered
    assert code == 0 and "0 added, 2 already imported" in out
    code, out, _ = cli(d, capsys, "requests", "process", "--dry-run", "--json")
    assert code == 0 and json.loads(out)["counts"] == {"enabled": 1, "created": 1}
    code, _, err = cli(d, capsys, "requests", "process")
    assert code == 2 and "Chat management is off" in err and err.count("\n") == 1
    cli(d, capsys, "config", "--management", "on")
    code, out, _ = cli(d, capsys, "requests", "process", "--json")
    result = json.loads(out)
    assert code == 0 and result["counts"] == {"enabled": 1, "created": 1} and result["mail"]["sent"] == 0
    assert sim.chat_agents[off["id"]]["enabled"] is True
    code, out, _ = cli(d, capsys, "log", "--json")
    assert {"Created", "Enabled", "Rejected"} <= {r["action"] for r in json.loads(out)}
    log_csv = tmp_path / "log.csv"
    code, _, err = cli(d, capsys, "log", "--csv", str(log_csv))
    assert code == 0 and log_csv.read_text(encoding="utf-8-sig").splitlines()[0].split(",")[1] == "Action"
    code, out, _ = cli(d, capsys, "inactivity", "--disable-after", "30", "--delete-after", "60", "--json")
    preview = json.loads(out)
    assert code == 0 and not preview["applied"] and len(preview["agents"]) == len(sim.chat_agents)


def test_exit_codes(connected, data_dir, capsys, tmp_path):
    code, _, err = cli(connected, capsys, "inactivity", "--disable-after", "90", "--delete-after", "30")
    assert code == 2 and "must be longer" in err
    code, _, err = cli(connected, capsys, "requests", "import", str(tmp_path / "missing.csv"))
    assert code == 2 and err.startswith("evalsync: Cannot read")
    cli(connected, capsys, "config", "--domains", DOMAIN)
    (tmp_path / "other").mkdir()
    code, _, err = main(["--data-dir", str(tmp_path / "other"), "chat", "agents", "list"]), *capsys.readouterr()
    assert code == 4 and "Not connected" in err
