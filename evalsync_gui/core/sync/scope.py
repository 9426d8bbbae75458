"""Which Zendesk users a sync imports, and that rule in plain words.

The scope is the union of the ticked groups:

* ``agent``        every user with role ``agent`` (whatever their custom role),
* ``admin``        every user with role ``admin``,
* ``custom:<id>``  agents whose ``custom_role_id`` is ``<id>`` (listed with ``permission_set``).

End users are never in scope. A user counts as *present* only when also ``active`` (not
deleted) and not ``suspended``; :func:`zendesk_state` names which of those it is.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from evalsync_gui.core.sync.users import ZendeskUser

IN_SCOPE = "in_scope"
SUSPENDED = "suspended"
DELETED = "deleted"
OUT_OF_SCOPE = "out_of_scope"


@dataclass(frozen=True)
class Scope:
    """The parsed role selection of a :class:`~.config.SyncConfig`."""

    agents: bool = False
    admins: bool = False
    custom_ids: frozenset[int] = frozenset()

    @classmethod
    def from_roles(cls, roles: Iterable[str]) -> "Scope":
        agents = admins = False
        custom: set[int] = set()
        for role in roles:
            role = role.strip()
            if role == "agent":
                agents = True
            elif role == "admin":
                admins = True
            elif role.startswith("custom:") and role[7:].isdigit():
                custom.add(int(role[7:]))
            else:
                raise ValueError(f"unknown role {role!r}: use agent, admin or custom:<id>")
        return cls(agents, admins, frozenset(custom))

    @property
    def empty(self) -> bool:
        return not (self.agents or self.admins or self.custom_ids)

    def covers(self, user: ZendeskUser) -> bool:
        """True when the user's role puts them in scope (ignoring active/suspended)."""
        role = user.role
        if role == "admin":
            return self.admins
        if role == "agent":
            return self.agents or user.custom_role_id in self.custom_ids
        return False

    def listings(self) -> list[tuple[str, list[tuple[str, str]]]]:
        """The cursor listings that together return every in-scope user: (key, query params).

        One ``role[]`` listing covers agents and admins; a custom role needs its own
        ``permission_set`` listing only when plain agents are not ticked anyway.
        """
        out: list[tuple[str, list[tuple[str, str]]]] = []
        roles = [r for r, on in (("agent", self.agents), ("admin", self.admins)) if on]
        if roles:
            out.append(("role:" + ",".join(roles), [("role[]", r) for r in roles]))
        if not self.agents:
            for cid in sorted(self.custom_ids):
                out.append((f"permission_set:{cid}", [("permission_set", str(cid))]))
        return out


def zendesk_state(user: ZendeskUser, scope: Scope) -> str:
    """Classify a Zendesk user: in scope and present, suspended, deleted or out of scope."""
    if not user.active:
        return DELETED
    if not scope.covers(user):
        return OUT_OF_SCOPE
    if user.suspended:
        return SUSPENDED
    return IN_SCOPE


def describe(scope: Scope, custom_roles: Mapping[int, str] | None = None) -> str:
    """The rule in plain words, e.g. "agents with the custom role Tier 1, and all admins"."""
    names = custom_roles or {}
    parts: list[str] = []
    if scope.agents:
        parts.append("all agents")
    elif scope.custom_ids:
        labels = [names.get(cid, f"#{cid}") for cid in sorted(scope.custom_ids)]
        noun = "role" if len(labels) == 1 else "roles"
        parts.append(f"agents with the custom {noun} {_join(labels, 'or')}")
    if scope.admins:
        parts.append("all admins")
    if not parts:
        return "nobody (tick at least one role)"
    return _join(parts, "and", comma_before=True)


def _join(items: list[str], word: str, comma_before: bool = False) -> str:
    """"a, b or c"; with ``comma_before`` "a, and b" (the clauses of the scope rule)."""
    if len(items) == 1:
        return items[0]
    head = ", ".join(items[:-1])
    return f"{head}{',' if comma_before else ''} {word} {items[-1]}"
