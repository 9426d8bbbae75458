"""Shared checks for the reliability suite: consistency of the database and one-line errors."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from evalsync_gui.core.errors import EvalsyncError


def integrity_ok(db_path: Path | str) -> None:
    """PRAGMA integrity_check is ok and foreign keys hold (own connection, read-only)."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        conn.close()


def no_duplicate_zendesk_users(db_path: Path | str) -> None:
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        dupes = conn.execute("SELECT zendesk_id, COUNT(*) FROM users WHERE zendesk_id IS NOT NULL "
                             "GROUP BY zendesk_id HAVING COUNT(*) > 1").fetchall()
        assert dupes == []
    finally:
        conn.close()


def assert_one_line(err: BaseException, *, secrets: tuple[str, ...] = ()) -> str:
    """``err`` is EvalSync's own, a single non-empty line, and carries no secret."""
    assert isinstance(err, EvalsyncError), f"{type(err).__name__} escaped: {err!r}"
    text = str(err)
    assert text and "\n" not in text and len(text) < 600, text
    for s in secrets:
        assert s not in text and s not in repr(err), "secret in exception text"
    return text


def can_mount() -> bool:
    """True when this process may mount a tmpfs (root in a container that allows it)."""
    if os.geteuid() != 0 or sys.platform != "linux":
        return False
    with tempfile.TemporaryDirectory() as d:
        ok = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", d],
                            capture_output=True).returncode == 0
        if ok:
            subprocess.run(["umount", d], capture_output=True)
        return ok


@contextlib.contextmanager
def tmpfs(path: Path, size: str) -> Iterator[Path]:
    """Mount a tmpfs of ``size`` at ``path`` for the duration (a real, small, full-able disk)."""
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(path)], check=True)
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


@contextlib.contextmanager
def read_only_bind(path: Path) -> Iterator[Path]:
    """Re-mount ``path`` read-only in place (root ignores permission bits, not a ro mount)."""
    subprocess.run(["mount", "--bind", str(path), str(path)], check=True)
    try:
        subprocess.run(["mount", "-o", "remount,bind,ro", str(path)], check=True)
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)
