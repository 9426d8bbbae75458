"""A server without D-Bus: the CLI keeps its secrets in the encrypted-file keyring.

Every command runs as a subprocess with no DBUS_SESSION_BUS_ADDRESS and no test keyring,
``EVALSYNC_KEYRING=encrypted-file`` and a 0600 passphrase file, against the simulator over
loopback. It connects with an API token and with OAuth, syncs, rotates the OAuth refresh
token, and no secret can be found in the data folder (plain or base64) without the passphrase.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]


def server_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a headless server: no session bus, no test keyring, no desktop."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("DBUS_SESSION_BUS_ADDRESS", "PYTHON_KEYRING_BACKEND", "EVALSYNC_TEST_KEYRING_FILE",
                        "DISPLAY", "WAYLAND_DISPLAY")}
    env.update(PYTHONPATH=str(REPO), HOME=str(tmp_path / "home"), XDG_RUNTIME_DIR=str(tmp_path / "run"))
    env.update(extra)
    return env


def passphrase_file(tmp_path: Path, mode: int = 0o600, text: str = "correct horse battery staple 42\n") -> Path:
    path = tmp_path / "secrets" / "evalsync-keyring-passphrase"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text)
    path.chmod(mode)
    return path


def cli(env, data_dir, *args, stdin: str | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "evalsync_gui.cli", "--data-dir", str(data_dir), *args],
                          input=stdin, capture_output=True, text=True, env=env, timeout=timeout, cwd=REPO)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def connect_oauth(env, sim, data_dir) -> None:
    """`connect --oauth --no-browser` as a subprocess; the test plays the browser (auto-approve)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "evalsync_gui.cli", "--data-dir", str(data_dir), "connect", "--subdomain",
         "abc-energy", "--base-url", sim.base_url, "--oauth", "--client-id", sim.oauth_client_id, "--no-browser",
         "--redirect-port", str(free_port()), "--timeout", "60"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO)
    url = proc.stdout.readline().strip()
    assert url.startswith(sim.base_url), proc.stderr.read() if not url else url
    threading.Thread(target=lambda: httpx.get(url, follow_redirects=True, timeout=30), daemon=True).start()
    _out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err


def assert_not_on_disk(folder: Path, *secrets: str) -> None:
    """No file under ``folder`` holds a secret, plainly or base64-encoded (alone or as basic auth)."""
    needles = []
    for secret in secrets:
        needles += [secret.encode(), base64.b64encode(secret.encode()), base64.urlsafe_b64encode(secret.encode())]
        needles += [base64.b64encode(f"{prefix}{secret}".encode()) for prefix in ("/token:",)]
    blobs = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    assert blobs, "nothing was written"
    for path, blob in blobs.items():
        for needle in needles:
            assert needle not in blob, f"a secret is readable in {path.name}"


@pytest.fixture
def server(tmp_path):
    (tmp_path / "home").mkdir()
    (tmp_path / "run").mkdir(mode=0o700)
    return server_env(tmp_path, EVALSYNC_KEYRING="encrypted-file",
                      EVALSYNC_KEYRING_PASSPHRASE_FILE=str(passphrase_file(tmp_path)))


def test_api_token_connect_and_sync_without_dbus(server, sim, data_dir):
    r = cli(server, data_dir, "connect", "--subdomain", "abc-energy", "--base-url", sim.base_url,
            "--email", sim.admin_email, "--api-token-stdin", stdin=sim.api_token + "\n")
    assert r.returncode == 0, r.stderr
    assert cli(server, data_dir, "configure", "--roles", "agent,admin").returncode == 0
    r = cli(server, data_dir, "sync", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["new"] > 0
    status = json.loads(cli(server, data_dir, "status", "--json").stdout)
    assert status["connected"] and status["keyring"] == "EvalSync encrypted file (keyring.cryptfile)"
    assert (data_dir / "keyring.cryptfile").exists()
    assert_not_on_disk(data_dir, sim.api_token, f"{sim.admin_email}/token:{sim.api_token}")


def test_oauth_rotation_in_the_encrypted_file(server, sim_factory, data_dir):
    sim = sim_factory(access_token_ttl=600)
    connect_oauth(server, sim, data_dir)
    assert cli(server, data_dir, "configure", "--roles", "agent,admin").returncode == 0
    first = cli(server, data_dir, "sync", "--json")
    assert first.returncode == 0, first.stderr
    issued = {t.refresh for t in sim.oauth.live_tokens()}

    sim.advance(700)  # the access token has expired: the next run must refresh (and rotate)
    second = cli(server, data_dir, "sync", "--json")
    assert second.returncode == 0, second.stderr
    live = sim.oauth.live_tokens()
    assert len(live) == 1 and live[0].refresh not in issued  # rotated: the old pair is gone
    third = cli(server, data_dir, "sync", "--json")  # the rotated pair was saved and is read back
    assert third.returncode == 0, third.stderr
    tok = sim.oauth.live_tokens()[0]
    assert b"[EvalSync]" in (data_dir / "keyring.cryptfile").read_bytes()
    assert_not_on_disk(data_dir, tok.access, tok.refresh, *issued)


def test_concurrent_refresh_rotates_once_in_the_encrypted_file(server, sim_factory, data_dir):
    """Three processes find the access token expired at once: the cross-process lock lets one
    refresh; the others read the rotated pair back from the encrypted file."""
    sim = sim_factory(access_token_ttl=600)
    connect_oauth(server, sim, data_dir)
    sim.advance(700)
    posts = sum(1 for m, p, _q, _s in sim.request_log if m == "POST" and p.startswith("/oauth/tokens"))
    runs = [subprocess.Popen([sys.executable, "-m", "evalsync_gui.cli", "--data-dir", str(data_dir), "status",
                              "--json", "--check"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=server, cwd=REPO) for _ in range(3)]
    for run in runs:
        out, err = run.communicate(timeout=180)
        assert run.returncode == 0, err
    assert sum(1 for m, p, _q, _s in sim.request_log if m == "POST" and p.startswith("/oauth/tokens")) == posts + 1
    assert len(sim.oauth.live_tokens()) == 1


@pytest.mark.parametrize(("mode", "needle"), [(0o644, "chmod 600"), (0o640, "can be read by others")])
def test_passphrase_file_readable_by_others_is_refused(tmp_path, sim, data_dir, mode, needle):
    env = server_env(tmp_path, EVALSYNC_KEYRING="encrypted-file",
                     EVALSYNC_KEYRING_PASSPHRASE_FILE=str(passphrase_file(tmp_path, mode)))
    r = cli(env, data_dir, "connect", "--subdomain", "abc-energy", "--base-url", sim.base_url,
            "--email", sim.admin_email, "--api-token-stdin", stdin=sim.api_token + "\n")
    assert r.returncode == 4 and needle in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert not (data_dir / "keyring.cryptfile").exists()


def test_systemd_credential_and_wrong_passphrase(tmp_path, sim, data_dir):
    creds = passphrase_file(tmp_path, 0o400).parent  # systemd's LoadCredential= files are 0400
    env = server_env(tmp_path, EVALSYNC_KEYRING="encrypted-file", CREDENTIALS_DIRECTORY=str(creds))
    connect = ("connect", "--subdomain", "abc-energy", "--base-url", sim.base_url, "--email", sim.admin_email,
               "--api-token-stdin")
    assert cli(env, data_dir, *connect, stdin=sim.api_token + "\n").returncode == 0
    other = tmp_path / "other-passphrase"
    other.write_text("not the passphrase\n")
    other.chmod(0o600)
    r = cli({**env, "EVALSYNC_KEYRING_PASSPHRASE_FILE": str(other)}, data_dir, "status", "--json", "--check")
    assert r.returncode == 4 and "does not unlock" in r.stderr


def test_no_keyring_names_both_options(tmp_path, sim, data_dir):
    env = server_env(tmp_path, PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")
    r = cli(env, data_dir, "connect", "--subdomain", "abc-energy", "--base-url", sim.base_url,
            "--email", sim.admin_email, "--api-token-stdin", stdin=sim.api_token + "\n")
    assert r.returncode == 4, r.stderr
    assert "desktop's keyring" in r.stderr and "EVALSYNC_KEYRING=encrypted-file" in r.stderr
    assert "EVALSYNC_KEYRING_PASSPHRASE_FILE" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    env = server_env(tmp_path, EVALSYNC_KEYRING="encrypted-file")  # selected, but no passphrase file
    r = cli(env, data_dir, "connect", "--subdomain", "abc-energy", "--base-url", sim.base_url,
            "--email", sim.admin_email, "--api-token-stdin", stdin=sim.api_token + "\n")
    assert r.returncode == 4 and "needs a passphrase file" in r.stderr


def test_cryptfile_backends_never_become_the_desktop_default(tmp_path):
    """Installing keyrings.cryptfile registers backends that prompt or store plain text; without
    EVALSYNC_KEYRING they must not be chosen (or chained) in place of the OS keyring."""
    code = ("from evalsync_gui.core.auth.secrets import active_keyring; from evalsync_gui.core.context import "
            "AppContext; import sys; AppContext.create(sys.argv[1]); k = active_keyring(); "
            "print([type(b).__module__ for b in getattr(k, 'backends', None) or [k]])")
    env = server_env(tmp_path)
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "d")], capture_output=True, text=True,
                         env=env, cwd=REPO, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "keyrings.cryptfile" not in out.stdout
