"""The database under stress: locked by another process, a full disk, a read-only folder.

Each fault must end in one StoreError line that says what to do, and leave the database
consistent (integrity ok, the failed transaction rolled back, earlier data intact).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

import pytest

from evalsync_gui.core.errors import StoreError
from evalsync_gui.core.store import db as dbmod
from evalsync_gui.core.store.db import Database

from .helpers import assert_one_line, can_mount, integrity_ok, read_only_bind, tmpfs

MOUNTS = can_mount()


def _insert_user(db: Database, zid: int, name: str = "x") -> None:
    with db.transaction() as conn:
        conn.execute("INSERT INTO users (zendesk_id, name, email) VALUES (?, ?, ?)", (zid, name, f"u{zid}@ex.com"))


def test_database_locked_by_another_process(data_dir, monkeypatch):
    """A subprocess holds BEGIN EXCLUSIVE longer than busy_timeout: one 'busy' line, no damage."""
    monkeypatch.setattr(dbmod, "BUSY_TIMEOUT_MS", 300)
    path = data_dir / "evalsync.db"
    db = Database(path)
    _insert_user(db, 1)
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sqlite3, sys, time
        c = sqlite3.connect({str(path)!r}, isolation_level=None)
        c.execute("BEGIN EXCLUSIVE")
        c.execute("INSERT INTO users (zendesk_id, name) VALUES (999, 'held')")
        print("locked", flush=True)
        time.sleep(1.5)
        c.execute("ROLLBACK")
    """)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        started = time.monotonic()
        with pytest.raises(StoreError) as info:
            _insert_user(db, 2)
        assert time.monotonic() - started < 1.4
        text = assert_one_line(info.value)
        assert "busy" in text and "try again" in text
    finally:
        holder.wait(timeout=10)
    db.close()
    integrity_ok(path)
    db2 = Database(path)
    assert [r[0] for r in db2.query("SELECT zendesk_id FROM users ORDER BY 1")] == [1]
    _insert_user(db2, 2)  # the retry path works once the other process lets go
    db2.close()


def _fill_until_full(db: Database) -> StoreError:
    blob = "x" * 50_000
    for i in range(100_000):
        try:
            _insert_user(db, 10_000 + i, blob)
        except StoreError as exc:
            return exc
    raise AssertionError("the disk never filled")


def test_full_disk_via_max_page_count(data_dir):
    """SQLITE_FULL (the real error path) via PRAGMA max_page_count: readable line, rollback."""
    path = data_dir / "evalsync.db"
    db = Database(path)
    _insert_user(db, 1, "kept")
    pages = db.scalar("PRAGMA page_count")
    db.connect().execute(f"PRAGMA max_page_count = {pages + 40}")
    err = _fill_until_full(db)
    text = assert_one_line(err)
    assert "full" in text and "free some space" in text
    assert db.scalar("SELECT name FROM users WHERE zendesk_id = 1") == "kept"
    assert not db.connect().in_transaction
    db.close()
    integrity_ok(path)


@pytest.mark.skipif(not MOUNTS, reason="needs root and permission to mount a tmpfs")
def test_full_disk_on_a_real_tiny_filesystem(tmp_path):
    """A 1 MB tmpfs really runs out of space (ENOSPC / SQLITE_FULL)."""
    with tmpfs(tmp_path / "disk", "1m") as disk:
        path = disk / "evalsync.db"
        db = Database(path)
        _insert_user(db, 1, "kept")
        err = _fill_until_full(db)
        text = assert_one_line(err)
        assert "full" in text or "disk" in text, text
        assert db.scalar("SELECT name FROM users WHERE zendesk_id = 1") == "kept"
        db.close()
        integrity_ok(path)


@pytest.mark.skipif(not MOUNTS, reason="needs root and permission to bind-mount read-only")
def test_read_only_data_folder_existing_database(tmp_path):
    """An existing database in a folder re-mounted read-only: opening/writing fails in one line."""
    folder = tmp_path / "data"
    folder.mkdir(mode=0o700)
    db = Database(folder / "evalsync.db")
    _insert_user(db, 1)
    db.close()
    with read_only_bind(folder):
        with pytest.raises(StoreError) as info:
            ro = Database(folder / "evalsync.db")
            _insert_user(ro, 2)
        text = assert_one_line(info.value)
        assert "read-only" in text or "writable" in text or "Cannot open" in text, text
    integrity_ok(folder / "evalsync.db")


@pytest.mark.skipif(not MOUNTS, reason="needs root and permission to bind-mount read-only")
def test_read_only_data_folder_new_database(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir(mode=0o700)
    with read_only_bind(folder):
        with pytest.raises(StoreError) as info:
            Database(folder / "evalsync.db")
        text = assert_one_line(info.value)
        assert "read-only" in text or "writable" in text, text


def test_read_only_database_file_query_only(data_dir):
    """Portable fallback: PRAGMA query_only gives SQLite's own read-only error path."""
    db = Database(data_dir / "evalsync.db")
    db.connect().execute("PRAGMA query_only = ON")
    with pytest.raises(StoreError) as info:
        _insert_user(db, 1)
    assert "read-only" in assert_one_line(info.value)
    db.close()


def test_data_folder_0700_and_database_0600(tmp_path):
    from evalsync_gui.core.context import AppContext

    ctx = AppContext.create(tmp_path / "fresh")
    _insert_user(ctx.db, 1)
    assert (ctx.data_dir.stat().st_mode & 0o777) == 0o700
    for f in ctx.data_dir.iterdir():
        if f.name.startswith("evalsync.db"):
            assert (f.stat().st_mode & 0o077) == 0, f"{f.name} is readable by others"
    ctx.db.close()


def test_migration_backup_is_private(data_dir):
    """The pre-migration copy holds the same names and e-mails: 0600 like the database."""
    import sqlite3

    from evalsync_gui.core.store import migrations

    path = data_dir / "evalsync.db"
    conn = sqlite3.connect(path, isolation_level=None)
    migrations.migrate(conn, str(path), target=1)
    conn.close()
    os.chmod(path, 0o600)
    Database(path).close()
    backup = migrations.backup_path(str(path), 1)
    assert backup.exists()
    assert (backup.stat().st_mode & 0o077) == 0, oct(backup.stat().st_mode)
