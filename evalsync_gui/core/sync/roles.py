"""Custom-role names for the directory's "Custom role" column.

Zendesk users carry only a ``custom_role_id``; the names come from ``GET
/api/v2/custom_roles`` (one request, a few dozen roles). A sync reads them at most once
per run, and only when a role matters (the scope names a custom role or a synced user has
one) and the cached copy is missing, older than a day, or the run is a full listing.
The cache lives in ``sync_state`` under ``custom_roles``::

    {"fetched_at": epoch seconds, "names": {"<id>": "<name>"}}

Names are cosmetic: a failed read of them never fails a sync.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time

from evalsync_gui.core.errors import AuthError, ZendeskError
from evalsync_gui.core.sync import state

log = logging.getLogger("evalsync.sync")
CACHE = "custom_roles"
MAX_AGE_SECONDS = 24 * 3600


def cached_names(conn_or_db) -> dict[int, str]:
    """Role id -> name as last read from Zendesk (empty when never read)."""
    cache = state.get(conn_or_db, CACHE) or {}
    names = cache.get("names") if isinstance(cache, dict) else None
    return {int(k): v for k, v in (names or {}).items() if str(k).isdigit() and isinstance(v, str)}


def needs_refresh(conn_or_db, *, full_listing: bool, now: float | None = None) -> bool:
    """True when the cached names are missing, a day old, or this run read a full listing."""
    if full_listing:
        return True
    cache = state.get(conn_or_db, CACHE) or {}
    fetched = cache.get("fetched_at") if isinstance(cache, dict) else None
    if not isinstance(fetched, (int, float)):
        return True
    return (now if now is not None else time.time()) - fetched > MAX_AGE_SECONDS


def fetch_names(client) -> dict[int, str] | None:
    """Read the account's role names (one request); None when Zendesk could not say."""
    from evalsync_gui.core.sync.config import fetch_custom_roles

    try:
        roles = fetch_custom_roles(client)
    except (ZendeskError, AuthError) as exc:
        log.warning("custom role names not refreshed: %s", exc)
        return None
    names: dict[int, str] = {}
    for role in roles:
        if isinstance(role, dict) and type(role.get("id")) is int and isinstance(role.get("name"), str):
            names[role["id"]] = role["name"]
    return names


def store_names(conn: sqlite3.Connection, names: dict[int, str], now: float | None = None, *,
                fill: bool = True) -> int:
    """Cache ``names`` and put them on the synced users whose role name is new or renamed.

    A role whose name the cache already held needs no pass over the directory: every row
    written while it was cached got that name (see ``apply``); ``fill=False`` skips the pass
    altogether (a first import, whose rows all got the names as they were written). Returns
    the rows changed.
    """
    old = cached_names(conn)
    state.put(conn, CACHE, {"fetched_at": now if now is not None else time.time(),
                            "names": {str(k): v for k, v in names.items()}})
    new = {rid: name for rid, name in names.items() if old.get(rid) != name}
    if not new or not fill:
        return 0
    # One pass over the directory for all new names (custom_role_id has no index): a JSON
    # object maps each role id to its name.
    return conn.execute(
        "UPDATE users SET custom_role_name = json_extract(:names, '$.\"' || custom_role_id || '\"') "
        "WHERE zendesk_id IS NOT NULL AND custom_role_id IN (SELECT CAST(key AS INTEGER) FROM json_each(:names)) "
        "AND custom_role_name IS NOT json_extract(:names, '$.\"' || custom_role_id || '\"')",
        {"names": json.dumps({str(rid): name for rid, name in new.items()})}).rowcount
