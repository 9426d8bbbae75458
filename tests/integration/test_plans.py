"""Plans below Enterprise have no custom roles: user sync and Chat keep working (issue 12 point 6)."""

from __future__ import annotations

import pytest

from evalsync_gui.core.chat import service
from evalsync_gui.core.chat import requests as rq
from evalsync_gui.core.sync.config import SyncConfig, fetch_custom_roles, save_config
from evalsync_gui.core.sync.runner import run_sync
from evalsync_gui.core.zendesk.http import ApiTokenAuth, ZendeskHttp
from tests.chat_helpers import clients

DOMAIN = "abc-energy.example.com"


def support_client(sim) -> ZendeskHttp:
    return ZendeskHttp(sim.base_url, ApiTokenAuth(sim.admin_email, sim.api_token))


@pytest.mark.parametrize("chat_kind", ["writable", "support"])
def test_team_plan_runs_user_sync_and_chat_without_custom_roles(ctx, sim_factory, chat_kind):
    sim = sim_factory(plan="team", chat_kind=chat_kind, new_agents_get_chat=True)
    ctx.extras["sync_is_admin"] = True
    save_config(ctx, SyncConfig(roles=["agent", "admin"]))
    run = run_sync(ctx, client=support_client(sim))
    assert run.status in ("completed", "held") and run.new > 0, run.error
    with support_client(sim) as http:
        assert fetch_custom_roles(http, service.remember_custom_roles(ctx.settings)) == []
    assert service.custom_roles_available(ctx.settings) is False  # the GUI hides custom-role choices
    ctx.settings.set("chat.domains", [DOMAIN])
    rq.add_request(ctx.db, requester=f"lead@{DOMAIN}", email=f"tess@{DOMAIN}", first_name="Tess", last_name="Team")
    with clients(ctx, sim) as http:
        result, _ = service.run_process(ctx.db, ctx.settings, http)
        assert service.load_custom_roles(ctx.settings, http.support) == []
    assert [o.status for o in result.outcomes] == ["created"]
    assert service.status(ctx)["custom_roles_available"] is False


def test_enterprise_plan_keeps_the_flag_on(ctx, sim):
    with support_client(sim) as http:
        assert fetch_custom_roles(http, service.remember_custom_roles(ctx.settings))
    assert service.custom_roles_available(ctx.settings) is True
