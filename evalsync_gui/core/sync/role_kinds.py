"""What kind of Zendesk team member a user is, as Zendesk means it, and whether they take a paid seat.

Zendesk describes a user with four fields (docs/ZENDESK.md section 3): ``role`` (end-user,
agent, admin), ``role_type`` (null/0 agent or custom-role agent, 1 light agent, 2 chat-only
agent, 3 contributor, 4 admin, 5 billing admin), ``custom_role_id`` and ``chat_only``. A
light agent, a chat-only agent and a contributor all have ``role: "agent"``, so a sync that
reads only ``role`` imports them as agents although none of them takes a paid Support seat.

:func:`classify` gives each user one :data:`KINDS` key. A doubtful value falls to the side
that removes nobody: an agent whose ``role_type`` is unknown is a full agent.
:func:`count_kinds` counts a listing by kind; :func:`tally_listing` reads the account's
agents and admins once and stores the counts (``sync_state`` key ``role_counts``).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

AGENT = "agent"
ADMIN = "admin"
LIGHT_AGENT = "light_agent"
CONTRIBUTOR = "contributor"
CHAT_ONLY = "chat_only"
END_USER = "end_user"

ROLE_TYPE_LIGHT_AGENT = 1
ROLE_TYPE_CHAT_AGENT = 2
ROLE_TYPE_CONTRIBUTOR = 3
COUNTS_KEY = "role_counts"


@dataclass(frozen=True)
class Kind:
    """One kind of team member: its scope name, its words, and whether it uses a paid seat."""

    key: str
    label: str
    paid_seat: bool
    seat_note: str
    #: ticked in a new scope; the kinds that take no paid Support seat start off
    default_on: bool


KINDS: dict[str, Kind] = {
    AGENT: Kind(AGENT, "Agents", True, "takes a paid agent seat", True),
    ADMIN: Kind(ADMIN, "Admins", True, "takes a paid agent seat", True),
    LIGHT_AGENT: Kind(LIGHT_AGENT, "Light agents", False,
                      "no paid Support seat (unless also a Chat, Guide or Explore agent)", False),
    CONTRIBUTOR: Kind(CONTRIBUTOR, "Contributors", False,
                      "no paid Support seat (unless also a Chat, Guide or Explore agent)", False),
    CHAT_ONLY: Kind(CHAT_ONLY, "Chat-only agents", False, "a Chat seat, no Support seat", False),
}
#: scope names of the kinds offered as separate choices, in display order
OPTIONAL_KINDS = (LIGHT_AGENT, CONTRIBUTOR, CHAT_ONLY)


def classify(role: Any, role_type: Any = None, chat_only: Any = False) -> str:
    """The kind of a user from Zendesk's fields (``custom_role_id`` names a role, not a kind)."""
    if role == "admin":
        return ADMIN  # role_type 4 (admin) or 5 (billing admin): both hold a paid seat
    if role != "agent":
        return END_USER
    if role_type == ROLE_TYPE_LIGHT_AGENT:
        return LIGHT_AGENT
    if role_type == ROLE_TYPE_CONTRIBUTOR:
        return CONTRIBUTOR
    if role_type == ROLE_TYPE_CHAT_AGENT or chat_only is True:
        return CHAT_ONLY
    return AGENT


def kind_of(user) -> str:
    """:func:`classify` for a :class:`~.users.ZendeskUser` (or anything with those attributes)."""
    return classify(user.role, getattr(user, "role_type", None), getattr(user, "chat_only", False))


def count_kinds(users: Iterable) -> Counter:
    """How many users of each kind (end users and deleted users are not counted)."""
    return Counter(kind for user in users if getattr(user, "active", True) and (kind := kind_of(user)) != END_USER)


def tally_listing(ctx, client, *, on_page: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Read every agent and admin once (cursor listing), count them by kind and store the counts.

    Returns ``{"counted_at": epoch s, "counts": {kind: n}, "paid_seats": n}``; every kind of
    :data:`KINDS` is present (0 when nobody). ``on_page(users_read)`` follows the progress.
    """
    from evalsync_gui.core.sync import fetch, state

    counts: Counter = Counter()
    read = 0
    for page in fetch.iter_listing(client, "role:agent,admin", [("role[]", "agent"), ("role[]", "admin")]):
        counts.update(count_kinds(page.users))
        read += len(page.users)
        if on_page is not None:
            on_page(read)
    result = summary(counts, time.time())
    with ctx.db.transaction() as conn:
        state.put(conn, COUNTS_KEY, result)
    return result


def summary(counts: Counter | dict[str, int], counted_at: float) -> dict[str, Any]:
    """The stored shape of a count (see :func:`tally_listing`)."""
    full = {key: int(counts.get(key, 0)) for key in KINDS}
    paid = sum(n for key, n in full.items() if KINDS[key].paid_seat)
    return {"counted_at": counted_at, "counts": full, "paid_seats": paid}


def last_counts(ctx_or_db) -> dict[str, Any] | None:
    """The counts of the last :func:`tally_listing`, or None when the account was never counted."""
    from evalsync_gui.core.sync import state

    db = getattr(ctx_or_db, "db", ctx_or_db)
    stored = state.get(db, COUNTS_KEY)
    return stored if isinstance(stored, dict) and isinstance(stored.get("counts"), dict) else None
