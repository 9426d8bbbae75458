"""Support-mode Chat requests for addresses Zendesk already knows, over real loopback HTTP
against the simulator, with confirmations through a real local SMTP server (aiosmtpd)."""

from __future__ import annotations

import pytest

from evalsync_gui.core.chat import audit, mailer, processor, service
from evalsync_gui.core.chat import requests as rq
from evalsync_gui.core.chat.agents_api import SupportChat
from evalsync_gui.core.zendesk.http import ApiTokenAuth, RetryPolicy, ZendeskHttp
from tests.core.test_chat_mailer import smtp_server  # noqa: F401 - the real SMTP server fixture

DOMAIN = "abc-energy.example.com"


def client(sim) -> ZendeskHttp:
    return ZendeskHttp(sim.base_url, ApiTokenAuth(sim.admin_email, sim.api_token),
                       retry=RetryPolicy(backoff_base=0.01, backoff_max=0.05))


@pytest.fixture
def support(ctx, sim_factory, smtp_server):  # noqa: F811
    ctl, inbox = smtp_server
    sim = sim_factory(chat_mode="support")
    ctx.settings.set("chat.domains", [DOMAIN])
    ctx.settings.set("chat.mode", "support")
    ctx.settings.set("chat.support_role", sim.role_id("Tier 1"))
    ctx.settings.set("chat.smtp", mailer.SmtpConfig("127.0.0.1", ctl.port, "none", "", f"evalsync@{DOMAIN}")
                     .to_settings())
    return sim, inbox


def ask(ctx, email, first="Jane", last="Doe"):
    rq.add_request(ctx.db, requester=f"lead@{DOMAIN}", email=email, first_name=first, last_name=last)


def calls(sim) -> list[str]:
    return [f"{m} {p.split('.json')[0]}" for m, p, _, _ in sim.request_log]


def test_end_user_is_upgraded_logged_and_emailed(ctx, support):
    sim, inbox = support
    jane = sim.add_user("Jane Doe", f"jane.doe@{DOMAIN}", role="end-user")  # filed a ticket once
    ask(ctx, f"Jane.Doe@{DOMAIN.upper()}")  # the form's casing differs from Zendesk's
    sim.clear_log()
    with client(sim) as http:
        result, mail = service.run_process(ctx.db, ctx.settings, http)
    assert [(o.status, o.agent_id) for o in result.outcomes] == [("created", jane["id"])]
    assert "upgraded" in result.outcomes[0].reason
    # One lookup after the refused create, one role change; no second create.
    assert [c for c in calls(sim) if c not in ("GET /api/v2/users", "GET /api/v2/custom_roles")] == [
        "POST /api/v2/users", "GET /api/v2/users/search", f"PUT /api/v2/users/{jane['id']}"]
    after = sim.users[jane["id"]]
    assert (after["role"], after["custom_role_id"], after["suspended"]) == ("agent", sim.role_id("Tier 1"), False)
    assert sim.chat_agent(jane["id"])["enabled"] is True  # Zendesk now lists her as a chat agent
    log = [(r["action"], r["zendesk_status"]) for r in reversed(audit.recent_actions(ctx.db))]
    assert log == [(audit.CREATING, None), (audit.UPGRADED, 200)]
    assert (mail.sent, mail.failed) == (1, 0)
    [message] = inbox.messages
    assert message["To"] == f"lead@{DOMAIN}" and message["Subject"] == "Chat account created for Jane Doe"
    # Processing again finds her enabled: nothing more is sent to Zendesk or by mail.
    ask(ctx, f"jane.doe@{DOMAIN}")
    sim.clear_log()
    with client(sim) as http:
        again, _ = service.run_process(ctx.db, ctx.settings, http)
    assert [o.status for o in again.outcomes] == ["already_enabled"]
    assert not any(c.startswith(("POST", "PUT")) for c in calls(sim)) and len(inbox.messages) == 1


def test_suspended_and_deleted_end_users_are_rejected_with_a_reason(ctx, support):
    sim, inbox = support
    sus = sim.add_user("Sam Sus", f"sam.sus@{DOMAIN}", role="end-user")
    sim.suspend(sus["id"])
    gone = sim.add_user("Gil Gone", f"gil.gone@{DOMAIN}", role="end-user")
    sim.delete(gone["id"])
    ask(ctx, sus["email"], "Sam", "Sus")
    ask(ctx, gone["email"], "Gil", "Gone")
    sim.clear_log()
    with client(sim) as http:
        result, mail = service.run_process(ctx.db, ctx.settings, http)
    assert [o.status for o in result.outcomes] == ["rejected", "rejected"]
    assert result.outcomes[0].reason.startswith(f"{sus['email']} is a suspended end-user in Zendesk")
    assert "probably deleted" in result.outcomes[1].reason
    assert not any(c.startswith("PUT") for c in calls(sim))  # neither was touched
    assert sim.users[sus["id"]]["role"] == "end-user" and sim.users[sus["id"]]["suspended"] is True
    assert rq.status_counts(ctx.db) == {"rejected": 2}  # final: not retried by the next batch
    rows = ctx.db.query("SELECT reason FROM chat_requests ORDER BY id")
    assert "unsuspend them in Zendesk" in rows[0]["reason"] and "restore" in rows[1]["reason"]
    assert mail.sent == 0 and inbox.messages == []


def test_create_that_races_another_admin_is_recovered(ctx, support):
    """Between the batch's extract and its create, someone else adds the person in Zendesk."""
    sim, inbox = support
    racer, late = f"rita.race@{DOMAIN}", f"carl.late@{DOMAIN}"
    ask(ctx, racer, "Rita", "Race")
    ask(ctx, late, "Carl", "Late")

    class RacedSupport(SupportChat):
        def extract(self, on_page=None):
            agents = super().extract(on_page)
            sim.add_user("Rita Race", racer, "agent", sim.role_id("QA Lead"))  # an agent without chat
            sim.add_user("Carl Late", late, "agent", sim.role_id("Tier 1"))  # already has chat
            return agents

    tpls = mailer.templates_from_settings(None)
    sim.clear_log()
    with client(sim) as http:
        backend = RacedSupport(http, sim.role_id("Tier 1"))
        result = processor.process_batch(ctx.db, backend, [DOMAIN], compose=lambda s, r: mailer.compose(tpls, s, r))
        mail = service.send_outbox(ctx.db, ctx.settings)
    assert [(o.email, o.status) for o in result.outcomes] == [(racer, "enabled"), (late, "already_enabled")]
    assert sum(c == "POST /api/v2/users" for c in calls(sim)) == 2  # one create each, never repeated
    assert sum(c == "GET /api/v2/users/search" for c in calls(sim)) == 2
    assert sum(c.startswith("PUT") for c in calls(sim)) == 1  # Rita's enable only
    rita = next(u for u in sim.users.values() if u["email"] == racer)
    assert rita["custom_role_id"] == sim.role_id("Tier 1")
    assert rq.status_counts(ctx.db) == {"enabled": 1, "already_enabled": 1}
    assert mail.sent == 1 and inbox.messages[0]["Subject"] == "Chat account enabled for Rita Race"
