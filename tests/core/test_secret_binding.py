"""Secrets are bound to the origin they were saved for and to the data folder that saved them.

Issue 13, finding 1: a data folder whose ``zendesk.connection`` setting named another address
made ``status --check`` send the real token there, and two folders shared (and deleted) one
keyring entry. These tests use the simulator over loopback, a real recording HTTP server as
the "other address", the CLI as a subprocess and the keyring library with the test backend.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import keyring
import pytest

from evalsync_gui.core.auth import session
from evalsync_gui.core.auth.secrets import API_TOKEN, OAUTH, SERVICE, SecretScope, SecretStore, ensure_secure_backend
from evalsync_gui.core.context import AppContext
from evalsync_gui.core.errors import AuthError, SecretStoreError
from evalsync_gui.core.zendesk.http import ApiTokenAuth, ZendeskHttp
from tests.core.auth_fake import FakeZendesk
from tests.keyring_backends import file_keyring  # noqa: F401 - fixture

pytestmark = pytest.mark.usefixtures("file_keyring")
REPO = Path(__file__).resolve().parents[2]


class _Recorder(BaseHTTPRequestHandler):
    """Answers like Zendesk's users/me and records every Authorization header it is sent."""

    seen: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        type(self).seen.append(self.headers.get("Authorization") or "")
        body = json.dumps({"user": {"id": 1, "name": "Mallory", "role": "admin"}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_DELETE = do_POST = do_GET

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def elsewhere():
    """A real HTTP server on loopback standing for "another address"; yields (url, headers seen)."""
    handler = type("Rec", (_Recorder,), {"seen": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", handler.seen
    server.shutdown()
    server.server_close()


def _cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "evalsync_gui.cli", "--data-dir", str(data_dir), *args],
                          capture_output=True, text=True, env=env, timeout=60, cwd=REPO)


def _folder(tmp_path: Path, name: str) -> AppContext:
    return AppContext.create(tmp_path / name)


def _point_at(ctx: AppContext, url: str) -> None:
    """What an attacker's data folder (or an edited setting) holds: the connection names ``url``."""
    info = session.connection_info(ctx)
    data = info.to_dict() if info else {"subdomain": "abc-energy", "method": "api_token",
                                          "email": "admin@abc-energy.com"}
    data["base_url"] = url
    ctx.settings.set(session.CONNECTION_KEY, data)


def test_a_folder_pointing_elsewhere_never_sends_the_token_there(tmp_path, sim, elsewhere):
    url, seen = elsewhere
    good = _folder(tmp_path, "good")
    session.connect_api_token(good, "abc-energy", sim.admin_email, sim.api_token, base_url=sim.base_url)
    hostile = tmp_path / "hostile"
    hostile_ctx = _folder(tmp_path, "hostile")
    _point_at(hostile_ctx, url)
    hostile_ctx.db.close()
    r = _cli(hostile, "status", "--check")
    assert r.returncode == 4, r.stderr
    assert "sign in again" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert seen == []  # nothing at all was sent to the other address
    assert session.check_connection(good).user_id is not None  # the real folder still works
    good.db.close()


def test_a_changed_base_url_means_signing_in_again(ctx, sim, elsewhere):
    url, seen = elsewhere
    session.connect_api_token(ctx, "abc-energy", sim.admin_email, sim.api_token, base_url=sim.base_url)
    _point_at(ctx, url)
    with pytest.raises(AuthError, match="sign in again") as err:
        session.check_connection(ctx)
    assert url.split("//")[1] in str(err.value) and sim.api_token not in str(err.value)
    with pytest.raises(AuthError, match="sign in again"):
        session.open_client(ctx)
    assert seen == []


def test_two_folders_never_share_or_delete_each_others_secrets(tmp_path, sim):
    one, two = _folder(tmp_path, "one"), _folder(tmp_path, "two")
    session.connect_api_token(one, "abc-energy", sim.admin_email, sim.api_token, base_url=sim.base_url)
    with pytest.raises(AuthError, match="sign in again"):  # the same account, but not signed in here
        session.check_connection(_copy_connection(one, two))
    session.connect_api_token(two, "abc-energy", sim.admin_email, sim.api_token, base_url=sim.base_url)
    session.disconnect(one)
    assert session.check_connection(two).is_admin  # two's secret survived one's sign-out
    assert SecretStore().get(session.secret_scope(one, sim.base_url), API_TOKEN) is None
    one.db.close()
    two.db.close()


def _copy_connection(src: AppContext, dst: AppContext) -> AppContext:
    dst.settings.set(session.CONNECTION_KEY, session.connection_info(src).to_dict())
    return dst


def test_oauth_pair_is_bound_to_its_origin(ctx):
    fake = FakeZendesk()
    ctx.extras["clock"] = lambda: fake.now
    scope = session.secret_scope(ctx, "https://abc.zendesk.com")
    SecretStore().set_json(scope, OAUTH, {"access_token": fake.issue()["access_token"]})
    ctx.settings.set(session.CONNECTION_KEY, {"subdomain": "abc", "method": "oauth", "client_id": "c",
                                              "base_url": "https://abc.zendesk.com.evil.test"})
    with pytest.raises(AuthError, match="sign in again"):
        session.check_connection(ctx, transport=fake.transport)
    assert fake.requests == []


def test_http_client_refuses_a_credential_bound_to_another_origin():
    auth = ApiTokenAuth("a@b.test", "tok-abcdef", origin="https://abc.zendesk.com")
    with pytest.raises(AuthError, match="sign in again") as err:
        ZendeskHttp("https://abc.zendesk.com:8443", auth)
    assert "tok-abcdef" not in str(err.value)


def test_an_entry_whose_stored_origin_differs_is_never_handed_out():
    scope = SecretScope.for_url("https://abc.zendesk.com", "f1")
    # The right user name, but the envelope says the secret belongs to another origin.
    keyring.set_password(SERVICE, f"{scope.origin}|{API_TOKEN}|f1",
                         json.dumps({"origin": "https://evil.test", "kind": API_TOKEN, "secret": "tok-x"}))
    assert SecretStore().get(scope, API_TOKEN) is None


def test_legacy_entry_is_adopted_only_for_the_origin_its_name_implies(ctx):
    fake = FakeZendesk()
    keyring.set_password(SERVICE, "abc:api_token", "tok-123")  # the layout before origin binding
    ctx.settings.set(session.CONNECTION_KEY, {"subdomain": "abc", "method": "api_token", "email": "admin@abc.test",
                                              "base_url": "https://abc.zendesk.com"})
    assert session.check_connection(ctx, transport=fake.transport).is_admin
    assert keyring.get_password(SERVICE, "abc:api_token") is None  # moved, not copied
    assert SecretStore().get(session.secret_scope(ctx, "https://abc.zendesk.com"), API_TOKEN) == "tok-123"


def test_legacy_entry_is_not_used_for_another_origin(ctx, elsewhere):
    url, seen = elsewhere
    keyring.set_password(SERVICE, "abc-energy:api_token", "tok-legacy-1")
    _point_at(ctx, url)
    with pytest.raises(AuthError, match="sign in again"):
        session.check_connection(ctx)
    assert seen == [] and keyring.get_password(SERVICE, "abc-energy:api_token") == "tok-legacy-1"


def test_the_old_call_shape_fails_loudly():
    with pytest.raises(TypeError, match="SecretScope"):
        SecretStore().get("abc-energy", API_TOKEN)  # type: ignore[arg-type]


# -- the allow-list of secure backends ------------------------------------------------------------
def test_plaintext_test_backend_is_refused_without_the_test_switch(monkeypatch):
    ensure_secure_backend()  # allowed while the test switch is on (tests/conftest.py)
    monkeypatch.delenv("EVALSYNC_ALLOW_TEST_KEYRING")
    with pytest.raises(SecretStoreError, match="No secure keyring"):
        ensure_secure_backend()


def test_an_unknown_backend_is_not_trusted():
    from keyring.backend import KeyringBackend

    class Unknown(KeyringBackend):
        priority = 1  # type: ignore[assignment]

        def get_password(self, service, username):
            return None

        def set_password(self, service, username, password):
            raise AssertionError("must not be written to")

        def delete_password(self, service, username):
            pass

    previous = keyring.get_keyring()
    keyring.set_keyring(Unknown())
    try:
        with pytest.raises(SecretStoreError, match="No secure keyring"):
            SecretStore().set(SecretScope.for_url("https://abc.zendesk.com", "f"), API_TOKEN, "tok-abcdef")
    finally:
        keyring.set_keyring(previous)


# -- the Chat API connection's secrets (client secret, token pair) ------------------------------
def test_chat_secrets_go_only_to_the_origins_they_were_saved_for(ctx, sim, elsewhere):
    from evalsync_gui.core.chat import connection
    from tests.chat_helpers import connect_both

    url, seen = elsewhere
    connect_both(ctx, sim)
    saved = connection.chat_connection(ctx)
    # The Chat OAuth server named in the setting changes: neither the refresh token nor the
    # client secret is sent there; the user is told to connect Chat again.
    ctx.settings.set(connection.CONNECTION_KEY, {**saved.to_dict(), "oauth_base": url})
    sim.chat_oauth.revoke_all()
    with pytest.raises(AuthError, match="connect Chat again"):
        with connection.chat_http(ctx) as http:
            http.get("/api/v2/chat/agents", params={"limit": 1})
    # The API address changes: no Chat token is found for it, nothing is sent.
    ctx.settings.set(connection.CONNECTION_KEY, {**saved.to_dict(), "api_base": url})
    with pytest.raises(AuthError, match="No Chat API connection"):
        connection.chat_http(ctx)
    assert seen == []
