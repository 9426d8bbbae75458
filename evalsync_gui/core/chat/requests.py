"""Access-request intake: the tab's form, and CSV files exported from Google Forms or Sheets.

A request is the seed's Google Form row: who asked (requester), who needs the seat (email),
first and last name, when, and where it came from. CSV rows get a ``source_key`` derived
from their content, so importing the same file twice adds nothing the second time
(``chat_requests.source_key`` is UNIQUE and inserts use ``ON CONFLICT DO NOTHING``).

Rows that cannot be used are never silently dropped: each one comes back in
:attr:`ImportReport.problems` with its line number and reason. A row whose address is fine
but whose domain is not allowed is stored as *rejected* so the trail shows it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from evalsync_gui.core.chat import audit
from evalsync_gui.core.chat.domains import address_problem, domain_problem, normalize_email
from evalsync_gui.core.csvsafe import read_csv_limited
from evalsync_gui.core.errors import UsageError
from evalsync_gui.core.store.db import Database
from evalsync_gui.core.textsafe import has_control

FIELDS = ("requester", "email", "first_name", "last_name", "requested_at")
REQUIRED = ("requester", "email", "first_name", "last_name")
FIELD_LABELS = {
    "requester": "Requester's e-mail",
    "email": "E-mail needing access",
    "first_name": "First name",
    "last_name": "Last name",
    "requested_at": "Requested at",
}
MAX_IMPORT_BYTES = 20_000_000
MAX_IMPORT_ROWS = 100_000

# Header words seen in Google Forms exports of the seed's form, most specific first.
_GUESSES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("email", ("requiring", "needs access", "need access", "user requiring", "agent e-mail", "agent email")),
    ("requester", ("requester", "requested by", "raising", "submitted by", "email address", "e-mail address")),
    ("first_name", ("first name", "first", "given")),
    ("last_name", ("last name", "second name", "surname", "family", "last")),
    ("requested_at", ("timestamp", "requested at", "submitted at", "date", "time")),
)
_TIME_FORMATS = ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%m/%d/%Y %H:%M:%S",
                 "%d/%m/%Y %H:%M:%S", "%Y-%m-%d", "%m/%d/%Y")


@dataclass
class ImportReport:
    """What an import did: counts, and every unusable row with its reason."""

    added: int = 0
    duplicates: int = 0
    rejected: int = 0
    problems: list[tuple[int, str]] = field(default_factory=list)  # (line number, reason)

    def summary(self) -> str:
        return (f"{self.added} added, {self.duplicates} already imported, {self.rejected} rejected"
                f" (domain), {len(self.problems) - self.rejected} unusable")


def now_iso() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> str:
    """A form timestamp as ISO 8601 UTC when recognisable, else the text as given."""
    t = (text or "").strip()
    for fmt in _TIME_FORMATS:
        try:
            return datetime.strptime(t, fmt).strftime("%Y-%m-%dT%H:%M:%SZ")
        except ValueError:
            continue
    return t


def guess_mapping(columns: Iterable[str]) -> dict[str, str]:
    """Best guess of field -> column for a Google Forms header; each column used once."""
    cols = [c.strip().lower() for c in columns]
    mapping: dict[str, str] = {}
    for fld, words in _GUESSES:
        for word in words:
            hit = next((c for c in cols if word in c and c not in mapping.values()), None)
            if hit:
                mapping[fld] = hit
                break
    return mapping


def check_mapping(mapping: Mapping[str, str], columns: Iterable[str]) -> None:
    """Raise UsageError unless every required field maps to an existing column."""
    cols = {c.strip().lower() for c in columns}
    unknown = [f for f in mapping if f not in FIELDS]
    if unknown:
        raise UsageError(f"Unknown field {unknown[0]!r} in the column mapping; fields are {', '.join(FIELDS)}.")
    for fld in REQUIRED:
        col = mapping.get(fld)
        if not col:
            raise UsageError(f"No column is mapped to {FIELD_LABELS[fld]!r}; map one (e.g. --map 'Column name={fld}').")
        if col.lower() not in cols:
            raise UsageError(f"Column {col!r} (for {FIELD_LABELS[fld]!r}) is not in the file; its columns are: "
                             + ", ".join(sorted(cols)) + ".")


def row_key(source: str, requester: str, email: str, first: str, last: str, requested_at: str) -> str:
    """Content key used to recognise a row that was already imported."""
    raw = "\x1f".join((requester.lower(), email.lower(), first, last, requested_at))
    return f"{source}:" + hashlib.sha256(raw.encode()).hexdigest()[:32]


def row_problem(requester: str, email: str, first: str, last: str) -> str | None:
    """Why a row cannot become a request at all (before the domain check)."""
    problem = address_problem(email)
    if problem:
        return f"e-mail needing access: {problem}"
    problem = address_problem(requester)
    if problem:
        return f"requester's e-mail: {problem}"
    if has_control(first) or has_control(last):
        return "the name contains a control character (such as NUL or a line break)"
    if not first.strip():
        return "no first name (Chat needs it as the display name)"
    if not last.strip():
        return "no last name (Zendesk needs it to create the agent)"
    return None


def _insert(conn, requester: str, email: str, first: str, last: str, requested_at: str, source: str,
            key: str | None, rejection: str | None, actor: str) -> int | None:
    status = "rejected" if rejection else "queued"
    cur = conn.execute(
        "INSERT INTO chat_requests (requester, email, first_name, last_name, requested_at, source, source_key,"
        " status, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (source_key) DO NOTHING",
        (requester.strip(), email.strip(), first.strip(), last.strip(), requested_at, source, key, status, rejection),
    )
    if cur.rowcount == 0:
        return None
    rid = int(cur.lastrowid)
    if rejection:
        audit.log_action(conn, audit.REJECTED, email=email.strip(), actor=actor, request_id=rid, detail=rejection)
    return rid


def add_request(db: Database, *, requester: str, email: str, first_name: str, last_name: str = "",
                domains: Iterable[str] = (), source: str = "form", requested_at: str | None = None,
                actor: str = "", source_key: str | None = None) -> tuple[int, str, str | None]:
    """Queue one request from the form or the CLI; returns (id, status, reason).

    Raises UsageError when the row is unusable (bad address, no first name); a domain that is
    not allowed is stored as rejected with the reason. With ``source_key``, a request already
    stored under that key is not added again (the id returned is then 0).
    """
    problem = row_problem(requester, email, first_name, last_name)
    if problem:
        raise UsageError(f"Request not added: {problem}.")
    domain_list = list(domains)
    rejection = domain_problem(email, domain_list) if domain_list else None
    with db.transaction() as conn:
        rid = _insert(conn, requester, email, first_name, last_name, requested_at or now_iso(), source, source_key,
                      rejection, actor or requester)
    return int(rid or 0), ("rejected" if rejection else "queued"), rejection


def preview_rows(path: str | Path) -> tuple[list[str], list[dict[str, str]]]:
    """The file's columns and rows (read with the import limits), for the mapping step."""
    rows = read_csv_limited(path, MAX_IMPORT_BYTES, MAX_IMPORT_ROWS)
    columns = list(rows[0].keys()) if rows else []
    if not columns:
        raise UsageError(f"{Path(path).name} has a header but no data rows.")
    return columns, rows


def import_csv(db: Database, path: str | Path, mapping: Mapping[str, str] | None = None, *,
               domains: Iterable[str] = (), actor: str = "") -> ImportReport:
    """Import a CSV export; ``mapping`` is field -> column (guessed when None)."""
    columns, rows = preview_rows(path)
    mapping = {k: v.strip().lower() for k, v in (mapping or guess_mapping(columns)).items() if v}
    check_mapping(mapping, columns)
    domain_list = list(domains)
    report = ImportReport()
    source = "csv:" + Path(path).name
    with db.transaction() as conn:
        for line, row in enumerate(rows, start=2):  # line 1 is the header
            values = {f: row.get(mapping.get(f, ""), "") for f in FIELDS}
            requester, email = values["requester"], values["email"]
            first, last = values["first_name"], values["last_name"]
            problem = row_problem(requester, email, first, last)
            if problem:
                report.problems.append((line, problem))
                continue
            requested_at = parse_time(values["requested_at"]) or now_iso()
            key = row_key("csv", requester, normalize_email(email), first, last, values["requested_at"])
            rejection = domain_problem(email, domain_list) if domain_list else None
            rid = _insert(conn, requester, email, first, last, requested_at, source, key, rejection,
                          actor or requester)
            if rid is None:
                report.duplicates += 1
            elif rejection:
                report.rejected += 1
                report.problems.append((line, f"rejected: {rejection}"))
            else:
                report.added += 1
    return report


def list_requests(db: Database, statuses: Iterable[str] | None = None, limit: int = 100_000) -> list[dict]:
    """Requests, newest first, optionally filtered by status."""
    if statuses:
        sts = list(statuses)
        marks = ",".join("?" * len(sts))
        rows = db.query(f"SELECT * FROM chat_requests WHERE status IN ({marks}) ORDER BY id DESC LIMIT ?",
                        (*sts, limit))
    else:
        rows = db.query("SELECT * FROM chat_requests ORDER BY id DESC LIMIT ?", (limit,))
    return [dict(r) for r in rows]


def status_counts(db: Database) -> dict[str, int]:
    return {r[0]: r[1] for r in db.query("SELECT status, count(*) FROM chat_requests GROUP BY status")}
