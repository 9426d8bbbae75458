"""EvalSync's user directory: listing, review, activation under the licence limit, manual adds.

The sync engine writes Zendesk users here as *pending*; admins activate them (which uses a
licence), deactivate them, add people by hand or import them from CSV. Every admin change is
recorded in ``user_changes`` with ``run_id`` NULL, so it is never undone with a sync run.

Listing is built for 100,000 users: :func:`query_ids` returns only the ordered ids of a view
(sorted and filtered in SQL), and :func:`fetch_rows` loads the visible ones in blocks.
"""

from __future__ import annotations

import json
import re
import sqlite3
from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from datetime import datetime, timezone

from evalsync_gui.core.emailkey import email_key
from evalsync_gui.core.errors import UsageError
from evalsync_gui.core.store.db import Database, translate_sqlite_error
from evalsync_gui.core.store.settings import Settings
from evalsync_gui.core.store.user_ids import first_free_user_id
from evalsync_gui.core.textsafe import has_control

STATUSES = ("pending", "active", "deactivated")
#: EvalSync roles an admin may give on activation: key -> label.
ROLES = {"agent": "Agent", "team_leader": "Team leader", "evaluator": "Evaluator", "admin": "Admin"}
LICENCE_KEY = "licences.limit"
DEFAULT_LICENCES = 150
MAX_LICENCES = 10_000_000
#: Where an admin raises the limit, named in every refusal (GUI button and CLI command).
RAISE_LIMIT_HINT = "raise the limit with Change limit… (User sync tab) or `evalsync licences set N`"

#: Sortable columns: key -> SQL ordering expression. None has an index (see schema_v5): SQLite
#: sorts the ids of 100,000 users by any of them in under 100 ms.
SORT_SQL = {
    "name": "name COLLATE NOCASE",
    "email": "lower(email)",
    "zendesk_role": "zendesk_role",
    "custom_role": "custom_role_name COLLATE NOCASE",
    "status": "status",
    "imported": "imported_at",
    "updated": "updated_at",
    "evalsync_role": "evalsync_role",
    "team": "team COLLATE NOCASE",
}

#: Columns of the listing (CLI JSON, CSV export, GUI rows).
LIST_COLUMNS = ("id", "zendesk_id", "name", "email", "status", "zendesk_role", "custom_role_id",
                "custom_role_name", "identifier", "evalsync_role", "team", "source", "flag",
                "deactivated_by", "deactivation_reason", "imported_at", "created_at", "updated_at")
_SELECT = ", ".join(LIST_COLUMNS)
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


#: The columns a search word is looked for in (anywhere inside, any case).
_SEARCHED = ("name", "email", "identifier", "custom_role_name", "team")


def _escape_like(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _search_clause(word: str) -> str:
    """OR of LIKEs over the searched columns; ESCAPE only when needed (it costs ~20% per row)."""
    escape = " ESCAPE '\\'" if _escape_like(word) != word else ""
    return "(" + " OR ".join(f"{col} LIKE ?{escape}" for col in _SEARCHED) + ")"


def _mostly_matching(likes: list[str]) -> bool:
    """One-letter words (the first keystroke) match most users."""
    return all(len(w) == 1 for w in likes)


def shown(value: object, limit: int = 60) -> str:
    """``value`` quoted for an error message, cut short so the message stays one readable line."""
    text = " ".join(str(value).split())
    return repr(text if len(text) <= limit else text[:limit] + "…")


def now_iso() -> str:
    """UTC now in the schema's text format."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class View:
    """What a listing shows: a status (None = all), a search text, and the order."""

    status: str | None = "pending"
    search: str = ""
    sort: str = "name"
    descending: bool = False

    def where(self) -> tuple[str, list]:
        """The WHERE clause (with leading ``WHERE`` or empty) and its parameters."""
        clauses, params = self._status_clause()
        words = self.search.split()
        match, like_params = self._match()
        if words and _mostly_matching(words):
            # Nearly every row matches: list the few that do not (LIKE can yield NULL, hence IS NOT 1).
            clauses.append(f"+id NOT IN (SELECT id FROM users NOT INDEXED WHERE ({match}) IS NOT 1)")
        elif words:
            clauses.append(match)
        params.extend(like_params)
        return ("WHERE " + " AND ".join(clauses)) if clauses else "", params

    def _status_clause(self) -> tuple[list[str], list]:
        if not self.status:
            return [], []
        if self.status not in STATUSES:
            raise UsageError(f"Unknown status {shown(self.status)}; use one of {', '.join(STATUSES)}.")
        return ["status = ?"], [self.status]

    def _match(self) -> tuple[str, list]:
        """Every search word somewhere in a searched column (AND of ORs of LIKEs), with its parameters."""
        words = self.search.split()
        clause = " AND ".join(_search_clause(w) for w in words)
        return clause, [p for w in words for p in ["%" + _escape_like(w) + "%"] * len(_SEARCHED)]

    def narrows(self, wider: "View") -> bool:
        """Whether this view's rows are some of ``wider``'s rows, in the same order.

        True when only the search differs and every word of ``wider``'s search lies inside one
        of this view's words: typing on in the search box. Then :func:`narrow_ids` can filter
        the ids already shown instead of sorting the matches again."""
        if (self.status, self.sort, self.descending) != (wider.status, wider.sort, wider.descending):
            return False
        words = [w.lower() for w in self.search.split()]
        old = [w.lower() for w in wider.search.split()]
        return bool(words) and words != old and all(any(o in w for w in words) for o in old)

    def source(self) -> str:
        """The FROM target: a search reads the table in rowid order and sorts the matches
        (``NOT INDEXED``), which is 3x faster than walking an index and fetching each row at
        random."""
        words = self.search.split()
        return "users NOT INDEXED" if words and not _mostly_matching(words) else "users"

    def order_by(self) -> str:
        """ORDER BY with id as tie-breaker, so the order is total and index-friendly."""
        if self.sort not in SORT_SQL:
            raise UsageError(f"Cannot sort by {shown(self.sort)}; use one of {', '.join(SORT_SQL)}.")
        direction = "DESC" if self.descending else "ASC"
        if self.sort == "status" and self.status:  # one status shown: its order is the id order
            return f"ORDER BY id {direction}"
        return f"ORDER BY {SORT_SQL[self.sort]} {direction}, id {direction}"


# -- reading ------------------------------------------------------------------------------
def query_ids(db: Database, view: View) -> array:
    """The ordered user ids of ``view`` as a compact ``array('q')``."""
    conn = db.connect()
    where, params = view.where()
    cur = conn.cursor()
    cur.row_factory = _first_column  # plain ints: ~2x faster than sqlite3.Row at 100k rows
    try:
        cur.execute(f"SELECT id FROM {view.source()} {where} {view.order_by()}", params)
        return array("q", cur.fetchall())
    except sqlite3.Error as exc:
        raise translate_sqlite_error(exc, db.path) from exc


def ids_after(db: Database, view: View, after: int) -> array:
    """The ids above ``after`` that ``view`` shows, in its order: the users a running sync added
    since the list was read. The id range is an index walk over the new rows only, so this costs
    a few milliseconds where re-reading 100,000 ordered ids costs ~100 (and the GIL)."""
    conn = db.connect()
    where, params = view.where()
    where = f"{where} AND id > ?" if where else "WHERE id > ?"
    cur = conn.cursor()
    cur.row_factory = _first_column
    try:
        cur.execute(f"SELECT id FROM users {where} {view.order_by()}", [*params, after])
        return array("q", cur.fetchall())
    except sqlite3.Error as exc:
        raise translate_sqlite_error(exc, db.path) from exc


def narrow_ids(db: Database, view: View, shown: Sequence[int]) -> array:
    """The ordered ids of ``view`` taken from ``shown``, the ids of a wider view it narrows
    (see :meth:`View.narrows`): one scan of the table finds which rows to keep, and no sort is
    needed. The scan lists the smaller side: after a first letter (which nearly every row
    matches) the rows that no longer match, afterwards the rows that still do; "ma" -> "mar"
    costs 45 ms instead of the 80 ms of listing the 95,000 rows that no longer match."""
    conn = db.connect()
    clauses, params = view._status_clause()
    match, like_params = view._match()
    keep_matches = not _mostly_matching(view.search.split())
    # LIKE on NULL columns gives NULL: "IS NOT 1" counts it as not matching.
    clauses.append(f"({match})" if keep_matches else f"({match}) IS NOT 1")
    where = " AND ".join(clauses)
    cur = conn.cursor()
    cur.row_factory = _first_column
    try:
        listed = set(cur.execute(f"SELECT id FROM users NOT INDEXED WHERE {where}", params + like_params).fetchall())
    except sqlite3.Error as exc:
        raise translate_sqlite_error(exc, db.path) from exc
    if keep_matches:
        return array("q", [i for i in shown if i in listed])
    return array("q", [i for i in shown if i not in listed])


def _first_column(_cursor: sqlite3.Cursor, row: tuple) -> Any:
    return row[0]


def fetch_rows(db: Database, ids: Sequence[int]) -> dict[int, sqlite3.Row]:
    """Rows for ``ids`` (any order) keyed by id; missing ids (deleted meanwhile) are absent."""
    out: dict[int, sqlite3.Row] = {}
    ids = list(ids)
    for start in range(0, len(ids), 500):
        part = ids[start:start + 500]
        marks = ",".join("?" * len(part))
        for row in db.query(f"SELECT {_SELECT} FROM users WHERE id IN ({marks})", tuple(part)):
            out[row["id"]] = row
    return out


def iter_view(db: Database, view: View) -> Iterator[sqlite3.Row]:
    """Stream the full rows of ``view`` in order (for export and JSON listing)."""
    conn = db.connect()
    where, params = view.where()
    cur = conn.execute(f"SELECT {_SELECT} FROM {view.source()} {where} {view.order_by()}", params)
    while chunk := cur.fetchmany(2000):
        yield from chunk


def list_users(db: Database, status: str | None = None) -> list[dict]:
    """All users (optionally of one status) as plain dicts, ordered by id."""
    where, params = View(status=status).where()
    return [dict(r) for r in db.query(f"SELECT {_SELECT} FROM users {where} ORDER BY id", tuple(params))]


def counts(db: Database) -> dict[str, int]:
    """Number of users per status, every status present (one GROUP BY query)."""
    out = dict.fromkeys(STATUSES, 0)
    for row in db.query("SELECT status, count(*) FROM users GROUP BY status"):
        out[row[0]] = row[1]
    return out


def count_view(db: Database, view: View) -> int:
    """How many users ``view`` shows (one COUNT in SQL)."""
    where, params = view.where()
    return int(db.connect().execute(f"SELECT count(*) FROM {view.source()} {where}", params).fetchone()[0])


def get_user(db: Database, user_id: int) -> dict:
    """One user as a dict; UsageError if there is no such id."""
    rows = db.query(f"SELECT {_SELECT} FROM users WHERE id = ?", (user_id,))
    if not rows:
        raise UsageError(f"There is no user with id {user_id}; see `evalsync users list`.")
    return dict(rows[0])


def user_history(db: Database, user_id: int, limit: int = 200) -> list[dict]:
    """The newest ``limit`` changes of one user (sync runs and admins), newest first, with the
    trigger of the run that made each (None for an admin's change)."""
    rows = db.query(
        "SELECT c.at, c.run_id, r.trigger, c.action, c.field, c.old_value, c.new_value, c.reason, c.state "
        "FROM user_changes c LEFT JOIN sync_runs r ON r.id = c.run_id WHERE c.user_id = ? "
        "ORDER BY c.id DESC LIMIT ?", (user_id, limit))
    return [dict(r) for r in rows]


# -- licences ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Licences:
    used: int
    limit: int

    @property
    def free(self) -> int:
        return max(0, self.limit - self.used)

    def __str__(self) -> str:
        return f"{self.used:,} of {self.limit:,} licences used"


def licence_limit(settings: Settings) -> int:
    """The licence limit setting (active users allowed)."""
    try:
        return int(settings.get(LICENCE_KEY, DEFAULT_LICENCES))
    except (TypeError, ValueError):
        return DEFAULT_LICENCES


def licences(db: Database, settings: Settings) -> Licences:
    """Active users count against the limit; pending and deactivated users do not."""
    used = int(db.scalar("SELECT count(*) FROM users WHERE status = 'active'") or 0)
    return Licences(used, licence_limit(settings))


def check_licences(conn: sqlite3.Connection, settings: Settings, adding: int) -> None:
    """UsageError when ``adding`` more active users would pass the licence limit."""
    if adding <= 0:
        return
    used = conn.execute("SELECT count(*) FROM users WHERE status = 'active'").fetchone()[0]
    limit = licence_limit(settings)
    if used + adding > limit:
        raise UsageError(
            f"Activating {adding:,} user{'s' if adding != 1 else ''} would need {used + adding:,} licences but the "
            f"limit is {limit:,} ({used:,} in use); deactivate users or {RAISE_LIMIT_HINT}."
        )


# -- changes -------------------------------------------------------------------------------
def validate_role(role: str | None) -> str | None:
    """The role key for ``role`` (a key or label, any case), None for None; UsageError otherwise."""
    if role is None:
        return None
    key = role.strip().lower().replace(" ", "_").replace("-", "_")
    if key not in ROLES:
        raise UsageError(f"Unknown EvalSync role {shown(role)}; use one of {', '.join(ROLES)}.")
    return key


def _existing_ids(conn: sqlite3.Connection, ids: Iterable[int]) -> dict[int, sqlite3.Row]:
    ids = list(dict.fromkeys(int(i) for i in ids))
    found: dict[int, sqlite3.Row] = {}
    for start in range(0, len(ids), 500):
        part = ids[start:start + 500]
        marks = ",".join("?" * len(part))
        for row in conn.execute(f"SELECT id, status FROM users WHERE id IN ({marks})", part):
            found[row["id"]] = row
    missing = [i for i in ids if i not in found]
    if missing:
        shown = ", ".join(map(str, missing[:5])) + (" ..." if len(missing) > 5 else "")
        raise UsageError(f"No user with id {shown}; nothing was changed. See `evalsync users list`.")
    return found


def _log(conn: sqlite3.Connection, rows: list[tuple]) -> None:
    conn.executemany(
        "INSERT INTO user_changes (run_id, user_id, action, field, old_value, new_value, reason, state, at) "
        "VALUES (NULL, ?, ?, ?, ?, ?, ?, 'applied', ?)", rows)


def activate(db: Database, settings: Settings, ids: Iterable[int] | None = None, *, all_pending: bool = False,
             role: str | None = None, team: str | None = None) -> int:
    """Make users active (with an optional EvalSync role and team); returns how many changed.

    Refused as a whole, with a UsageError, when the newly active users would exceed the
    licence limit; already-active users only get the role/team and use no new licence.
    """
    role_key = validate_role(role)
    team = team.strip() if team else None
    at = now_iso()
    with db.transaction() as conn:
        if all_pending:
            targets = {r["id"]: r for r in conn.execute("SELECT id, status FROM users WHERE status = 'pending'")}
        else:
            targets = _existing_ids(conn, ids or [])
        if not targets:
            return 0
        newly = [i for i, r in targets.items() if r["status"] != "active"]
        check_licences(conn, settings, len(newly))
        activate_rows(conn, "json", [json.dumps(list(targets))], role_key, team, at)
        return len(targets)


#: Where :func:`activate_rows` and :func:`deactivate_rows` take their ids from, by ``source``:
#: a JSON array (one parameter), or a range of positions in user_selection's staged temp table.
IDS_FROM = {"json": "SELECT value FROM json_each(?)",
            "staged": "SELECT id FROM temp.selected_users WHERE pos BETWEEN ? AND ?"}


def activate_rows(conn: sqlite3.Connection, source: str, params: Sequence[Any], role_key: str | None,
                  team: str | None, at: str) -> None:
    """Set the users that ``IDS_FROM[source]`` selects active with the role and team, and log the
    status changes, inside the caller's transaction (the licence check is the caller's).

    Two set-based statements and no per-row Python: SQLite runs with the GIL released, so the
    window keeps painting while 100,000 users change."""
    conn.execute(
        "INSERT INTO user_changes (run_id, user_id, action, field, old_value, new_value, reason, state, at) "
        "SELECT NULL, id, 'activate', 'status', status, 'active', 'activated by an admin', 'applied', ? "
        f"FROM users WHERE id IN ({IDS_FROM[source]}) AND status != 'active'", (at, *params))
    conn.execute(
        "UPDATE users SET status = 'active', evalsync_role = coalesce(?, evalsync_role), "
        "team = coalesce(?, team), deactivated_by = NULL, deactivation_reason = NULL, flag = NULL, updated_at = ? "
        f"WHERE id IN ({IDS_FROM[source]})", (role_key, team, at, *params))


def deactivate(db: Database, ids: Iterable[int], reason: str = "deactivated by an admin") -> int:
    """Deactivate users by hand (frees their licences); returns how many changed."""
    at = now_iso()
    with db.transaction() as conn:
        targets = _existing_ids(conn, ids)
        changing = [i for i, r in targets.items() if r["status"] != "deactivated"]
        deactivate_rows(conn, "json", [json.dumps(changing)], reason, at)
        return len(changing)


def deactivate_rows(conn: sqlite3.Connection, source: str, params: Sequence[Any], reason: str, at: str) -> None:
    """Deactivate the users that ``IDS_FROM[source]`` selects, by an admin, and log it, inside the caller's
    transaction (set-based, as :func:`activate_rows`); users already deactivated are left alone."""
    conn.execute(
        "INSERT INTO user_changes (run_id, user_id, action, field, old_value, new_value, reason, state, at) "
        "SELECT NULL, id, 'deactivate', 'status', status, 'deactivated', ?, 'applied', ? "
        f"FROM users WHERE id IN ({IDS_FROM[source]}) AND status != 'deactivated'", (reason, at, *params))
    conn.execute(
        "UPDATE users SET status = 'deactivated', deactivated_by = 'admin', deactivation_reason = ?, updated_at = ? "
        f"WHERE id IN ({IDS_FROM[source]}) AND status != 'deactivated'", (reason, at, *params))


def validate_email(email: str, where: str = "") -> str:
    """A trimmed e-mail address, or UsageError naming ``where``."""
    email = (email or "").strip()
    if not _EMAIL_RE.fullmatch(email):
        raise UsageError(f"{where}{shown(email)} is not an e-mail address like name@example.com.")
    return email


@dataclass
class NewUser:
    name: str
    email: str
    identifier: str | None = None
    status: str = "pending"
    role: str | None = None
    team: str | None = None


def _clean(user: NewUser, where: str = "") -> NewUser:
    name = (user.name or "").strip()
    if not name:
        raise UsageError(f"{where}a name is required.")
    if any(has_control(v or "") for v in (name, user.identifier, user.team)):
        raise UsageError(f"{where}the name, identifier or team contains a control character (such as NUL or a "
                         "line break); type it again without it.")
    status = (user.status or "pending").strip().lower()
    if status not in ("pending", "active"):
        raise UsageError(f"{where}status must be pending or active, not {shown(user.status)}.")
    return NewUser(name=name, email=validate_email(user.email, where), identifier=(user.identifier or "").strip() or None,
                   status=status, role=validate_role(user.role) if user.role else None,
                   team=(user.team or "").strip() or None)


def _insert(conn: sqlite3.Connection, users: list[NewUser], source: str, at: str) -> list[int]:
    first = first_free_user_id(conn)  # never a removed user's id (their history stays theirs)
    ids = list(range(first, first + len(users)))
    conn.executemany(
        "INSERT INTO users (id, name, email, identifier, status, source, evalsync_role, team, imported_at, "
        "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(i, u.name, u.email, u.identifier, u.status, source, u.role, u.team, at, at, at) for i, u in zip(ids, users)])
    _log(conn, [(i, "add", "status", None, u.status, f"added by an admin ({source})", at) for i, u in zip(ids, users)])
    return ids


def _email_taken(conn: sqlite3.Connection, email: str) -> bool:
    # One scan (no index on e-mail, see schema_v5), folded like everywhere else (core/emailkey).
    return conn.execute("SELECT 1 FROM users WHERE email_key(email) = ? LIMIT 1",
                        (email_key(email),)).fetchone() is not None


def _taken_emails(conn: sqlite3.Connection) -> set[str]:
    """Every e-mail in the directory, folded (:func:`email_key`): one scan for a whole file."""
    return {email_key(email) for (email,) in conn.execute("SELECT email FROM users WHERE email IS NOT NULL")}


def add_user(db: Database, settings: Settings, user: NewUser) -> int:
    """Add one user by hand (source 'manual'); returns the new id."""
    clean = _clean(user)
    with db.transaction() as conn:
        if _email_taken(conn, clean.email):
            raise UsageError(f"A user with the e-mail {shown(clean.email)} already exists; activate or edit that one.")
        check_licences(conn, settings, 1 if clean.status == "active" else 0)
        return _insert(conn, [clean], "manual", now_iso())[0]


@dataclass(frozen=True)
class ImportResult:
    added: int
    skipped: int  # rows whose e-mail is already in the directory

    def __str__(self) -> str:
        return f"Imported {self.added:,} users; {self.skipped:,} were already in the directory."


def import_rows(db: Database, settings: Settings, rows: list[dict[str, str]], source_name: str = "the file",
                default_status: str = "active") -> ImportResult:
    """Import existing EvalSync users (name, email, optional identifier/status/role/team).

    Every row is validated first; any problem refuses the whole file, so it never half-imports.
    Rows whose e-mail already exists are skipped, which makes re-importing a file harmless.
    """
    if not rows:
        raise UsageError(f"{source_name} has no data rows; nothing was imported.")
    keys = set(rows[0])
    email_col = next((k for k in ("email", "e-mail", "email address", "e-mail address") if k in keys), None)
    if "name" not in keys or email_col is None:
        raise UsageError(f"{source_name} needs the columns name and email (and optionally identifier); nothing was imported.")
    clean: list[NewUser] = []
    problems: list[str] = []
    seen: set[str] = set()
    for line, row in enumerate(rows, start=2):
        try:
            user = _clean(NewUser(name=row.get("name", ""), email=row.get(email_col, ""),
                                  identifier=row.get("identifier"), status=row.get("status") or default_status,
                                  role=row.get("role") or None, team=row.get("team")), f"line {line}: ")
        except UsageError as exc:
            problems.append(str(exc))
            continue
        if email_key(user.email) in seen:
            problems.append(f"line {line}: the e-mail {shown(user.email)} appears twice.")
            continue
        seen.add(email_key(user.email))
        clean.append(user)
    if problems:
        more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
        raise UsageError(f"{source_name} {problems[0].rstrip('.')}{more}; fix the file, nothing was imported.")
    with db.transaction() as conn:
        taken = _taken_emails(conn)
        fresh = [u for u in clean if email_key(u.email) not in taken]
        check_licences(conn, settings, sum(1 for u in fresh if u.status == "active"))
        _insert(conn, fresh, "csv", now_iso())
    return ImportResult(added=len(fresh), skipped=len(clean) - len(fresh))


def import_csv(db: Database, settings: Settings, path) -> ImportResult:
    """Import a CSV file of existing EvalSync users; see :func:`import_rows`."""
    from pathlib import Path

    from evalsync_gui.core.csvsafe import read_csv_limited

    return import_rows(db, settings, read_csv_limited(path), Path(path).name)


EXPORT_HEADER = ("id", "zendesk_id", "name", "email", "identifier", "status", "zendesk_role", "custom_role",
                 "evalsync_role", "team", "source", "imported_at", "updated_at")


def export_rows(db: Database, view: View) -> Iterator[tuple]:
    """The CSV rows (see :data:`EXPORT_HEADER`) of ``view``, streamed in its order."""
    for r in iter_view(db, view):
        yield (r["id"], r["zendesk_id"], r["name"], r["email"], r["identifier"], r["status"], r["zendesk_role"],
               r["custom_role_name"], r["evalsync_role"], r["team"], r["source"], r["imported_at"], r["updated_at"])


def write_export(path, rows: Iterable[Sequence[Any]]) -> int:
    """Write export ``rows`` to ``path`` as formula-safe CSV (all or nothing); returns the row count."""
    from evalsync_gui.core.csvsafe import write_csv

    return write_csv(path, EXPORT_HEADER, rows)


def export_csv(db: Database, path, view: View | None = None) -> int:
    """Write ``view`` (default: all users by name) to ``path`` as formula-safe CSV; returns rows."""
    return write_export(path, export_rows(db, view or View(status=None)))
