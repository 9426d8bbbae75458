"""The token never leaves the keyring: a full session (connect, sync, failures, OAuth refresh,
sign-out), then every file in the data folder and the log folder, and every captured output,
is searched for the token and its base64 form. Also: keyring missing or locked."""

from __future__ import annotations

import base64
import json
import logging
import os
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest

from evalsync_gui.core.errors import AuthError, EvalsyncError, SecretStoreError

from tests.keyring_backends import BACKEND_NAME, ENV_FILE, file_keyring, no_keyring  # noqa: F401

from .helpers import assert_one_line, integrity_ok

import evalsync_gui.core.auth.session as session  # noqa: E402
import evalsync_gui.sim as sim_mod  # noqa: E402


def _forms(secret: str, email: str | None = None) -> list[str]:
    forms = [secret, base64.b64encode(secret.encode()).decode().rstrip("=")]
    if email:
        forms.append(base64.b64encode(f"{email}/token:{secret}".encode()).decode().rstrip("="))
    return forms


def _grep(paths: list[Path], needles: list[str]) -> list[str]:
    hits = []
    for root in paths:
        files = [root] if root.is_file() else [p for p in root.rglob("*") if p.is_file()]
        for f in files:
            data = f.read_bytes()
            for n in needles:
                if n.encode() in data:
                    hits.append(f"{f}: contains {n[:6]}...")
    return hits


def _cli(args: list[str], env: dict, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "evalsync_gui.cli", *args], input=stdin, env=env,
                          capture_output=True, text=True, timeout=120, cwd=Path(__file__).resolve().parents[2])


def _stored_pair(keyring_file: Path) -> dict:
    """The OAuth pair inside the (only) origin-bound ``oauth`` entry of the test keyring."""
    entries = [json.loads(v) for entry in json.loads(keyring_file.read_text()).values() for v in entry.values()]
    return json.loads(next(e["secret"] for e in entries if e.get("kind") == "oauth"))


def _browser(url: str) -> None:
    """The user's browser: open the authorize page; the simulator approves and redirects home."""
    threading.Thread(target=lambda: httpx.get(url, follow_redirects=True, timeout=10), daemon=True).start()


def test_full_session_leaves_no_token_anywhere(tmp_path, file_keyring, monkeypatch):  # noqa: F811
    from evalsync_gui.core.context import AppContext
    from evalsync_gui.core.logsetup import setup_logging, teardown_logging
    from evalsync_gui.core.sync.config import SyncConfig, save_config
    from evalsync_gui.core.sync.runner import run_sync

    data, logs = tmp_path / "data", tmp_path / "logs"
    outputs: list[str] = []
    with sim_mod.Simulator(sim_mod.SimConfig(agents=900, admins=2, end_users=10, chat_agents=5,
                                             rate_limit_per_minute=None, access_token_ttl=3600)) as sim:
        env = {**os.environ, "EVALSYNC_LOG_DIR": str(logs), "PYTHON_KEYRING_BACKEND": BACKEND_NAME,
               ENV_FILE: str(file_keyring), "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
        base = ["--data-dir", str(data), "-v"]
        # 1. API token over the CLI (stdin), sync, a failing sync, history, a bad token.
        r = _cli([*base, "connect", "--subdomain", "abc-energy", "--base-url", sim.base_url,
                  "--email", sim.admin_email, "--api-token-stdin"], env, stdin=sim.api_token + "\n")
        outputs += [r.stdout, r.stderr]
        assert r.returncode == 0, r.stderr
        r = _cli([*base, "configure", "--roles", "agent,admin"], env)
        outputs += [r.stdout, r.stderr]
        r = _cli([*base, "sync", "--json"], env)
        outputs += [r.stdout, r.stderr]
        assert r.returncode == 0, r.stderr
        sim.faults.add("/api/v2/users", "500", times=1000)
        r = _cli([*base, "sync", "--full", "--json"], env)
        outputs += [r.stdout, r.stderr]
        assert r.returncode == 5, r.stderr
        sim.faults.clear()
        r = _cli([*base, "runs", "list", "--json"], env)
        outputs += [r.stdout, r.stderr]
        assert "could not be reached" in r.stdout
        bad = sim.add_api_token(sim.admin_email)
        sim.revoke_api_token(bad)
        r = _cli([*base, "connect", "--subdomain", "abc-energy", "--base-url", sim.base_url,
                  "--email", sim.admin_email, "--api-token-stdin"], env, stdin=bad + "\n")
        outputs += [r.stdout, r.stderr]
        assert r.returncode == 4 and len(r.stderr.strip().splitlines()[-1]) < 600

        # 2. OAuth in-process with file logging at DEBUG; the access token expires mid-run.
        setup_logging(logging.DEBUG, logs)
        try:
            ctx = AppContext.create(data)
            ctx.extras["sync_is_admin"] = False
            info = session.start_oauth(ctx, "abc-energy", sim.oauth_client_id, base_url=sim.base_url, port=0,
                                       open_browser=_browser, timeout=20)
            assert info.method == "oauth"
            tokens = _stored_pair(file_keyring)
            save_config(ctx, SyncConfig(roles=["agent", "admin"]))
            sim.add_user(name="Mid Run", email="midrun@abc-energy.com", role="agent")
            advanced = []

            def progress(p):
                if p.phase == "fetch" and not advanced:
                    advanced.append(1)
                    sim.advance(7200)  # the access token expires between two pages

            result = run_sync(ctx, full=True, progress=progress)
            assert result.status == "completed", result.error  # refreshed and continued
            assert advanced
            rotated = _stored_pair(file_keyring)
            assert rotated["access_token"] != tokens["access_token"]
            sim.revoke_all_tokens()
            revoked = run_sync(ctx, full=True)
            assert revoked.status == "failed" and "authenticate again" in revoked.error
            # The token is already revoked, so Zendesk refuses the revoke: signed out anyway, with one line.
            note = session.disconnect(ctx)
            assert note and note.startswith("Signed out of EvalSync, but the token could not be revoked"), note
            assert "\n" not in note and session.connection_info(ctx) is None
            ctx.db.close()
        finally:
            teardown_logging()
        r = _cli([*base, "disconnect"], env)
        outputs += [r.stdout, r.stderr]

    secrets = (_forms(sim.api_token, sim.admin_email) + _forms(bad, sim.admin_email)
               + _forms(tokens["access_token"]) + _forms(tokens["refresh_token"])
               + _forms(rotated["access_token"]) + _forms(rotated["refresh_token"]))
    out_file = tmp_path / "outputs.txt"
    out_file.write_text("\n".join(outputs))
    hits = _grep([data, logs, out_file], secrets)
    assert not hits, hits
    assert list(logs.rglob("*.log")), "nothing was logged"
    assert not _grep([file_keyring], secrets), "sign-out left a secret in the keyring"
    integrity_ok(data / "evalsync.db")


def test_no_keyring_refuses_to_connect_and_stores_nothing(tmp_path, no_keyring):  # noqa: F811
    from evalsync_gui.core.context import AppContext

    with sim_mod.Simulator(sim_mod.SimConfig(agents=5, admins=1, end_users=1, chat_agents=1)) as sim:
        ctx = AppContext.create(tmp_path / "data")
        with pytest.raises(SecretStoreError) as info:
            session.connect_api_token(ctx, "abc-energy", sim.admin_email, sim.api_token, base_url=sim.base_url)
        text = assert_one_line(info.value, secrets=(sim.api_token,))
        assert "keyring" in text and "try again" in text
        assert session.connection_info(ctx) is None
        ctx.db.close()
        assert not _grep([tmp_path], _forms(sim.api_token, sim.admin_email))


class _LockedKeyring:
    """A keyring whose every call fails as a locked collection does."""

    priority = 1

    def get_password(self, service, username):
        import keyring.errors
        raise keyring.errors.KeyringLocked("locked")

    set_password = delete_password = get_password


def test_locked_keyring_is_one_line_with_the_remedy(tmp_path, monkeypatch):
    import keyring
    from keyring.backend import KeyringBackend

    from evalsync_gui.core.auth import secrets as secrets_mod
    from evalsync_gui.core.auth.secrets import SecretScope, SecretStore

    class Locked(_LockedKeyring, KeyringBackend):
        pass

    # A locked Secret Service: pass the allow-list as the real one would.
    monkeypatch.setattr(secrets_mod, "SECURE_BACKENDS",
                        secrets_mod.SECURE_BACKENDS | {f"{Locked.__module__}.{Locked.__qualname__}"})
    scope = SecretScope.for_url("https://abc-energy.zendesk.com", "folder-1")
    previous = keyring.get_keyring()
    keyring.set_keyring(Locked())
    try:
        for call in (lambda s: s.get(scope, "api_token"), lambda s: s.set(scope, "api_token", "tok-x1")):
            with pytest.raises(SecretStoreError) as info:
                call(SecretStore())
            assert "locked" in assert_one_line(info.value, secrets=("tok-x1",)) and "unlock" in str(info.value)
    finally:
        keyring.set_keyring(previous)
