"""Chat Agents API in a writable Chat account and in one created in Support; the Chat OAuth
server; entitlements; plans."""

from __future__ import annotations

from urllib.parse import quote

import httpx
import pytest

from tests.sim.conftest import chat_client_for, client_for


def all_agents(c, limit=4):
    out, since = [], 0
    while True:
        page = c.get("/api/v2/chat/agents", params={"since_id": since, "limit": limit}).json()
        assert isinstance(page, list)
        if not page:
            return out
        out += page
        since = page[-1]["id"] + 1


def test_standalone_list_get_and_writes(sim):
    with chat_client_for(sim) as c:
        agents = all_agents(c)
        assert [a["id"] for a in agents] == sorted(sim.chat_agents) and len(agents) == 10
        assert set(agents[0]) == {"id", "email", "first_name", "last_name", "display_name", "enabled", "role_id",
                                  "roles", "departments", "enabled_departments", "skills", "create_date",
                                  "last_login", "login_count"}
        assert all(isinstance(a["enabled"], bool) for a in agents)
        one = agents[3]
        assert c.get(f"/api/v2/chat/agents/{one['id']}").json() == one
        assert c.get(f"/api/v2/chat/agents/email/{quote(one['email'])}").json()["id"] == one["id"]
        missing = c.get("/api/v2/chat/agents/email/nobody@x.example")
        assert missing.status_code == 404 and missing.json() == {"error": "Not Found"}
        body = {"email": "zoe@x.example", "first_name": "Zoë", "last_name": "D'Arcy", "enabled": True}
        assert c.post("/api/v2/chat/agents", json=body).status_code == 400  # password is required
        created = c.post("/api/v2/chat/agents", json={**body, "password": "Secr3t!pw"})
        assert created.status_code == 201
        cid = created.json()["id"]
        assert c.put(f"/api/v2/chat/agents/{cid}", json={"enabled": False}).json()["enabled"] is False
        assert c.delete(f"/api/v2/chat/agents/{cid}").status_code == 204
        assert c.get(f"/api/v2/chat/agents/{cid}").status_code == 404
        assert c.get("/api/v2/chat/agents", params={"limit": 500}).json().__len__() == 10  # limit capped at 100


def test_support_mode_is_read_only_and_follows_admin_center(sim_factory):
    sim = sim_factory(chat_kind="support")
    with chat_client_for(sim) as c:
        agents = all_agents(c, limit=7)
        ids = {a["id"] for a in agents}
        for uid, u in sim.users.items():
            assert (uid in ids) == (u["active"] and u["role"] in ("agent", "admin") and sim.chat_access(uid)), u
        assert ids == set(sim.chat_agents)
        blocked = c.post("/api/v2/chat/agents", json={"email": "a@x.example", "password": "p", "first_name": "A",
                                                      "last_name": "B"})
        assert blocked.status_code == 403 and "created in Support" in blocked.json()["description"]
        some = agents[1]["id"]
        assert c.put(f"/api/v2/chat/agents/{some}", json={"enabled": False}).status_code == 403
        assert c.delete(f"/api/v2/chat/agents/{some}").status_code == 403
        sim.suspend(some)
        assert c.get(f"/api/v2/chat/agents/{some}").json()["enabled"] is False
        # Chat access is Admin Center's switch, played over HTTP by the simulator's control
        off = httpx.post(f"{sim.base_url}/_sim/admin-center/users/{some}/chat", json={"is_active": False})
        assert off.status_code == 200
        assert c.get(f"/api/v2/chat/agents/{some}").status_code == 404
    with client_for(sim) as s:
        ent = s.get(f"/api/v2/users/{some}/entitlements/full").json()["entitlements"]
        assert ent["chat"] == {"name": "agent", "is_active": False}


@pytest.mark.parametrize("kind", ["writable", "support"])
def test_chat_endpoints_refuse_support_credentials(sim_factory, kind):
    sim = sim_factory(chat_kind=kind)
    with client_for(sim) as c:  # Support API token
        r = c.get("/api/v2/chat/agents")
        assert r.status_code == 401 and r.json() == {"error": "Couldn't authenticate you"}
    support_bearer = sim.oauth._mint(sim.oauth_client_id, sim.store.owner_id, ["read", "write"], None).access
    r = httpx.get(f"{sim.base_url}/api/v2/chat/agents", headers={"Authorization": f"Bearer {support_bearer}"})
    assert r.status_code == 401 and r.json()["error"] == "invalid_token"
    with chat_client_for(sim) as c:
        assert c.get("/api/v2/chat/agents").status_code == 200
        assert c.get("/api/v2/users/me").status_code == 401  # and a Chat token is no Support credential


def test_chat_oauth_code_flow_needs_a_registered_redirect_and_the_secret(sim):
    registered = sim.config.chat_redirect_uris[0]
    q = {"response_type": "code", "client_id": sim.chat_client_id, "scope": "read write", "state": "s1"}
    bad = httpx.get(f"{sim.base_url}/oauth2/chat/authorizations/new", params={**q, "redirect_uri":
                                                                               "http://127.0.0.1:9/callback"})
    assert bad.status_code == 400  # never redirects to an address the client did not register
    ok = httpx.get(f"{sim.base_url}/oauth2/authorizations/new", params={**q, "redirect_uri": registered})
    assert ok.status_code == 302
    target = httpx.URL(ok.headers["Location"])
    assert target.params["state"] == "s1"
    form = {"grant_type": "authorization_code", "code": target.params["code"], "client_id": sim.chat_client_id,
            "redirect_uri": registered}
    assert httpx.post(f"{sim.base_url}/oauth2/token", data=form).status_code == 401  # no secret
    ok = httpx.get(f"{sim.base_url}/oauth2/authorizations/new", params={**q, "redirect_uri": registered})
    form["code"] = httpx.URL(ok.headers["Location"]).params["code"]
    tok = httpx.post(f"{sim.base_url}/oauth2/chat/token", data={**form, "client_secret": sim.chat_client_secret})
    assert tok.status_code == 200 and tok.json()["refresh_token"]
    again = httpx.post(f"{sim.base_url}/oauth2/token", data={"grant_type": "refresh_token", "client_id":
                       sim.chat_client_id, "client_secret": sim.chat_client_secret,
                       "refresh_token": tok.json()["refresh_token"]})
    assert again.status_code == 200


def test_client_credentials_only_for_a_confidential_client(sim_factory):
    sim = sim_factory(chat_client_kind="public")
    r = httpx.post(f"{sim.base_url}/oauth2/token", data={"grant_type": "client_credentials", "client_id":
                   sim.chat_client_id, "client_secret": sim.chat_client_secret})
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"


@pytest.mark.parametrize("plan, status", [("team", 403), ("professional", 403), ("enterprise", 200)])
def test_custom_roles_only_on_enterprise(sim_factory, plan, status):
    sim = sim_factory(plan=plan)
    with client_for(sim) as c:
        assert c.get("/api/v2/custom_roles").status_code == status
        if plan != "enterprise":
            assert not any(u["custom_role_id"] and u["role_type"] == 0 for u in sim.users.values())


def test_support_oauth_can_be_as_strict_about_redirects(sim_factory):
    sim = sim_factory(support_redirect_uris=("http://127.0.0.1:47123/callback",))
    q = {"response_type": "code", "client_id": sim.oauth_client_id, "scope": "read", "state": "s",
         "code_challenge": "x" * 43, "code_challenge_method": "S256"}
    bad = httpx.get(f"{sim.base_url}/oauth/authorizations/new", params={**q, "redirect_uri":
                                                                         "http://127.0.0.1:9/callback"})
    assert bad.status_code == 400
    ok = httpx.get(f"{sim.base_url}/oauth/authorizations/new", params={**q, "redirect_uri":
                                                                        "http://127.0.0.1:47123/callback"})
    assert ok.status_code == 302 and "code=" in ok.headers["Location"]
