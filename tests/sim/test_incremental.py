"""Incremental user exports (cursor and time-based) after mutations."""

from __future__ import annotations

import base64

from tests.sim.conftest import client_for


def export_all(api, per_page=1000, start_time=0):
    users, pages = [], []
    resp = api.get("/api/v2/incremental/users/cursor.json", params={"start_time": start_time, "per_page": per_page})
    while True:
        assert resp.status_code == 200, resp.text
        page = resp.json()
        pages.append(page)
        users += page["users"]
        if page["end_of_stream"]:
            return users, pages
        resp = api.get(page["after_url"])


def test_cursor_export_has_every_user_in_updated_order(sim, api):
    users, pages = export_all(api, per_page=9)
    assert sorted(u["id"] for u in users) == sorted(sim.users)  # deleted and end users included
    keys = [(u["updated_at"], u["id"]) for u in users]
    assert keys == sorted(keys)
    assert list(pages[0]) == ["users", "after_url", "before_url", "after_cursor", "before_cursor", "end_of_stream"]
    last = pages[-1]
    assert last["end_of_stream"] is True and last["after_cursor"] and last["after_url"]
    raw = base64.b64decode(pages[0]["after_cursor"]).decode()
    assert raw.endswith(f"||{pages[0]['users'][-1]['id']}|") and ".0||" in raw
    assert "%3D" in pages[0]["after_url"] and "per_page=9" in pages[0]["after_url"]
    for u in users:
        assert ("permanently_deleted" in u) == (not u["active"])
        if not u["active"]:
            assert u["permanently_deleted"] is False and list(u)[-1] == "permanently_deleted"


def test_mutations_show_up_after_a_minute_from_the_saved_cursor(sim, api):
    _, pages = export_all(api)
    cursor = pages[-1]["after_cursor"]
    uid = next(uid for uid, u in sim.users.items() if u["role"] == "agent" and u["active"])
    sim.rename(uid, "Renée D'Arcy")
    added = sim.add_user("Åsa Ødegaard", "asa@abc.example", role="agent", custom_role_id=sim.role_id("Tier 1"))
    deleted = next(i for i, u in sim.users.items() if u["role"] == "end-user" and u["active"])
    sim.delete(deleted)
    # The most recent minute is not exported yet.
    now = api.get("/api/v2/incremental/users/cursor.json", params={"cursor": cursor}).json()
    assert now["users"] == [] and now["end_of_stream"] is True and now["after_cursor"] == cursor
    sim.advance(61)
    later = api.get("/api/v2/incremental/users/cursor.json", params={"cursor": cursor}).json()
    got = {u["id"]: u for u in later["users"]}
    assert set(got) == {uid, added["id"], deleted}
    assert got[uid]["name"] == "Renée D'Arcy" and got[deleted]["active"] is False
    assert got[added["id"]]["custom_role_id"] == sim.role_id("Tier 1")
    sim.restore(deleted)
    sim.advance(61)
    again = api.get(later["after_url"]).json()["users"]
    assert [u["id"] for u in again] == [deleted] and again[0]["active"] is True


def test_time_based_export_keeps_same_second_users_together(sim, api):
    sim.set_rate_limit(700, incremental=0)  # ~40 pages: lift the 10/min export limit
    renamed = sorted(sim.users)[:5]
    for uid in renamed:
        sim.rename(uid, sim.users[uid]["name"] + " Jr")  # five users updated in the same second
    sim.advance(61)
    seen, start, pages = {}, 0, []
    for _ in range(500):
        page = api.get("/api/v2/incremental/users.json", params={"start_time": start, "per_page": 2}).json()
        assert list(page) == ["users", "next_page", "count", "end_of_stream", "end_time"]
        assert page["count"] == len(page["users"])
        seen.update({u["id"]: u for u in page["users"]})
        pages.append({u["id"] for u in page["users"]})
        if page["end_of_stream"]:
            break
        assert f"start_time={page['end_time']}" in page["next_page"]
        start = page["end_time"]
    assert set(seen) == set(sim.users)
    by_second: dict[str, set[int]] = {}
    for uid in renamed:
        by_second.setdefault(sim.users[uid]["updated_at"], set()).add(uid)
    for group in by_second.values():
        assert any(group <= ids for ids in pages), "same-second users must share one page"
    assert sum(len(ids) for ids in pages) == len(sim.users)  # no repeats either


def test_export_needs_an_admin_and_an_old_enough_start_time(sim, api):
    recent = int(sim.clock.now()) - 10
    assert api.get("/api/v2/incremental/users/cursor", params={"start_time": recent}).status_code == 400
    agent = next(u for u in sim.users.values() if u["role"] == "agent" and u["active"] and not u["suspended"])
    with client_for(sim, agent["email"], sim.add_api_token(agent["email"])) as c:
        assert c.get("/api/v2/incremental/users/cursor", params={"start_time": 0}).status_code == 403
        assert c.get("/api/v2/users", params={"page[size]": 5}).status_code == 200
