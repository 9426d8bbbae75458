"""SIGKILL during a Chat access batch (`evalsync chat requests process`): no request lost,
none acted on twice (one POST per new agent, one PUT per disabled agent, one e-mail each)."""

from __future__ import annotations

import collections
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.keyring_backends import file_keyring  # noqa: F401

from .helpers import integrity_ok

import evalsync_gui.sim as sim_mod  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = "abc-energy.example.com"
KILLS = int(os.environ.get("EVALSYNC_CHAT_KILLS", "8"))
FINAL = {"enabled", "created", "already_enabled"}


def _cli(data: Path, *args: str, stdin: str | None = None, popen: bool = False):
    cmd = [sys.executable, "-m", "evalsync_gui.cli", "--data-dir", str(data), *args]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if popen:
        return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    return subprocess.run(cmd, env=env, input=stdin, capture_output=True, text=True, timeout=300, cwd=ROOT)


@pytest.mark.slow
def test_sigkill_during_a_chat_batch_loses_nothing_and_repeats_nothing(tmp_path, file_keyring):  # noqa: F811
    cfg = sim_mod.SimConfig(agents=20, admins=2, end_users=5, chat_agents=120, rate_limit_per_minute=None,
                            chat_per_minute=None, latency=0.01)
    with sim_mod.Simulator(cfg) as sim:
        data = tmp_path / "data"
        r = _cli(data, "connect", "--subdomain", "abc-energy", "--base-url", sim.base_url, "--email",
                 sim.admin_email, "--api-token-stdin", stdin=sim.api_token + "\n")
        assert r.returncode == 0, r.stderr
        r = _cli(data, "chat", "connect", "--client-id", sim.chat_client_id, "--client-secret-stdin", "--grant",
                 "client_credentials", "--base-url", sim.base_url, stdin=sim.chat_client_secret + "\n")
        assert r.returncode == 0, r.stderr
        assert _cli(data, "chat", "config", "--domains", DOMAIN, "--management", "on", "--kind",
                    "writable").returncode == 0
        existing = [a for a in sim.chat_agents.values() if not a["roles"].get("owner")][:100]
        disabled = existing[:50]
        for agent in disabled:
            agent["enabled"] = False  # raw hook: the simulator's live agent record
        to_enable = sum(1 for a in existing if not a["enabled"])  # the seed has a few disabled ones too
        new = [f"new{i}@{DOMAIN}" for i in range(200)]
        rows = [(f"new{i}@{DOMAIN}", f"N{i}", f"L{i}") for i in range(200)]
        rows += [(a["email"], a["first_name"] or "A", a["last_name"] or "B") for a in existing]
        csv_path = tmp_path / "requests.csv"
        csv_path.write_text("Timestamp,Email Address,Email of user requiring access,First name,Last name\n" + "".join(
            f"2026-01-01 10:{i // 60 % 60:02d}:{i % 60:02d},boss@{DOMAIN},{e},{f},{l}\n" for i, (e, f, l) in enumerate(rows)))
        r = _cli(data, "chat", "requests", "import", str(csv_path))
        assert r.returncode == 0, r.stderr

        db = data / "evalsync.db"
        rng = random.Random(5)
        for i in range(KILLS):
            proc = _cli(data, "chat", "requests", "process", "--json", popen=True)
            time.sleep(rng.uniform(0.5, 2.5))
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
            # A write the dead process had sent may still be applied by the simulator; a real restart
            # comes after Zendesk has answered it, so the next batch starts only then.
            sim.wait_idle()
            integrity_ok(db)
        r = _cli(data, "chat", "requests", "process", "--json")
        assert r.returncode == 0, r.stderr
        integrity_ok(db)

        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            statuses = collections.Counter(s for (s,) in conn.execute("SELECT status FROM chat_requests"))
            mails = collections.Counter(rid for (rid,) in conn.execute("SELECT request_id FROM email_outbox"))
        assert sum(statuses.values()) == len(rows), "a request was lost"
        assert set(statuses) <= FINAL, statuses
        assert statuses["created"] == 200 and statuses["enabled"] == to_enable
        assert statuses["already_enabled"] == len(existing) - to_enable
        assert all(n == 1 for n in mails.values()), "a confirmation was queued twice"

        posts = [s for m, p, q, s in sim.request_log if m == "POST" and p == "/api/v2/chat/agents" and s < 300]
        puts = collections.Counter(p for m, p, q, s in sim.request_log if m == "PUT" and s < 300)
        assert len(posts) == 200, f"{len(posts)} successful creates for 200 new agents"
        assert all(n == 1 for n in puts.values()) and len(puts) == to_enable, puts
        emails = collections.Counter(a["email"].lower() for a in sim.chat_agents.values())
        assert all(emails[e] == 1 for e in new), "an agent was created twice"
        assert all(a["enabled"] for a in existing)
