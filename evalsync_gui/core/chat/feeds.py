"""Reading request sources: a Google Sheet's "Publish to web" CSV link, and a local CSV file
that another tool keeps appending to.

Both hand back *records* (one per sheet row, a quoted multi-line cell included) keyed by the
lower-cased header, with the record's row number (the header is row 1, as in the sheet).

A published sheet is read whole each poll (it is small and Google serves it as one file),
within the CSV import's size and row limits. Google answers an unpublished sheet or a wrong
link with an error status or an HTML page instead of CSV (see docs/ZENDESK.md section 8);
each case gets its own line saying what to do.

A local file is read as it grows: only bytes after ``offset`` (the end of the last whole
record taken) are read, and only up to the last newline that ends a whole record, so a
half-written last line waits for the next poll and is taken whole then. A record ends at a
newline outside quotes (an even number of ``"`` so far). A file that shrank or whose header
changed, or whose bytes before the offset changed (a fingerprint of its start and of the
bytes before the offset), was rewritten or replaced: it is read again from the top, and
the row identities make that safe.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from evalsync_gui.core.errors import UsageError
from evalsync_gui.core.zendesk.urls import is_loopback

MAX_BYTES = 20_000_000  # as for a CSV import (requests.MAX_IMPORT_BYTES)
MAX_ROWS = 100_000
MAX_REDIRECTS = 5
TIMEOUT = 30.0
SIGN_IN_HOSTS = ("accounts.google.com",)
PUBLISH_HINT = ("in Google Sheets choose File → Share → Publish to web, pick the form responses sheet and "
                "'Comma-separated values (.csv)', and use that link")

Record = tuple[int, dict[str, str]]  # (row number, values by lower-cased column)


class FeedError(UsageError):
    """A source could not be read; the message says what to do. The run goes on with other sources."""


@dataclass
class FileState:
    """How far a local file was read: ``offset`` after the last whole record, the header it belongs to."""

    offset: int = 0
    header: str = ""
    records: int = 0  # records taken before ``offset`` (row numbers continue from here)
    seen: str = ""  # fingerprint of the bytes around ``offset``: a file rewritten in place no longer matches


# -- the published sheet -------------------------------------------------------------------
def check_sheet_url(url: str) -> str:
    """The link, trimmed, when it may be fetched: https, or plain http on loopback only."""
    u = (url or "").strip()
    parts = urlsplit(u)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise FeedError(f"{u[:100]!r} is not a web link; {PUBLISH_HINT}.")
    if parts.username or parts.password:
        raise FeedError("The sheet link must not contain a user name or password.")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise FeedError("The sheet link must start with https:// (plain http only for a test server on this "
                        "computer).")
    return u


def fetch_sheet(url: str, *, max_bytes: int = MAX_BYTES, max_rows: int = MAX_ROWS,
                transport: httpx.BaseTransport | None = None) -> tuple[list[str], list[Record]]:
    """Download a published sheet's CSV and parse it into (header, records); raises FeedError with one
    line on any problem."""
    body = _download(check_sheet_url(url), max_bytes, transport)
    text = _decode(body, "The sheet")
    if text.lstrip()[:15].lower().startswith(("<!doctype", "<html")):
        raise FeedError(f"The sheet link returned a web page, not CSV: the sheet is not published to the web or "
                        f"needs a sign-in; {PUBLISH_HINT}.")
    header, records, _ = parse_records(text, "The sheet", max_rows)
    if not header:
        raise FeedError("The published sheet is empty; it needs the form's header row.")
    return header, records


def _download(url: str, max_bytes: int, transport: httpx.BaseTransport | None) -> bytes:
    host = urlsplit(url).hostname or ""
    with httpx.Client(timeout=httpx.Timeout(TIMEOUT, connect=15.0), follow_redirects=False, trust_env=False,
                      transport=transport, headers={"Accept": "text/csv"}) as client:
        for _ in range(MAX_REDIRECTS + 1):
            try:
                with client.stream("GET", url) as resp:
                    if resp.is_redirect:
                        url = _next_hop(url, resp.headers.get("location", ""))
                        continue
                    _check_status(resp, host)
                    if "text/html" in resp.headers.get("content-type", "").lower():
                        raise FeedError("The sheet link returned a web page, not CSV: the sheet is not published "
                                        f"to the web, or this is its edit link; {PUBLISH_HINT}.")
                    chunks, size = [], 0
                    for chunk in resp.iter_bytes():
                        size += len(chunk)
                        if size > max_bytes:
                            raise FeedError(f"The published sheet is over the {max_bytes:,}-byte limit; publish "
                                            "only the form responses sheet.")
                        chunks.append(chunk)
                    return b"".join(chunks)
            except httpx.TimeoutException as exc:
                raise FeedError(f"{host} did not answer in time; the next poll tries again.") from exc
            except httpx.HTTPError as exc:
                raise FeedError(f"Could not reach {host} ({type(exc).__name__}); check the network, the next poll "
                                "tries again.") from exc
    raise FeedError(f"The sheet link redirected more than {MAX_REDIRECTS} times; {PUBLISH_HINT}.")


def _next_hop(current: str, location: str) -> str:
    target = str(httpx.URL(current).join(location))
    if (urlsplit(target).hostname or "") in SIGN_IN_HOSTS:
        raise FeedError(f"Google asks for a sign-in: the sheet is not published to the web; {PUBLISH_HINT}.")
    try:
        return check_sheet_url(target)
    except FeedError as exc:
        raise FeedError(f"The sheet link redirected to an address EvalSync will not follow ({exc})") from exc


def _check_status(resp: httpx.Response, host: str) -> None:
    code = resp.status_code
    if code < 400:
        return
    if code in (404, 410):
        raise FeedError(f"The sheet link is wrong or the sheet was unpublished (HTTP {code}); {PUBLISH_HINT}.")
    if code in (401, 403):
        raise FeedError(f"The sheet is not published to the web (HTTP {code}), or your Google Workspace does "
                        f"not allow publishing; {PUBLISH_HINT}.")
    raise FeedError(f"{host} answered HTTP {code}; the next poll tries again.")


# -- the growing local file ----------------------------------------------------------------
def read_growing(path: str | Path, state: FileState, *, max_bytes: int = MAX_BYTES,
                 max_rows: int = MAX_ROWS) -> tuple[FileState, list[Record]]:
    """Whole records added to ``path`` since ``state``; the new state to save once they are taken.

    Reads the header line and the bytes after ``state.offset`` only.
    """
    path = Path(path)
    fd = _open_regular(path, max_bytes)
    try:
        size = os.fstat(fd).st_size
        if size == state.offset and state.offset:
            return state, []  # nothing new
        head = os.pread(fd, min(size, 65_536), 0)
        head_end = head.find(b"\n")
        if head_end < 0:
            return state, []  # not even a whole header yet
        header = _decode(head[:head_end], path.name).strip()
        if (header != state.header or size < state.offset or state.offset <= head_end
                or _fingerprint(fd, state.offset) != state.seen):
            state = FileState(head_end + 1, header, 0)  # a new file, or one rewritten or replaced
        chunk = os.pread(fd, size - state.offset, state.offset)
        end = _last_record_end(chunk)
        if end == 0:
            return state, []  # only a half-written record so far
        seen = _fingerprint(fd, state.offset + end)
    finally:
        os.close(fd)
    _, records, count = parse_records(header + "\n" + _decode(chunk[:end], path.name), path.name,
                                      max_rows - state.records)
    records = [(number + state.records, values) for number, values in records]
    return FileState(state.offset + end, header, state.records + count, seen), records


def _fingerprint(fd: int, offset: int) -> str:
    """A digest of the first 4 KiB and the 256 bytes before ``offset``: what an append never changes."""
    digest = hashlib.sha256(os.pread(fd, min(offset, 4096), 0))
    digest.update(os.pread(fd, min(offset, 256), max(0, offset - 256)))
    return digest.hexdigest()[:24]


def _open_regular(path: Path, max_bytes: int) -> int:
    """An fd for ``path``, refusing FIFOs, devices, folders and files over the limit (never blocks)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise FeedError(f"{path} does not exist (yet); check the path, the next poll looks again.") from None
    except OSError as exc:
        raise FeedError(f"Cannot open {path}: {exc.strerror or exc}; check the path and its permissions.") from exc
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise FeedError(f"{path} is not a regular file; point the source at the CSV file itself.")
    if info.st_size > max_bytes:
        os.close(fd)
        raise FeedError(f"{path.name} is {info.st_size:,} bytes, over the {max_bytes:,}-byte limit; start a new "
                        "file and add it as another source.")
    return fd


def _last_record_end(raw: bytes) -> int:
    """Offset just after the last newline that ends a whole record (quotes balanced), 0 if none."""
    end, quotes, pos = 0, 0, 0
    while True:
        nl = raw.find(b"\n", pos)
        if nl < 0:
            return end
        quotes += raw.count(b'"', pos, nl)
        if quotes % 2 == 0:
            end = nl + 1
        pos = nl + 1


# -- parsing -------------------------------------------------------------------------------
def _decode(body: bytes, what: str) -> str:
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FeedError(f"{what} is not UTF-8 text; save or publish it as CSV.") from exc


def parse_records(text: str, what: str, max_rows: int = MAX_ROWS) -> tuple[list[str], list[Record], int]:
    """(header, records, how many records in all) of CSV text; blank records are skipped but
    keep their row numbers."""
    first = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first.count) if first else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        header = [h.strip().lower() for h in next(reader, [])]
        records: list[Record] = []
        number = 1
        for number, raw in enumerate(reader, start=2):
            if number - 1 > max_rows:
                raise FeedError(f"{what} has more than {max_rows:,} rows; start a new sheet or file.")
            if any(cell.strip() for cell in raw):
                records.append((number, {h: (raw[i].strip() if i < len(raw) else "")
                                         for i, h in enumerate(header) if h}))
    except csv.Error as exc:
        raise FeedError(f"{what} is not valid CSV (line {reader.line_num}): {exc}.") from exc
    return header, records, number - 1
