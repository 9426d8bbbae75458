"""The store: private files, WAL, migrations from every earlier schema version, backups."""

from __future__ import annotations

import os
import sqlite3
import stat
import threading

import pytest

from evalsync_gui.core.errors import StoreError
from evalsync_gui.core.store import migrations
from evalsync_gui.core.store.db import Database
from evalsync_gui.core.store.settings import Settings


def test_new_database_is_private_wal_and_latest(data_dir):
    db = Database(data_dir / "evalsync.db")
    assert db.user_version == migrations.LATEST
    assert db.scalar("PRAGMA journal_mode") == "wal"
    mode = stat.S_IMODE(os.stat(data_dir / "evalsync.db").st_mode)
    assert mode == 0o600


@pytest.mark.parametrize("version", range(0, migrations.LATEST))
def test_every_earlier_schema_migrates_with_backup(data_dir, version):
    path = data_dir / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)
    migrations.migrate(conn, str(path), target=version)
    if version >= 1:
        conn.execute("INSERT INTO users (zendesk_id, name, email) VALUES (7, 'Zoë O''Brien', 'zoe@example.com')")
    conn.close()
    db = Database(path)
    assert db.user_version == migrations.LATEST
    if version >= 1:
        assert db.scalar("SELECT name FROM users WHERE zendesk_id = 7") == "Zoë O'Brien"
        assert migrations.backup_path(str(path), version).exists()
    assert db.scalar("PRAGMA integrity_check") == "ok"


def test_newer_schema_is_refused_with_a_readable_message(data_dir):
    path = data_dir / "future.db"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {migrations.LATEST + 1}")
    conn.close()
    with pytest.raises(StoreError, match="newer EvalSync"):
        Database(path)


def test_transaction_rolls_back_on_error(data_dir):
    db = Database(data_dir / "t.db")
    with pytest.raises(RuntimeError):
        with db.transaction() as conn:
            conn.execute("INSERT INTO users (name) VALUES ('x')")
            raise RuntimeError("boom")
    assert db.scalar("SELECT count(*) FROM users") == 0


def test_one_connection_per_thread(data_dir):
    db = Database(data_dir / "t.db")
    main_conn = db.connect()
    seen = []
    t = threading.Thread(target=lambda: seen.append(db.connect()))
    t.start()
    t.join()
    assert seen[0] is not main_conn


def test_settings_roundtrip_and_refuse_secrets(data_dir):
    s = Settings(Database(data_dir / "t.db"))
    s.set("sync.roles", ["agent", "admin"])
    assert s.get("sync.roles") == ["agent", "admin"]
    with pytest.raises(ValueError):
        s.set("oauth.access_token", "abc")


def test_read_only_folder_gives_readable_error(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root ignores file permissions")
    ro = tmp_path / "ro"
    ro.mkdir()
    os.chmod(ro, 0o500)
    with pytest.raises(StoreError):
        Database(ro / "x.db")
