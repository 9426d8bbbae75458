"""Zendesk's API-token retirement timeline, and how long EvalSync's token has gone unused.

Facts (docs/ZENDESK.md section 1): from 2026-07-28 API tokens unused for 30 days are
deactivated; from 2026-10-27 no account can create new API tokens; on 2027-04-30 every API
token is deactivated. An admin who pauses sync for a month therefore loses the token and
cannot make a new one: EvalSync warns once the token has gone unused for
:data:`WARN_AFTER_DAYS` days and points to OAuth.

"Used" means a request EvalSync made with the token that Zendesk accepted; EvalSync records
the time on the connection (``ConnectionInfo.token_last_used_at``). Before the first such
record, the time the connection was last checked stands in.
"""

from __future__ import annotations

from datetime import date, datetime, timezone

from evalsync_gui.core.auth.connection import ConnectionInfo
from evalsync_gui.core.chat.inactivity import parse_when  # ISO 8601 (Z or offset) to aware datetime

UNUSED_DEACTIVATION_DAYS = 30
WARN_AFTER_DAYS = 20
UNUSED_RULE_FROM = date(2026, 7, 28)
NO_NEW_TOKENS_FROM = date(2026, 10, 27)
ALL_DEACTIVATED_ON = date(2027, 4, 30)


def unused_days(info: ConnectionInfo, now: datetime | None = None) -> int | None:
    """Whole days since the API token was last used (None for OAuth, or when nothing is known)."""
    if info.method != "api_token":
        return None
    last = parse_when(info.token_last_used_at) or parse_when(info.checked_at)
    if last is None:
        return None
    now = now or datetime.now(timezone.utc)
    return max(0, (now - last).days)


def unused_warning(info: ConnectionInfo, now: datetime | None = None) -> str | None:
    """A warning when the token has gone unused for WARN_AFTER_DAYS days or more, else None."""
    days = unused_days(info, now)
    if days is None or days < WARN_AFTER_DAYS:
        return None
    left = UNUSED_DEACTIVATION_DAYS - days
    when = f"in {left} day{'s' if left != 1 else ''}" if left > 0 else "already (if Zendesk has not seen it used)"
    now = now or datetime.now(timezone.utc)
    creation = "new tokens can no longer be created" if now.date() >= NO_NEW_TOKENS_FROM else \
        "new tokens cannot be created from 27 October 2026"
    return (f"The API token has not been used for {days} days: Zendesk deactivates it {when}, and {creation}. "
            "Sync now to keep it alive, and switch to OAuth.")
