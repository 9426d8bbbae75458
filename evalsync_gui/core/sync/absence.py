"""Why a user is missing from a complete listing: one ``show_many`` look-up per 100 of them.

A cursor listing filtered by role returns only the users in scope, and never the soft-deleted
ones (docs/ZENDESK.md section 2), so "absent" can mean deleted, suspended elsewhere, demoted
to end user, or gone for good. ``GET /api/v2/users/show_many?ids=…&include_deleted=true``
(agents may call it, at most 100 ids) names which, so the admin reads the real reason:

* not returned at all              -> ``gone`` ("no longer in Zendesk")
* returned, and the decision table says suspended / deleted / out of scope -> that reason
  (a different role than the one stored -> ``role_changed``)
* returned in scope and present    -> not deactivated at all: the listing and the look-up
  disagree, and a doubt never deactivates anyone.

When the look-up itself fails, the listing's word stands and the reason is ``gone``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from evalsync_gui.core.errors import PermissionDenied, ZendeskError
from evalsync_gui.core.sync.apply import Absent
from evalsync_gui.core.sync.decisions import (
    ABSENT_REASON,
    GONE_CODE,
    REASON_FOR_CODE,
    Remote,
    deactivation_code,
)
from evalsync_gui.core.sync.scope import IN_SCOPE, Scope, zendesk_state
from evalsync_gui.core.sync.users import clean_users

log = logging.getLogger("evalsync.sync")
SHOW_MANY_PATH = "/api/v2/users/show_many.json"
SHOW_MANY_LIMIT = 100


def reasons(client, absent: Sequence[Absent], scope: Scope) -> list[tuple[int, str, str]]:
    """(user id, reason, reason code) for each absent user who should be deactivated."""
    out: list[tuple[int, str, str]] = []
    for start in range(0, len(absent), SHOW_MANY_LIMIT):
        part = absent[start:start + SHOW_MANY_LIMIT]
        found = _look_up(client, [a.zendesk_id for a in part])
        for a in part:
            if found is None or a.zendesk_id not in found:
                out.append((a.user_id, ABSENT_REASON, GONE_CODE))
                continue
            user = found[a.zendesk_id]
            state = zendesk_state(user, scope)
            if state == IN_SCOPE:
                log.warning("Zendesk user %s was missing from the listing but is in scope; not deactivated",
                            a.zendesk_id)
                continue
            code = deactivation_code(state, Remote.from_api(user), {"zendesk_role": a.zendesk_role,
                                                                    "custom_role_id": a.custom_role_id})
            out.append((a.user_id, REASON_FOR_CODE[code], code))
    return out


def _look_up(client, zendesk_ids: list[int]) -> dict | None:
    """Zendesk id -> checked user, or None when Zendesk would not answer (the reason stays "gone")."""
    try:
        body = client.get(SHOW_MANY_PATH, [("ids", ",".join(map(str, zendesk_ids))), ("include_deleted", "true")])
    except (ZendeskError, PermissionDenied) as exc:  # a 403: this token may not look users up
        log.info("looking up %d absent users failed (%s); their reason stays 'no longer in Zendesk'",
                 len(zendesk_ids), exc)
        return None
    if not isinstance(body, dict) or not isinstance(body.get("users"), list):
        return None
    users, _ = clean_users(body["users"])
    wanted = set(zendesk_ids)
    return {u.id: u for u in users if u.id in wanted}
