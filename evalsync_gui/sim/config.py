"""Settings for a simulated Zendesk account: organisation size, limits, OAuth behaviour."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class SimConfig:
    """What the simulator seeds and how it behaves.

    ``rate_limit_per_minute`` (and the incremental/chat limits) may be ``0`` or ``None`` to
    switch that limit off, which benchmarks use to measure the client, not the throttle.
    ``chat_kind`` is ``"writable"`` (a Chat account managed outside Support: a writable Chat
    Agents API with its own agents) or ``"support"`` (Chat created in Support: the Agents API
    is read-only and lists the Support team members whose Chat entitlement is on; Admin Center,
    played by ``Simulator.set_chat_access``, switches it). ``chat_mode`` is the old name
    (``standalone`` = writable). ``plan`` ``team``/``professional`` refuse custom roles (403),
    as Zendesk offers them on Enterprise only. The Chat OAuth client is confidential by
    default (``chat_client_kind="public"`` refuses client_credentials) and accepts only
    ``chat_redirect_uris``.
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
    chat_kind: str = "writable"
    chat_mode: str | None = None  # deprecated: standalone | support
    plan: str = "enterprise"
    chat_client_kind: str = "confidential"
    chat_redirect_uris: tuple[str, ...] = ("http://127.0.0.1:47123/callback",)
    new_agents_get_chat: bool = False  # Support kind: does a new agent start with Chat on?
    # The Support OAuth client's registered redirect URLs; None keeps the tests' convenience of
    # any loopback address, a tuple makes it strict like Zendesk (and like the Chat client).
    support_redirect_uris: tuple[str, ...] | None = None
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
        if self.chat_mode is not None:
            if self.chat_mode not in ("standalone", "support"):
                raise ValueError(f"chat_mode must be 'standalone' or 'support', not {self.chat_mode!r}")
            self.chat_kind = "writable" if self.chat_mode == "standalone" else "support"
        if self.chat_kind not in ("writable", "support"):
            raise ValueError(f"chat_kind must be 'writable' or 'support', not {self.chat_kind!r}")
        if self.plan not in ("team", "professional", "enterprise"):
            raise ValueError(f"plan must be team, professional or enterprise, not {self.plan!r}")
        if self.plan != "enterprise":
            self.custom_roles = ()  # custom agent roles are an Enterprise feature
        self.chat_redirect_uris = tuple(self.chat_redirect_uris)
        if self.admins < 1:
            raise ValueError("the simulated account needs at least one admin")
        self.custom_roles = tuple(self.custom_roles)
