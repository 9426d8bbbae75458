"""`evalsync connect / status / disconnect` as subprocesses: exit codes, stdin token, no token output.

Subprocesses pick the test keyring from PYTHON_KEYRING_BACKEND, as a user's shell would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest

from tests.keyring_backends import file_keyring  # noqa: F401 - fixture

pytestmark = pytest.mark.usefixtures("file_keyring")
REPO = Path(__file__).resolve().parents[2]


def run(data_dir, *args, stdin: str | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "evalsync_gui.cli", "--data-dir", str(data_dir), *args],
                          input=stdin, capture_output=True, text=True, env=env, timeout=timeout, cwd=REPO)


def test_api_token_connect_status_disconnect(data_dir, sim):
    r = run(data_dir, "connect", "--subdomain", "abc-energy", "--base-url", sim.base_url,
            "--email", sim.admin_email, "--api-token-stdin", stdin=sim.api_token + "\n")
    assert r.returncode == 0, r.stderr
    assert "Connected to" in r.stdout and "2027" in r.stderr  # the retirement notice
    assert sim.api_token not in r.stdout + r.stderr
    s = run(data_dir, "status", "--json")
    assert s.returncode == 0
    status = json.loads(s.stdout)
    assert status["connected"] and status["method"] == "api_token" and status["role"] == "admin"
    assert status["account"] == "abc-energy" and sim.api_token not in s.stdout
    c = run(data_dir, "status", "--check")
    assert c.returncode == 0 and "Connected to" in c.stdout
    d = run(data_dir, "disconnect")
    assert d.returncode == 0 and "Signed out" in d.stdout
    n = run(data_dir, "status", "--json")
    assert n.returncode == 4 and json.loads(n.stdout) == {"connected": False}
    assert n.stderr.strip().count("\n") == 0


@pytest.mark.parametrize("args, stdin, code, needle", [
    (["connect", "--subdomain", "bad_name", "--email", "a@b.c", "--api-token-stdin"], "t\n", 2, "'_'"),
    (["connect", "--subdomain", "abc"], None, 2, "Choose one method"),
    (["connect", "--subdomain", "abc", "--oauth"], None, 2, "--client-id"),
    (["connect", "--subdomain", "abc", "--email", "a@b.c", "--api-token-stdin"], "", 2, "No API token"),
    (["connect", "--subdomain", "abc", "--api-token", "x"], None, 2, "unrecognized"),
    (["connect", "--subdomain", "abc", "--base-url", "https://no-such-host.invalid", "--email", "a@b.c",
      "--api-token-stdin"], "t\n", 5, "Could not reach"),
])
def test_failures_exit_codes(data_dir, args, stdin, code, needle):
    r = run(data_dir, *args, stdin=stdin)
    assert r.returncode == code, r.stderr
    assert needle in r.stderr


def test_wrong_token_is_exit_4(data_dir, sim):
    r = run(data_dir, "connect", "--subdomain", "abc-energy", "--base-url", sim.base_url,
            "--email", sim.admin_email, "--api-token-stdin", stdin="nope\n")
    assert r.returncode == 4 and "API token" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_oauth_no_browser_prints_address(data_dir, sim, reserved_port):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "evalsync_gui.cli", "--data-dir", str(data_dir), "connect", "--subdomain", "abc-energy",
         "--base-url", sim.base_url, "--oauth", "--client-id", sim.oauth_client_id, "--no-browser",
         "--redirect-port", str(reserved_port), "--timeout", "20", "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO)
    url = proc.stdout.readline().strip()
    assert url.startswith(sim.base_url + "/oauth/authorizations/new?")
    threading.Thread(target=lambda: httpx.get(url, follow_redirects=True, timeout=10), daemon=True).start()
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    info = json.loads(out)
    assert info["method"] == "oauth" and info["token_expires_at"] and "access_token" not in out
    assert "/callback" in err  # the redirect URI to register was shown
    r = run(data_dir, "disconnect")
    assert r.returncode == 0 and r.stderr == ""

