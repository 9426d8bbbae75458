"""User sync against the Zendesk simulator over loopback: real HTTP, real SQLite."""

from __future__ import annotations

from evalsync_gui.core.sync.config import SyncConfig, save_config
from evalsync_gui.core.sync.runner import run_sync
from evalsync_gui.core.zendesk.http import ApiTokenAuth, ZendeskHttp


def _client(sim):
    return ZendeskHttp(sim.base_url, ApiTokenAuth(sim.admin_email, sim.api_token))


def _staff(sim_users):
    return [u for u in sim_users if u["role"] in ("agent", "admin") and u["active"] and not u["suspended"]]


def test_full_then_incremental_only_gets(ctx, sim):
    ctx.extras["sync_is_admin"] = True
    save_config(ctx, SyncConfig(roles=["agent", "admin"]))
    first = run_sync(ctx, client=_client(sim))
    assert first.status in ("completed", "held") and first.mode == "full" and first.new > 0, first.error
    n_pending = ctx.db.scalar("SELECT count(*) FROM users WHERE status = 'pending'")
    assert n_pending > 0
    ids = [r["zendesk_id"] for r in ctx.db.query("SELECT zendesk_id FROM users WHERE status = 'pending' LIMIT 3")]
    sim.advance(120)
    sim.rename(ids[0], "Renamed Person")
    sim.suspend(ids[1])
    sim.advance(120)
    second = run_sync(ctx, client=_client(sim))
    assert second.mode == "incremental" and second.status == "completed", second.error
    assert second.updated == 1 and second.deactivated == 1
    assert ctx.db.scalar("SELECT name FROM users WHERE zendesk_id = ?", (ids[0],)) == "Renamed Person"
    sim.advance(120)
    third = run_sync(ctx, client=_client(sim))
    assert third.requests <= 3 and third.new == third.updated == third.deactivated == 0
    assert {entry[0] for entry in sim.request_log} == {"GET"}
