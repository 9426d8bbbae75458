"""CSV files that are safe to open in a spreadsheet, and bounded CSV reading.

Exports neutralise spreadsheet formulas: a cell starting with ``=``, ``+``, ``-``, ``@``,
a tab or a carriage return gets a leading ``'`` so Excel/LibreOffice show it as text
instead of running it (CSV injection). Imports refuse oversized files before parsing them.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import secrets
import stat
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from evalsync_gui.core.errors import UsageError

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
ENCODING = "utf-8-sig"  # the BOM makes Excel read UTF-8 correctly; csv readers skip it


def _short(path: Path) -> str:
    """A path for a one-line message: long ones keep their readable end."""
    text = str(path)
    return text if len(text) <= 120 else "…" + text[-119:]


def safe_cell(value: Any) -> str:
    """``value`` as CSV text that a spreadsheet will not evaluate as a formula."""
    if value is None:
        return ""
    text = str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def _private_temp(target: Path) -> tuple[int, Path]:
    """Create a new 0600 temp file next to ``target``; never opens an existing file or a symlink.

    O_EXCL refuses anything already at the name (a planted file or symlink), O_NOFOLLOW refuses
    a symlink where the OS supports it, and the random name means a planted ``.part`` cannot
    block the export either.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    for _ in range(20):
        tmp = target.with_name(f".{target.name}.{secrets.token_hex(6)}.part")
        try:
            return os.open(tmp, flags, 0o600), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"could not create a temporary file next to {target.name}")


def write_csv(path: str | Path, header: Sequence[str], rows: Iterable[Sequence[Any]], *,
              encoding: str = ENCODING) -> int:
    """Write ``header`` and ``rows`` (streamed) with every cell neutralised; returns the row count.

    Every export goes through here: a private (0600) temp file created exclusively in the target
    folder, then an atomic rename, so a failure never leaves half a file behind, a planted
    symlink is never followed, and the export is as private as the database it came from.
    """
    target = Path(path)
    tmp: Path | None = None
    count = 0
    try:
        fd, tmp = _private_temp(target)
        with os.fdopen(fd, "w", encoding=encoding, newline="") as fh:
            if os.name == "posix":
                os.fchmod(fh.fileno(), 0o600)  # whatever the umask, the export stays owner-only
            writer = csv.writer(fh)
            writer.writerow([safe_cell(h) for h in header])
            for row in rows:
                writer.writerow([safe_cell(v) for v in row])
                count += 1
        os.replace(tmp, target)
    except OSError as exc:
        _discard(tmp)
        raise UsageError(f"Cannot write {_short(target)}: {exc.strerror or exc}; choose another file or folder.") from exc
    except BaseException:
        _discard(tmp)
        raise
    return count


def _discard(tmp: Path | None) -> None:
    if tmp is not None:
        with contextlib.suppress(OSError):  # the same bad name may refuse the cleanup too
            tmp.unlink(missing_ok=True)


def _not_regular(source: Path) -> UsageError:
    return UsageError(f"{_short(source)} is not a regular file (a folder, device or pipe); choose a CSV file.")


def _read_regular_file(source: Path, max_bytes: int) -> bytes:
    """The bytes of ``source``, which must be a regular file of at most ``max_bytes``.

    Checked with ``stat`` before opening, so a device such as /dev/zero is never read and a
    folder is never opened; opened non-blocking, so a FIFO swapped in after the check cannot
    hang the import; checked again on the open file, and read with a bound.
    """
    before = source.stat()
    if not stat.S_ISREG(before.st_mode):
        raise _not_regular(source)
    if before.st_size > max_bytes:
        raise _too_big(source, before.st_size, max_bytes)
    fd = os.open(source, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
                 | getattr(os, "O_BINARY", 0))
    with os.fdopen(fd, "rb") as fh:
        opened = os.fstat(fh.fileno())
        if not stat.S_ISREG(opened.st_mode) or (opened.st_dev, opened.st_ino) != (before.st_dev, before.st_ino):
            raise _not_regular(source)
        data = fh.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise _too_big(source, len(data), max_bytes)
    return data


def _too_big(source: Path, size: int, max_bytes: int) -> UsageError:
    return UsageError(f"{source.name} is {size:,} bytes, over the {max_bytes:,}-byte limit; split it into smaller files.")


def read_csv_limited(path: str | Path, max_bytes: int = 10_000_000, max_rows: int = 200_000) -> list[dict[str, str]]:
    """Read a CSV file with a header row into dicts keyed by lower-cased, stripped column names.

    Refuses files over ``max_bytes`` or with more than ``max_rows`` data rows with a UsageError,
    sniffs the dialect (comma, semicolon, tab), and strips surrounding spaces from values.
    """
    source = Path(path)
    try:
        text = _read_regular_file(source, max_bytes).decode(ENCODING)
    except UnicodeDecodeError as exc:
        raise UsageError(f"{source.name} is not UTF-8 text; save it as 'CSV UTF-8' and try again.") from exc
    except OSError as exc:
        raise UsageError(f"Cannot read {_short(source)}: {exc.strerror or exc}; check the file name.") from exc
    if not text.strip():
        raise UsageError(f"{source.name} is empty; it needs a header row and at least one data row.")
    try:
        dialect = csv.Sniffer().sniff(text[:64_000], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    try:
        header = [h.strip().lower() for h in next(reader)]
        rows: list[dict[str, str]] = []
        for raw in reader:
            if not any(cell.strip() for cell in raw):
                continue
            if len(rows) >= max_rows:
                raise UsageError(f"{source.name} has more than {max_rows:,} rows; split it into smaller files.")
            rows.append({h: (raw[i].strip() if i < len(raw) else "") for i, h in enumerate(header) if h})
    except csv.Error as exc:
        raise UsageError(f"{source.name} is not valid CSV (line {reader.line_num}): {exc}.") from exc
    return rows
