"""session: connect (API token, OAuth), check, open_client, disconnect; clean state on failure."""

from __future__ import annotations

import threading
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from evalsync_gui.core.auth import session
from evalsync_gui.core.auth.secrets import API_TOKEN, OAUTH, SecretStore
from evalsync_gui.core.errors import AuthError, Cancelled, SecretStoreError, UsageError, ZendeskError
from tests.core.auth_fake import FakeZendesk
from tests.keyring_backends import file_keyring, no_keyring  # noqa: F401 - fixtures

BASE = "https://abc.zendesk.com"


@pytest.fixture
def fake(ctx):
    f = FakeZendesk()
    ctx.extras["clock"] = lambda: f.now
    return f


def browser(state_override: str | None = None, query: str | None = None):
    """Play the browser: Zendesk approves at once and redirects to the listener."""
    seen: list[str] = []

    def open_url(url: str) -> None:
        seen.append(url)
        q = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
        target = q["redirect_uri"] + "?" + (query or f"code=the-code&state={state_override or q['state']}")
        threading.Thread(target=httpx.get, args=(target,), daemon=True).start()

    open_url.seen = seen  # type: ignore[attr-defined]
    return open_url


def _oauth(ctx, fake, **kw):
    kw.setdefault("open_browser", browser())
    return session.start_oauth(ctx, "abc", "client-1", port=0, transport=fake.transport, **kw)


def test_not_connected(ctx):
    assert session.connection_info(ctx) is None
    with pytest.raises(AuthError) as err:
        session.open_client(ctx)
    assert str(err.value) == session.NOT_CONNECTED


@pytest.mark.usefixtures("file_keyring")
def test_api_token_connect_check_disconnect(ctx, fake):
    info = session.connect_api_token(ctx, "https://abc.zendesk.com/agent", "admin@abc.test", "tok-123",
                                     transport=fake.transport)
    assert info.summary() == "Connected to abc.zendesk.com as Ada Admin (admin)"
    assert info.method == "api_token" and info.is_admin and info.admin_warning() is None
    assert SecretStore().get(session.secret_scope(ctx, BASE), API_TOKEN) == "tok-123"
    assert "tok-123" not in repr(ctx.settings.all())
    with session.open_client(ctx, transport=fake.transport) as http:
        assert http.get("/api/v2/users/me")["user"]["id"] == 7
    assert session.check_connection(ctx, transport=fake.transport).user_name == "Ada Admin"
    note = session.disconnect(ctx, transport=fake.transport)
    assert "API token itself stays active" in note
    assert session.connection_info(ctx) is None and SecretStore().get(session.secret_scope(ctx, BASE), API_TOKEN) is None


@pytest.mark.usefixtures("file_keyring")
def test_wrong_api_token_stores_nothing(ctx, fake):
    with pytest.raises(AuthError, match="did not accept the e-mail and API token"):
        session.connect_api_token(ctx, "abc", "admin@abc.test", "wrong", transport=fake.transport)
    assert session.connection_info(ctx) is None and SecretStore().get(session.secret_scope(ctx, BASE), API_TOKEN) is None


@pytest.mark.usefixtures("file_keyring")
def test_bad_input_is_a_usage_error(ctx, fake):
    with pytest.raises(UsageError):
        session.connect_api_token(ctx, "abc", "not-an-email", "t", transport=fake.transport)
    with pytest.raises(UsageError):
        session.connect_api_token(ctx, "bad_name", "a@b.c", "t", transport=fake.transport)
    with pytest.raises(UsageError):
        session.start_oauth(ctx, "abc", " ", port=0, transport=fake.transport)
    assert fake.requests == []


@pytest.mark.usefixtures("no_keyring")
def test_no_secure_keyring_refuses_before_the_network(ctx, fake):
    with pytest.raises(SecretStoreError) as err:
        session.connect_api_token(ctx, "abc", "admin@abc.test", "tok-123", transport=fake.transport)
    assert "No secure keyring" in str(err.value) and "\n" not in str(err.value)
    assert fake.requests == [] and session.connection_info(ctx) is None
    assert session.disconnect(ctx) is None  # signing out still works


@pytest.mark.usefixtures("file_keyring")
def test_network_down_is_one_readable_line(ctx, fake):
    fake.down = True
    with pytest.raises(ZendeskError, match="Could not reach abc.zendesk.com"):
        session.connect_api_token(ctx, "abc", "admin@abc.test", "tok-123", transport=fake.transport)


@pytest.mark.usefixtures("file_keyring")
def test_oauth_flow_stores_pair_and_info(ctx, fake):
    open_url = browser()
    info = _oauth(ctx, fake, open_browser=open_url)
    q = parse_qs(urlsplit(open_url.seen[0]).query)
    assert q["scope"] == ["read"] and q["code_challenge_method"] == ["S256"] and q["client_id"] == ["client-1"]
    assert info.method == "oauth" and info.client_id == "client-1" and info.token_expires_at
    stored = SecretStore().get_json(session.secret_scope(ctx, BASE), OAUTH)
    assert stored["access_token"].startswith("acc-") and stored["refresh_token"].startswith("ref-")
    assert "secretvalue" not in repr(ctx.settings.all())


@pytest.mark.usefixtures("file_keyring")
def test_oauth_asks_write_only_when_chat_management_is_on(ctx, fake):
    assert session.required_scopes(ctx) == ["read"]
    ctx.settings.set("chat.management_enabled", True)
    assert session.required_scopes(ctx) == ["read", "write"]
    open_url = browser()
    _oauth(ctx, fake, open_browser=open_url)
    assert parse_qs(urlsplit(open_url.seen[0]).query)["scope"] == ["read write"]


@pytest.mark.usefixtures("file_keyring")
@pytest.mark.parametrize("kw, error, match", [
    # A forged state is ignored: the sign-in waits for the real answer until its timeout.
    ({"open_browser": browser(state_override="forged"), "timeout": 1.0}, AuthError, "1 answer .* ignored"),
    ({"open_browser": browser(query="error=access_denied&state=x"), "timeout": 1.0}, AuthError, "ignored"),
    ({"open_browser": None, "timeout": 0.3}, AuthError, "No answer"),
    ({"open_browser": None, "is_cancelled": lambda: True}, Cancelled, "cancelled"),
])
def test_oauth_failures_leave_clean_state(ctx, fake, kw, error, match):
    with pytest.raises(error, match=match):
        _oauth(ctx, fake, **kw)
    assert session.connection_info(ctx) is None and SecretStore().get(session.secret_scope(ctx, BASE), OAUTH) is None


@pytest.mark.usefixtures("file_keyring")
@pytest.mark.parametrize("status, body, error", [
    (500, {"error": "boom"}, ZendeskError),
    (401, {"error": "invalid_token"}, AuthError),
    (200, {"user": {"id": None, "name": "Anonymous user", "role": "end-user"}}, AuthError),
], ids=["server-error", "token-refused", "anonymous"])
def test_oauth_failing_after_the_token_exchange_stores_nothing(ctx, fake, status, body, error):
    """The code was exchanged for real tokens, then the check of the user failed: none of it stays."""
    fake.me_answer = (status, body)
    with pytest.raises(error):
        _oauth(ctx, fake)
    assert ("POST", "/oauth/tokens") in fake.requests  # the tokens did exist
    assert session.connection_info(ctx) is None and SecretStore().get(session.secret_scope(ctx, BASE), OAUTH) is None
    assert "secretvalue" not in repr(ctx.settings.all())


@pytest.mark.usefixtures("file_keyring")
def test_oauth_denied_in_zendesk(ctx, fake):
    def deny(url):
        q = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
        target = q["redirect_uri"] + f"?error=access_denied&state={q['state']}"
        threading.Thread(target=httpx.get, args=(target,), daemon=True).start()

    with pytest.raises(AuthError, match="Allow"):
        _oauth(ctx, fake, open_browser=deny)


@pytest.mark.usefixtures("file_keyring")
def test_non_admin_is_warned(ctx, fake):
    fake.role = "agent"
    info = _oauth(ctx, fake)
    assert not info.is_admin and "not an admin" in info.admin_warning()


@pytest.mark.usefixtures("file_keyring")
def test_oauth_sign_out_revokes_and_wipes(ctx, fake):
    _oauth(ctx, fake)
    access = SecretStore().get_json(session.secret_scope(ctx, BASE), OAUTH)["access_token"]
    assert session.disconnect(ctx, transport=fake.transport) is None
    assert access not in fake.pairs
    assert SecretStore().get_json(session.secret_scope(ctx, BASE), OAUTH) is None and session.connection_info(ctx) is None


@pytest.mark.usefixtures("file_keyring")
def test_sign_out_when_zendesk_unreachable_says_so_and_still_wipes(ctx, fake):
    _oauth(ctx, fake)
    fake.down = True
    note = session.disconnect(ctx, transport=fake.transport)
    assert "could not be revoked" in note
    assert SecretStore().get_json(session.secret_scope(ctx, BASE), OAUTH) is None and session.connection_info(ctx) is None


@pytest.mark.usefixtures("file_keyring")
def test_switching_method_removes_the_other_secret(ctx, fake):
    session.connect_api_token(ctx, "abc", "admin@abc.test", "tok-123", transport=fake.transport)
    _oauth(ctx, fake)
    assert SecretStore().get(session.secret_scope(ctx, BASE), API_TOKEN) is None
    assert session.connection_info(ctx).method == "oauth"


@pytest.mark.usefixtures("file_keyring")
def test_refresh_updates_stored_expiry(ctx, fake):
    info = _oauth(ctx, fake)
    fake.now += 1790
    with session.open_client(ctx, transport=fake.transport) as http:
        http.get("/api/v2/users/me")
    assert fake.refresh_calls == 1
    assert session.connection_info(ctx).token_expires_at > info.token_expires_at


@pytest.mark.usefixtures("file_keyring")
@pytest.mark.parametrize("status, error, match", [
    (403, AuthError, "denied"),
    (404, ZendeskError, "check the account name"),
    (500, ZendeskError, "could not be reached"),
])
def test_users_me_failures_are_one_line_and_store_nothing(ctx, status, error, match):
    transport = httpx.MockTransport(lambda r: httpx.Response(status, json={"error": "Forbidden", "description": "no"}))
    with pytest.raises(error, match=match) as err:
        session.connect_api_token(ctx, "abc", "a@b.test", "tok", transport=transport)
    assert "\n" not in str(err.value) and "tok" not in str(err.value).replace("token", "")
    assert session.connection_info(ctx) is None and SecretStore().get(session.secret_scope(ctx, BASE), API_TOKEN) is None
