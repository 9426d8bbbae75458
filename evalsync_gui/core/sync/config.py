"""The user-sync configuration (roles, identifier, schedule, guard limit) and its live lists.

Stored as one JSON value under ``sync.config`` in the settings table. Changing the roles
or the identifier invalidates the incremental cursor, so the next run is a full listing
that re-evaluates everyone against the new rule.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from evalsync_gui.core.errors import UsageError
from evalsync_gui.core.sync import scope as scope_mod

SETTINGS_KEY = "sync.config"
_IDENTIFIER_RE = re.compile(r"^(default|external_id|user_fields\.[A-Za-z0-9_\-:.]+)$")
_LIMIT_RE = re.compile(r"^(default|\d+|\d+(\.\d+)?%)$")


@dataclass
class SyncConfig:
    """What to import and how often. ``roles`` holds the names of ``scope.ROLE_NAMES`` and 'custom:<id>'."""

    roles: list[str] = field(default_factory=list)
    identifier: str = "default"
    interval_hours: float = 6
    deactivation_limit: str = "default"
    enabled: bool = False

    def validate(self) -> "SyncConfig":
        """Raise UsageError with a one-line fix when a value is not acceptable."""
        if not self.roles:
            raise UsageError("Choose at least one group of users to import: "
                             f"{', '.join(scope_mod.ROLE_NAMES)} or custom:<id>.")
        try:
            scope_mod.Scope.from_roles(self.roles)
        except ValueError as exc:
            raise UsageError(f"Bad role list: {exc}.") from exc
        if not _IDENTIFIER_RE.fullmatch(self.identifier or "default"):
            raise UsageError("The identifier must be default, external_id or user_fields.<key>.")
        if not (0.05 <= float(self.interval_hours) <= 24 * 30):
            raise UsageError("The sync interval must be between 0.05 and 720 hours.")
        if not _LIMIT_RE.fullmatch(str(self.deactivation_limit)):
            raise UsageError("The deactivation limit must be default, a number (e.g. 25) or a percentage (e.g. 15%).")
        return self

    @property
    def scope(self) -> scope_mod.Scope:
        return scope_mod.Scope.from_roles(self.roles)

    @property
    def signature(self) -> str:
        """What, if changed, makes the previous cursors meaningless."""
        return f"{','.join(sorted(self.roles))}|{self.identifier or 'default'}|rules{scope_mod.RULES_VERSION}"


def load_config(ctx) -> SyncConfig:
    """The saved configuration, or an empty (unconfigured, disabled) one."""
    raw: dict[str, Any] = ctx.settings.get(SETTINGS_KEY) or {}
    known = {k: raw[k] for k in SyncConfig.__dataclass_fields__ if k in raw}
    cfg = SyncConfig(**known)
    cfg.roles = list(cfg.roles or [])
    cfg.identifier = cfg.identifier or "default"
    return cfg


def save_config(ctx, cfg: SyncConfig) -> None:
    """Validate and store ``cfg``; a new scope or identifier forces the next run to be full."""
    cfg.identifier = cfg.identifier or "default"
    cfg.validate()
    old = load_config(ctx)
    ctx.settings.set(SETTINGS_KEY, asdict(cfg))
    if old.signature != cfg.signature:
        from evalsync_gui.core.sync import state

        state.forget_incremental(ctx.db)


def is_configured(cfg: SyncConfig) -> bool:
    return bool(cfg.roles)


def describe_scope(cfg: SyncConfig, custom_roles: dict[int, str]) -> str:
    """The scope in plain words: "agents with the custom role Tier 1, and all admins"."""
    return scope_mod.describe(cfg.scope, custom_roles)


def fetch_custom_roles(client, on_plan: Callable[[bool], None] | None = None) -> list[dict]:
    """The account's custom roles (id, name, team_member_count, role_type...) from Zendesk.

    Custom roles exist on Enterprise plans only; other plans answer 403/404, which is an
    empty list, not an error. ``on_plan(available)`` learns which it was, so the caller can
    remember it (``core.chat.service.remember_custom_roles``) and hide custom-role choices.
    """
    from evalsync_gui.core.errors import NotFound, PermissionDenied

    try:
        roles = list(_all_pages(client, "/api/v2/custom_roles.json", "custom_roles"))
    except (NotFound, PermissionDenied):
        if on_plan is not None:
            on_plan(False)
        return []
    if on_plan is not None:
        on_plan(True)
    return roles


def fetch_user_fields(client) -> list[dict]:
    """The account's custom user fields (key, title, type, active...) from Zendesk."""
    return list(_all_pages(client, "/api/v2/user_fields.json", "user_fields"))


def _all_pages(client, path: str, key: str, max_pages: int = 50):
    """Small lists: follow ``next_page`` or ``links.next`` (same origin only) to the end."""
    url: str | None = path
    from evalsync_gui.core.errors import ResponseError

    seen: set[str] = set()
    for _ in range(max_pages):
        body = client.get(url) or {}
        items = body.get(key) if isinstance(body, dict) else None
        meta = body.get("meta") if isinstance(body, dict) else None
        links = body.get("links") if isinstance(body, dict) else None
        if not isinstance(items or [], list) or not isinstance(meta or {}, dict) or not isinstance(links or {}, dict):
            raise ResponseError(f"Zendesk sent a {key.replace('_', ' ')} list of the wrong shape; try again.")
        items, meta = items or [], meta or {}
        yield from items
        nxt = (links or {}).get("next") if "meta" in body else body.get("next_page")
        if not items or not nxt or meta.get("has_more") is False:
            return
        if not isinstance(nxt, str) or nxt in seen:
            raise ResponseError(f"Zendesk sent a {key.replace('_', ' ')} list of the wrong shape; try again.")
        seen.add(nxt)
        url = client.check_same_origin(nxt)


BACKOFF_FRACTION = 32  # the first retry after a failure waits interval / 32 (11 min at 6 h)
BACKOFF_MIN = timedelta(minutes=1)
_UNSUCCESSFUL = ("failed", "interrupted", "cancelled")


def backoff(interval_hours: float, failures: int) -> timedelta:
    """The wait after ``failures`` attempts in a row failed: doubling from a fraction of the
    interval, never more than the interval (a 6-hour schedule in an outage: 10 tries a day)."""
    interval = timedelta(hours=float(interval_hours))
    first = max(interval / BACKOFF_FRACTION, BACKOFF_MIN)
    return min(first * 2 ** min(max(failures, 1) - 1, 30), interval)


def next_due(ctx) -> datetime | None:
    """When the schedule should run next; None when disabled or unconfigured.

    One interval after the last run that got to the end (completed or held), but never
    sooner than :func:`backoff` after the last attempt when attempts failed since (a revoked
    token or an outage must not mean a run a minute). No run yet means: run now.
    """
    cfg = load_config(ctx)
    if not cfg.enabled or not cfg.roles:
        return None
    last = ctx.db.scalar(
        "SELECT max(id) FROM sync_runs WHERE dry_run = 0 AND status IN ('completed', 'held')") or 0
    now = datetime.now(timezone.utc)
    when = now
    if last:
        started = ctx.db.scalar("SELECT started_at FROM sync_runs WHERE id = ?", (last,))
        when = _parse_ts(started) + timedelta(hours=float(cfg.interval_hours))
    marks = ",".join("?" * len(_UNSUCCESSFUL))
    failures, latest = ctx.db.query(
        f"SELECT count(*), max(started_at) FROM sync_runs WHERE dry_run = 0 AND id > ? AND status IN ({marks})",
        (last, *_UNSUCCESSFUL))[0]
    if failures:
        when = max(when, _parse_ts(latest) + backoff(cfg.interval_hours, failures))
    return max(when, now)


def _parse_ts(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
