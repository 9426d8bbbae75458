"""Worker-thread reads for the users tab: counts, licences, held deactivations and the id list.

During a sync the directory grows by a page every few milliseconds; a ``COUNT``/``GROUP BY``
over 100,000 rows or the ordered ``SELECT id`` of a view (~30 ms) on the GUI thread shows up
as a stutter. The tab runs :func:`load_snapshot` on a :class:`~evalsync_gui.gui.workers.TaskController`
instead and paints the :class:`Snapshot` it gets back.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, replace

from evalsync_gui.core import directory
from evalsync_gui.core.store.db import Database
from evalsync_gui.core.store.settings import Settings
from evalsync_gui.gui.workers import Task


@dataclass(frozen=True)
class Snapshot:
    """What the tab shows besides the visible cells; ``ids`` only when a view was asked for,
    ``counts`` (with licences and held) only when the directory may have changed."""

    counts: dict[str, int] | None
    licences: directory.Licences | None = None
    held: int = 0
    view: directory.View | None = None
    ids: array | None = None
    #: Fresh rows for the ids on screen (a live refresh during a sync), so the repaint that
    #: follows reads nothing on the GUI thread.
    rows: dict | None = None
    #: The users a running sync added since the list on screen: ``after`` is the (view, highest
    #: id) they were read against, ``new_ids`` the ids above it in the view's order.
    after: tuple[directory.View, int] | None = None
    new_ids: array | None = None


def read_snapshot(db: Database, settings: Settings, view: directory.View | None = None, *,
                  counts: bool = True, shown: tuple[directory.View, array] | None = None) -> Snapshot:
    """Read counts, licences, the held count and (with ``view``) its ordered ids, in the calling thread.

    ``counts=False`` reads only the ids: a search, a sort or a status switch changes nothing
    the counts show, and their GROUP BY over 100,000 rows would delay the rows by ~20 ms.
    ``shown``: the view on screen and its ids, still current; when ``view`` narrows it (the
    admin typed on), the ids are filtered from it instead of queried and sorted again."""
    if view is not None and shown is not None and view.narrows(shown[0]):
        ids = directory.narrow_ids(db, view, shown[1])
    else:
        ids = directory.query_ids(db, view) if view is not None else None
    if not counts:
        return Snapshot(None, view=view, ids=ids)
    held = int(db.scalar("SELECT count(*) FROM user_changes WHERE state = 'held'") or 0)
    return Snapshot(directory.counts(db), directory.licences(db, settings), held, view, ids)


def load_snapshot(task: Task, db: Database, settings: Settings, view: directory.View | None,
                  counts: bool = True, shown: tuple[directory.View, array] | None = None,
                  visible: list[int] | None = None, after: tuple[directory.View, int] | None = None,
                  room: int = 0) -> Snapshot:
    """Worker body: :func:`read_snapshot`, then close this thread's connection (the thread ends).

    ``visible``: also read the rows of these ids (the ones on screen). ``after``: also read the
    ids a running sync added above ``after[1]`` in view ``after[0]``, and the rows of the first
    ``room`` of them (the ones that will land on screen), so that showing them, in the same
    turn as the counts, costs one repaint and no read on the GUI thread."""
    try:
        task.raise_if_cancelled()
        snap = read_snapshot(db, settings, view, counts=counts, shown=shown)
        wanted = list(visible or ())
        if after is not None:
            new_ids = directory.ids_after(db, after[0], after[1])
            wanted.extend(new_ids[:room])
            snap = replace(snap, after=after, new_ids=new_ids)
        if wanted:
            snap = replace(snap, rows=directory.fetch_rows(db, wanted))
        return snap
    finally:
        db.close()
