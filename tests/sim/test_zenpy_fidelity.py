"""A real third-party Zendesk client (zenpy) reads the simulator and gets exactly its data."""

from __future__ import annotations

import pytest

zenpy = pytest.importorskip("zenpy")


@pytest.fixture
def zen(sim_factory, monkeypatch):
    sim = sim_factory(agents=150, end_users=120, suspended=4, deleted=6)
    monkeypatch.setenv("ZENPY_FORCE_SCHEME", "http")
    monkeypatch.setenv("ZENPY_FORCE_NETLOC", f"127.0.0.1:{sim.port}")
    client = zenpy.Zenpy(subdomain=sim.config.subdomain, email=sim.admin_email, token=sim.api_token)
    return sim, client


def test_cursor_listing_matches(zen):
    sim, z = zen
    users = list(z.users())
    expected = {uid: u for uid, u in sim.users.items() if u["active"]}
    assert [u.id for u in users] == sorted(expected)
    for u in users:
        src = expected[u.id]
        assert (u.name, u.email, u.role, u.custom_role_id, u.suspended, u.updated_at) == \
            (src["name"], src["email"], src["role"], src["custom_role_id"], src["suspended"], src["updated_at"])
    queries = [q for m, p, q, s in sim.request_log if p == "/api/v2/users.json"]
    assert queries[0] == "page%5Bsize%5D=100" and all("page%5Bafter%5D" in q for q in queries[1:])


def test_role_filtered_listing_matches(zen):
    sim, z = zen
    got = [u.id for u in z.users(role=["agent", "admin"])]
    assert got == sorted(uid for uid, u in sim.users.items() if u["active"] and u["role"] in ("agent", "admin"))


def test_incremental_export_matches(zen):
    sim, z = zen
    sim.rename(sim.ids("agent")[0], "Siobhán Ní Bhriain")
    sim.advance(61)
    exported = list(z.users.incremental(start_time=0))
    assert sorted(u.id for u in exported) == sorted(sim.users)
    by_id = {u.id: u for u in exported}
    for uid, src in sim.users.items():
        assert (by_id[uid].name, by_id[uid].active, by_id[uid].updated_at) == \
            (src["name"], src["active"], src["updated_at"])


def test_offset_listing_matches(zen):
    sim, z = zen
    got = [u.id for u in z.users(cursor_pagination=False)]
    assert got == sorted(uid for uid, u in sim.users.items() if u["active"])
