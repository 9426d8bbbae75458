"""The simulator stays fast at benchmark sizes (generous bounds: CI machines are shared)."""

from __future__ import annotations

import time

from tests.sim.conftest import client_for, walk

from evalsync_gui.sim import SimConfig, Simulator


def test_large_org_seeds_and_pages_quickly():
    started = time.perf_counter()
    sim = Simulator(SimConfig(agents=20_000, end_users=20_000, chat_agents=100, rate_limit_per_minute=0))
    seeded = time.perf_counter() - started
    with sim:
        started = time.perf_counter()
        with client_for(sim) as c:
            pages = walk(c, "/api/v2/users.json", [("page[size]", "100"), ("role[]", "agent"), ("role[]", "admin")])
        walked = time.perf_counter() - started
    staff = 20_000 + 5 + 10 + sim.config.contributors + sim.config.chat_only_agents
    assert sum(len(p["users"]) for p in pages) == staff - sum(
        1 for u in sim.users.values() if u["role"] != "end-user" and not u["active"])
    # A tripwire only (the speed itself is bench/'s job): a quadratic slip takes minutes, not 60 s.
    assert seeded < 60 and walked < 60, (seeded, walked)
