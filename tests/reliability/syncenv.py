"""A simulator plus a configured data folder, and the checks every sync-fault test repeats."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pytest

from evalsync_gui.core.zendesk.http import ApiTokenAuth, RetryPolicy, ZendeskHttp

from .helpers import integrity_ok, no_duplicate_zendesk_users

FAST = RetryPolicy(max_attempts=3, backoff_base=0.01, backoff_max=0.02, rate_limit_budget=5)


@dataclass
class SyncEnv:
    sim: object
    ctx: object

    def client(self, retry: RetryPolicy = FAST, **kw) -> ZendeskHttp:
        kw.setdefault("sleep", lambda s: None)
        return ZendeskHttp(self.sim.base_url, ApiTokenAuth(self.sim.admin_email, self.sim.api_token),
                           retry=retry, **kw)

    def sync(self, **kw):
        from evalsync_gui.core.sync.runner import run_sync

        client = kw.pop("client", None) or self.client()
        try:
            return run_sync(self.ctx, client=client, **kw)
        finally:
            client.close()

    @property
    def db_path(self) -> Path:
        return Path(self.ctx.db.path)

    def rows(self, sql: str, params=()) -> list[tuple]:
        conn = sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True)
        try:
            return [tuple(r) for r in conn.execute(sql, params)]
        finally:
            conn.close()

    def directory(self) -> dict[int, tuple]:
        """Zendesk-linked users as the admin sees them (what a clean sync must reproduce)."""
        return {r[0]: r[1:] for r in self.rows(
            "SELECT zendesk_id, name, email, status, zendesk_role, custom_role_id FROM users "
            "WHERE zendesk_id IS NOT NULL")}

    def deactivated(self) -> int:
        return self.rows("SELECT COUNT(*) FROM users WHERE status = 'deactivated'")[0][0]

    def consistent(self) -> None:
        integrity_ok(self.db_path)
        no_duplicate_zendesk_users(self.db_path)


def make_env(tmp_path, sim_kwargs: dict | None = None, roles=("agent", "admin")):
    import evalsync_gui.sim as sim_mod
    from evalsync_gui.core.context import AppContext
    from evalsync_gui.core.sync.config import SyncConfig, save_config

    cfg = {"agents": 250, "admins": 3, "end_users": 20, "chat_agents": 5, "rate_limit_per_minute": None,
           "suspended": 2, "deleted": 2}
    cfg.update(sim_kwargs or {})
    sim = sim_mod.Simulator(sim_mod.SimConfig(**cfg)).start()
    ctx = AppContext.create(tmp_path / "data")
    ctx.extras["sync_is_admin"] = False  # full listings unless a test asks for the export
    save_config(ctx, SyncConfig(roles=list(roles)))
    return SyncEnv(sim, ctx)
