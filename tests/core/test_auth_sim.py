"""The whole OAuth and API-token story against the Zendesk simulator over real loopback HTTP.

A test plays the browser by following the authorize redirect to the one-shot listener.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from evalsync_gui.core.auth import session
from evalsync_gui.core.auth.secrets import API_TOKEN, OAUTH, SecretStore
from evalsync_gui.core.errors import AuthError, UsageError, ZendeskError
from tests.keyring_backends import file_keyring  # noqa: F401 - fixture

pytestmark = pytest.mark.usefixtures("file_keyring")
REPO = Path(__file__).resolve().parents[2]


def play_browser(url: str) -> None:
    """Open the authorize page; the simulator auto-approves and redirects to our listener."""
    def go():
        httpx.get(url, follow_redirects=True, timeout=10)
    threading.Thread(target=go, daemon=True).start()


@pytest.fixture
def sctx(ctx, sim):
    ctx.base_url = sim.base_url
    ctx.extras["clock"] = sim.clock.now
    return ctx


def connect_oauth(ctx, sim, **kw):
    return session.start_oauth(ctx, "abc-energy", sim.oauth_client_id, port=0, open_browser=play_browser,
                               timeout=20, **kw)


def token_posts(sim) -> int:
    return sum(1 for m, p, _q, _s in sim.request_log if m == "POST" and p.startswith("/oauth/tokens"))


def test_full_oauth_flow(sctx, sim):
    info = connect_oauth(sctx, sim)
    owner = sim.approver()
    assert info.summary() == f"Connected to {info.host} as {owner['name']} (admin)"
    assert info.is_admin and info.method == "oauth" and info.scopes == ["read"]
    assert info.token_expires_at is not None
    paths = [(m, p.split("?")[0], s) for m, p, _q, s in sim.request_log]
    assert ("GET", "/oauth/authorizations/new", 302) in paths
    assert ("POST", "/oauth/tokens", 200) in paths
    assert paths[-1][:2] == ("GET", "/api/v2/users/me")
    stored = SecretStore().get_json(session.secret_scope(sctx, sim.base_url), OAUTH)
    assert set(stored) >= {"access_token", "refresh_token", "expires_at"}
    with session.open_client(sctx) as http:
        assert http.get("/api/v2/users/me")["user"]["id"] == owner["id"]


def test_write_scope_only_with_chat_management(sctx, sim):
    sctx.settings.set("chat.management_enabled", True)
    info = connect_oauth(sctx, sim)
    assert sorted(info.scopes) == ["read", "write"]
    with session.open_client(sctx) as http:
        assert http.get("/api/v2/oauth/tokens/current")["token"]["scopes"] == ["read", "write"]


def test_read_scope_cannot_write(sctx, sim):
    connect_oauth(sctx, sim)
    from evalsync_gui.core.errors import PermissionDenied
    uid = sim.ids("agent")[0]
    with session.open_client(sctx) as http, pytest.raises(PermissionDenied, match="scope"):
        http.request("PUT", f"/api/v2/users/{uid}", json={"user": {"name": "x"}})


def test_expiry_refreshes_on_401_with_rotation(sctx, sim):
    connect_oauth(sctx, sim)
    before = SecretStore().get_json(session.secret_scope(sctx, sim.base_url), OAUTH)
    sctx.extras["clock"] = time.time  # our clock does not know; Zendesk says invalid_token
    sim.advance(1801)
    info = session.check_connection(sctx)
    after = SecretStore().get_json(session.secret_scope(sctx, sim.base_url), OAUTH)
    assert after["refresh_token"] != before["refresh_token"]
    assert token_posts(sim) == 2
    statuses = [s for m, p, _q, s in sim.request_log if p.startswith("/api/v2/users/me")]
    assert statuses[-2:] == [401, 200]
    assert info.user_name
    # The old pair is dead: refreshing with it fails.
    r = httpx.post(sim.base_url + "/oauth/tokens", json={"grant_type": "refresh_token", "client_id": sim.oauth_client_id,
                                                        "refresh_token": before["refresh_token"]})
    assert r.status_code >= 400


def test_proactive_refresh_before_expiry(sctx, sim):
    connect_oauth(sctx, sim)
    sim.advance(1800 - 30)
    sim.clear_log()
    session.check_connection(sctx)
    assert [s for _m, p, _q, s in sim.request_log if p.startswith("/api/v2/users/me")] == [200]
    assert token_posts(sim) == 1


def test_revoked_tokens_end_in_one_line(sctx, sim):
    connect_oauth(sctx, sim)
    sim.revoke_all_tokens()
    with pytest.raises(AuthError, match="authenticate again") as err:
        session.check_connection(sctx)
    assert "\n" not in str(err.value)


def test_sign_out_revokes_and_wipes(sctx, sim):
    connect_oauth(sctx, sim)
    access = SecretStore().get_json(session.secret_scope(sctx, sim.base_url), OAUTH)["access_token"]
    assert session.disconnect(sctx) is None
    assert ("DELETE", "/api/v2/oauth/tokens/current", 204) in [(m, p, s) for m, p, _q, s in sim.request_log]
    r = httpx.get(sim.base_url + "/api/v2/users/me", headers={"Authorization": f"Bearer {access}"})
    assert r.status_code == 401
    assert SecretStore().get_json(session.secret_scope(sctx, sim.base_url), OAUTH) is None and session.connection_info(sctx) is None


def test_api_token_method(sctx, sim):
    info = session.connect_api_token(sctx, "abc-energy", sim.admin_email, sim.api_token)
    assert info.method == "api_token" and info.is_admin and info.email == sim.admin_email
    assert SecretStore().get(session.secret_scope(sctx, sim.base_url), API_TOKEN) == sim.api_token
    with pytest.raises(AuthError, match="e-mail and API token"):
        session.connect_api_token(sctx, "abc-energy", sim.admin_email, "wrong-token")
    assert session.connection_info(sctx).method == "api_token"  # a failed attempt keeps the old connection


def test_non_admin_approver_is_warned(sctx, sim):
    sim.set_approver(sim.ids("agent")[0])
    info = connect_oauth(sctx, sim)
    assert info.role == "agent" and "not an admin" in info.admin_warning()


def test_unknown_client_id_times_out_cleanly(sctx, sim):
    with pytest.raises(AuthError, match="No answer"):
        session.start_oauth(sctx, "abc-energy", "nope", port=0, open_browser=play_browser, timeout=1)
    assert session.connection_info(sctx) is None


def test_dns_failure_and_wrong_name(ctx):
    with pytest.raises(ZendeskError, match="Could not reach") as err:
        session.connect_api_token(ctx, "abc-energy", "a@b.test", "t", base_url="https://no-such-host.invalid")
    assert "\n" not in str(err.value)
    with pytest.raises(UsageError):
        session.connect_api_token(ctx, "abc.example.com", "a@b.test", "t")


# ----- two processes refreshing at once ---------------------------------------------------
_RACER = r"""
import sys, time, json
from pathlib import Path
from evalsync_gui.core.context import AppContext
from evalsync_gui.core.auth import session
ctx = AppContext.create(sys.argv[1])
offset = float(sys.argv[2])
ctx.extras["clock"] = lambda: time.time() + offset
go = Path(sys.argv[3])
while not go.exists():
    time.sleep(0.005)
with session.open_client(ctx) as http:
    print(json.dumps(http.get("/api/v2/users/me")["user"]["id"]))
"""


def test_two_processes_refresh_once(sctx, sim, tmp_path):
    connect_oauth(sctx, sim)
    sim.advance(1790)  # inside the refresh margin for both processes
    sim.clear_log()
    go = tmp_path / "go"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    procs = [subprocess.Popen([sys.executable, "-c", _RACER, str(sctx.data_dir), "1790", str(go)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO)
             for _ in range(3)]
    time.sleep(0.5)
    go.touch()
    outs = [p.communicate(timeout=30) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], outs
    assert token_posts(sim) == 1  # one refresh; the others adopted the rotated pair
    assert all(o[0].strip() == str(sim.approver()["id"]) for o in outs)


# ----- secrets never leave the keyring -----------------------------------------------------
def test_tokens_never_reach_data_folder_or_logs(sctx, sim, tmp_path):
    log_file = tmp_path / "logs" / "evalsync.log"
    log_file.parent.mkdir()
    handler = logging.FileHandler(log_file)
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    seen: set[str] = set()
    try:
        connect_oauth(sctx, sim)
        seen |= {v for v in SecretStore().get_json(session.secret_scope(sctx, sim.base_url), OAUTH).values() if isinstance(v, str) and len(v) > 12}
        sim.advance(1801)
        session.check_connection(sctx)  # forces a rotation
        seen |= {v for v in SecretStore().get_json(session.secret_scope(sctx, sim.base_url), OAUTH).values() if isinstance(v, str) and len(v) > 12}
        with session.open_client(sctx) as http:  # a sync-like paged read
            http.get("/api/v2/users", params={"page[size]": 100})
        session.disconnect(sctx)
        session.connect_api_token(sctx, "abc-energy", sim.admin_email, sim.api_token)
        seen.add(sim.api_token)
        session.disconnect(sctx)
    finally:
        root.removeHandler(handler)
        handler.close()
        root.setLevel(old_level)
    sctx.db.close()
    assert len(seen) >= 5
    files = [p for p in sctx.data_dir.rglob("*") if p.is_file()] + [log_file]
    assert any(p.name.startswith("evalsync.db") for p in files)
    for path in files:
        blob = path.read_bytes()
        for secret in seen:
            assert secret.encode() not in blob, f"a token leaked into {path.name}"
    assert json.loads((tmp_path / "keyring.json").read_text()).get("EvalSync", {}) == {}
