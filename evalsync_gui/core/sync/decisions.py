"""The sync decision table: (Zendesk user, local row) -> one small action, with no I/O.

Like vdirsyncer's ``_get_actions``, every row of the table is a commented branch of
:func:`decide`, and each is tested on its own (tests/core/test_sync_decisions.py).

    Zendesk says              EvalSync has                      action
    ------------------------  --------------------------------  ------------------------------------
    in scope, present         nothing                           Create (Pending, uses no licence)
    in scope, present         linked or matched, not deact.     Update name/e-mail/role; link it
    in scope, present         deactivated by sync               Update + back to Pending, "returned"
    in scope, present         deactivated by the admin          Update fields only; stays deactivated
    suspended/deleted/out     nothing, or unlinked (hand/CSV)   nothing: hand-made users are never touched
    suspended/deleted/out     linked, pending or active         Deactivate (planned; the guard decides),
                                                                reason code suspended / deleted /
                                                                role_changed / out_of_scope
    suspended/deleted/out     linked, already deactivated       nothing
    absent from a complete    linked, pending or active         Deactivate; ``absence`` asks Zendesk
      listing                                                   why (gone, deleted, role changed...)

Matching (:func:`plan_page`): a linked row (same Zendesk id) always wins; otherwise an
*unlinked* row with the same identifier (default: e-mail, folded by :func:`email_key`; or
external_id or a user field) is linked for good, so later renames never create a duplicate.
With an identifier configured, a Zendesk user without one is matched by e-mail against
unlinked rows that have no identifier either (see :func:`match_key`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import msgspec

from evalsync_gui.core.emailkey import email_key
from evalsync_gui.core.sync.scope import DELETED, IN_SCOPE, OUT_OF_SCOPE, SUSPENDED, Scope, zendesk_state
from evalsync_gui.core.sync.users import ZendeskUser, safe_text

REASONS = {
    IN_SCOPE: "new in Zendesk",
    SUSPENDED: "suspended in Zendesk",
    DELETED: "deleted in Zendesk",
    OUT_OF_SCOPE: "no longer in scope (the sync no longer imports this role)",
}
ABSENT_REASON = "no longer in Zendesk (absent from a complete listing)"
ROLE_CHANGED_REASON = "role changed in Zendesk (the new role is not imported)"

# Machine-readable reasons of a deactivation (user_changes.reason_code, see schema_reason_codes).
SUSPENDED_CODE, DELETED_CODE, GONE_CODE = "suspended", "deleted", "gone"
ROLE_CHANGED_CODE, OUT_OF_SCOPE_CODE = "role_changed", "out_of_scope"
REASON_CODES = {SUSPENDED: SUSPENDED_CODE, DELETED: DELETED_CODE, OUT_OF_SCOPE: OUT_OF_SCOPE_CODE}
REASON_FOR_CODE = {SUSPENDED_CODE: REASONS[SUSPENDED], DELETED_CODE: REASONS[DELETED], GONE_CODE: ABSENT_REASON,
                   ROLE_CHANGED_CODE: ROLE_CHANGED_REASON, OUT_OF_SCOPE_CODE: REASONS[OUT_OF_SCOPE]}
RETURNED_FLAG = "returned"
RETURNED_REASON = "returned in Zendesk"

DEFAULT_IDENTIFIER = "default"  # match by e-mail; no identifier is read or recorded

# Fields that follow Zendesk and are recorded as changes (old -> new) when they differ; the
# identifier last (the default mode has none, see field_changes).
RECORDED_FIELDS = ("name", "email", "zendesk_role", "custom_role_id", "identifier")
# Fields kept current silently (no change record).
META_FIELDS = ("zendesk_active", "zendesk_suspended", "zendesk_updated_at")


class Remote(msgspec.Struct, frozen=True, gc=False):
    """The handful of Zendesk user fields a sync uses, named as the users table names them.

    A msgspec Struct rather than a frozen dataclass: one is built per user of every page,
    and a frozen dataclass's ``__init__`` (one ``object.__setattr__`` per field) cost more
    than everything else the decision table does per user."""

    zendesk_id: int
    name: str
    email: str | None
    zendesk_role: str | None
    custom_role_id: int | None
    zendesk_active: int
    zendesk_suspended: int
    zendesk_updated_at: str | None
    identifier: str | None  # value of the configured identifier (None in 'default' mode)

    @classmethod
    def from_api(cls, user: ZendeskUser, identifier_mode: str = DEFAULT_IDENTIFIER) -> "Remote":
        return cls(
            zendesk_id=user.id,
            name=user.name,
            email=user.email,
            zendesk_role=user.role,
            custom_role_id=user.custom_role_id,
            zendesk_active=1 if user.active else 0,
            zendesk_suspended=1 if user.suspended else 0,
            zendesk_updated_at=user.updated_at,
            identifier=identifier_value(user, identifier_mode),
        )


USER_FIELDS = "user_fields."


def identifier_value(user: ZendeskUser, mode: str) -> str | None:
    """The configured identifier's value for a Zendesk user (None when unset or 'default')."""
    if mode == "external_id":
        value = user.external_id
    elif mode.startswith(USER_FIELDS):
        value = user.user_fields.get(mode[len(USER_FIELDS):])
    else:
        return None
    # Only non-empty scalars identify anyone: safe_text gives None for a nested object, a list
    # or a boolean from a broken field, and "" stays no identifier.
    return safe_text(value) or None


class Create(msgspec.Struct, frozen=True, gc=False):
    remote: Remote
    reason: str = REASONS[IN_SCOPE]
    kind: ClassVar[str] = "create"


@dataclass(frozen=True, slots=True)
class Update:
    """Fields follow Zendesk. ``link``: first match of an unlinked row. ``returned``: back to Pending."""

    user_id: int
    remote: Remote
    changes: tuple[tuple[str, Any, Any], ...] = ()
    link: bool = False
    returned: bool = False
    reason: str = "changed in Zendesk"

    @property
    def kind(self) -> str:
        return "return" if self.returned else "link" if self.link and not self.changes else "update"

    @property
    def recorded(self) -> bool:
        """False for a silent refresh of metadata (not counted as an update)."""
        return bool(self.changes or self.link or self.returned)


@dataclass(frozen=True, slots=True)
class Deactivate:
    user_id: int
    zendesk_id: int | None
    name: str
    email: str | None
    old_status: str
    reason: str
    code: str = GONE_CODE  # see REASON_CODES
    kind = "deactivate"


Action = Create | Update | Deactivate


def field_changes(remote: Remote, local: Mapping[str, Any], identifier_mode: str) -> tuple[tuple[str, Any, Any], ...]:
    """Recorded fields whose Zendesk value differs from the local one (no identifier in default mode)."""
    names = RECORDED_FIELDS if identifier_mode != DEFAULT_IDENTIFIER else RECORDED_FIELDS[:-1]
    return tuple((name, local[name], getattr(remote, name)) for name in names if local[name] != getattr(remote, name))


def meta_changed(remote: Remote, local: Mapping[str, Any]) -> bool:
    return any(local[name] != getattr(remote, name) for name in META_FIELDS)


def decide(state: str, remote: Remote, local: Mapping[str, Any] | None, *, linked: bool,
           identifier_mode: str = DEFAULT_IDENTIFIER) -> Action | None:
    """One row of the decision table; ``state`` comes from :func:`scope.zendesk_state`."""
    if local is None:
        # In scope and not in EvalSync: import as Pending. Anyone else: not our business.
        return Create(remote) if state == IN_SCOPE else None
    if not linked and state != IN_SCOPE:
        # A hand-made (manual/CSV) row that merely shares an identifier: never touched.
        return None
    changes = field_changes(remote, local, identifier_mode)
    if state == IN_SCOPE:
        if local["status"] == "deactivated" and local["deactivated_by"] == "sync":
            # Came back after sync deactivated them: Pending, flagged for the admin.
            return Update(local["id"], remote, changes, link=not linked, returned=True, reason=RETURNED_REASON)
        if changes or not linked or meta_changed(remote, local):
            # Name and e-mail follow Zendesk; an admin's deactivation is kept as it is.
            reason = "matched by identifier" if not linked and not changes else "changed in Zendesk"
            return Update(local["id"], remote, changes, link=not linked, reason=reason)
        return None
    if local["status"] == "deactivated":
        return None
    # Linked and pending/active, but suspended, deleted or out of scope in Zendesk.
    code = deactivation_code(state, remote, local)
    return Deactivate(local["id"], remote.zendesk_id, local["name"], local["email"], local["status"],
                      REASON_FOR_CODE[code], code)


def deactivation_code(state: str, remote: Remote, local: Mapping[str, Any]) -> str:
    """Why a linked user leaves: out of scope splits into "role changed" and "scope changed"."""
    if state == OUT_OF_SCOPE and (local["zendesk_role"] != remote.zendesk_role
                                  or local["custom_role_id"] != remote.custom_role_id):
        return ROLE_CHANGED_CODE
    return REASON_CODES[state]


@dataclass
class Lookup:
    """Local rows for one page: by Zendesk id, and unlinked rows by identifier key."""

    by_zendesk_id: dict[int, Mapping[str, Any]] = field(default_factory=dict)
    unlinked_by_key: dict[tuple[str, str | None], Mapping[str, Any]] = field(default_factory=dict)


EMAIL, IDENTIFIER = "email", "identifier"


def match_key(remote: Remote) -> tuple[str, str | None]:
    """The key an unlinked local row must share: ("identifier", value) when the user carries the
    configured identifier (a Remote has none in default mode), else ("email", folded e-mail);
    a user with neither has ("email", None), which matches nothing."""
    if remote.identifier:
        return (IDENTIFIER, remote.identifier)
    return (EMAIL, email_key(remote.email))


def plan_page(users: Iterable[ZendeskUser], lookup: Lookup, scope: Scope, identifier_mode: str = DEFAULT_IDENTIFIER,
              claimed: set[int] | None = None) -> tuple[list[Action], list[Remote]]:
    """Actions for one page, plus the Remote of every distinct user in it (for seen-marks).

    Within a page the last copy of a user wins (the incremental export may repeat one).
    ``claimed`` holds local ids already linked during this run so two Zendesk users with
    the same e-mail never both grab one unlinked row.
    """
    claimed = claimed if claimed is not None else set()
    latest = {user.id: user for user in users}
    actions: list[Action] = []
    remotes: list[Remote] = []
    for user in latest.values():
        remote = Remote.from_api(user, identifier_mode)
        remotes.append(remote)
        state = zendesk_state(user, scope)
        local = lookup.by_zendesk_id.get(remote.zendesk_id)
        linked = local is not None
        if local is None:
            key = match_key(remote)
            # No e-mail and no identifier: nothing to match on, whatever the lookup holds.
            candidate = lookup.unlinked_by_key.get(key) if key[1] is not None else None
            if candidate is not None and candidate["id"] not in claimed:
                local = candidate
        action = decide(state, remote, local, linked=linked, identifier_mode=identifier_mode)
        if isinstance(action, Update) and action.link:
            claimed.add(action.user_id)
        if action is not None:
            actions.append(action)
    return actions, remotes


def describe_action(action: Action) -> dict[str, Any]:
    """A plain dict for dry runs, previews and ``--json``."""
    if isinstance(action, Create):
        r = action.remote
        return {"action": "create", "user_id": None, "zendesk_id": r.zendesk_id, "name": r.name,
                "email": r.email, "changes": [], "reason": action.reason}
    if isinstance(action, Update):
        r = action.remote
        return {"action": action.kind, "user_id": action.user_id, "zendesk_id": r.zendesk_id, "name": r.name,
                "email": r.email, "changes": [{"field": f, "old": o, "new": n} for f, o, n in action.changes],
                "reason": action.reason}
    return {"action": "deactivate", "user_id": action.user_id, "zendesk_id": action.zendesk_id,
            "name": action.name, "email": action.email, "changes": [], "reason": action.reason,
            "reason_code": action.code}
