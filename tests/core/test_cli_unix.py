"""The CLI behaves like a Unix tool: a closed pipe ends quietly with 141, settings print when
asked, a dry run cannot be undone, and no message says "None"."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from evalsync_gui.cli import CLOSED_PIPE, main
from evalsync_gui.core.sync.config import SyncConfig, save_config
from evalsync_gui.core.sync.runner import run_sync
from evalsync_gui.core.zendesk.http import ApiTokenAuth, ZendeskHttp

REPO = Path(__file__).resolve().parents[2]


def piped(data_dir, command: str, reader: str) -> tuple[int, str]:
    """Run ``evalsync <command> | <reader>`` in bash; the CLI's exit status and its stderr."""
    cli = f"{sys.executable} -m evalsync_gui.cli --data-dir {data_dir}"
    script = f"{cli} {command} 2>{data_dir}/err | {reader} >/dev/null; echo ${{PIPESTATUS[0]}}"
    out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, cwd=REPO, timeout=120,
                         env={**os.environ, "PYTHONPATH": str(REPO)})
    return int(out.stdout.strip()), (Path(data_dir) / "err").read_text()


@pytest.fixture
def synced(ctx, sim_factory):
    """A data folder with one completed run of ~1,500 new users (a long `runs show`)."""
    sim = sim_factory(agents=1500)
    ctx.extras["sync_is_admin"] = True
    save_config(ctx, SyncConfig(roles=["agent", "admin"]))
    result = run_sync(ctx, client=ZendeskHttp(sim.base_url, ApiTokenAuth(sim.admin_email, sim.api_token)))
    assert result.status == "completed" and result.new > 1000, result.error
    return ctx


def test_closed_pipe_ends_quietly_with_141(synced):
    data_dir = synced.data_dir
    for command, reader in (("users list --json", "head -c 100"), ("runs show 1", "head -3"),
                            ("users list", "head -1")):
        status, err = piped(data_dir, command, reader)
        assert status == CLOSED_PIPE == 141, (command, err)
        assert err.strip() == "", (command, err)  # no traceback, no "Exception ignored"


def test_chat_config_without_flags_prints_the_settings(data_dir, capsys):
    assert main(["--data-dir", str(data_dir), "chat", "config"]) == 0
    out = capsys.readouterr().out
    assert "chat.kind = \"auto\"" in out and "chat.default_role = (not set)" in out and "None" not in out
    assert main(["--data-dir", str(data_dir), "chat", "config", "--json"]) == 0
    view = json.loads(capsys.readouterr().out)
    assert view["chat.domains"] == [] and view["chat.management_enabled"] is False


def test_undo_of_a_dry_run_is_refused_with_a_reason(ctx, sim, capsys):
    ctx.extras["sync_is_admin"] = True
    save_config(ctx, SyncConfig(roles=["agent", "admin"]))
    dry = run_sync(ctx, dry_run=True, client=ZendeskHttp(sim.base_url, ApiTokenAuth(sim.admin_email, sim.api_token)))
    assert dry.status == "completed" and dry.new > 0
    assert main(["--data-dir", str(ctx.data_dir), "runs", "undo", str(dry.run_id)]) == 2
    assert "was a dry run: it changed nothing" in capsys.readouterr().err


def test_sync_while_disconnected_never_says_none(data_dir):
    d = [sys.executable, "-m", "evalsync_gui.cli", "--data-dir", str(data_dir)]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    assert subprocess.run([*d, "configure", "--roles", "agent"], env=env, cwd=REPO).returncode == 0
    for extra in ([], ["--json"]):
        r = subprocess.run([*d, "sync", *extra], capture_output=True, text=True, env=env, cwd=REPO, timeout=60)
        assert r.returncode == 4 and "Not connected" in r.stderr
        assert "None" not in r.stdout + r.stderr


def test_runs_show_never_prints_none(synced, capsys):
    with synced.db.transaction() as conn:
        conn.execute("UPDATE user_changes SET field = 'email', old_value = NULL WHERE id = "
                     "(SELECT min(id) FROM user_changes)")
    assert main(["--data-dir", str(synced.data_dir), "runs", "show", "1"]) == 0
    out = capsys.readouterr().out
    assert "email: (empty) ->" in out and "None" not in out
