"""What the Chat feature's end-user upgrade relies on: the duplicate-address 422, the users
search and a role change from end-user to agent, as Zendesk does them."""

from __future__ import annotations

from tests.sim.conftest import chat_client_for, client_for


def an_end_user(sim) -> dict:
    return next(u for u in sim.users.values() if u["role"] == "end-user" and u["active"] and not u["suspended"])


def test_create_with_a_taken_address_is_a_422_duplicate_value(sim):
    user = an_end_user(sim)
    taken = user["email"].upper()  # addresses compare case-insensitively
    with client_for(sim) as c:
        resp = c.post("/api/v2/users.json", json={"user": {"name": "X Y", "email": taken, "role": "agent"}})
    assert resp.status_code == 422
    assert resp.json() == {"error": "RecordInvalid", "description": "Record validation errors", "details": {
        "email": [{"description": f"Email: {taken} is already being used by another user",
                   "error": "DuplicateValue"}]}}


def test_search_by_email_is_exact_case_insensitive_and_hides_deleted_users(sim):
    user = an_end_user(sim)
    deleted = next(u for u in sim.users.values() if not u["active"] and u["email"])
    with client_for(sim) as c:
        body = c.get("/api/v2/users/search.json", params={"query": f'email:"{user["email"].upper()}"'}).json()
        assert [u["id"] for u in body["users"]] == [user["id"]]
        assert body["count"] == 1 and body["next_page"] is None and body["previous_page"] is None
        assert set(body["users"][0]) == set(user)  # the full user object, as the list endpoints give
        unquoted = c.get("/api/v2/users/search", params={"query": f"email:{user['email']}"}).json()
        assert [u["id"] for u in unquoted["users"]] == [user["id"]]
        prefix = user["email"][:-3]
        assert c.get("/api/v2/users/search", params={"query": f"email:{prefix}"}).json()["users"] == []
        gone = c.get("/api/v2/users/search", params={"query": f'email:"{deleted["email"]}"'}).json()
        assert gone == {"users": [], "next_page": None, "previous_page": None, "count": 0}
        # The deleted user still holds the address: a create with it is refused all the same.
        again = c.post("/api/v2/users", json={"user": {"name": "A B", "email": deleted["email"]}})
        assert again.status_code == 422
        assert c.get("/api/v2/users/search").status_code == 400
        by_role = c.get("/api/v2/users/search", params={"query": "role:end-user", "per_page": 5}).json()
        assert len(by_role["users"]) == 5 and all(u["role"] == "end-user" for u in by_role["users"])
        assert by_role["next_page"] and "page=2" in by_role["next_page"]


def test_end_user_becomes_a_chat_agent_by_role_change_plus_the_admin_center_switch(sim_factory):
    sim = sim_factory(chat_kind="support")
    user = an_end_user(sim)
    tier1 = sim.role_id("Tier 1")
    with client_for(sim) as c, chat_client_for(sim) as chat:
        assert chat.get(f"/api/v2/chat/agents/{user['id']}").status_code == 404
        resp = c.put(f"/api/v2/users/{user['id']}.json", json={"user": {"role": "agent", "custom_role_id": tier1}})
        assert resp.status_code == 200
        got = resp.json()["user"]
        assert (got["role"], got["custom_role_id"], got["role_type"]) == ("agent", tier1, 0)
        # A custom role is not the Chat switch: Chat stays off until Admin Center turns it on.
        assert chat.get(f"/api/v2/chat/agents/{user['id']}").status_code == 404
        sim.set_chat_access(user["id"], True)
        assert chat.get(f"/api/v2/chat/agents/{user['id']}").json()["enabled"] is True
