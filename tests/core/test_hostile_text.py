"""Terminal escapes in names from Zendesk or a request never reach the terminal raw (issue 13, finding 2).

Names come in the way they do for a user: from the simulator over real HTTP (a sync, a Chat
agent fetch), from a request and from a file name. Text output shows them escaped; ``--json``
output keeps them exact.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evalsync_gui.cli import main
from evalsync_gui.core.textsafe import clean, clean_lines
from tests.core.test_chat_cli import chat_connect
from tests.core.test_chat_cli import connected  # noqa: F401 - fixture: a data folder signed in to the simulator
from tests.keyring_backends import file_keyring  # noqa: F401 - fixture

pytestmark = pytest.mark.usefixtures("file_keyring")
TITLE = "\x1b]0;owned\x07"  # sets the terminal's title
WIPE = "\x1b[2J"            # clears the screen
CSI = "\x9b31m"             # a one-byte CSI (C1)
HOSTILE = f"Eve{TITLE}{WIPE}\rAda{CSI}\u202e"
RAW = ("\x1b", "\x07", "\x9b", "\r", "\u202e")


def _raw_free(text: str) -> bool:
    return not any(c in text for c in RAW)


def cli(data_dir, capsys, *args) -> tuple[int, str, str]:
    code = main(["--data-dir", str(data_dir), *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_synced_names_are_escaped_in_users_list_and_runs_show(connected, sim, capsys):
    sim.add_user(name=HOSTILE, email="eve@abc-energy.com", role="agent")
    assert cli(connected, capsys, "configure", "--roles", "agent,admin")[0] == 0
    code, out, err = cli(connected, capsys, "sync")
    assert code == 0, err
    code, out, err = cli(connected, capsys, "users", "list")
    assert code == 0 and _raw_free(out + err)
    assert "Eve\\x1b]0;owned\\x07\\x1b[2J\\x0dAda\\x9b31m\\u202e" in out
    code, out, _ = cli(connected, capsys, "users", "list", "--json")
    assert HOSTILE in [u["name"] for u in json.loads(out)]  # JSON stays exact
    code, out, err = cli(connected, capsys, "runs", "show", "1")
    assert code == 0 and "Eve\\x1b]0;owned" in out and _raw_free(out + err)


def test_chat_agent_names_are_escaped(connected, sim, capsys, monkeypatch):
    assert chat_connect(connected, sim, capsys, monkeypatch)[0] == 0
    agent = next(iter(sim.chat_agents.values()))
    agent["display_name"] = HOSTILE
    code, out, err = cli(connected, capsys, "chat", "agents", "list")
    assert code == 0, err
    assert "Eve\\x1b]0;owned" in out and _raw_free(out + err)
    code, out, _ = cli(connected, capsys, "chat", "agents", "list", "--cached", "--json")
    assert HOSTILE in [a["display_name"] for a in json.loads(out)]


def test_request_text_and_the_action_log_are_escaped(data_dir, capsys):
    from evalsync_gui.core.chat import audit
    from evalsync_gui.core.context import AppContext

    ctx = AppContext.create(data_dir)
    with ctx.db.transaction() as conn:
        conn.execute("INSERT INTO chat_requests (requester, email, first_name, last_name, requested_at, source, status,"
                     " reason) VALUES (?, ?, ?, ?, ?, 'form', 'rejected', ?)",
                     ("a@x.test", f"b{WIPE}@x.test", HOSTILE, "", "2026-01-01T00:00:00+00:00", f"no {TITLE}"))
        audit.log_action(conn, audit.REJECTED, email=f"b{WIPE}@x.test", actor="t", detail=HOSTILE)
    ctx.db.close()
    code, out, err = cli(data_dir, capsys, "chat", "requests", "list")
    assert code == 0 and "b\\x1b[2J@x.test" in out and "no \\x1b]0;owned\\x07" in out and _raw_free(out + err)
    code, out, err = cli(data_dir, capsys, "chat", "log")
    assert code == 0 and "Eve\\x1b]0;owned" in out and _raw_free(out + err)
    code, out, _ = cli(data_dir, capsys, "chat", "log", "--json")
    assert any(r["detail"] == HOSTILE for r in json.loads(out))


def test_error_lines_are_escaped(data_dir, capsys, tmp_path):
    code, out, err = cli(data_dir, capsys, "users", "import", str(tmp_path / f"x{TITLE}.csv"))
    assert code == 2 and "x\\x1b]0;owned\\x07.csv" in err and _raw_free(out + err)


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_clean_leaves_no_control_character_and_keeps_printable_text(text):
    shown = clean(text)
    assert not any(ord(c) < 0x20 or 0x7f <= ord(c) <= 0x9f or c in "\u202e\u2066\u2028" for c in shown)
    if all(c.isprintable() and c not in "\\\u202e" for c in text):
        assert shown == text
    assert "\n" not in clean(text) and clean_lines("a\nb\tc") == "a\nb\tc"
