"""Writing a page's actions to the database, and the end-of-run deactivation step.

Every function here runs inside the caller's transaction (a group of whole pages with the
cursor after the last, see ``batch``) and costs a few statements per page, never one per
row: multi-row inserts, batched ``IN (...)`` lookups, change rows copied by SQLite.
Deactivations are never applied mid-run: they are written as ``planned`` change rows and
only :func:`apply_planned` (after a complete read and the guard) turns them into real ones.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Container, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec

from evalsync_gui.core.emailkey import email_key
from evalsync_gui.core.store.user_ids import first_free_user_id
from evalsync_gui.core.sync.decisions import (
    ABSENT_REASON,
    EMAIL,
    IDENTIFIER,
    REASONS,
    RETURNED_FLAG,
    Action,
    Create,
    Deactivate,
    Lookup,
    Remote,
    Update,
    identifier_value,
)
from evalsync_gui.core.sync.scope import IN_SCOPE, Scope, zendesk_state
from evalsync_gui.core.sync.users import ZendeskUser

LOCAL_COLUMNS = ("id, zendesk_id, name, email, identifier, status, source, zendesk_role, custom_role_id, "
                 "deactivated_by, flag, zendesk_active, zendesk_suspended, zendesk_updated_at")
_CHUNK = 900  # stay well under SQLite's bound-parameter limit
_encode = msgspec.json.Encoder().encode


@dataclass
class PageCounts:
    new: int = 0
    updated: int = 0
    planned: int = 0


def _chunks(items: Sequence, size: int = _CHUNK) -> Iterable[Sequence]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _linked_rows(conn: sqlite3.Connection, zendesk_ids: Sequence[int]) -> list[sqlite3.Row]:
    rows: list[sqlite3.Row] = []
    for part in _chunks(zendesk_ids):
        marks = ",".join("?" * len(part))
        rows += conn.execute(f"SELECT {LOCAL_COLUMNS} FROM users WHERE zendesk_id IN ({marks})", part).fetchall()
    return rows


class IdAllocator:
    """Ids for new users rows, above every id a users row or a change row has ever named.

    SQLite would reuse the ids of removed rows (undoing an import removes its Pending users),
    and a new user would then inherit the removed one's history and held deactivations.
    Valid only while the caller's write transaction lasts (nobody else can insert), so a
    group commit makes a new one per transaction; no SELECT is needed to learn new ids.
    """

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.next = first_free_user_id(conn)

    def take(self, n: int) -> int:
        first, self.next = self.next, self.next + n
        return first


def has_linked(conn: sqlite3.Connection) -> bool:
    """Whether any row is linked to Zendesk (False before the first import)."""
    return conn.execute("SELECT EXISTS (SELECT 1 FROM users WHERE zendesk_id IS NOT NULL)").fetchone()[0] == 1


class UnlinkedRows:
    """Every row not linked to Zendesk, by match key (see :func:`decisions.match_key`).

    Read in one query through the Zendesk-id index and keyed in Python, so the e-mail fold is
    exactly :func:`email_key` (SQLite's ``lower()`` is ASCII-only). Valid while the caller's
    write transaction lasts; the runner reads it again for each group. The lowest id wins a key.
    In an identifier mode, only rows without an identifier are found by e-mail."""

    def __init__(self, conn: sqlite3.Connection, identifier_mode: str) -> None:
        self.by_key: dict[tuple[str, str], sqlite3.Row] = {}
        for row in conn.execute(f"SELECT {LOCAL_COLUMNS} FROM users WHERE zendesk_id IS NULL ORDER BY id DESC"):
            if identifier_mode != "default" and row["identifier"]:
                self.by_key[(IDENTIFIER, row["identifier"])] = row
            elif (key := email_key(row["email"])) is not None:
                self.by_key[(EMAIL, key)] = row

    def __bool__(self) -> bool:
        return bool(self.by_key)


def lookup_page(conn: sqlite3.Connection, users: Sequence[ZendeskUser], scope: Scope,
                identifier_mode: str, *, unlinked: UnlinkedRows | bool = True,
                linked: Container[int] | None = None) -> Lookup:
    """Local rows for a page: by Zendesk id in one query, then unlinked rows by match key.

    ``unlinked``: the unlinked rows when the caller has read them (a group reads them once),
    False when none exist, True to read them now. ``linked``: every Zendesk id that may be
    linked in the directory, when the caller knows them (a first import, see the runner);
    only those are looked up, so a page of new users costs no query at all."""
    lookup = Lookup()
    ids = {u.id for u in users}
    if linked is not None:
        ids = {i for i in ids if i in linked}
    for row in _linked_rows(conn, sorted(ids)):
        lookup.by_zendesk_id[row["zendesk_id"]] = row
    if unlinked is True:
        unlinked = UnlinkedRows(conn, identifier_mode)
    if not unlinked:
        return lookup
    found = lookup.by_zendesk_id
    for user in users:
        if user.id not in found and zendesk_state(user, scope) == IN_SCOPE:
            key = _match_key(user, identifier_mode)
            if key is not None and key in unlinked.by_key:
                lookup.unlinked_by_key[key] = unlinked.by_key[key]
    return lookup


def _match_key(user: ZendeskUser, identifier_mode: str) -> tuple[str, str] | None:
    """:func:`decisions.match_key` straight from the checked user (no Remote built twice)."""
    if value := identifier_value(user, identifier_mode):  # None in the default mode
        return (IDENTIFIER, value)
    key = email_key(user.email)
    return (EMAIL, key) if key else None


def apply_page(conn: sqlite3.Connection, run_id: int, actions: Sequence[Action], lookup: Lookup,
               seen_ids: Sequence[int], now: str, *, identifier_mode: str, mark_seen: bool,
               ids: IdAllocator | None = None, role_names: Mapping[int, str] | None = None,
               expire_held: bool = True) -> PageCounts:
    """Apply creates/updates, replace this run's planned deactivations for the page's users.

    ``role_names`` (custom role id -> name, see :mod:`.roles`) fills ``custom_role_name``.
    Held deactivations (of any run) of the page's linked users who are not leaving now expire:
    this read saw them fine. ``expire_held=False`` (the caller knows none is held) skips that."""
    names = role_names or {}
    counts = PageCounts()
    creates = [a for a in actions if isinstance(a, Create)]
    updates = [a for a in actions if isinstance(a, Update)]
    deacts = [a for a in actions if isinstance(a, Deactivate)]
    changes: list[tuple] = []
    if creates:
        first = _insert_users(conn, creates, run_id if mark_seen else None, now, ids or IdAllocator(conn), names)
        # The rows just inserted hold everything the change records need: SQLite copies it,
        # so 100,000 imported users cost no Python objects and no JSON for their history.
        conn.execute(_INSERT_CREATED, {"run": run_id, "first": first, "reason": REASONS[IN_SCOPE], "now": now})
        counts.new = len(creates)
    if updates:
        _update_users(conn, updates, identifier_mode, now, names)
        for a in updates:
            changes += _update_changes(a)
        counts.updated = sum(1 for a in updates if a.recorded)
    # A user seen again in this run cancels any deactivation planned for them earlier on.
    linked = [row["id"] for row in lookup.by_zendesk_id.values()]
    for part in _chunks(linked):
        conn.execute(f"DELETE FROM user_changes WHERE run_id = ? AND state = 'planned' AND user_id IN "
                     f"({','.join('?' * len(part))})", (run_id, *part))
    if expire_held:
        leaving = {a.user_id for a in deacts}
        expire_held_rows(conn, [uid for uid in linked if uid not in leaving])
    for a in deacts:
        changes.append((a.user_id, "deactivate", "status", a.old_status, "deactivated", a.reason, "planned", a.code))
    counts.planned = len(deacts)
    if changes:
        conn.execute(_INSERT_CHANGES, {"run": run_id, "now": now, "rows": _dumps(changes)})
    if mark_seen and seen_ids:
        # Rows created above already carry this run's seen-mark.
        created = {a.remote.zendesk_id for a in creates}
        for part in _chunks([zid for zid in seen_ids if zid not in created]):
            conn.execute(f"UPDATE users SET last_seen_run = ? WHERE zendesk_id IN ({','.join('?' * len(part))})",
                         (run_id, *part))
    return counts


# A page's new rows go in as one multi-row INSERT: one sqlite3_step per page instead of one
# per row, so the GIL is released once for the whole insert (the fetch thread parses the next
# page meanwhile), and SQLite binds plain values (about a third cheaper than unpacking a JSON
# array per row). ?1 is the run's seen-mark and ?2 the time, shared by every row.
_USER_COLUMNS = ("id, zendesk_id, name, email, identifier, zendesk_role, custom_role_id, zendesk_active, "
                 "zendesk_suspended, zendesk_updated_at, custom_role_name, status, source, last_seen_run, "
                 "imported_at, created_at, updated_at")
_PER_ROW = 11  # the bound columns of _USER_COLUMNS, in order


@functools.lru_cache(maxsize=16)
def _insert_users_sql(n: int) -> str:
    rows = ",".join("(" + ",".join(f"?{3 + i * _PER_ROW + k}" for k in range(_PER_ROW)) + ",'pending','zendesk',?1,?2,?2,?2)"
                    for i in range(n))
    return f"INSERT INTO users ({_USER_COLUMNS}) VALUES {rows}"


def _rows_per_insert(conn: sqlite3.Connection) -> int:
    """As many rows per statement as this SQLite's bound-parameter limit allows (999 on old builds)."""
    limit = conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) if hasattr(conn, "getlimit") else 999
    return max(1, (limit - 2) // _PER_ROW)


_INSERT_CREATED = (
    "INSERT INTO user_changes (run_id, user_id, action, field, old_value, new_value, reason, state, at) "
    "SELECT :run, id, 'create', NULL, NULL, name || ' <' || coalesce(email, '') || '>', :reason, 'applied', :now "
    "FROM users WHERE id >= :first ORDER BY id")  # the page's new rows: the highest ids (see IdAllocator)
_INSERT_CHANGES = (
    "INSERT INTO user_changes (run_id, user_id, action, field, old_value, new_value, reason, state, at, reason_code) "
    "SELECT :run, value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, value ->> 6, :now, "
    "value ->> 7 FROM json_each(:rows)")


def _insert_users(conn: sqlite3.Connection, creates: Sequence[Create], seen_run: int | None, now: str,
                  ids: IdAllocator, role_names: Mapping[int, str]) -> int:
    """Insert the new rows with explicit consecutive ids (see :class:`IdAllocator`); returns the first."""
    first = ids.take(len(creates))
    flat: list[Any] = []
    for i, a in enumerate(creates):
        r = a.remote
        flat += (first + i, r.zendesk_id, r.name, r.email, r.identifier, r.zendesk_role, r.custom_role_id,
                 r.zendesk_active, r.zendesk_suspended, r.zendesk_updated_at,
                 role_names.get(r.custom_role_id))  # no role: None, as no name is keyed by None
    step = _rows_per_insert(conn) * _PER_ROW
    for start in range(0, len(flat), step):
        part = flat[start:start + step]
        conn.execute(_insert_users_sql(len(part) // _PER_ROW), [seen_run, now, *part])
    return first


def _update_users(conn: sqlite3.Connection, updates: Sequence[Update], identifier_mode: str, now: str,
                  role_names: Mapping[int, str]) -> None:
    ident = "" if identifier_mode == "default" else ", identifier = :identifier"
    # The role name: the known name of the new role; else the old name while the role is
    # unchanged (a name not yet fetched is no reason to blank it); else none.
    conn.executemany(
        "UPDATE users SET zendesk_id = :zendesk_id, name = :name, email = :email, zendesk_role = :zendesk_role, "
        "custom_role_name = CASE WHEN :custom_role_id IS NULL THEN NULL WHEN :role_name IS NOT NULL THEN :role_name "
        "WHEN custom_role_id IS :custom_role_id THEN custom_role_name ELSE NULL END, "
        "custom_role_id = :custom_role_id, zendesk_active = :zendesk_active, "
        "zendesk_suspended = :zendesk_suspended, zendesk_updated_at = :zendesk_updated_at" + ident + ", "
        "updated_at = CASE WHEN :recorded THEN :now ELSE updated_at END WHERE id = :id",
        [{**_remote_dict(a.remote), "recorded": a.recorded, "now": now, "id": a.user_id,
          "role_name": role_names.get(a.remote.custom_role_id)}
         for a in updates],
    )
    returned = [a for a in updates if a.returned]
    if returned:
        conn.executemany(
            "UPDATE users SET status = 'pending', flag = ?, deactivated_by = NULL, deactivation_reason = NULL "
            "WHERE id = ?", [(RETURNED_FLAG, a.user_id) for a in returned])


def _remote_dict(r: Remote) -> dict[str, Any]:
    return {"zendesk_id": r.zendesk_id, "name": r.name, "email": r.email, "zendesk_role": r.zendesk_role,
            "custom_role_id": r.custom_role_id, "zendesk_active": r.zendesk_active,
            "zendesk_suspended": r.zendesk_suspended, "zendesk_updated_at": r.zendesk_updated_at,
            "identifier": r.identifier}


def _update_changes(a: Update) -> list[tuple]:
    """Change rows (user, action, field, old, new, reason, state, reason code; see _INSERT_CHANGES)."""
    rows = []
    if a.link:
        rows.append((a.user_id, "link", "zendesk_id", None, str(a.remote.zendesk_id), "matched by identifier",
                     "applied", None))
    for name, old, new in a.changes:
        rows.append((a.user_id, "update", name, _text(old), _text(new), "changed in Zendesk", "applied", None))
    if a.returned:
        # Enough old values that undo can put the user back exactly as deactivated.
        rows.append((a.user_id, "return", "status", "deactivated", "pending", a.reason, "applied", None))
        rows.append((a.user_id, "return", "flag", None, RETURNED_FLAG, a.reason, "applied", None))
        rows.append((a.user_id, "return", "deactivated_by", "sync", None, a.reason, "applied", None))
    return rows


def _dumps(rows: list) -> str:
    # msgspec writes plain UTF-8 JSON (nothing for SQLite to unescape) several times faster
    # than json.dumps; str, not bytes: SQLite's json_each refuses a BLOB.
    return _encode(rows).decode()


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


# -- end of run -------------------------------------------------------------------------
@dataclass(frozen=True)
class Absent:
    """A linked, not deactivated user a complete listing did not return, with what is stored of them."""

    user_id: int
    zendesk_id: int
    status: str
    zendesk_role: str | None
    custom_role_id: int | None


def absent_users(conn: sqlite3.Connection, run_id: int) -> list[Absent]:
    """After a complete listing: linked pending/active users this run never saw (nor plans to deactivate)."""
    rows = conn.execute(
        "SELECT u.id, u.zendesk_id, u.status, u.zendesk_role, u.custom_role_id FROM users u "
        "WHERE u.zendesk_id IS NOT NULL AND u.status IN ('pending', 'active') "
        "AND (u.last_seen_run IS NULL OR u.last_seen_run != ?) "
        "AND NOT EXISTS (SELECT 1 FROM user_changes c WHERE c.run_id = ? AND c.user_id = u.id AND c.state = 'planned')",
        (run_id, run_id)).fetchall()
    return [Absent(*row) for row in rows]


def plan_absent(conn: sqlite3.Connection, run_id: int, now: str,
                reasons: Iterable[tuple[int, str, str]]) -> int:
    """Plan deactivations of absent users: (user id, reason, reason code) each, if still pending/active."""
    n = 0
    for user_id, reason, code in reasons:
        n += conn.execute(
            "INSERT INTO user_changes (run_id, user_id, action, field, old_value, new_value, reason, state, at, "
            "reason_code) SELECT ?, u.id, 'deactivate', 'status', u.status, 'deactivated', ?, 'planned', ?, ? "
            "FROM users u WHERE u.id = ? AND u.zendesk_id IS NOT NULL AND u.status IN ('pending', 'active') "
            "AND NOT EXISTS (SELECT 1 FROM user_changes c WHERE c.run_id = ? AND c.user_id = u.id "
            "AND c.state = 'planned')", (run_id, reason, now, code, user_id, run_id)).rowcount
    return n


# -- held deactivations ------------------------------------------------------------------
def has_held(conn: sqlite3.Connection) -> bool:
    """Whether any deactivation is held (partial index: no walk over applied rows)."""
    return conn.execute("SELECT EXISTS (SELECT 1 FROM user_changes WHERE state = 'held')").fetchone()[0] == 1


def expire_held_rows(conn: sqlite3.Connection, user_ids: Sequence[int]) -> int:
    """A newer read saw these users fine: their held deactivations (of any run) are discarded."""
    n = 0
    for part in _chunks(list(user_ids)):
        n += conn.execute(f"UPDATE user_changes SET state = 'discarded' WHERE state = 'held' AND user_id IN "
                          f"({','.join('?' * len(part))})", tuple(part)).rowcount
    return n


def supersede_held(conn: sqlite3.Connection, run_id: int) -> int:
    """One held row per person: older held rows give way to this run's plan, or to a deactivation.

    A held row stays only while its user is linked and not deactivated: a row whose user was
    deactivated, unlinked or removed (undoing an import removes Pending users) holds nobody."""
    return conn.execute(
        "UPDATE user_changes SET state = 'discarded' WHERE state = 'held' AND run_id != ? AND "
        "(user_id IN (SELECT user_id FROM user_changes WHERE run_id = ? AND state = 'planned') "
        "OR user_id NOT IN (SELECT id FROM users WHERE status != 'deactivated' AND zendesk_id IS NOT NULL))",
        (run_id, run_id)).rowcount


def refresh_held_runs(conn: sqlite3.Connection, skip_run: int | None = None) -> None:
    """Each run's held count follows its rows; a held run with none left counts as completed."""
    conn.execute(
        "UPDATE sync_runs SET n_held = (SELECT count(*) FROM user_changes c WHERE c.run_id = sync_runs.id "
        "AND c.state = 'held') WHERE (status = 'held' OR n_held > 0) AND id IS NOT ?", (skip_run,))
    conn.execute("UPDATE sync_runs SET status = 'completed' WHERE status = 'held' AND n_held = 0 AND id IS NOT ?",
                 (skip_run,))


def absent_rows(conn: sqlite3.Connection, seen: set[int]) -> list[Deactivate]:
    """Dry-run twin of :func:`plan_absent`, from an in-memory set of seen Zendesk ids."""
    rows = conn.execute("SELECT id, zendesk_id, name, email, status FROM users "
                        "WHERE zendesk_id IS NOT NULL AND status IN ('pending', 'active')").fetchall()
    # Deactivate's code defaults to GONE_CODE: what an absence from a complete listing means.
    return [Deactivate(*row, ABSENT_REASON) for row in rows if row[1] not in seen]


def planned_count(conn: sqlite3.Connection, run_id: int) -> int:
    return conn.execute("SELECT count(*) FROM user_changes WHERE run_id = ? AND state = 'planned'",
                        (run_id,)).fetchone()[0]


def synced_count(conn: sqlite3.Connection) -> int:
    """Zendesk-linked users not deactivated: the base of the guard's percentage."""
    return conn.execute("SELECT count(*) FROM users WHERE zendesk_id IS NOT NULL AND status != 'deactivated'"
                        ).fetchone()[0]


def _apply_statements(state: str) -> tuple[str, str, str]:
    # The state is spliced as a literal so SQLite can use the partial index of that state
    # (schema_v5): a run that imported 100,000 users has 100,000 'applied' rows beside the few
    # planned ones, and a bound parameter would make each statement walk all of them.
    return (
        f"UPDATE user_changes SET state = 'discarded' WHERE run_id = ? AND state = '{state}' AND user_id IN "
        "(SELECT id FROM users WHERE status = 'deactivated')",
        "UPDATE users SET status = 'deactivated', deactivated_by = 'sync', updated_at = ?, "
        f"deactivation_reason = (SELECT c.reason FROM user_changes c WHERE c.run_id = ? AND c.state = '{state}' "
        "AND c.user_id = users.id ORDER BY c.id DESC LIMIT 1) "
        f"WHERE status != 'deactivated' AND id IN (SELECT user_id FROM user_changes WHERE run_id = ? AND state = '{state}')",
        f"UPDATE user_changes SET state = 'applied', at = ? WHERE run_id = ? AND state = '{state}'",
    )


def apply_planned(conn: sqlite3.Connection, run_id: int, now: str, state: str = "planned") -> int:
    """Deactivate the users of this run's ``state`` rows (planned or held); returns how many."""
    if state not in ("planned", "held"):
        raise ValueError(f"not a deactivation state: {state!r}")
    discard, deactivate, mark = _apply_statements(state)
    conn.execute(discard, (run_id,))
    cur = conn.execute(deactivate, (now, run_id, run_id))
    conn.execute(mark, (now, run_id))
    return cur.rowcount


def hold_planned(conn: sqlite3.Connection, run_id: int) -> int:
    cur = conn.execute("UPDATE user_changes SET state = 'held' WHERE run_id = ? AND state = 'planned'", (run_id,))
    return cur.rowcount


def adopt(conn: sqlite3.Connection, old_run: int, new_run: int) -> None:
    """A resumed run takes over the stopped run's seen-marks and planned deactivations."""
    conn.execute("UPDATE users SET last_seen_run = ? WHERE last_seen_run = ?", (new_run, old_run))
    conn.execute("UPDATE user_changes SET run_id = ? WHERE run_id = ? AND state = 'planned'", (new_run, old_run))


def discard_stale_planned(conn: sqlite3.Connection, run_id: int) -> None:
    """Planned deactivations left by stopped runs that are not being resumed are dropped."""
    conn.execute("UPDATE user_changes SET state = 'discarded' WHERE state = 'planned' AND run_id != ?", (run_id,))
