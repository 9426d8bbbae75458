"""Support users API: cursor and offset pagination shapes, filters, single-user endpoints."""

from __future__ import annotations

import base64
import json
from urllib.parse import parse_qs, urlsplit

from tests.sim.conftest import client_for, walk

from evalsync_gui.sim.org import USER_KEYS


def active_ids(sim, roles=None):
    return [uid for uid in sorted(sim.users) if sim.users[uid]["active"]
            and (roles is None or sim.users[uid]["role"] in roles)]


def test_cursor_walk_returns_every_active_user_once_with_recorded_shapes(sim, api):
    pages = walk(api, "/api/v2/users.json", {"page[size]": 7})
    ids = [u["id"] for p in pages for u in p["users"]]
    assert ids == active_ids(sim)  # ascending, no duplicates, deleted users absent
    first = pages[0]
    assert list(first) == ["users", "meta", "links"]
    assert first["meta"]["before_cursor"] and first["links"]["prev"]  # non-null even on page 1
    assert [list(u) for u in first["users"]] == [list(USER_KEYS)] * 7
    cursor = first["meta"]["after_cursor"]
    inner = json.loads(base64.b64decode(cursor))
    assert inner["o"] == "id" and int(base64.b64decode(inner["v"])) == first["users"][-1]["id"]
    assert len(cursor) % 4 == 0
    nxt = first["links"]["next"]
    assert nxt.startswith(sim.base_url + "/api/v2/users.json?page%5Bafter%5D=")
    assert "%3D" in nxt and nxt.index("page%5Bafter%5D") < nxt.index("page%5Bsize%5D")
    last = pages[-1]
    if last["users"]:  # a non-empty last page keeps links.next
        assert last["meta"]["has_more"] is False and last["links"]["next"]


def test_full_multiple_of_page_size_ends_with_trailing_empty_page(sim, api):
    total = len(active_ids(sim))
    pages = walk(api, "/api/v2/users", {"page[size]": 1})
    assert len(pages) == total + 1
    assert pages[-2]["meta"]["has_more"] is True
    assert pages[-1] == {"users": [], "meta": {"has_more": False, "after_cursor": None, "before_cursor": None},
                         "links": {"prev": None, "next": None}}
    one = pages[0]["meta"]
    assert one["after_cursor"] == one["before_cursor"]


def test_page_before_walks_backwards(api):
    first = api.get("/api/v2/users", params={"page[size]": 5}).json()
    second = api.get(first["links"]["next"]).json()
    back = api.get(second["links"]["prev"]).json()
    assert [u["id"] for u in back["users"]] == [u["id"] for u in first["users"]]


def test_page_size_over_100_is_rejected(api):
    assert api.get("/api/v2/users", params={"page[size]": 101}).status_code == 400


def test_role_filters(sim, api):
    staff = walk(api, "/api/v2/users", [("page[size]", "10"), ("role[]", "agent"), ("role[]", "admin")])
    assert [u["id"] for p in staff for u in p["users"]] == active_ids(sim, {"agent", "admin"})
    admins = api.get("/api/v2/users", params={"role": "admin", "page[size]": 100}).json()["users"]
    assert {u["role"] for u in admins} == {"admin"} and len(admins) == 3
    assert all(u["role_type"] == 4 and u["custom_role_id"] == sim.role_id("Admin") for u in admins)
    tier1 = sim.role_id("Tier 1")
    got = api.get("/api/v2/users", params={"permission_set": tier1, "page[size]": 100}).json()["users"]
    assert got and all(u["custom_role_id"] == tier1 and u["role_type"] == 0 and u["restricted_agent"] for u in got)
    count = api.get("/api/v2/users/count.json", params={"role[]": ["agent", "admin"]}).json()["count"]["value"]
    assert count == len(active_ids(sim, {"agent", "admin"}))
    # unknown parameters are ignored
    assert api.get("/api/v2/users", params={"page[size]": 2, "frobnicate": 1}).status_code == 200


def test_offset_pagination_and_the_10000_record_limit(sim, api):
    resp = api.get("/api/v2/users.json", params={"per_page": 10, "page": 2}).json()
    assert resp["count"] == len(active_ids(sim))
    assert [u["id"] for u in resp["users"]] == active_ids(sim)[10:20]
    assert urlsplit(resp["next_page"]).netloc == urlsplit(sim.base_url).netloc
    assert parse_qs(urlsplit(resp["next_page"]).query)["page"] == ["3"]
    assert resp["previous_page"]
    assert api.get("/api/v2/users.json", params={"per_page": 10, "page": 1000}).status_code == 200
    over = api.get("/api/v2/users.json", params={"per_page": 10, "page": 1001})
    assert over.status_code == 400 and "cursor" in over.json()["description"]


def test_single_user_endpoints(sim, api):
    uid = active_ids(sim, {"agent"})[0]
    assert api.get(f"/api/v2/users/{uid}.json").json()["user"] == sim.users[uid]
    missing = api.get("/api/v2/users/1.json")
    assert missing.status_code == 404 and missing.json() == {"error": "RecordNotFound", "description": "Not found"}
    deleted = next(u for u in sim.users.values() if not u["active"])["id"]
    ids = f"{deleted},{uid},{active_ids(sim)[0]}"
    assert [u["id"] for u in api.get(f"/api/v2/users/show_many.json?ids={ids}").json()["users"]] == \
        sorted({uid, active_ids(sim)[0]})
    with_deleted = api.get(f"/api/v2/users/show_many.json?ids={ids}&include_deleted=true").json()["users"]
    assert deleted in [u["id"] for u in with_deleted]
    me = api.get("/api/v2/users/me.json").json()["user"]
    keys = list(me)
    assert len(keys) == 38 and keys[keys.index("verified") + 1] == "authenticity_token"
    assert me["email"] == sim.admin_email
    fields = api.get("/api/v2/user_fields.json").json()["user_fields"]
    assert {f["key"] for f in fields} == set(sim.users[uid]["user_fields"])
    roles = api.get("/api/v2/custom_roles.json").json()["custom_roles"]
    assert {"Admin", "Light agent", "Tier 1", "Tier 2", "QA Lead"} <= {r["name"] for r in roles}
    assert all("chat_access" in r["configuration"] for r in roles)


def test_seeded_org_is_realistic(sim):
    users = list(sim.users.values())
    names = " ".join(u["name"] for u in users)
    assert any(ch in names for ch in "'éöüñçøåłğ")
    assert sum(u["suspended"] for u in users) == 2 and sum(not u["active"] for u in users) == 2
    light = sim.role_id("Light agent")
    assert sum(u["custom_role_id"] == light for u in users) == 3
    for u in users:
        if u["role"] == "end-user":
            assert (u["role_type"], u["custom_role_id"], u["restricted_agent"], u["ticket_restriction"]) == \
                (None, None, True, "requested")
        elif u.get("chat_only"):
            assert (u["role"], u["role_type"], u["custom_role_id"]) == ("agent", 2, None)
        elif u["custom_role_id"] is None:
            assert u["role"] == "agent" and u["role_type"] is None and u["restricted_agent"] is False
        # Zendesk sends chat_only only where it matters; the recordings never show it (ZENDESK.md 3)
        assert u.get("chat_only", True) is True


def test_seeded_org_has_every_kind_of_team_member(sim):
    """Light agents (1), chat-only agents (2), contributors (3), admins (4), with Zendesk's fields."""
    users = [u for u in sim.users.values() if u["active"] and not u["suspended"]]
    contributor = sim.role_id("Contributor")
    kinds = {(u["role"], u["role_type"]) for u in users}
    assert {("agent", None), ("agent", 0), ("agent", 1), ("agent", 2), ("agent", 3), ("admin", 4)} <= kinds
    assert all(u["custom_role_id"] == contributor for u in users if u["role_type"] == 3)
    assert all(u["chat_only"] is True for u in users if u["role_type"] == 2)
    role = next(r for r in sim.store.custom_roles if r["id"] == contributor)
    assert role["role_type"] == 3


def test_auth_errors(sim):
    with client_for(sim, token="wrong") as c:
        r = c.get("/api/v2/users.json")
    assert r.status_code == 401 and r.json() == {"error": "Couldn't authenticate you"}
    assert r.headers["WWW-Authenticate"].startswith("Basic")
    end_user = next(u for u in sim.users.values() if u["role"] == "end-user" and u["active"] and u["email"]
                    and not u["suspended"])
    with client_for(sim, end_user["email"], sim.add_api_token(end_user["email"])) as c:
        assert c.get("/api/v2/users.json").status_code == 403
        assert c.get("/api/v2/users/me.json").json()["user"]["id"] == end_user["id"]


def test_user_writes(sim, api):
    created = api.post("/api/v2/users.json", json={"user": {"name": "Seán O'Neill", "email": "sean@x.example",
                                                            "role": "agent"}})
    assert created.status_code == 201
    uid = created.json()["user"]["id"]
    assert created.headers["Location"] == f"{sim.base_url}/api/v2/users/{uid}.json"
    assert api.post("/api/v2/users", json={"user": {"name": "Dup", "email": "SEAN@x.example"}}).status_code == 422
    tier2 = sim.role_id("Tier 2")
    upd = api.put(f"/api/v2/users/{uid}", json={"user": {"custom_role_id": tier2, "suspended": True}}).json()["user"]
    assert upd["custom_role_id"] == tier2 and upd["role_type"] == 0 and upd["suspended"] is True
    gone = api.delete(f"/api/v2/users/{uid}")
    assert gone.status_code == 200 and gone.json()["user"]["active"] is False
    assert uid not in [u["id"] for u in api.get("/api/v2/users", params={"page[size]": 100}).json()["users"]]


def test_unknown_parameters_are_ignored_with_a_warning(api):
    r = api.get("/api/v2/users.json", params={"page[size]": 3, "colour": "blue"})
    assert r.status_code == 200 and len(r.json()["users"]) == 3
    assert "colour" in r.headers["x-zendesk-api-warn"]
