"""The one redactor (issue 13, finding 8): registered secrets in every form, credential shapes, -v logs."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from evalsync_gui.core.errors import EvalsyncError, ZendeskError
from evalsync_gui.core.redact import REDACTED, forget_all_secrets, redact, register_secret
from evalsync_gui.core.zendesk.http import ApiTokenAuth, RetryPolicy, ZendeskHttp
from tests.keyring_backends import file_keyring  # noqa: F401 - fixture

REPO = Path(__file__).resolve().parents[2]
TOKEN_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~+/="
tokens = st.text(TOKEN_CHARS, min_size=12, max_size=64).filter(lambda t: len(set(t)) > 4)
prose = st.text("abcdefghij XYZ.,:;()[]{}<>'\"\n", max_size=30)


@pytest.fixture(autouse=True)
def _fresh_registry():
    forget_all_secrets()
    yield
    forget_all_secrets()


def _forms(secret: str, email: str) -> dict[str, str]:
    basic = base64.b64encode(f"{email}/token:{secret}".encode()).decode()
    return {
        "exact": secret, "upper": secret.upper(), "lower": secret.lower(), "percent": quote(secret, safe=""),
        "base64": base64.b64encode(secret.encode()).decode(),
        "base64url": base64.urlsafe_b64encode(secret.encode()).decode().rstrip("="),
        "basic header": basic,
    }


@settings(max_examples=150, deadline=None)
@given(secret=tokens, email=st.emails(), form=st.sampled_from(
    ["exact", "upper", "lower", "percent", "base64", "base64url", "basic header"]), before=prose, after=prose)
def test_a_registered_secret_is_masked_in_every_form(secret, email, form, before, after):
    register_secret(secret)
    shown = _forms(secret, email)[form]
    out = redact(f"{before} {shown} {after}")
    assert shown not in out
    assert secret not in out and secret.upper() not in out and quote(secret, safe="") not in out
    if form == "basic header":  # partial base64: the secret sits mid-stream at any alignment
        assert base64.b64encode(secret.encode()).decode()[4:-4] not in out


@pytest.mark.parametrize("shape", ["letters", "base64 with padding", "quotes", "key then spaces"])
def test_redaction_time_grows_with_the_text_not_its_square(shape):
    """A long answer body or a pasted value must not freeze the app in the redactor.

    The old secrets pattern backtracked over a whole base64 run from every start: 50,000
    letters took 20 s with one secret registered (minutes with a few). Linear code takes
    milliseconds; the 5 s tripwire is there for a quadratic one, not for a slow machine."""
    import time

    register_secret("Zx9-secret-token-value")
    text = {"letters": "a" * 50_000, "base64 with padding": ("QUJD" * 40 + "=") * 300,
            "quotes": "'token': '" * 5_000, "key then spaces": "token:" + " " * 50_000 + "x"}[shape]
    started = time.perf_counter()
    redact(text)
    assert time.perf_counter() - started < 5


def test_a_secret_in_the_middle_of_base64_masks_the_whole_run_and_nothing_else():
    secret = "Zx9-secret-token-value"
    register_secret(secret)
    run = base64.b64encode(f"agent@x.test/token:{secret}".encode()).decode()
    assert redact(f"auth {run} ok QUJDRA== end") == f"auth {REDACTED} ok QUJDRA== end"
    assert redact(f"({run})") == f"({REDACTED})"


KEYS = ["code", "access_token", "accessToken", "refresh_token", "refreshToken", "client_secret", "clientSecret",
        "password", "userPassword", "token", "api_token", "apiToken", "Authorization", "Cookie", "Set-Cookie",
        "ACCESS_TOKEN", "id_token"]
STYLES = {
    "json": lambda k, v: json.dumps({k: v, "other": 1}),
    "json compact": lambda k, v: json.dumps({k: v}, separators=(",", ":")),
    "python repr": lambda k, v: repr({k: v}),
    "colon unquoted": lambda k, v: f"{k}: {v}",
    "equals": lambda k, v: f"{k}={v}",
    "querystring": lambda k, v: f"https://x.zendesk.com/cb?state=abc&{k}={quote(v, safe='')}&x=1",
    "form": lambda k, v: f"grant_type=refresh_token&{k}={quote(v, safe='')}",
    "header tuple": lambda k, v: f"[(b'{k}', b'{v}'), (b'Server', b'nginx')]",
}


@settings(max_examples=300, deadline=None)
@given(key=st.sampled_from(KEYS), style=st.sampled_from(list(STYLES)),
       value=st.text("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~", min_size=8, max_size=40)
       .filter(lambda v: not v.isdigit()),
       before=prose)
def test_credential_shapes_are_masked_without_registration(key, style, value, before):
    assume(value not in STYLES[style](key, "") + before)  # the value must only appear as the value
    text = before + " " + STYLES[style](key, value)
    out = redact(text)
    assert value not in out and quote(value, safe="") not in out, (text, out)
    assert REDACTED in out


@pytest.mark.parametrize("text", [
    "status code: 404", "exit code=2", "keyring.backends.SecretService.Keyring",
    "evalsync.auth.secrets: moved a saved oauth sign-in", "the refresh token rotated; next expiry in 7200 s",
    "Paste the Zendesk API token (Admin Center > Apps and integrations > Zendesk API).",
])
def test_ordinary_text_is_left_alone(text):
    assert redact(text) == text


def test_error_messages_go_through_the_redactor():
    register_secret("Zx9-secret-token-value")
    err = EvalsyncError("Zendesk said: invalid credentials ZX9-SECRET-TOKEN-VALUE (password=hunter2hunter2)")
    assert "ZX9" not in str(err) and "hunter2" not in str(err)


def test_an_upper_cased_echo_of_the_token_never_reaches_the_error_text():
    token = "AbCdEf123456TokenValue"

    def echo(request: httpx.Request) -> httpx.Response:
        return httpx.Response(422, json={"error": "Invalid", "description": f"bad token {token.upper()} for "
                                          f"{quote(token, safe='')}"})

    with ZendeskHttp("https://abc.zendesk.com", ApiTokenAuth("a@b.test", token), transport=httpx.MockTransport(echo),
                     retry=RetryPolicy(max_attempts=1)) as http:
        with pytest.raises(ZendeskError) as err:
            http.get("/api/v2/users/me")
    assert token.upper() not in str(err.value) and token not in str(err.value)


# -- the CLI's -v logging ----------------------------------------------------------------------
class _Leaky(BaseHTTPRequestHandler):
    """Answers users/me, setting a session cookie and echoing the Authorization header back."""

    def do_GET(self) -> None:  # noqa: N802
        body = json.dumps({"user": {"id": 7, "name": "Ada", "role": "admin"}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Set-Cookie", "_zendesk_session=CookieSecretValue123; path=/; HttpOnly")
        self.send_header("X-Echo", self.headers.get("Authorization", ""))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.mark.usefixtures("file_keyring")
def test_cli_verbose_logging_is_redacted(tmp_path):
    from evalsync_gui.core.auth import session
    from evalsync_gui.core.context import AppContext

    server = ThreadingHTTPServer(("127.0.0.1", 0), _Leaky)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        token = "VerboseTokenValue987654"
        ctx = AppContext.create(tmp_path / "data")
        session.connect_api_token(ctx, "abc-energy", "admin@abc.test", token, base_url=url)
        ctx.db.close()
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        r = subprocess.run([sys.executable, "-m", "evalsync_gui.cli", "--data-dir", str(tmp_path / "data"), "-v",
                            "status", "--check"], capture_output=True, text=True, env=env, timeout=60, cwd=REPO)
    finally:
        server.shutdown()
        server.server_close()
    assert r.returncode == 0, r.stderr
    assert "DEBUG httpcore" in r.stderr  # the header dump really was logged
    basic = base64.b64encode(f"admin@abc.test/token:{token}".encode()).decode()
    for leak in ("CookieSecretValue123", basic, token):
        assert leak not in r.stderr + r.stdout
