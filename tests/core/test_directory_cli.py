"""`evalsync users ...`: the CLI contract (JSON shape, exit codes, one-line errors)."""

from __future__ import annotations

import json

from evalsync_gui.cli import main


def run(data_dir, capsys, *argv):
    code = main(["--data-dir", str(data_dir), "users", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_add_list_activate_deactivate(data_dir, capsys):
    assert run(data_dir, capsys, "add", "--name", "Ann", "--email", "ann@x.org")[0] == 0
    assert run(data_dir, capsys, "add", "--name", "Bob", "--email", "bob@x.org", "--identifier", "B2")[0] == 0
    code, out, _ = run(data_dir, capsys, "list", "--status", "pending", "--json")
    users = json.loads(out)
    assert code == 0 and [u["name"] for u in users] == ["Ann", "Bob"]
    assert users[0]["status"] == "pending" and "zendesk_id" in users[0] and "custom_role_id" in users[0]
    code, out, _ = run(data_dir, capsys, "activate", "--all-pending", "--role", "agent", "--team", "North")
    assert code == 0 and "2 of 150 licences used" in out
    assert run(data_dir, capsys, "deactivate", str(users[0]["id"]))[0] == 0
    code, out, _ = run(data_dir, capsys, "list", "--status", "deactivated", "--json")
    assert [u["name"] for u in json.loads(out)] == ["Ann"]


def test_usage_errors_exit_2_with_one_line(data_dir, capsys):
    code, _, err = run(data_dir, capsys, "activate", "42")
    assert code == 2 and err.count("\n") == 1 and "No user with id 42" in err
    code, _, err = run(data_dir, capsys, "activate")
    assert code == 2 and "--all-pending" in err
    code, _, err = run(data_dir, capsys, "add", "--name", "X", "--email", "nope")
    assert code == 2 and "not an e-mail" in err


def test_import_and_export(data_dir, capsys, tmp_path):
    src = tmp_path / "in.csv"
    src.write_text("name,email,identifier\nAnn,ann@x.org,A1\n@Eve,eve@x.org,E1\n", encoding="utf-8")
    code, out, _ = run(data_dir, capsys, "import", str(src))
    assert code == 0 and "Imported 2 users" in out
    dest = tmp_path / "out.csv"
    assert run(data_dir, capsys, "export", str(dest))[0] == 0
    text = dest.read_text(encoding="utf-8-sig")
    assert "'@Eve" in text and "ann@x.org" in text
    code, _, err = run(data_dir, capsys, "import", str(tmp_path / "missing.csv"))
    assert code == 2 and "Cannot read" in err
