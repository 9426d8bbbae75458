"""`evalsync chat …` end to end against the simulator (in-process, real HTTP and SQLite)."""

from __future__ import annotations

import json

import pytest

from evalsync_gui.cli import main
from tests.keyring_backends import file_keyring  # noqa: F401 - fixture

pytestmark = pytest.mark.usefixtures("file_keyring")
DOMAIN = "abc-energy.example.com"


@pytest.fixture
def connected(data_dir, sim):
    """Support signed in with an API token, then `chat connect` with the Chat client's credentials."""
    from evalsync_gui.core.context import AppContext
    from tests.chat_helpers import connect_support

    ctx = AppContext.create(data_dir)
    connect_support(ctx, sim)
    ctx.db.close()
    return data_dir


def chat_connect(data_dir, sim, capsys, monkeypatch, *extra) -> tuple[int, str, str]:
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO(sim.chat_client_secret + "\n"))
    return cli(data_dir, capsys, "connect", "--client-id", sim.chat_client_id, "--client-secret-stdin",
               "--grant", "client_credentials", "--base-url", sim.base_url, *extra)


def cli(data_dir, capsys, *args) -> tuple[int, str, str]:
    code = main(["--data-dir", str(data_dir), "chat", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_full_flow(connected, sim, capsys, tmp_path, monkeypatch):
    d = connected
    assert chat_connect(d, sim, capsys, monkeypatch)[0] == 0
    assert cli(d, capsys, "config", "--domains", DOMAIN, "--mode", "standalone")[0] == 0
    code, out, _ = cli(d, capsys, "agents", "list", "--json")
    assert code == 0 and len(json.loads(out)) == len(sim.chat_agents)
    off = next(a for a in sim.chat_agents.values() if not a["roles"]["owner"])
    off["enabled"] = False
    code, out, _ = cli(d, capsys, "requests", "add", "--requester", f"lead@{DOMAIN}", "--email", off["email"],
                       "--first", "Off", "--last", "Agent", "--json")
    assert code == 0 and json.loads(out)["status"] == "queued"
    csv = tmp_path / "sheet.csv"
    csv.write_text(f"Who,Agent mail,Given,Family\nlead@{DOMAIN},new.one@{DOMAIN},New,One\n"
                   f"lead@{DOMAIN},x@evil.io,Evil,One\n", encoding="utf-8")
    code, out, _ = cli(d, capsys, "requests", "import", str(csv), "--map", "Who=requester", "--map",
                       "Agent mail=email", "--map", "Given=first_name", "--map", "Family=last_name", "--json")
    rep = json.loads(out)
    assert code == 0 and rep["added"] == 1 and rep["rejected"] == 1 and rep["problems"][0]["line"] == 3
    code, out, _ = cli(d, capsys, "requests", "import", str(csv))  # the mapping was remembered
    assert code == 0 and "0 added, 2 already imported" in out
    code, out, _ = cli(d, capsys, "requests", "process", "--dry-run", "--json")
    assert code == 0 and json.loads(out)["counts"] == {"enabled": 1, "created": 1}
    code, _, err = cli(d, capsys, "requests", "process")
    assert code == 2 and "Chat management is off" in err and err.count("\n") == 1
    cli(d, capsys, "config", "--management", "on")
    code, out, _ = cli(d, capsys, "requests", "process", "--json")
    result = json.loads(out)
    assert code == 0 and result["counts"] == {"enabled": 1, "created": 1} and result["mail"]["sent"] == 0
    assert sim.chat_agents[off["id"]]["enabled"] is True
    code, out, _ = cli(d, capsys, "log", "--json")
    assert {"Created", "Enabled", "Rejected"} <= {r["action"] for r in json.loads(out)}
    log_csv = tmp_path / "log.csv"
    code, _, err = cli(d, capsys, "log", "--csv", str(log_csv))
    assert code == 0 and log_csv.read_text(encoding="utf-8-sig").splitlines()[0].split(",")[1] == "Action"
    code, out, _ = cli(d, capsys, "inactivity", "--disable-after", "30", "--delete-after", "60", "--json")
    preview = json.loads(out)
    assert code == 0 and not preview["applied"] and len(preview["agents"]) == len(sim.chat_agents)


def test_exit_codes(connected, data_dir, capsys, tmp_path):
    code, _, err = cli(connected, capsys, "inactivity", "--disable-after", "90", "--delete-after", "30")
    assert code == 2 and "must be longer" in err
    code, _, err = cli(connected, capsys, "requests", "import", str(tmp_path / "missing.csv"))
    assert code == 2 and err.startswith("evalsync: Cannot read")
    cli(connected, capsys, "config", "--domains", DOMAIN)
    (tmp_path / "other").mkdir()
    code, _, err = main(["--data-dir", str(tmp_path / "other"), "chat", "agents", "list"]), *capsys.readouterr()
    assert code == 4 and "No Chat API connection" in err


def test_support_credentials_only_exit_4_before_any_chat_request(connected, sim, capsys):
    """Done-when: with Support credentials only, `chat agents list --json` exits 4 naming the Chat
    API setup, and Zendesk saw no request to /api/v2/chat/* and no token refresh."""
    sim.clear_log()
    code, out, err = cli(connected, capsys, "agents", "list", "--json")
    assert code == 4 and out == "" and err.count("\n") == 1
    assert "Chat API client" in err and "chat connect" in err
    assert sim.request_log == []  # not one request: no /api/v2/chat/*, no /oauth/tokens
    for args in (("requests", "process", "--dry-run"), ("inactivity",), ("status", "--detect")):
        assert cli(connected, capsys, *args)[0] == 4
    assert sim.request_log == []


def test_connect_status_config_kind_and_disconnect(connected, sim, capsys, monkeypatch):
    code, out, _ = cli(connected, capsys, "status", "--json")
    view = json.loads(out)
    assert code == 0 and (view["connected"], view["kind"], view["kind_source"]) == (False, "unknown", None)
    assert view["last_login_source"] == "chat_agent_last_login"
    code, out, err = chat_connect(connected, sim, capsys, monkeypatch)
    assert code == 0 and sim.chat_client_secret not in out + err
    code, out, _ = cli(connected, capsys, "status", "--detect", "--json")
    view = json.loads(out)
    assert (view["connected"], view["kind"], view["kind_source"]) == (True, "writable", "detected")
    assert {"connected", "kind", "kind_source", "last_login_source"} <= set(view)
    assert sim.chat_client_secret not in out and not any(t.access in out for t in sim.chat_oauth.live_tokens())
    assert cli(connected, capsys, "config", "--kind", "support")[0] == 0
    view = json.loads(cli(connected, capsys, "status", "--json")[1])
    assert (view["kind"], view["kind_source"]) == ("support", "chosen")
    code, _, err = cli(connected, capsys, "config", "--mode", "standalone")  # the hidden, deprecated alias
    assert code == 0 and "deprecated" in err
    assert json.loads(cli(connected, capsys, "status", "--json")[1])["kind"] == "writable"
    assert "--mode" not in cli_help(capsys, "config")
    code, out, _ = cli(connected, capsys, "disconnect")
    assert code == 0 and json.loads(cli(connected, capsys, "status", "--json")[1])["connected"] is False
    assert cli(connected, capsys, "agents", "list")[0] == 4


def cli_help(capsys, *args) -> str:
    with pytest.raises(SystemExit):
        main(["chat", *args, "--help"])
    return capsys.readouterr().out


def test_a_refused_chat_token_never_touches_the_support_sign_in(data_dir, sim, capsys, monkeypatch):
    """A 401 on /api/v2/chat/* is renewed the Chat way (client credentials) or ends in exit 4
    naming Chat; the Support OAuth pair is neither refreshed nor cleared."""
    import threading

    import httpx

    from evalsync_gui.core.auth.secrets import OAUTH, SecretStore
    from evalsync_gui.core.auth.session import secret_scope, start_oauth
    from evalsync_gui.core.context import AppContext

    ctx = AppContext.create(data_dir)

    def browse(url):
        threading.Thread(target=lambda: httpx.get(url, follow_redirects=True, timeout=10), daemon=True).start()

    start_oauth(ctx, "abc-energy", sim.oauth_client_id, base_url=sim.base_url, port=0, open_browser=browse)
    support_scope = secret_scope(ctx, sim.base_url)
    ctx.db.close()
    support_pair = SecretStore().get(support_scope, OAUTH)
    assert chat_connect(data_dir, sim, capsys, monkeypatch)[0] == 0
    sim.chat_oauth.revoke_all()
    sim.clear_log()
    code, out, _ = cli(data_dir, capsys, "agents", "list", "--json")
    assert code == 0 and len(json.loads(out)) == len(sim.chat_agents)  # renewed by client credentials
    assert [p for m, p, _, _ in sim.request_log if m == "POST"] == ["/oauth2/chat/token"]
    sim.chat_oauth.revoke_all()
    sim.chat_oauth.clients[sim.chat_client_id].secret = "rotated-in-the-chat-dashboard"
    sim.clear_log()
    code, _, err = cli(data_dir, capsys, "agents", "list")
    assert code == 4 and "connect Chat again" in err and "Support sign-in is unaffected" in err
    assert not any(p.startswith("/oauth/") for _, p, _, _ in sim.request_log)  # no Support token request
    assert SecretStore().get(support_scope, OAUTH) == support_pair


def test_support_kind_todo_lists_admin_steps(data_dir, sim_factory, capsys, monkeypatch, tmp_path):
    from evalsync_gui.core.context import AppContext
    from tests.chat_helpers import connect_support

    sim = sim_factory(chat_kind="support")
    ctx = AppContext.create(data_dir)
    connect_support(ctx, sim)
    ctx.db.close()
    assert chat_connect(data_dir, sim, capsys, monkeypatch)[0] == 0
    cli(data_dir, capsys, "config", "--domains", DOMAIN, "--management", "on")
    cli(data_dir, capsys, "requests", "add", "--requester", f"lead@{DOMAIN}", "--email", f"kim@{DOMAIN}",
        "--first", "Kim", "--last", "Lee")
    code, out, _ = cli(data_dir, capsys, "requests", "process", "--json")
    result = json.loads(out)
    assert code == 0 and result["kind"] == "support" and result["counts"] == {"needs_admin_step": 1}
    [req] = result["requests"]
    assert req["admin_url"] == f"{sim.base_url}/admin/people/team/members/{req['agent_id']}"
    code, out, _ = cli(data_dir, capsys, "todo", "--json")
    [step] = json.loads(out)
    assert code == 0 and (step["email"], step["admin_url"]) == (f"kim@{DOMAIN}", req["admin_url"])
    code, _, _ = cli(data_dir, capsys, "todo", "--csv", str(tmp_path / "todo.csv"))
    assert code == 0 and req["admin_url"] in (tmp_path / "todo.csv").read_text(encoding="utf-8-sig")
    code, out, _ = cli(data_dir, capsys, "inactivity", "--json")
    view = json.loads(out)
    assert code == 0 and view["kind"] == "support" and view["last_login_source"] == "chat_agent_last_login"
    assert {r["action"] for r in view["agents"]} <= {"keep", "admin_step"}
    code, _, err = cli(data_dir, capsys, "inactivity", "--apply")
    assert code == 2 and "Admin Center" in err
    sim.set_chat_access(req["agent_id"], True)
    code, out, _ = cli(data_dir, capsys, "requests", "process", "--json")
    assert json.loads(out)["counts"] == {"completed_after_admin_step": 1}
    assert json.loads(cli(data_dir, capsys, "todo", "--json")[1]) == []


def test_connect_refuses_a_privileged_redirect_port_before_any_request(connected, sim, capsys, monkeypatch):
    sim.clear_log()
    code, _, err = chat_connect(connected, sim, capsys, monkeypatch, "--redirect-port", "80")
    assert code == 2 and "redirect port" in err and sim.request_log == []
