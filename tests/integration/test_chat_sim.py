"""Chat agents against the simulator, in both account kinds, over real loopback HTTP.

The big tests reproduce the issue's target: 1,500 requests against 1,500 agents (enabled,
disabled, missing, bad domains) with one extract per batch and one write per changed agent.
"""

from __future__ import annotations

import random
import re
import time

import pytest

from evalsync_gui.core.chat import audit, service
from evalsync_gui.core.chat import requests as rq
from evalsync_gui.core.chat.inactivity import Policy
from evalsync_gui.core.chat import inactivity
from evalsync_gui.core.zendesk.http import ApiTokenAuth, RetryPolicy, ZendeskHttp
from tests.chat_helpers import clients
from tests.core.test_chat_processor import later

DOMAIN = "abc-energy.example.com"
LATENCY = 0.02


def client(sim) -> ZendeskHttp:
    return ZendeskHttp(sim.base_url, ApiTokenAuth(sim.admin_email, sim.api_token),
                       retry=RetryPolicy(backoff_base=0.01, backoff_max=0.05))


def queue_mix(ctx, agents: list[dict], n: int, seed: int = 3) -> dict[str, int]:
    """Queue ``n`` requests: most for existing agents, some new people, some bad domains."""
    rng = random.Random(seed)
    picks = rng.sample(agents, min(len(agents), n - n // 10 - n // 20))
    expected = {"already_enabled": 0, "enabled": 0, "created": 0, "rejected": 0}
    rows = []
    for a in picks:
        rows.append((a["email"], a["first_name"] or "X", a["last_name"] or "Y"))
        expected["enabled" if not a["enabled"] else "already_enabled"] += 1
    for i in range(n // 10):
        rows.append((f"new.person{i}@{DOMAIN}", f"New{i}", "Person"))
        expected["created"] += 1
    traps = [f"x{{}}@{DOMAIN}.evil.io", f"x{{}}@evil-{DOMAIN}", f"x{{}}@sub.{DOMAIN}", "x{}.no-at-sign.com"]
    for i in range(n - len(rows)):
        rows.append((traps[i % len(traps)].format(i), "Bad", "Domain"))
    rng.shuffle(rows)
    with ctx.db.transaction() as conn:
        for email, first, last in rows:
            conn.execute("INSERT INTO chat_requests (requester, email, first_name, last_name, requested_at)"
                         " VALUES ('lead@abc-energy.example.com', ?, ?, ?, '2026-11-23T10:00:00Z')",
                         (email, first, last))
    expected["rejected"] = n - sum(v for k, v in expected.items() if k != "rejected")
    return expected


def budget(sim, total: int) -> float:
    """The issue's target, 1.2 x (requests x 20 ms), plus 0.5 s for start-up.

    On a loaded test machine one bare request to the in-process simulator can itself take
    well over 20 ms; then the budget is measured against that floor instead, so the test
    checks EvalSync's own per-request overhead rather than the machine's load.
    """
    with client(sim) as http:
        agent_path = "/api/v2/users/me"
        http.get(agent_path)
        started = time.perf_counter()
        for _ in range(20):
            http.get(agent_path)
        floor = (time.perf_counter() - started) / 20
    sim.clear_log()
    return max(1.2 * total * LATENCY, 1.1 * total * floor) + 0.5


def writes(sim, method: str, prefix: str) -> int:
    return sum(1 for m, p, q, s in sim.request_log if m == method and p.startswith(prefix))


@pytest.mark.slow
def test_standalone_1500_requests_one_extract_one_write_each(ctx, sim_factory):
    sim = sim_factory(agents=200, chat_agents=1500, latency=LATENCY, chat_per_minute=None,
                      rate_limit_per_minute=None, seed=11)
    ctx.settings.set("chat.domains", [DOMAIN])
    ctx.settings.set("chat.mode", "standalone")
    expected = queue_mix(ctx, list(sim.chat_agents.values()), 1500)
    clients(ctx, sim).close()  # connect before the clock starts
    sim.clear_log()
    started = time.perf_counter()
    with clients(ctx, sim) as http:
        result, _ = service.run_process(ctx.db, ctx.settings, http)
    elapsed = time.perf_counter() - started
    counts = result.counts()
    assert {k: counts.get(k, 0) for k in expected} == expected
    pages = writes(sim, "GET", "/api/v2/chat/agents")
    assert pages == 16  # 1,500 agents, 100 a page: one extract for the whole batch
    assert writes(sim, "PUT", "/api/v2/chat/agents") == expected["enabled"]
    assert writes(sim, "POST", "/api/v2/chat/agents") == expected["created"]
    total = len(sim.request_log)
    assert total == pages + expected["enabled"] + expected["created"]
    assert elapsed <= budget(sim, total), (elapsed, total)
    # Zendesk now agrees: every allowed requested address is an enabled agent.
    by_email = {a["email"].lower(): a for a in sim.chat_agents.values()}
    for row in ctx.db.query("SELECT email, status FROM chat_requests WHERE status != 'rejected'"):
        assert by_email[row["email"].lower()]["enabled"] is True
    new = by_email[f"new.person0@{DOMAIN}"]
    assert new["display_name"] == "New0"  # display name = first name, as in the seed


@pytest.mark.slow
def test_support_kind_batch_writes_nothing_to_chat_and_changes_no_support_role(ctx, sim_factory):
    """Done-when: on the Support kind a batch makes no write to /api/v2/chat/* and changes no
    user's custom_role_id, role or suspended; new people are created through the Users API; the
    rest are listed with admin_url and complete after the simulator plays the admin step."""
    sim = sim_factory(agents=150, admins=3, end_users=20, chat_agents=0, chat_kind="support",
                      rate_limit_per_minute=None, chat_per_minute=None, seed=5)
    ctx.settings.set("chat.domains", [DOMAIN])
    ctx.settings.set("chat.kind", "support")
    staff = [u for u in sim.users.values() if u["active"] and u["role"] in ("agent", "admin")
             and not u["suspended"] and u["email"].endswith(DOMAIN)]
    with_chat = [u for u in staff if sim.chat_access(u["id"])]
    without = [u for u in staff if not sim.chat_access(u["id"])]
    assert len(without) > 5
    before = {uid: (u["role"], u["custom_role_id"], u["suspended"]) for uid, u in sim.users.items()}
    for u in with_chat[:20] + without:
        rq.add_request(ctx.db, requester=f"lead@{DOMAIN}", email=u["email"], first_name="A", last_name="B")
    for i in range(5):
        rq.add_request(ctx.db, requester=f"lead@{DOMAIN}", email=f"new.person{i}@{DOMAIN}", first_name=f"N{i}",
                       last_name="P")
    with clients(ctx, sim) as http:
        sim.clear_log()
        result, _ = service.run_process(ctx.db, ctx.settings, http)
    assert result.counts() == {"already_enabled": 20, "needs_admin_step": len(without) + 5}
    assert not [p for m, p, _, _ in sim.request_log if p.startswith("/api/v2/chat") and m != "GET"]
    assert writes(sim, "POST", "/api/v2/users") == 5 and writes(sim, "PUT", "/api/v2/users") == 0
    assert all(before[uid] == (u["role"], u["custom_role_id"], u["suspended"]) for uid, u in sim.users.items()
               if uid in before)
    steps = service.admin_steps(ctx.db)
    assert len(steps) == len(without) + 5
    assert all(s["admin_url"] == f"{sim.base_url}/admin/people/team/members/{s['agent_id']}" for s in steps)
    for s in steps[:3]:
        sim.set_chat_access(s["agent_id"], True)  # the admin's click in Admin Center
    with clients(ctx, sim) as http:
        again, _ = service.run_process(ctx.db, ctx.settings, http)
    assert again.counts() == {"completed_after_admin_step": 3, "needs_admin_step": len(steps) - 3}
    assert len(service.admin_steps(ctx.db)) == len(steps) - 3
    log = [r["action"] for r in audit.recent_actions(ctx.db)]
    assert log.count(audit.COMPLETED) == 3


def test_auto_kind_is_detected_from_reads_without_a_write(ctx, sim_factory):
    sim = sim_factory(chat_kind="support")
    ctx.settings.set("chat.domains", [DOMAIN])
    rq.add_request(ctx.db, requester=f"lead@{DOMAIN}", email=f"fresh@{DOMAIN}", first_name="Fresh", last_name="One")
    with clients(ctx, sim) as http:
        sim.clear_log()
        result, _ = service.run_process(ctx.db, ctx.settings, http)
    assert result.mode == "support"
    assert ctx.settings.get("chat.kind_detected")["kind"] == "support"
    assert service.status(ctx)["kind_source"] == "detected"
    assert not [p for m, p, _, _ in sim.request_log if p.startswith("/api/v2/chat") and m != "GET"]
    [outcome] = result.outcomes
    assert outcome.status == "needs_admin_step" and outcome.admin_url.endswith(f"/members/{outcome.agent_id}")
    user = sim.users[outcome.agent_id]
    assert (user["role"], user["custom_role_id"]) == ("agent", None)  # no custom role unless the admin chose one
    sim.set_chat_access(outcome.agent_id, True)
    with clients(ctx, sim) as http:
        again, _ = service.run_process(ctx.db, ctx.settings, http)
    assert [o.status for o in again.outcomes] == ["completed_after_admin_step"]
    assert rq.status_counts(ctx.db) == {"completed_after_admin_step": 1}


@pytest.mark.parametrize("mode", ["standalone", "support"])
def test_failure_mid_batch_then_resume_does_nothing_twice(ctx, sim_factory, mode, monkeypatch):
    sim = sim_factory(agents=60, chat_agents=60, chat_mode=mode, new_agents_get_chat=True)
    ctx.settings.set("chat.domains", [DOMAIN])
    ctx.settings.set("chat.mode", mode)
    for i in range(12):
        rq.add_request(ctx.db, requester=f"lead@{DOMAIN}", email=f"p{i}@{DOMAIN}", first_name=f"P{i}",
                       last_name="Q")
    post = "/api/v2/chat/agents" if mode == "standalone" else "/api/v2/users"
    # The 4th create reaches Zendesk but the answer is cut off; the 8th never arrives.
    sim.faults.add(post, kind="cut", method="POST", after=3)
    sim.faults.add(post, kind="drop", method="POST", after=6)
    with clients(ctx, sim) as http:
        first, _ = service.run_process(ctx.db, ctx.settings, http)
    assert first.counts() == {"created": 10, "failed": 2}
    assert all("could not create" in o.reason for o in first.outcomes if o.status == "failed")
    if mode == "support":
        clients(ctx, sim).close()  # already connected: nothing to clear
    sim.clear_log()
    later(monkeypatch, 2)  # failed writes wait for their retry time (issue 15.12)
    with clients(ctx, sim) as http:
        second, _ = service.run_process(ctx.db, ctx.settings, http)
    assert second.counts() == {"created": 2}
    assert writes(sim, "POST", post) == 1  # only the one that never arrived is sent again
    people = sim.users.values() if mode == "support" else sim.chat_agents.values()
    emails = [p["email"] for p in people if re.fullmatch(rf"p\d+@{re.escape(DOMAIN)}", p["email"] or "")]
    assert sorted(emails) == sorted(f"p{i}@{DOMAIN}" for i in range(12))
    log = [r["action"] for r in audit.recent_actions(ctx.db)]
    assert log.count(audit.CREATED) == 12


def test_inactivity_preview_and_apply(ctx, sim):
    ctx.settings.set("chat.mode", "standalone")
    agents = sim.chat_agents
    ids = sorted(agents)
    now = time.time()

    def stamp(days):
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - days * 86400))

    owner = next(a for a in agents.values() if a["roles"]["owner"])
    plain = [i for i in ids if not agents[i]["roles"]["administrator"]]
    a_disable, a_delete, a_exempt, a_recent = (agents[i] for i in plain[:4])
    a_disable.update(last_login=stamp(100), enabled=True)
    a_delete.update(last_login=stamp(200))
    a_exempt.update(last_login=stamp(300))
    a_recent.update(last_login=stamp(5), enabled=True)
    owner["last_login"] = stamp(400)
    for i in plain[4:]:
        agents[i]["last_login"] = stamp(10)
    pol = Policy(90, 180, [a_exempt["email"].upper()])
    with clients(ctx, sim) as http:
        rows, by_id, backend = service.policy_preview(ctx.db, ctx.settings, http, pol)
        actions = {r.email: (r.action, r.why) for r in rows}
        assert actions[a_disable["email"]][0] == "disable" and "100 days" in actions[a_disable["email"]][1]
        assert actions[a_delete["email"]][0] == "delete"
        assert actions[a_exempt["email"]] == ("keep", f"exempt ({a_exempt['email'].lower()})")
        assert actions[owner["email"]][0] == "keep" and "owner" in actions[owner["email"]][1]
        assert actions[a_recent["email"]][0] == "keep"
        assert sim.chat_agents[a_delete["id"]]  # preview changed nothing
        counts = inactivity.apply(ctx.db, backend, rows, by_id)
    assert counts == {"disabled": 1, "deleted": 1, "failed": 0}
    assert a_delete["id"] not in sim.chat_agents
    assert sim.chat_agents[a_disable["id"]]["enabled"] is False
    assert owner["id"] in sim.chat_agents
    log = {r["action"] for r in audit.recent_actions(ctx.db)}
    assert {"Disabled", "Deleted"} <= log


def test_support_kind_never_changes_an_existing_agent(ctx, sim_factory):
    """An agent without Chat gets an admin step; a suspended full agent is never unsuspended
    (issue 15 item 3: the old Support backend sent suspended: false)."""
    sim = sim_factory(chat_kind="support")
    ctx.settings.set("chat.domains", [DOMAIN])
    ctx.settings.set("chat.kind", "support")
    no_chat = sim.add_user("Nora Nochat", f"nora@{DOMAIN}", "agent", sim.role_id("QA Lead"))
    sim.set_chat_access(no_chat["id"], False)
    held = sim.add_user("Sam Held", f"sam@{DOMAIN}", "agent")
    sim.suspend(held["id"])
    for u in (no_chat, held):
        rq.add_request(ctx.db, requester=f"lead@{DOMAIN}", email=u["email"], first_name="X", last_name="Y")
    with clients(ctx, sim) as http:
        sim.clear_log()
        result, _ = service.run_process(ctx.db, ctx.settings, http)
    assert [o.status for o in result.outcomes] == ["needs_admin_step", "rejected"]
    assert "never lifts a suspension" in result.outcomes[1].reason
    assert sim.users[held["id"]]["suspended"] is True
    assert sim.users[no_chat["id"]]["custom_role_id"] == sim.role_id("QA Lead")
    assert not [m for m, p, _, _ in sim.request_log if m in ("PUT", "POST", "DELETE")]


def test_end_user_upgrade_only_when_allowed(ctx, sim_factory):
    sim = sim_factory(chat_kind="support", new_agents_get_chat=True)
    ctx.settings.set("chat.domains", [DOMAIN])
    ctx.settings.set("chat.kind", "support")
    jane = sim.add_user("Jane Doe", f"jane.doe@{DOMAIN}", role="end-user")
    rq.add_request(ctx.db, requester=f"lead@{DOMAIN}", email=f"Jane.Doe@{DOMAIN.upper()}", first_name="Jane",
                   last_name="Doe")
    with clients(ctx, sim) as http:
        result, _ = service.run_process(ctx.db, ctx.settings, http)
    assert [o.status for o in result.outcomes] == ["needs_admin_step"]
    assert sim.users[jane["id"]]["role"] == "end-user"
    assert result.outcomes[0].admin_url.endswith(f"/agent/users/{jane['id']}")
    ctx.settings.set("chat.upgrade_end_users", True)
    sim.set_chat_access(jane["id"], True)  # takes effect once she is an agent
    with clients(ctx, sim) as http:
        again, _ = service.run_process(ctx.db, ctx.settings, http)
    assert [o.status for o in again.outcomes] == ["created"] and "upgraded" in again.outcomes[0].reason
    assert (sim.users[jane["id"]]["role"], sim.users[jane["id"]]["custom_role_id"]) == ("agent", None)


def test_faults_with_writes_in_flight_then_resume_sends_each_write_once(ctx, sim_factory, monkeypatch):
    """Four creates on the wire at a time; two break; the resume re-sends only the lost one."""
    sim = sim_factory(agents=60, chat_agents=60, chat_mode="standalone", latency=LATENCY, chat_per_minute=None)
    ctx.settings.set("chat.domains", [DOMAIN])
    ctx.settings.set("chat.mode", "standalone")
    n = 40
    for i in range(n):
        rq.add_request(ctx.db, requester=f"lead@{DOMAIN}", email=f"c{i}@{DOMAIN}", first_name=f"C{i}",
                       last_name="Q")
    post = "/api/v2/chat/agents"
    sim.faults.add(post, kind="cut", method="POST", after=10)  # made, answer lost
    sim.faults.add(post, kind="drop", method="POST", after=20)  # never made
    clients(ctx, sim).close()  # connect before the clock starts
    sim.clear_log()
    started = time.perf_counter()
    with clients(ctx, sim) as http:
        first, _ = service.run_process(ctx.db, ctx.settings, http)
    elapsed = time.perf_counter() - started
    assert first.counts() == {"created": n - 2, "failed": 2}
    assert writes(sim, "POST", post) == n  # one write per request, none repeated
    assert writes(sim, "GET", post) == 1  # 60 agents: one extract page
    assert len(sim.request_log) == n + 1
    assert elapsed < n * LATENCY  # overlapping writes: well under one latency per write
    assert rq.status_counts(ctx.db) == {"created": n - 2, "queued": 2}  # each waits for its retry time
    sim.clear_log()
    later(monkeypatch, 2)  # failed writes wait for their retry time (issue 15.12)
    with clients(ctx, sim) as http:
        second, _ = service.run_process(ctx.db, ctx.settings, http)
    assert second.counts() == {"created": 2}
    assert writes(sim, "POST", post) == 1  # only the dropped one is sent again
    emails = [a["email"] for a in sim.chat_agents.values() if re.fullmatch(rf"c\d+@{re.escape(DOMAIN)}", a["email"])]
    assert sorted(emails) == sorted(f"c{i}@{DOMAIN}" for i in range(n))
    log = [r["action"] for r in audit.recent_actions(ctx.db)]
    assert log.count(audit.CREATED) == n and log.count(audit.CREATING) == n + 1


def test_chat_rate_limit_with_writes_in_flight(ctx, sim_factory):
    """Past Chat's per-minute limit every request is still written exactly once.

    The client's waits move the simulator's clock instead of sleeping. Writes already on the
    wire when the window runs out may get a 429; those were not acted on and are retried.
    """
    sim = sim_factory(agents=20, chat_agents=20, chat_mode="standalone", chat_per_minute=10)
    ctx.settings.set("chat.domains", [DOMAIN])
    ctx.settings.set("chat.mode", "standalone")
    n = 25
    for i in range(n):
        rq.add_request(ctx.db, requester=f"lead@{DOMAIN}", email=f"r{i}@{DOMAIN}", first_name=f"R{i}",
                       last_name="Q")
    sim.clear_log()
    with clients(ctx, sim, sleep=sim.clock.advance) as http:
        sim.clear_log()
        result, _ = service.run_process(ctx.db, ctx.settings, http)
    assert result.counts() == {"created": n}
    posts = [s for m, p, _, s in sim.request_log if m == "POST" and p == "/api/v2/chat/agents"]
    assert posts.count(201) == n and set(posts) <= {201, 429}
    # At most the writes in flight when a window ran out are refused, once per window.
    windows = -(-(n + 1) // 10)
    assert posts.count(429) <= (windows - 1) * 3
    emails = [a["email"] for a in sim.chat_agents.values() if re.fullmatch(rf"r\d+@{re.escape(DOMAIN)}", a["email"])]
    assert sorted(emails) == sorted(f"r{i}@{DOMAIN}" for i in range(n))
