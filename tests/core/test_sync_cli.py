"""The configure / sync / runs commands (sync itself runs against the simulator)."""

from __future__ import annotations

import json

from evalsync_gui.cli import main


def test_configure_and_runs_list(data_dir, capsys):
    assert main(["--data-dir", str(data_dir), "configure", "--roles", "agent,custom:5", "--deactivation-limit", "15%"]) == 0
    assert "all agents" in capsys.readouterr().out
    assert main(["--data-dir", str(data_dir), "configure", "--roles", "bogus"]) == 2
    assert "Bad role list" in capsys.readouterr().err
    assert main(["--data-dir", str(data_dir), "runs", "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert main(["--data-dir", str(data_dir), "runs", "show", "9"]) == 2


def test_sync_unconfigured_is_usage_error(data_dir, capsys):
    assert main(["--data-dir", str(data_dir), "sync"]) == 2
    assert "not configured" in capsys.readouterr().err
