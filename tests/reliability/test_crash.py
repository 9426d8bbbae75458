"""SIGKILL at random moments of a 20,000-user sync (the CLI, a real process, a slow simulator).

The moments are chosen by progress, not by the clock, so a loaded machine moves them but
never makes them meaningless: most kills land a random number of pages after the run stored
a new cursor (so the next run must resume from it); every fifth lands at a random early
moment, before or during the first write. After every kill: PRAGMA integrity_check is ok, no Zendesk user appears twice, the lock is
free, and the next run starts from the stored cursor. At the next start the killed run is
marked 'interrupted'. After the last kill a run to completion gives exactly the directory a
clean, uninterrupted sync produces.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs

import pytest

from tests.keyring_backends import file_keyring  # noqa: F401

from .helpers import integrity_ok, no_duplicate_zendesk_users

import evalsync_gui.sim as sim_mod

ROOT = Path(__file__).resolve().parents[2]
KILLS = int(os.environ.get("EVALSYNC_CRASH_KILLS", "20"))
USERS = int(os.environ.get("EVALSYNC_CRASH_USERS", "20000"))


def _cli(data: Path, *args: str, stdin: str | None = None, popen: bool = False):
    cmd = [sys.executable, "-m", "evalsync_gui.cli", "--data-dir", str(data), *args]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if popen:
        return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    return subprocess.run(cmd, env=env, input=stdin, capture_output=True, text=True, timeout=300, cwd=ROOT)


def _setup(data: Path, sim) -> None:
    r = _cli(data, "connect", "--subdomain", "abc-energy", "--base-url", sim.base_url, "--email", sim.admin_email,
             "--api-token-stdin", stdin=sim.api_token + "\n")
    assert r.returncode == 0, r.stderr
    r = _cli(data, "configure", "--roles", "agent,admin")
    assert r.returncode == 0, r.stderr


def _ro(path: Path):
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)


def _directory(db: Path) -> dict:
    with _ro(db) as conn:
        return {r[0]: r[1:] for r in conn.execute(
            "SELECT zendesk_id, name, email, status, zendesk_role, custom_role_id FROM users "
            "WHERE zendesk_id IS NOT NULL")}


def _saved_cursors(db: Path) -> set[str]:
    with _ro(db) as conn:
        row = conn.execute("SELECT value FROM sync_state WHERE key = 'resume'").fetchone()
    if not row or not row[0]:
        return set()
    cursors = json.loads(row[0]).get("cursors", {})
    return {c["next"] for c in cursors.values() if c.get("next") and not c.get("done")}


def _listing_requests(sim, mark: int) -> int:
    return sum(1 for _, path, _, _ in list(sim.request_log)[mark:] if path == "/api/v2/users.json")


def _kill_by_progress(proc, sim, db: Path, before: set[str], extra_pages: int, deadline_s: float = 120.0) -> None:
    """SIGKILL ``proc`` ``extra_pages`` listing pages after it stored a cursor other than ``before``.

    Also kills when the run has ended on its own (nothing to wait for) or after ``deadline_s``."""
    deadline = time.monotonic() + deadline_s
    stored_at: int | None = None
    while proc.poll() is None and time.monotonic() < deadline:
        if stored_at is None:
            cursors = _saved_cursors(db) if db.exists() else set()
            if cursors and cursors != before:
                stored_at = len(sim.request_log)
        if stored_at is not None and _listing_requests(sim, stored_at) >= extra_pages:
            break
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)


def _first_listing_after(sim, mark: int) -> str | None:
    """The ``page[after]`` of the first listing request after ``mark``: "" for the listing's
    first page, None when the run asked for no listing page at all."""
    for method, path, query, status in list(sim.request_log)[mark:]:
        if path == "/api/v2/users.json":
            return (parse_qs(query).get("page[after]") or [""])[0]
    return None


@pytest.mark.slow
def test_sigkill_at_random_moments_never_corrupts_and_resumes(tmp_path, file_keyring):  # noqa: F811
    from evalsync_gui.core.sync.lock import is_locked

    cfg = sim_mod.SimConfig(agents=USERS, admins=5, end_users=50, chat_agents=5, suspended=0, deleted=0,
                            rate_limit_per_minute=None, latency=0.002)
    with sim_mod.Simulator(cfg) as sim:
        clean, crashy = tmp_path / "clean", tmp_path / "crashy"
        _setup(clean, sim)
        _setup(crashy, sim)
        r = _cli(clean, "sync", "--json")
        assert r.returncode == 0, r.stderr
        expected = _directory(clean / "evalsync.db")
        assert len(expected) >= USERS

        rng = random.Random(20261123)
        db = crashy / "evalsync.db"
        resumed_from_cursor = 0
        for i in range(KILLS):
            cursors_before = _saved_cursors(db) if db.exists() else set()
            mark = len(sim.request_log)
            # Mostly full listings (the long, resumable kind); every 4th run in the default mode,
            # which is the incremental export once a full listing has completed.
            mode = [] if i % 4 == 3 else ["--full"]
            proc = _cli(crashy, "sync", "--json", *mode, popen=True)
            if i % 5 == 4:
                time.sleep(rng.uniform(0.05, 0.5))  # early: before or around the first commit
                proc.send_signal(signal.SIGKILL)
            else:
                _kill_by_progress(proc, sim, db, cursors_before, extra_pages=rng.randint(0, 25))
            proc.wait(timeout=10)
            # The dead process's last request may still be read and logged by the simulator; wait
            # so it cannot be taken for the next run's first page.
            sim.wait_idle()
            # -- after each kill
            if db.exists():
                integrity_ok(db)
                no_duplicate_zendesk_users(db)
            assert not is_locked(crashy), f"kill {i}: the lock outlived the killed process"
            first = _first_listing_after(sim, mark)
            if os.environ.get("EVALSYNC_CRASH_DEBUG"):
                print(i, len(cursors_before), first, len(sim.request_log) - mark)
            if cursors_before and first is not None:
                assert any(parse_qs(c.split("?", 1)[1]).get("page[after]", [None])[0] == first
                           for c in cursors_before), f"kill {i}: the first page asked for (after={first}) is not the stored cursor"
                resumed_from_cursor += 1

        r = _cli(crashy, "sync", "--json")
        assert r.returncode == 0, r.stderr
        result = json.loads(r.stdout)
        assert result["status"] == "completed"
        integrity_ok(db)
        no_duplicate_zendesk_users(db)
        with _ro(db) as conn:
            statuses = [s for (s,) in conn.execute("SELECT status FROM sync_runs ORDER BY id")]
        assert "running" not in statuses
        assert statuses[-1] == "completed"
        assert set(statuses[:-1]) <= {"interrupted", "completed"}
        assert _directory(db) == expected
        assert resumed_from_cursor >= KILLS // 4, f"only {resumed_from_cursor} runs resumed from a stored cursor"
