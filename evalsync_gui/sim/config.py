"""Settings for a simulated Zendesk account: organisation size, limits, OAuth behaviour."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class SimConfig:
    """What the simulator seeds and how it behaves.

    ``rate_limit_per_minute`` (and the incremental/chat limits) may be ``0`` or ``None`` to
    switch that limit off, which benchmarks use to measure the client, not the throttle.
    ``chat_mode`` is ``"standalone"`` (a writable Chat Agents API with its own agents) or
    ``"support"`` (the Chat account was created in Support: the Agents API is read-only
    and lists the Support agents whose role has chat access).
    """

    agents: int = 200
    admins: int = 5
    end_users: int = 500
    custom_roles: tuple[str, ...] = ("Tier 1", "Tier 2", "QA Lead")
    light_agents: int = 10
    contributors: int = 4  # role agent, role_type 3 (no paid seat)
    chat_only_agents: int = 6  # role agent, role_type 2, chat_only true
    suspended: int = 5
    deleted: int = 5
    chat_agents: int = 100
    chat_mode: str = "standalone"
    seed: int = 1
    subdomain: str = "abc-energy"
    rate_limit_per_minute: int | None = 700
    incremental_per_minute: int | None = 10
    chat_per_minute: int | None = 200
    latency: float = 0.0
    access_token_ttl: int = 1800
    refresh_token_ttl: int = 2_592_000
    auto_approve: bool = True
    gzip: bool = False  # gzip bodies > 1 KiB when the client accepts it (real Zendesk does)
    host: str = "127.0.0.1"
    port: int = 0

    def __post_init__(self) -> None:
        if self.chat_mode not in ("standalone", "support"):
            raise ValueError(f"chat_mode must be 'standalone' or 'support', not {self.chat_mode!r}")
        if self.admins < 1:
            raise ValueError("the simulated account needs at least one admin")
        self.custom_roles = tuple(self.custom_roles)
