"""EvalSync's Chat client against Zendesk's documented answers, served through httpx.MockTransport.

No simulator here: every answer is a fixture written from Zendesk's documentation
(tests/contract/fixtures.py names the source of each), so the client and the simulator cannot
share a wrong assumption.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qs

import httpx
import pytest

from evalsync_gui.core.chat import connection, kind
from evalsync_gui.core.chat.agents_api import StandaloneChat, chat_roles
from evalsync_gui.core.chat.support_kind import NEEDS_ADMIN_STEP, SupportKindChat
from evalsync_gui.core.errors import AuthError
from evalsync_gui.core.zendesk.http import BearerAuth, RetryPolicy, ZendeskHttp
from tests.contract import fixtures as fx

BASE = "https://acme.zendesk.com"


class Zendesk:
    """A MockTransport answering from a route table; records (method, path, headers, body)."""

    def __init__(self, routes):
        self.routes = routes
        self.seen: list[tuple[str, str, httpx.Headers, bytes]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append((request.method, request.url.path, request.headers, request.content))
        for (method, path), answer in self.routes.items():
            if request.method == method and request.url.path == path:
                status, body = answer(request) if callable(answer) else answer
                return httpx.Response(status, json=body)
        return httpx.Response(404, json=fx.RECORD_NOT_FOUND)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)

    def methods(self) -> list[str]:
        return [m for m, _, _, _ in self.seen]


def client(zd: Zendesk, token: str = "chat-access-0123456789") -> ZendeskHttp:
    return ZendeskHttp(BASE, BearerAuth(token), transport=zd.transport(), retry=RetryPolicy(max_attempts=1))


def test_chat_agents_documented_page_with_integer_enabled():
    pages = iter([(200, fx.CHAT_AGENTS_PAGE), (200, [])])
    zd = Zendesk({("GET", "/api/v2/chat/agents"): lambda r: next(pages)})
    agents = StandaloneChat(client(zd)).extract()
    assert [(a.email, a.enabled) for a in agents] == [("ana@acme.com", True), ("ben@acme.com", False)]
    assert zd.seen[0][2]["Authorization"] == "Bearer chat-access-0123456789"


def test_chat_token_request_is_form_encoded_and_the_answer_is_read():
    zd = Zendesk({("POST", "/oauth2/token"): (200, fx.CHAT_TOKEN)})
    tokens = connection.post_token("https://www.zopim.com", {"grant_type": "client_credentials", "client_id": "c",
                                                              "client_secret": "s", "scope": "read write"},
                                   transport=zd.transport())
    assert tokens.access_token == fx.CHAT_TOKEN["access_token"] and tokens.refresh_token
    _, path, headers, body = zd.seen[0]
    assert path == "/oauth2/token"  # www.zopim.com, as Zendesk's help article documents
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert parse_qs(body.decode())["grant_type"] == ["client_credentials"]


def test_chat_token_on_a_zendesk_host_uses_the_oauth2_chat_paths():
    assert connection.oauth_prefix("https://acme.zendesk.com") == "/oauth2/chat"
    url = connection.authorize_url("https://www.zopim.com", "cid", "http://127.0.0.1:47123/callback", "st", "acme")
    query = parse_qs(httpx.URL(url).query.decode())
    assert url.startswith("https://www.zopim.com/oauth2/authorizations/new?")
    assert query["state"] == ["st"] and query["subdomain"] == ["acme"] and "code_challenge" not in query


def test_a_refused_code_is_one_line_auth_error():
    zd = Zendesk({("POST", "/oauth2/token"): (400, fx.INVALID_GRANT)})
    with pytest.raises(AuthError, match="refused the authorization code") as err:
        connection.post_token("https://www.zopim.com", {"grant_type": "authorization_code", "code": "x"},
                              transport=zd.transport())
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("answer, expected", [
    ((200, fx.ENTITLEMENTS_WITH_CHAT_OFF), kind.SUPPORT),
    ((200, fx.ENTITLEMENTS_WITHOUT_CHAT), kind.WRITABLE),
    ((404, fx.RECORD_NOT_FOUND), kind.UNKNOWN),
    ((403, fx.FORBIDDEN), kind.UNKNOWN),
])
def test_kind_is_decided_from_documented_reads_only(ctx, answer, expected):
    zd = Zendesk({("GET", "/api/v2/chat/agents"): (200, fx.CHAT_AGENTS_PAGE[:1]),
                  ("GET", "/api/v2/users/7/entitlements/full"): answer})
    found = kind.detect(ctx.settings, client(zd, "support"), client(zd), 7)
    assert (found.kind, found.source) == (expected, "detected") and found.how
    assert set(zd.methods()) == {"GET"}  # never a write
    assert kind.current(ctx.settings).kind == expected


def test_support_kind_new_person_from_documented_answers():
    zd = Zendesk({("GET", "/api/v2/users/search"): (200, fx.SEARCH_EMPTY),
                  ("POST", "/api/v2/users"): (201, fx.CREATED_USER),
                  ("GET", "/api/v2/users/35436/entitlements/full"): (200, fx.ENTITLEMENTS_WITH_CHAT_OFF)})
    got = SupportKindChat(None, client(zd, "support")).grant("kim@acme.com", "Kim", "Lee")
    assert got.status == NEEDS_ADMIN_STEP
    assert got.admin_url == f"{BASE}/admin/people/team/members/35436"
    [(_, _, _, body)] = [s for s in zd.seen if s[0] == "POST"]
    assert json.loads(body) == {"user": {"name": "Kim Lee", "email": "kim@acme.com", "role": "agent",
                                         "verified": True}}
    assert not any(p.startswith("/api/v2/chat") for _, p, _, _ in zd.seen)


def test_support_kind_chat_on_completes():
    zd = Zendesk({("GET", "/api/v2/users/35436/entitlements/full"): (200, fx.ENTITLEMENTS_WITH_CHAT_ON)})
    got = SupportKindChat(None, client(zd, "support")).recheck(35436, "kim@acme.com", "Kim", "Lee")
    assert got.status == "completed_after_admin_step"


def test_custom_roles_refused_below_enterprise_means_none():
    zd = Zendesk({("GET", "/api/v2/custom_roles"): (403, fx.FORBIDDEN)})
    assert chat_roles(client(zd, "support")) is None


def test_a_chat_401_names_the_chat_connection_and_never_the_support_one():
    class Auth(BearerAuth):
        unauthorized_message = connection.REFUSED
        refreshed = 0

        def refresh(self):
            Auth.refreshed += 1
            return False

    zd = Zendesk({("GET", "/api/v2/chat/agents"): (401, fx.BASIC_401)})
    http = ZendeskHttp(BASE, Auth("stale"), transport=zd.transport(), retry=RetryPolicy(max_attempts=1))
    with pytest.raises(AuthError, match="connect Chat again") as err:
        StandaloneChat(http).extract()
    assert "Support sign-in is unaffected" in str(err.value) and Auth.refreshed == 1


def test_inactivity_names_the_support_sign_in_when_the_chat_api_has_no_last_login(ctx):
    """The documented agent object has no last_login: on the Support kind the measure becomes the
    Support last sign-in, and says so; nothing is written."""
    from evalsync_gui.core.chat import service
    from evalsync_gui.core.chat.inactivity import SUPPORT_LAST_LOGIN, Policy

    pages = iter([(200, fx.CHAT_AGENTS_PAGE), (200, [])])
    zd = Zendesk({("GET", "/api/v2/chat/agents"): lambda r: next(pages),
                  ("GET", "/api/v2/users"): (200, fx.STAFF_PAGE)})
    ctx.settings.set("chat.kind", "support")
    clients = service.ChatClients(client(zd), client(zd, "support"))
    rows, _, _ = service.policy_preview(ctx.db, ctx.settings, clients, Policy(90, 180))
    by_email = {r.email: r for r in rows}
    assert {r.last_login_source for r in rows} == {SUPPORT_LAST_LOGIN}
    assert by_email["ana@acme.com"].action == "admin_step" and by_email["ana@acme.com"].admin_url
    assert service.status(ctx)["last_login_source"] == SUPPORT_LAST_LOGIN
    assert set(zd.methods()) == {"GET"}


def test_a_create_refused_as_taken_is_settled_from_a_second_lookup():
    searches = iter([(200, fx.SEARCH_EMPTY), (200, fx.SEARCH_AGENT)])
    zd = Zendesk({("GET", "/api/v2/users/search"): lambda r: next(searches),
                  ("POST", "/api/v2/users"): (422, fx.EMAIL_TAKEN),
                  ("GET", "/api/v2/users/35436/entitlements/full"): (200, fx.ENTITLEMENTS_WITH_CHAT_ON)})
    got = SupportKindChat(None, client(zd, "support")).grant("kim@acme.com", "Kim", "Lee")
    assert got.status == "already_enabled"
    assert zd.methods().count("POST") == 1 and "PUT" not in zd.methods()


def test_an_undecided_kind_is_read_again_on_the_next_job_never_guessed(ctx):
    from evalsync_gui.core.chat import service
    from evalsync_gui.core.errors import UsageError

    answers = iter([(503, {"error": "Service unavailable"}), (200, fx.ENTITLEMENTS_WITH_CHAT_OFF)])
    zd = Zendesk({("GET", "/api/v2/chat/agents"): (200, fx.CHAT_AGENTS_PAGE[:1]),
                  ("GET", "/api/v2/users/7/entitlements/full"): lambda r: next(answers)})
    clients = service.ChatClients(client(zd), client(zd, "support"), user_id=7)
    with pytest.raises(UsageError, match="could not tell"):
        service.ensure_kind(ctx.settings, clients)
    assert service.status(ctx)["kind"] == "unknown"
    assert service.ensure_kind(ctx.settings, clients) == kind.SUPPORT
    assert set(zd.methods()) == {"GET"}
