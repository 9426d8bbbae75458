"""The Chat API connection against the simulator's Chat OAuth server: the authorization-code flow
through the loopback listener (state, no PKCE, registered redirect only), storage, disconnect."""

from __future__ import annotations

import threading

import httpx
import pytest

from evalsync_gui.core.auth.secrets import API_TOKEN, SecretStore
from evalsync_gui.core.auth.session import secret_scope
from evalsync_gui.core.chat import connection, service
from evalsync_gui.core.errors import AuthError, UsageError
from tests.chat_helpers import connect_support


def browser(sim, register=True):
    """Play the admin's browser: register the listener's redirect URL (as the admin does in the
    Chat dashboard), then follow Zendesk's answer back to the listener."""
    seen: list[httpx.URL] = []

    def open_url(url: str) -> None:
        target = httpx.URL(url)
        seen.append(target)
        if register:
            sim.register_chat_redirect(target.params["redirect_uri"])
        threading.Thread(target=lambda: httpx.get(url, follow_redirects=True, timeout=10), daemon=True).start()

    return open_url, seen


def test_code_flow_stores_the_pair_and_never_sends_pkce(ctx, sim):
    connect_support(ctx, sim)
    support_token = SecretStore().get(secret_scope(ctx, sim.base_url), API_TOKEN)
    open_url, seen = browser(sim)
    conn = connection.connect(ctx, sim.chat_client_id, sim.chat_client_secret, oauth_base=sim.base_url, port=0,
                              open_browser=open_url, timeout=20)
    [url] = seen
    assert url.path == "/oauth2/chat/authorizations/new"  # a Zendesk host: the /oauth2/chat paths
    assert url.params["state"] and "code_challenge" not in url.params and url.params["subdomain"] == sim.subdomain
    assert (conn.grant, conn.refreshable, conn.client_id) == ("code", True, sim.chat_client_id)
    stored = SecretStore().get_json(secret_scope(ctx, sim.base_url), connection.TOKEN_KIND)
    assert stored["access_token"] in {t.access for t in sim.chat_oauth.live_tokens()}
    assert sim.chat_client_secret not in str(ctx.settings.all())  # facts only in the database
    with service.open_clients(ctx) as clients:
        assert clients.chat.get("/api/v2/chat/agents", params={"limit": 1})
    assert connection.disconnect(ctx) is True
    assert SecretStore().get(secret_scope(ctx, sim.base_url), connection.TOKEN_KIND) is None
    assert SecretStore().get(secret_scope(ctx, sim.base_url), connection.SECRET_KIND) is None
    assert SecretStore().get(secret_scope(ctx, sim.base_url), API_TOKEN) == support_token  # Support stays signed in
    with pytest.raises(AuthError, match="No Chat API connection"):
        service.open_clients(ctx)


def test_an_unregistered_redirect_gets_no_code_and_nothing_is_stored(ctx, sim):
    connect_support(ctx, sim)
    open_url, _ = browser(sim, register=False)
    with pytest.raises(AuthError, match="No answer from Zendesk"):
        connection.connect(ctx, sim.chat_client_id, sim.chat_client_secret, oauth_base=sim.base_url, port=0,
                           open_browser=open_url, timeout=2)
    assert connection.chat_connection(ctx) is None
    assert SecretStore().get(secret_scope(ctx, sim.base_url), connection.TOKEN_KIND) is None


def test_a_wrong_secret_is_refused_and_an_earlier_connection_survives(ctx, sim):
    connect_support(ctx, sim)
    first = connection.connect(ctx, sim.chat_client_id, sim.chat_client_secret, grant="client_credentials",
                               oauth_base=sim.base_url)
    with pytest.raises(AuthError, match="client credentials"):
        connection.connect(ctx, sim.chat_client_id, "wrong", grant="client_credentials", oauth_base=sim.base_url)
    assert connection.chat_connection(ctx) == first
    assert SecretStore().get(secret_scope(ctx, sim.base_url), connection.SECRET_KIND) == sim.chat_client_secret


def test_connect_needs_support_first_and_checks_input(ctx, sim):
    with pytest.raises(UsageError, match="client id"):
        connection.connect(ctx, " ", "s")
    with pytest.raises(AuthError, match="Connect to Zendesk Support first"):
        connection.connect(ctx, "id", "secret", grant="client_credentials", oauth_base=sim.base_url)
    with pytest.raises(UsageError, match="--grant"):
        connection.connect(ctx, "id", "secret", grant="password")
    assert sim.request_log == []


def test_setup_names_the_exact_redirect_url_to_register(ctx):
    from evalsync_gui.core.auth.session import set_redirect_port

    set_redirect_port(ctx, 50123)
    assert connection.redirect_uri(ctx) == "http://127.0.0.1:50123/callback"
    assert any("http://127.0.0.1:50123/callback" in step for step in connection.setup_steps(ctx))


def test_an_expired_code_grant_token_is_refreshed_with_its_refresh_token(ctx, sim):
    connect_support(ctx, sim)
    open_url, _ = browser(sim)
    connection.connect(ctx, sim.chat_client_id, sim.chat_client_secret, oauth_base=sim.base_url, port=0,
                       open_browser=open_url, timeout=20)
    before = SecretStore().get_json(secret_scope(ctx, sim.base_url), connection.TOKEN_KIND)
    sim.advance(sim.config.access_token_ttl + 1)  # the access token expires; its refresh token lives on
    sim.clear_log()
    with service.open_clients(ctx) as clients:
        assert clients.chat.get("/api/v2/chat/agents", params={"limit": 1})
    posts = [(p, s) for m, p, _, s in sim.request_log if m == "POST"]
    assert posts == [("/oauth2/chat/token", 200)]
    after = SecretStore().get_json(secret_scope(ctx, sim.base_url), connection.TOKEN_KIND)
    assert after["refresh_token"] != before["refresh_token"]  # the rotated pair was stored before use
    assert connection.chat_connection(ctx).expires_at is not None


def test_a_chat_connection_of_another_account_is_never_used(ctx, sim_factory):
    first, second = sim_factory(subdomain="first-co"), sim_factory(subdomain="second-co")
    connect_support(ctx, first)
    connection.connect(ctx, first.chat_client_id, first.chat_client_secret, grant="client_credentials",
                       oauth_base=first.base_url)
    connect_support(ctx, second)  # the admin switched the Support account
    second.clear_log()
    with pytest.raises(AuthError, match="belongs to first-co"):
        service.open_clients(ctx)
    assert second.request_log == []


def test_concurrent_401s_renew_the_chat_token_once(ctx, sim):
    from concurrent.futures import ThreadPoolExecutor

    connect_support(ctx, sim)
    connection.connect(ctx, sim.chat_client_id, sim.chat_client_secret, grant="client_credentials",
                       oauth_base=sim.base_url)
    with service.open_clients(ctx) as clients:
        clients.chat.get("/api/v2/chat/agents", params={"limit": 1})
        sim.chat_oauth.revoke_all()
        sim.clear_log()
        with ThreadPoolExecutor(4) as pool:
            pages = list(pool.map(lambda _: clients.chat.get("/api/v2/chat/agents", params={"limit": 1}), range(4)))
    assert all(len(p) == 1 for p in pages)
    assert sum(1 for m, p, _, _ in sim.request_log if m == "POST") == 1
