"""Which Zendesk users a sync imports, and that rule in plain words.

The scope is the union of the ticked groups (kinds as in :mod:`.role_kinds`):

* ``agent``        agents who take a paid seat (role ``agent``, role_type null or 0, any custom role),
* ``admin``        every user with role ``admin`` (admins and billing admins),
* ``light_agent``  light agents (role_type 1), off by default,
* ``contributor``  contributors (role_type 3), off by default,
* ``chat_only``    chat-only agents (role_type 2 or ``chat_only: true``), off by default,
* ``custom:<id>``  agents whose ``custom_role_id`` is ``<id>`` (listed with ``permission_set``),
  whatever their kind: naming a role is an explicit choice.

Before role_type was read, ``agent`` also took in the three agent kinds without a paid
seat; :data:`RULES_VERSION` in the configuration's signature makes the first sync after
that change a full listing that re-reads everyone against the new rule.

End users are never in scope. A user counts as *present* only when also ``active`` (not
deleted) and not ``suspended``; :func:`zendesk_state` names which of those it is.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from evalsync_gui.core.sync import role_kinds
from evalsync_gui.core.sync.users import ZendeskUser

IN_SCOPE = "in_scope"
SUSPENDED = "suspended"
DELETED = "deleted"
OUT_OF_SCOPE = "out_of_scope"
RULES_VERSION = 2  # 2: "agent" no longer includes light agents, contributors, chat-only agents
ROLE_NAMES = ("agent", "admin", *role_kinds.OPTIONAL_KINDS)


@dataclass(frozen=True)
class Scope:
    """The parsed role selection of a :class:`~.config.SyncConfig`."""

    agents: bool = False
    admins: bool = False
    custom_ids: frozenset[int] = frozenset()
    #: the kinds without a paid Support seat that are ticked (role_kinds.OPTIONAL_KINDS keys)
    extra_kinds: frozenset[str] = frozenset()

    @classmethod
    def from_roles(cls, roles: Iterable[str]) -> "Scope":
        agents = admins = False
        custom: set[int] = set()
        extra: set[str] = set()
        for role in roles:
            role = role.strip()
            if role == "agent":
                agents = True
            elif role == "admin":
                admins = True
            elif role in role_kinds.OPTIONAL_KINDS:
                extra.add(role)
            elif role.startswith("custom:") and role[7:].isdigit():
                custom.add(int(role[7:]))
            else:
                raise ValueError(f"unknown role {role!r}: use {', '.join(ROLE_NAMES)} or custom:<id>")
        return cls(agents, admins, frozenset(custom), frozenset(extra))

    @property
    def empty(self) -> bool:
        return not (self.agents or self.admins or self.custom_ids or self.extra_kinds)

    @property
    def any_agent_kind(self) -> bool:
        """True when some kind of role-``agent`` user is ticked (one ``role[]=agent`` listing reads them)."""
        return self.agents or bool(self.extra_kinds)

    def covers(self, user: ZendeskUser) -> bool:
        """True when the user's role puts them in scope (ignoring active/suspended)."""
        kind = role_kinds.kind_of(user)
        if kind == role_kinds.ADMIN:
            return self.admins
        if kind == role_kinds.END_USER:
            return False
        if user.custom_role_id is not None and user.custom_role_id in self.custom_ids:
            return True
        return self.agents if kind == role_kinds.AGENT else kind in self.extra_kinds

    def listings(self) -> list[tuple[str, list[tuple[str, str]]]]:
        """The cursor listings that together return every in-scope user: (key, query params).

        One ``role[]`` listing covers agents (of every kind: Zendesk cannot filter by
        role_type) and admins; a custom role needs its own ``permission_set`` listing only
        when no kind of agent is read anyway.
        """
        out: list[tuple[str, list[tuple[str, str]]]] = []
        roles = [r for r, on in (("agent", self.any_agent_kind), ("admin", self.admins)) if on]
        if roles:
            out.append(("role:" + ",".join(roles), [("role[]", r) for r in roles]))
        if not self.any_agent_kind:
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
        parts.append("all agents with a paid seat")
    elif scope.custom_ids:
        labels = [names.get(cid, f"#{cid}") for cid in sorted(scope.custom_ids)]
        noun = "role" if len(labels) == 1 else "roles"
        parts.append(f"agents with the custom {noun} {_join(labels, 'or')}")
    if scope.admins:
        parts.append("all admins")
    parts += [role_kinds.KINDS[k].label.lower() for k in role_kinds.OPTIONAL_KINDS if k in scope.extra_kinds]
    if not parts:
        return "nobody (tick at least one role)"
    return _join(parts, "and", comma_before=True)


def _join(items: list[str], word: str, comma_before: bool = False) -> str:
    """"a, b or c"; with ``comma_before`` "a, and b" (the clauses of the scope rule)."""
    if len(items) == 1:
        return items[0]
    head = ", ".join(items[:-1])
    return f"{head}{',' if comma_before else ''} {word} {items[-1]}"
