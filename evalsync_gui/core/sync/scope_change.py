"""What narrowing the import scope would do, said before it is saved (issue 17 point 7).

A user the new scope no longer covers is still in Zendesk, but the next full listing does
not return them, so the sync plans their deactivation and the deactivation guard either
applies or holds it. :func:`preview` counts those users from the directory (their Zendesk
role as last synced) so the User sync panel can ask before saving. :func:`covered_sql` is
the same rule as :meth:`Scope.covers`, written as SQL over the ``users`` table.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from evalsync_gui.core.sync import guard, role_kinds
from evalsync_gui.core.sync.scope import Scope

# Linked to Zendesk and not deactivated: the users a sync can deactivate (apply.synced_count).
_SYNCED = "u.zendesk_id IS NOT NULL AND u.status != 'deactivated'"


def covered_sql(scope: Scope, alias: str = "u") -> tuple[str, tuple]:
    """An SQL condition true when the row's last-synced role puts it in ``scope``, and its parameters.

    The directory keeps a user's ``role`` but not Zendesk's ``role_type``, so light agents,
    contributors and chat-only agents look like agents here: they count as covered only
    through Agents or their custom role (see :attr:`ScopeChange.kinds_leaving`).
    """
    parts: list[str] = []
    params: list[object] = []
    if scope.admins:
        parts.append(f"{alias}.zendesk_role = 'admin'")
    if scope.agents:
        parts.append(f"{alias}.zendesk_role = 'agent'")
    elif scope.custom_ids:
        ids = sorted(scope.custom_ids)
        parts.append(f"({alias}.zendesk_role = 'agent' AND {alias}.custom_role_id IN ({','.join('?' * len(ids))}))")
        params += ids
    return ("(" + " OR ".join(parts) + ")" if parts else "0"), tuple(params)


@dataclass(frozen=True)
class ScopeChange:
    """The effect of replacing one role selection by another on the users already imported."""

    leaving: int  #: synced users the new selection no longer covers
    synced: int   #: synced users today (the guard's base)
    held: bool    #: True when the guard would hold their deactivations for review
    limit: str    #: the deactivation limit the guard applies
    #: unticked kinds without a paid seat and their last counted size in Zendesk (None: never counted);
    #: the directory does not keep a user's kind, so these come from ``role_kinds.last_counts``
    kinds_leaving: tuple[tuple[str, int | None], ...] = ()

    def consequence(self) -> str:
        """What the next sync will do to the users leaving, in one sentence."""
        if not self.leaving and self.kinds_leaving:
            return ("The next sync deactivates the imported ones among them (they stay in Zendesk); if that is "
                    f"{guard.describe(self.limit)}, it holds them for your review on the Runs page instead.")
        if not self.leaving:
            return "Nobody already imported leaves the scope."
        if self.held:
            return ("The next sync plans their deactivation, and because that is "
                    f"{guard.describe(self.limit)}, it holds them for your review on the Runs page "
                    "(Allow or Discard there); nobody is deactivated until you decide.")
        return ("The next sync deactivates them (they stay in Zendesk; their EvalSync licences are freed). "
                "Undo run on the Runs page brings them back.")


def preview(db, old_roles: Iterable[str], new_roles: Iterable[str], limit: str = "default") -> ScopeChange:
    """Count the synced users covered by ``old_roles`` but not by ``new_roles`` (two indexed counts)."""
    old_scope, new_scope = Scope.from_roles(old_roles), Scope.from_roles(new_roles)
    old_clause, old_params = covered_sql(old_scope)
    new_clause, new_params = covered_sql(new_scope)
    where = f"{_SYNCED} AND {old_clause} AND NOT {new_clause}"  # constants and ? placeholders only
    leaving = int(db.scalar(f"SELECT count(*) FROM users u WHERE {where}", (*old_params, *new_params)) or 0)
    synced = int(db.scalar(f"SELECT count(*) FROM users u WHERE {_SYNCED}") or 0)
    counted = (role_kinds.last_counts(db) or {}).get("counts") or {}
    kinds = tuple((k, counted.get(k)) for k in role_kinds.OPTIONAL_KINDS
                  if k in old_scope.extra_kinds and k not in new_scope.extra_kinds)
    return ScopeChange(leaving, synced, guard.exceeds(limit, leaving, synced), limit, kinds)
