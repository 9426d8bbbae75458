"""The app's one date-time format: local time, ISO-like, ``YYYY-MM-DD HH:MM`` (seconds on request).

Zendesk and the database keep UTC ISO-8601 text (``2026-09-02T23:20:14Z``); tables and labels
show it through :func:`format_datetime` so every tab reads the same.
"""

from __future__ import annotations

from datetime import datetime, timezone

MINUTES = "%Y-%m-%d %H:%M"
SECONDS = "%Y-%m-%d %H:%M:%S"


def parse_datetime(value: object) -> datetime | None:
    """A timezone-aware datetime from ISO text or a datetime (naive means UTC), else None."""
    if isinstance(value, datetime):
        when = value
    elif isinstance(value, str) and value.strip():
        try:
            when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
    else:
        return None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def format_datetime(value: object, *, seconds: bool = False) -> str:
    """``value`` in local time as ``YYYY-MM-DD HH:MM`` (``:SS`` with ``seconds``); "" for nothing.

    Text that is not a date is returned unchanged, so a word such as "never" survives.
    """
    when = parse_datetime(value)
    if when is None:
        return "" if value is None else str(value)
    return when.astimezone().strftime(SECONDS if seconds else MINUTES)
