"""Request sources: where access requests arrive without an admin at the keyboard.

A source is a published Google Sheet (``sheet``, the seed's form responses) or a local CSV
file another tool keeps writing (``file``), each with its own saved column mapping
(field -> column, as for a CSV import, plus an optional ``row_id`` column).

**A row is taken once.** Its identity is the source's row id column when it has one, else the
form's timestamp plus the requester's and the agent's addresses, never its position: so
re-sorting, re-publishing or re-reading the sheet never takes a row twice. What was taken is
kept (``chat_source_rows``) with a digest of its values; a row edited after it was taken is
*reported* once per new content (action log, poll report, outcome file), never run again.
Requests get a ``source_key`` derived from the source's location and the identity, so even a
source removed and added again does not queue its old rows a second time.

When a source is added, the rows already there are recorded as *skipped* (the recipe's "new
row" trigger likewise only sees rows added after it was switched on) unless the caller asks
to include them.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from evalsync_gui.core.chat import audit, feeds
from evalsync_gui.core.chat import requests as rq
from evalsync_gui.core.chat.domains import normalize_email
from evalsync_gui.core.errors import UsageError
from evalsync_gui.core.store.db import Database

KINDS = ("sheet", "file")
FIELDS = (*rq.FIELDS, "row_id")
ROW_ID_NAMES = ("row id", "row_id", "id", "response id")
MAX_NAME = 60
CHANGED = "Source row changed"   # action-log words
UNUSABLE = "Unusable row"
SKIPPED = "skipped"


@dataclass
class Source:
    """A saved source and its poll state."""

    id: int
    name: str
    kind: str
    location: str
    mapping: dict[str, str]
    state: feeds.FileState = field(default_factory=feeds.FileState)
    last_poll: str | None = None
    rows_taken: int = 0
    last_error: str | None = None

    def to_json(self) -> dict:
        """The ``chat sources list --json`` object (contract: name, kind, last_poll, rows_taken, last_error)."""
        return {"name": self.name, "kind": self.kind, "last_poll": self.last_poll, "rows_taken": self.rows_taken,
                "last_error": self.last_error, "location": self.location, "mapping": self.mapping}


@dataclass
class PollReport:
    """What one poll of one source did."""

    source: str
    taken: int = 0
    rejected: int = 0
    unusable: int = 0
    changed: int = 0
    error: str | None = None
    request_ids: list[int] = field(default_factory=list)


# -- saved sources -------------------------------------------------------------------------
def _row(r) -> Source:
    state = feeds.FileState(**json.loads(r["header"])) if r["header"] else feeds.FileState()
    return Source(r["id"], r["name"], r["kind"], r["location"], json.loads(r["mapping"]), state,
                  r["last_poll"], r["rows_taken"], r["last_error"])


def list_sources(db: Database) -> list[Source]:
    return [_row(r) for r in db.query("SELECT * FROM chat_sources ORDER BY name")]


def get_source(db: Database, name: str) -> Source:
    rows = db.query("SELECT * FROM chat_sources WHERE name = ?", (name,))
    if not rows:
        raise UsageError(f"There is no source named {name!r}; see `evalsync chat sources list`.")
    return _row(rows[0])


def check_name(name: str) -> str:
    n = (name or "").strip()
    if not n or len(n) > MAX_NAME or not n.isprintable():
        raise UsageError(f"A source name is 1 to {MAX_NAME} printable characters.")
    return n


def check_source_mapping(mapping: dict[str, str], columns: list[str] | None) -> dict[str, str]:
    """Field -> lower-cased column; every required field, and a timestamp or row id to identify rows."""
    out = {f: c.strip().lower() for f, c in mapping.items() if c and c.strip()}
    unknown = [f for f in out if f not in FIELDS]
    if unknown:
        raise UsageError(f"Unknown field {unknown[0]!r} in the mapping; fields are {', '.join(FIELDS)}.")
    if columns is not None:
        rq.check_mapping({f: c for f, c in out.items() if f != "row_id"}, columns)
        if out.get("row_id") and out["row_id"] not in columns:
            raise UsageError(f"Column {out['row_id']!r} (for the row id) is not in the source.")
    else:
        missing = [f for f in rq.REQUIRED if f not in out]
        if missing:
            raise UsageError(f"The file is not there yet, so map every field: add --map 'Column={missing[0]}'.")
    if "requested_at" not in out and "row_id" not in out:
        raise UsageError("Map the form's timestamp (--map 'Timestamp=requested_at') or a row id column "
                         "(--map 'Id=row_id') so each row is taken exactly once.")
    return out


def guess(columns: list[str]) -> dict[str, str]:
    """The import's guess, plus a row id column when the header has one."""
    mapping = rq.guess_mapping(columns)
    hit = next((c for c in columns if c in ROW_ID_NAMES), None)
    if hit:
        mapping["row_id"] = hit
    return mapping


@dataclass
class Peek:
    """A source read once before it is added: its columns (None while a file does not exist
    yet), its first rows (values by lower-cased column) and the guessed mapping."""

    columns: list[str] | None
    rows: list[dict[str, str]]
    guess: dict[str, str]


def peek(*, url: str | None = None, path: str | None = None, rows: int = 5) -> Peek:
    """Read a sheet or file the way :func:`add_source` will, to show its columns; saves nothing.

    Raises UsageError (a FeedError) when it cannot be read."""
    records, _state, columns = _first_read(_unsaved(url, path))
    return Peek(columns, [values for _line, values in records[:rows]], guess(columns) if columns else {})


def _unsaved(url: str | None, path: str | None) -> Source:
    """The source at ``url`` or ``path``, checked (https sheet link, existing folder), not saved."""
    if (url is None) == (path is None):
        raise UsageError("Give exactly one of --url and --file.")
    kind = "sheet" if url is not None else "file"
    location = feeds.check_sheet_url(url or "") if kind == "sheet" else str(Path(path or "").expanduser().resolve())
    if kind == "file" and not Path(location).parent.is_dir():
        raise UsageError(f"The folder {Path(location).parent} does not exist; check the path.")
    return Source(0, "", kind, location, {})


def _first_read(src: Source) -> tuple[list[feeds.Record], feeds.FileState, list[str] | None]:
    """:func:`_read` of a source not read before; a file the other tool has not written yet is empty."""
    if src.kind == "file" and not Path(src.location).exists():
        return [], feeds.FileState(), None
    return _read(src)


def add_source(db: Database, name: str, *, url: str | None = None, path: str | None = None,
               mapping: dict[str, str] | None = None, include_existing: bool = False,
               guessed: bool = True) -> tuple[Source, int]:
    """Save a source after reading it once; returns it and how many existing rows were skipped.

    ``mapping`` (field -> column) overrides the guess field by field; with ``guessed=False`` it
    is the whole mapping (the app's column dialog, where "not in this file" means no column).
    Raises UsageError (a FeedError) when the sheet cannot be read: nothing is saved then.
    """
    name = check_name(name)
    src = _unsaved(url, path)
    if db.query("SELECT 1 FROM chat_sources WHERE name = ?", (name,)):
        raise UsageError(f"A source named {name!r} exists; remove it first or choose another name.")
    src.name = name
    records, state, columns = _first_read(src)
    base = guess(columns) if columns and guessed else {}
    src.mapping = check_source_mapping({**base, **(mapping or {})}, columns)
    with db.transaction() as conn:
        cur = conn.execute("INSERT INTO chat_sources (name, kind, location, mapping) VALUES (?, ?, ?, ?)",
                           (name, src.kind, src.location, json.dumps(src.mapping)))
        src.id = int(cur.lastrowid)
    skipped = 0
    if not include_existing:
        with db.transaction() as conn:
            for line, values in records:
                identity, digest = identify(src.mapping, values)
                conn.execute("INSERT INTO chat_source_rows (source_id, identity, digest, line, status, reason)"
                             " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                             (src.id, identity, digest, line, SKIPPED, "in the source before it was added"))
                skipped += 1
            if src.kind == "file":
                _save_state(conn, src.id, state)
    return src, skipped


def _header_columns(state: feeds.FileState) -> list[str] | None:
    if not state.header:
        return None
    header, _, _ = feeds.parse_records(state.header + "\n", "the file")
    return header


def remove_source(db: Database, name: str) -> None:
    """Forget a source (its requests and the action log stay)."""
    src = get_source(db, name)
    with db.transaction() as conn:
        conn.execute("DELETE FROM chat_source_rows WHERE source_id = ?", (src.id,))
        conn.execute("DELETE FROM chat_sources WHERE id = ?", (src.id,))


def _save_state(conn, source_id: int, state: feeds.FileState) -> None:
    conn.execute("UPDATE chat_sources SET header = ? WHERE id = ?", (json.dumps(asdict(state)), source_id))


# -- polling -------------------------------------------------------------------------------
def identify(mapping: dict[str, str], values: dict[str, str]) -> tuple[str, str]:
    """(identity, digest) of a record: its row id or timestamp + both addresses; a digest of its values."""
    get = lambda f: values.get(mapping.get(f, ""), "").strip()  # noqa: E731 - a two-use local shorthand
    row_id = get("row_id") if mapping.get("row_id") else ""
    identity = ("id:" + row_id if row_id else
                "ts:" + "\x1f".join((get("requested_at"), normalize_email(get("requester")), normalize_email(get("email")))))
    raw = "\x1f".join((normalize_email(get("requester")), normalize_email(get("email")), get("first_name"),
                       get("last_name"), get("requested_at")))
    return identity, hashlib.sha256(raw.encode()).hexdigest()[:32]


def _read(src: Source) -> tuple[list[feeds.Record], feeds.FileState, list[str] | None]:
    """(new records, the file state after them, the header's columns when known)."""
    if src.kind == "sheet":
        header, records = feeds.fetch_sheet(src.location)
        return records, src.state, header
    state, records = feeds.read_growing(src.location, src.state)
    return records, state, _header_columns(state)


def poll(db: Database, src: Source, domains: list[str]) -> PollReport:
    """Read a source and queue its new rows; a read failure is recorded on the source, not raised."""
    report = PollReport(src.name)
    try:
        records, state, _ = _read(src)
    except feeds.FeedError as exc:
        report.error = str(exc)
        with db.transaction() as conn:
            conn.execute("UPDATE chat_sources SET last_poll = ?, last_error = ? WHERE id = ?",
                         (rq.now_iso(), report.error, src.id))
        return report
    for line, values in records:
        _take(db, src, line, values, domains, report)
    with db.transaction() as conn:
        if src.kind == "file":
            _save_state(conn, src.id, state)
        conn.execute("UPDATE chat_sources SET last_poll = ?, last_error = NULL, rows_taken = rows_taken + ?"
                     " WHERE id = ?", (rq.now_iso(), report.taken, src.id))
    return report


def _take(db: Database, src: Source, line: int, values: dict[str, str], domains: list[str],
          report: PollReport) -> None:
    identity, digest = identify(src.mapping, values)
    seen = db.query("SELECT digest, changed_digest, request_id FROM chat_source_rows"
                    " WHERE source_id = ? AND identity = ?", (src.id, identity))
    if seen:
        if digest not in (seen[0]["digest"], seen[0]["changed_digest"]):
            _report_change(db, src, identity, digest, line, values, seen[0]["request_id"])
            report.changed += 1
        return
    v = {f: values.get(src.mapping.get(f, ""), "").strip() for f in rq.FIELDS}
    problem = rq.row_problem(v["requester"], v["email"], v["first_name"], v["last_name"])
    if problem:
        with db.transaction() as conn:
            conn.execute("INSERT INTO chat_source_rows (source_id, identity, digest, line, status, reason)"
                         " VALUES (?, ?, ?, ?, 'unusable', ?)", (src.id, identity, digest, line, problem))
            audit.log_action(conn, UNUSABLE, email=v["email"][:254], actor=f"source {src.name}",
                             detail=f"row {line}: {problem}")
        report.unusable += 1
        return
    key = "src:" + hashlib.sha256(f"{src.location}\x1f{identity}".encode()).hexdigest()[:32]
    rid, status, _ = rq.add_request(db, requester=v["requester"], email=v["email"], first_name=v["first_name"],
                                    last_name=v["last_name"], domains=domains, source=f"source:{src.name}",
                                    requested_at=rq.parse_time(v["requested_at"]) or rq.now_iso(),
                                    actor=f"source {src.name}", source_key=key)
    if not rid:  # taken before under this source's location (a source removed and added again)
        rid = int(db.scalar("SELECT id FROM chat_requests WHERE source_key = ?", (key,)) or 0)
    with db.transaction() as conn:
        conn.execute("INSERT INTO chat_source_rows (source_id, identity, digest, line, request_id)"
                     " VALUES (?, ?, ?, ?, ?)", (src.id, identity, digest, line, rid or None))
    report.taken += 1
    report.rejected += status == "rejected"
    report.request_ids.append(rid)


def _report_change(db: Database, src: Source, identity: str, digest: str, line: int, values: dict[str, str],
                   request_id: int | None) -> None:
    email = values.get(src.mapping.get("email", ""), "")[:254]
    with db.transaction() as conn:
        conn.execute("UPDATE chat_source_rows SET changed_digest = ?, line = ? WHERE source_id = ? AND identity = ?",
                     (digest, line, src.id, identity))
        audit.log_action(conn, CHANGED, email=email, actor=f"source {src.name}", request_id=request_id,
                         detail=f"row {line} changed after it was taken; not run again (add a new request instead)")
