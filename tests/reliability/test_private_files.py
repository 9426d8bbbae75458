"""Exports, imports and folders on a shared machine (issue 13, findings 4, 6 and 7).

Every export path is driven the way a user drives it (the CLI), with a symlink planted where the
old code wrote its temp file; imports get a device, a FIFO and a folder; data and log folders
are created private and existing ones are left as they are.
"""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from evalsync_gui.cli import main

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX modes, symlinks and FIFOs")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _seed(data_dir: Path) -> None:
    from evalsync_gui.core import directory
    from evalsync_gui.core.chat import audit
    from evalsync_gui.core.context import AppContext

    ctx = AppContext.create(data_dir)
    directory.add_user(ctx.db, ctx.settings, directory.NewUser(name="Ada", email="ada@x.test", status="pending"))
    with ctx.db.transaction() as conn:
        audit.log_action(conn, audit.REJECTED, email="b@x.test", actor="t", detail="why")
    ctx.db.close()


EXPORTS = {
    "users export": ["users", "export"],
    "runs export": ["runs", "export"],
    "chat log csv": ["chat", "log", "--csv"],
}


@pytest.mark.parametrize("name", list(EXPORTS))
def test_exports_never_follow_a_planted_symlink_and_are_private(name, data_dir, tmp_path, capsys):
    _seed(data_dir)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    target = out_dir / "export.csv"
    os.symlink(victim, out_dir / "export.csv.part")  # the old fixed temp name
    old = os.umask(0o022)
    try:
        assert main(["--data-dir", str(data_dir), *EXPORTS[name], str(target)]) == 0, capsys.readouterr().err
    finally:
        os.umask(old)
    assert victim.read_text() == "precious\n"
    assert target.is_file() and not target.is_symlink()
    assert _mode(target) == 0o600
    assert sorted(p.name for p in out_dir.iterdir()) == ["export.csv", "export.csv.part"]  # no temp left


def test_an_export_replaces_a_symlink_at_the_target_instead_of_writing_through_it(data_dir, tmp_path, capsys):
    _seed(data_dir)
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    target = tmp_path / "users.csv"
    os.symlink(victim, target)
    assert main(["--data-dir", str(data_dir), "users", "export", str(target)]) == 0
    assert victim.read_text() == "precious\n" and not target.is_symlink() and _mode(target) == 0o600


# -- imports: regular files only ---------------------------------------------------------------
def _fifo(tmp_path: Path) -> Path:
    path = tmp_path / "pipe.csv"
    os.mkfifo(path)
    return path


@pytest.mark.parametrize("command", [["users", "import"], ["chat", "requests", "import"]])
@pytest.mark.parametrize("kind", ["device", "fifo", "folder"])
def test_imports_refuse_anything_but_a_regular_file(command, kind, data_dir, tmp_path, capsys):
    # /dev/null, not /dev/zero: the old code would read /dev/zero until memory ran out.
    source = {"device": lambda: Path("/dev/null"), "fifo": lambda: _fifo(tmp_path),
              "folder": lambda: tmp_path}[kind]()
    result: list[int] = []
    worker = threading.Thread(target=lambda: result.append(main(["--data-dir", str(data_dir), *command, str(source)])),
                              daemon=True)
    worker.start()
    worker.join(20)
    if worker.is_alive() and kind == "fifo":  # unblock the hung reader so the test run can go on
        with open(source, "w"):
            pass
        worker.join(5)
    assert result == [2], f"{kind}: still reading or wrong exit code"
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "not a regular file" in err


def test_dev_zero_is_refused_before_a_byte_is_read(data_dir):
    """The review's case, in a child process with a 1.5 GB address-space cap (the old code read
    /dev/zero until MemoryError)."""
    import subprocess
    import sys

    code = ("import resource, sys; resource.setrlimit(resource.RLIMIT_AS, (3 << 29, 3 << 29)); "
            "from evalsync_gui.cli import main; sys.exit(main(sys.argv[1:]))")
    r = subprocess.run([sys.executable, "-c", code, "--data-dir", str(data_dir), "users", "import", "/dev/zero"],
                       capture_output=True, text=True, timeout=120, cwd=Path(__file__).resolve().parents[2])
    assert r.returncode == 2 and "not a regular file" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_a_regular_file_through_a_symlink_still_imports(data_dir, tmp_path, capsys):
    real = tmp_path / "users.csv"
    real.write_text("name,email\nAda,ada@x.test\n", encoding="utf-8")
    link = tmp_path / "link.csv"
    os.symlink(real, link)
    assert main(["--data-dir", str(data_dir), "users", "import", str(link)]) == 0
    assert "Imported 1 users" in capsys.readouterr().out


# -- data and log folders ----------------------------------------------------------------------
def test_an_existing_data_folder_keeps_its_mode_and_setgid_bit(tmp_path, capsys):
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o2770)
    assert main(["--data-dir", str(shared), "users", "list"]) == 0
    assert _mode(shared) == 0o2770


def test_a_new_data_folder_is_created_private(tmp_path, capsys):
    fresh = tmp_path / "a" / "new"
    old = os.umask(0o022)
    try:
        assert main(["--data-dir", str(fresh), "users", "list"]) == 0
    finally:
        os.umask(old)
    assert _mode(fresh) == 0o700


def test_a_world_writable_data_folder_is_warned_about(tmp_path, capsys, caplog):
    open_dir = tmp_path / "open"
    open_dir.mkdir()
    os.chmod(open_dir, 0o777)
    assert main(["--data-dir", str(open_dir), "users", "list"]) == 0
    err = capsys.readouterr().err
    assert _mode(open_dir) == 0o777
    warning = [line for line in err.splitlines() if "world-writable" in line]
    assert len(warning) == 1 and str(open_dir) in warning[0]
    assert any("world-writable" in r.getMessage() for r in caplog.records)


def test_log_folder_is_created_private_and_an_existing_one_is_left_alone(tmp_path):
    from evalsync_gui.core.logsetup import setup_logging, teardown_logging

    fresh = tmp_path / "logs-new"
    existing = tmp_path / "logs-old"
    existing.mkdir()
    os.chmod(existing, 0o750)
    try:
        setup_logging(directory=fresh)
        setup_logging(directory=existing)
    finally:
        teardown_logging()
    assert _mode(fresh) == 0o700 and _mode(existing) == 0o750
