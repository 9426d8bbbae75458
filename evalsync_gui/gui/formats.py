"""One way to show a date and time everywhere in the window.

The database and Zendesk speak UTC ISO-8601 (``2026-09-02T23:20:14Z``); an admin reads local
time. Every table, label and log line of the GUI goes through :func:`format_datetime` so the
same moment looks the same on every tab: ``YYYY-MM-DD HH:MM`` (ISO-like, sorts as text), with
``:SS`` where seconds matter (the action log, timestamps of single events).
"""

from __future__ import annotations

from datetime import datetime, timezone

_MINUTES = "%Y-%m-%d %H:%M"
_SECONDS = "%Y-%m-%d %H:%M:%S"


def _parse(value: str) -> datetime | None:
    """An ISO-8601 text (``Z``, an offset, or none meaning UTC, as SQLite writes) or ``None``."""
    text = value.strip()
    if not text:
        return None
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def format_datetime(value: str | datetime | float | int | None, seconds: bool = False) -> str:
    """``value`` in local time as ``YYYY-MM-DD HH:MM`` (``:SS`` appended when ``seconds``).

    Accepts ISO-8601 text (a missing offset means UTC: the database stores UTC), an aware or
    naive (UTC) :class:`datetime`, or a POSIX timestamp. ``None`` or empty text gives ``""``;
    text that is not a date is returned unchanged, so nothing the user should see is lost.
    """
    if value is None or value == "":
        return ""
    if isinstance(value, datetime):
        when: datetime | None = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        when = datetime.fromtimestamp(float(value), tz=timezone.utc)
    else:
        when = _parse(str(value))
        if when is None:
            return str(value)
    return when.astimezone().strftime(_SECONDS if seconds else _MINUTES)
