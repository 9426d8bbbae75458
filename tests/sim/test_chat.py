"""Chat Agents API in a standalone Chat account and in one created in Support."""

from __future__ import annotations

from urllib.parse import quote

from tests.sim.conftest import client_for


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
    with client_for(sim) as c:
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


def test_support_mode_is_read_only_and_follows_support_users(sim_factory):
    sim = sim_factory(chat_mode="support")
    with client_for(sim) as c:
        agents = all_agents(c, limit=7)
        ids = {a["id"] for a in agents}
        qa_lead = sim.role_id("QA Lead")
        light = sim.role_id("Light agent")
        for uid, u in sim.users.items():
            staff = u["active"] and u["role"] in ("agent", "admin")
            expected = staff and u["custom_role_id"] not in (qa_lead, light)
            assert (uid in ids) == expected, u
        assert ids == set(sim.chat_agents)
        blocked = c.post("/api/v2/chat/agents", json={"email": "a@x.example", "password": "p", "first_name": "A",
                                                      "last_name": "B"})
        assert blocked.status_code == 403 and "created in Support" in blocked.json()["description"]
        some = agents[1]["id"]
        assert c.put(f"/api/v2/chat/agents/{some}", json={"enabled": False}).status_code == 403
        assert c.delete(f"/api/v2/chat/agents/{some}").status_code == 403
        # chat access is managed through Support: suspending or re-roling shows up at once
        sim.suspend(some)
        assert c.get(f"/api/v2/chat/agents/{some}").json()["enabled"] is False
        sim.change_role(some, "agent", qa_lead)
        assert c.get(f"/api/v2/chat/agents/{some}").status_code == 404
