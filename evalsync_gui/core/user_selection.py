"""Bulk actions on a selection of directory users: a few ids, or every user a view shows.

Selecting all of 100,000 rows must not build 100,000 of anything on the GUI thread, so "all"
stays a predicate (the view's status and search) and is resolved here, in SQL, on the
caller's (worker) thread. Changes run in chunks inside ONE transaction: progress is reported
between chunks, and a cancel between chunks rolls everything back (nothing half-applied).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from evalsync_gui.core import directory
from evalsync_gui.core.errors import Cancelled, UsageError
from evalsync_gui.core.store.db import Database
from evalsync_gui.core.store.settings import Settings

CHUNK = 2000
#: ``progress(done, total)`` after each chunk; ``is_cancelled()`` polled between chunks.
Progress = Callable[[int, int], None]
CancelCheck = Callable[[], bool]


@dataclass(frozen=True)
class Selection:
    """Explicit ``ids`` (in the order shown), or, when ``ids`` is None, every user of ``view``."""

    view: directory.View
    ids: tuple[int, ...] | None = None

    @property
    def is_all(self) -> bool:
        return self.ids is None

    def statuses(self, db: Database) -> list[tuple[int, str]]:
        """(id, status) of every selected user that still exists, in the view's order."""
        if self.ids is None:
            where, params = self.view.where()
            sql = f"SELECT id, status FROM {self.view.source()} {where} {self.view.order_by()}"
            return [(r[0], r[1]) for r in db.connect().execute(sql, params)]
        found: dict[int, str] = {}
        ids = list(dict.fromkeys(self.ids))
        for start in range(0, len(ids), 500):
            part = ids[start:start + 500]
            marks = ",".join("?" * len(part))
            found.update(db.connect().execute(f"SELECT id, status FROM users WHERE id IN ({marks})", part).fetchall())
        return [(i, found[i]) for i in ids if i in found]


@dataclass(frozen=True)
class ActivationPlan:
    """What activating a selection would take: ``needing`` users are not active yet (a licence each)."""

    selected: int
    needing: int
    licences: directory.Licences

    @property
    def fits(self) -> bool:
        return self.needing <= self.licences.free


def plan_activation(db: Database, settings: Settings, selection: Selection) -> ActivationPlan:
    """Count the selected users and how many of them would need a new licence."""
    rows = selection.statuses(db)
    needing = sum(1 for _i, status in rows if status != "active")
    return ActivationPlan(len(rows), needing, directory.licences(db, settings))


def _chunks(ids: Sequence[int], progress: Progress | None, is_cancelled: CancelCheck | None):
    """Yield ``ids`` in chunks; report after each and raise Cancelled (rolling back) between them."""
    total = len(ids)
    for start in range(0, total, CHUNK):
        if is_cancelled is not None and is_cancelled():
            raise Cancelled("Cancelled; nothing was changed.")
        yield ids[start:start + CHUNK]
        if progress is not None:
            progress(min(total, start + CHUNK), total)


def activate(db: Database, settings: Settings, selection: Selection, *, role: str | None = None,
             team: str | None = None, fit: bool = False, progress: Progress | None = None,
             is_cancelled: CancelCheck | None = None) -> int:
    """Activate the selection with a role and team; returns how many users changed.

    Over the licence limit the whole request is refused (UsageError naming the control that
    raises the limit), unless ``fit``: then only the first users (in the view's order) that
    the free licences cover are activated. Already-active users only get the role and team.
    """
    role_key = directory.validate_role(role)
    team = team.strip() if team else None
    at = directory.now_iso()
    with db.transaction() as conn:
        rows = selection.statuses(db)
        newly = [i for i, status in rows if status != "active"]
        if fit:
            free = directory.licences(db, settings).free
            targets, statuses = newly[:free], dict(rows)
        else:
            directory.check_licences(conn, settings, len(newly))
            targets, statuses = [i for i, _s in rows], dict(rows)
        for part in _chunks(targets, progress, is_cancelled):
            directory.activate_rows(conn, [(i, statuses[i]) for i in part], role_key, team, at)
        return len(targets)


def deactivate(db: Database, selection: Selection, reason: str = "deactivated by an admin", *,
               progress: Progress | None = None, is_cancelled: CancelCheck | None = None) -> int:
    """Deactivate the selection (frees licences); returns how many users changed."""
    at = directory.now_iso()
    with db.transaction() as conn:
        rows = [(i, s) for i, s in selection.statuses(db) if s != "deactivated"]
        for part in _chunks(rows, progress, is_cancelled):
            directory.deactivate_rows(conn, part, reason, at)
        return len(rows)


def export(db: Database, path, view: directory.View, *, progress: Progress | None = None,
           is_cancelled: CancelCheck | None = None) -> int:
    """Write ``view`` to ``path`` as CSV (see :func:`directory.export_csv`) with progress and cancel."""
    total = directory.count_view(db, view)

    def rows():
        for n, row in enumerate(directory.export_rows(db, view), start=1):
            if n % CHUNK == 0:
                if is_cancelled is not None and is_cancelled():
                    raise Cancelled("Export cancelled; no file was written.")
                if progress is not None:
                    progress(n, total)
            yield row

    return directory.write_export(path, rows())


def set_licence_limit(settings: Settings, limit: int) -> int:
    """Store the licence limit (active users allowed); UsageError unless 1 ≤ limit ≤ 10,000,000."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= directory.MAX_LICENCES:
        raise UsageError(f"The licence limit must be a whole number from 1 to {directory.MAX_LICENCES:,}, "
                         f"not {directory.shown(limit)}.")
    settings.set(directory.LICENCE_KEY, limit)
    return limit
