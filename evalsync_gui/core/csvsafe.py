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


def write_csv(path: str | Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Write ``header`` and ``rows`` (streamed) with every cell neutralised; returns the row count.

    Writes to a temporary file and renames it, so a failure never leaves half a file behind.
    """
    target = Path(path)
    tmp = target.with_name(target.name + ".part")
    count = 0
    try:
        with open(tmp, "w", encoding=ENCODING, newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow([safe_cell(h) for h in header])
            for row in rows:
                writer.writerow([safe_cell(v) for v in row])
                count += 1
        os.replace(tmp, target)
    except OSError as exc:
        with contextlib.suppress(OSError):  # the same bad name may refuse the cleanup too
            tmp.unlink(missing_ok=True)
        raise UsageError(f"Cannot write {_short(target)}: {exc.strerror or exc}; choose another file or folder.") from exc
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise
    return count


def read_csv_limited(path: str | Path, max_bytes: int = 10_000_000, max_rows: int = 200_000) -> list[dict[str, str]]:
    """Read a CSV file with a header row into dicts keyed by lower-cased, stripped column names.

    Refuses files over ``max_bytes`` or with more than ``max_rows`` data rows with a UsageError,
    sniffs the dialect (comma, semicolon, tab), and strips surrounding spaces from values.
    """
    source = Path(path)
    try:
        size = source.stat().st_size
    except OSError as exc:
        raise UsageError(f"Cannot read {_short(source)}: {exc.strerror or exc}; check the file name.") from exc
    if size > max_bytes:
        raise UsageError(f"{source.name} is {size:,} bytes, over the {max_bytes:,}-byte limit; split it into smaller files.")
    try:
        text = source.read_text(encoding=ENCODING)
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
