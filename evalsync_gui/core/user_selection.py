"""Bulk actions on a selection of directory users: a few ids, or every user a view shows.

Selecting all of 100,000 rows must not build 100,000 of anything on the GUI thread, so "all"
stays a predicate (the view's status and search) and is resolved here, in SQL, on the
caller's (worker) thread: the selection is staged in a temp table in the view's order and every
step is set-based SQL, so the worker holds the GIL only between statements and the window keeps
painting. Changes run in chunks of positions inside ONE transaction: progress is reported
between chunks, and a cancel between chunks rolls everything back (nothing half-applied).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
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
    """Explicit ``ids`` (in the order shown), or, when ``ids`` is None, every user of ``view``.

    ``shown`` is how many rows the admin saw selected (for a confirmation's wording); what is
    changed is always resolved again in SQL when the action runs."""

    view: directory.View
    ids: tuple[int, ...] | None = None
    shown: int = 0

    @property
    def is_all(self) -> bool:
        return self.ids is None


#: Counts over the staged selection (``pos`` is the view's order, 1, 2, ..., so chunks are ranges of it).
_COUNT = {"all": "SELECT count(*) FROM temp.selected_users",
          "needing": "SELECT count(*) FROM temp.selected_users s JOIN users u ON u.id = s.id WHERE u.status != 'active'",
          "active_or_pending": "SELECT count(*) FROM temp.selected_users s JOIN users u ON u.id = s.id "
                               "WHERE u.status != 'deactivated'"}


def _stage(conn: sqlite3.Connection, selection: Selection) -> int:
    """Copy the selected ids that exist, in order, into this connection's temp table; returns
    the highest ``pos``. One INSERT ... SELECT: no Python loop over 100,000 ids."""
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS selected_users (pos INTEGER PRIMARY KEY, id INTEGER NOT NULL)")
    conn.execute("DELETE FROM temp.selected_users")
    if selection.ids is None:
        view = selection.view
        where, params = view.where()
        conn.execute(f"INSERT INTO temp.selected_users (id) SELECT id FROM {view.source()} {where} "
                     f"{view.order_by()}", params)
    else:
        ids = json.dumps(list(dict.fromkeys(int(i) for i in selection.ids)))
        conn.execute("INSERT INTO temp.selected_users (id) SELECT u.id FROM json_each(?) j "
                     "JOIN users u ON u.id = j.value ORDER BY j.key", (ids,))
    return int(conn.execute("SELECT coalesce(max(pos), 0) FROM temp.selected_users").fetchone()[0])


def _count(conn: sqlite3.Connection, which: str) -> int:
    return int(conn.execute(_COUNT[which]).fetchone()[0])


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
    """Count the selected users and how many of them would need a new licence (in SQL)."""
    with db.transaction(immediate=False) as conn:
        _stage(conn, selection)
        selected = _count(conn, "all")
        needing = _count(conn, "needing")
    return ActivationPlan(selected, needing, directory.licences(db, settings))


def _in_chunks(conn: sqlite3.Connection, last: int, step: Callable[[tuple[int, int]], None],
               progress: Progress | None, is_cancelled: CancelCheck | None) -> None:
    """Call ``step((lo, hi))`` for each range of staged positions; report after each and raise
    Cancelled (which rolls the caller's transaction back) between them."""
    for lo in range(1, last + 1, CHUNK):
        if is_cancelled is not None and is_cancelled():
            raise Cancelled("Cancelled; nothing was changed.")
        step((lo, lo + CHUNK - 1))
        if progress is not None:
            progress(min(last, lo + CHUNK - 1), last)


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
        last = _stage(conn, selection)
        if fit:  # keep only the first users needing a licence, as many as are free
            conn.execute("DELETE FROM temp.selected_users WHERE pos NOT IN (SELECT s.pos FROM temp.selected_users s "
                         "JOIN users u ON u.id = s.id WHERE u.status != 'active' ORDER BY s.pos LIMIT ?)",
                         (directory.licences(db, settings).free,))
        else:
            directory.check_licences(conn, settings, _count(conn, "needing"))
        changed = _count(conn, "all")
        _in_chunks(conn, last, lambda rng: directory.activate_rows(conn, "staged", rng, role_key, team, at),
                   progress, is_cancelled)
        return changed


def deactivate(db: Database, selection: Selection, reason: str = "deactivated by an admin", *,
               progress: Progress | None = None, is_cancelled: CancelCheck | None = None) -> int:
    """Deactivate the selection (frees licences); returns how many users changed."""
    at = directory.now_iso()
    with db.transaction() as conn:
        last = _stage(conn, selection)
        changed = _count(conn, "active_or_pending")
        _in_chunks(conn, last, lambda rng: directory.deactivate_rows(conn, "staged", rng, reason, at),
                   progress, is_cancelled)
        return changed


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
