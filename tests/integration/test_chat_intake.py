"""Issue 16 done-when: requests from a published sheet (served on loopback) and a growing CSV
are acted on by chat runs with no admin, each row once, with its e-mail (aiosmtpd), against
the simulator over real HTTP and SQLite; `evalsync chat run --json` from a subprocess too.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from evalsync_gui.cli import main
from evalsync_gui.core.chat import audit, schedule, service
from evalsync_gui.core.context import AppContext
from tests.core.test_chat_mailer import BoundController, Inbox

DOMAIN = "abc-energy.example.com"
LEAD = f"lead@{DOMAIN}"
HEADER = "Timestamp,Email Address,Email of the user requiring chat access,First Name,Second Name\n"


class Sheet:
    """What the published link answers: ``body`` as text/csv, or an unpublished sheet's answer."""

    def __init__(self) -> None:
        self.rows: list[str] = []
        self.answer = "csv"  # csv | 404 | html
        self.gets = 0

    def row(self, ts: str, email: str, first: str, last: str = "Person", requester: str = LEAD) -> str:
        line = f"{ts},{requester},{email},{first},{last}\n"
        self.rows.append(line)
        return line

    def body(self) -> bytes:
        return (HEADER + "".join(self.rows)).encode()


@pytest.fixture
def sheet():
    state = Sheet()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the stdlib's name
            state.gets += 1
            if state.answer == "404":
                self.send_response(404)
                body, ctype = b"<html>Not Found</html>", "text/html"
            elif state.answer == "html":
                self.send_response(200)
                body, ctype = b"<!DOCTYPE html><html>Sign in</html>", "text/html; charset=UTF-8"
            else:
                self.send_response(200)
                body, ctype = state.body(), "text/csv"
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/spreadsheets/d/e/2PACX-test/pub?output=csv"
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def smtp():
    inbox = Inbox()
    ctl = BoundController(inbox)
    inbox.port = ctl.port
    ctl.start()
    yield inbox
    ctl.stop()


@pytest.fixture
def connected(data_dir, sim):
    from evalsync_gui.core.auth.session import connect_api_token

    from evalsync_gui.core.chat import connection

    ctx = AppContext.create(data_dir)
    connect_api_token(ctx, "abc-energy", sim.admin_email, sim.api_token, base_url=sim.base_url)
    connection.connect(ctx, sim.chat_client_id, sim.chat_client_secret, grant="client_credentials",
                       oauth_base=sim.base_url)
    ctx.db.close()
    assert main(["--data-dir", str(data_dir), "chat", "config", "--domains", DOMAIN, "--kind", "writable",
                 "--management", "on"]) == 0
    return data_dir


def use_smtp(data_dir, inbox) -> None:
    ctx = AppContext.create(data_dir)
    ctx.settings.set("chat.smtp", {"host": "127.0.0.1", "port": inbox.port, "security": "none", "user": "",
                                   "from": f"evalsync@{DOMAIN}"})
    ctx.db.close()


def chat_run(data_dir) -> schedule.RunReport:
    """One scheduled pass, as the app's timer does it."""
    ctx = AppContext.create(data_dir)
    try:
        return schedule.run_chat(ctx.db, ctx.settings, ctx.data_dir, lambda: service.open_clients(ctx), trigger="schedule")
    finally:
        ctx.db.close()


def agent_writes(sim) -> int:
    return sum(1 for r in sim.requests if r.method in ("POST", "PUT") and "/agents" in r.path) \
        if hasattr(sim, "requests") else -1


def test_published_sheet_rows_are_taken_once_with_their_email(connected, sim, sheet, smtp, capsys):
    d = connected
    off = next(a for a in sim.chat_agents.values() if not a["roles"]["owner"] and a["enabled"])
    off["enabled"] = False
    sheet.row("11/20/2026 09:00:00", f"old.row@{DOMAIN}", "Old")  # there before the source: skipped
    assert main(["--data-dir", str(d), "chat", "sources", "add", "--name", "Form", "--url", sheet.url,
                 "--map", "Email Address=requester", "--json"]) == 0
    added = json.loads(capsys.readouterr().out)
    assert added["skipped"] == 1 and added["mapping"]["email"] == "email of the user requiring chat access"

    # A new form row; SMTP is not set up yet: the confirmation waits in the outbox (issue 15.11).
    sheet.row("11/27/2026 10:00:00", f"new.one@{DOMAIN}", "New")
    first = chat_run(d)
    assert first.status == "completed" and first.counts()["taken"] == 1 and first.counts()["created"] == 1
    assert smtp.messages == [] and first.mail.sent == 0
    assert not any(a["email"] == f"old.row@{DOMAIN}" for a in sim.chat_agents.values())
    use_smtp(d, smtp)

    # Two more rows while the schedule runs: each processed by the next run, e-mails sent.
    sheet.row("11/27/2026 10:01:00", off["email"], "Off")
    sheet.row("11/27/2026 10:02:00", f"new.two@{DOMAIN}", "Two")
    second = chat_run(d)
    assert second.counts()["taken"] == 2
    assert (second.counts()["enabled"], second.counts()["created"]) == (1, 1)
    assert off["enabled"] is True
    assert sorted(m["Subject"] for m in smtp.messages) == [
        "Chat account created for New Person", "Chat account created for Two Person",
        "Chat account enabled for Off Person"]
    assert {m["To"] for m in smtp.messages} == {LEAD}
    agents_before = {a["email"]: dict(a) for a in sim.chat_agents.values()}

    # Re-published, re-sorted, one row edited: nothing is processed twice, the edit is reported.
    sheet.rows.reverse()
    sheet.rows[0] = sheet.rows[0].replace(",Two,", ",Twoo,")
    third = chat_run(d)
    assert third.counts()["taken"] == 0 and third.counts()["changed"] == 1 and third.batch is None
    again = chat_run(d)
    assert again.counts()["changed"] == 0  # reported once per new content
    assert {a["email"]: dict(a) for a in sim.chat_agents.values()} == agents_before
    assert len(smtp.messages) == 3
    ctx = AppContext.create(d)
    changed = [r for r in audit.recent_actions(ctx.db) if r["action"] == "Source row changed"]
    ctx.db.close()
    assert len(changed) == 1 and changed[0]["email"] == f"new.two@{DOMAIN}"
    assert main(["--data-dir", str(d), "chat", "sources", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(s["name"], s["kind"], s["rows_taken"], s["last_error"]) for s in listed] == [("Form", "sheet", 3, None)]
    assert set(listed[0]) >= {"name", "kind", "last_poll", "rows_taken", "last_error"}


def test_unpublished_sheet_or_wrong_link_says_so(connected, sheet, capsys):
    d = connected
    sheet.answer = "404"
    code = main(["--data-dir", str(d), "chat", "sources", "add", "--name", "Form", "--url", sheet.url])
    err = capsys.readouterr().err
    assert code == 2 and "wrong or the sheet was unpublished (HTTP 404)" in err and err.count("\n") == 1
    sheet.answer = "html"
    code = main(["--data-dir", str(d), "chat", "sources", "add", "--name", "Form", "--url", sheet.url])
    err = capsys.readouterr().err
    assert code == 2 and "not published to the web" in err and "Publish to web" in err
    code = main(["--data-dir", str(d), "chat", "sources", "add", "--name", "Form", "--url",
                 "http://sheets.example.com/pub?output=csv"])
    assert code == 2 and "https://" in capsys.readouterr().err
    # A source that stops being published keeps its error and the run goes on (exit 5).
    sheet.answer = "csv"
    assert main(["--data-dir", str(d), "chat", "sources", "add", "--name", "Form", "--url", sheet.url]) == 0
    capsys.readouterr()
    sheet.answer = "404"
    assert main(["--data-dir", str(d), "chat", "run", "--json"]) == 5
    out = json.loads(capsys.readouterr().out)
    assert "HTTP 404" in out["sources"][0]["error"] and out["status"] == "completed"


def cli_run(data_dir, *args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "evalsync_gui.cli", "--data-dir", str(data_dir), "chat", *args],
                          capture_output=True, text=True, timeout=120, env=dict(os.environ))


def test_cli_run_from_cron_and_a_held_creation_burst(connected, sim, sheet, smtp):
    d = connected
    use_smtp(d, smtp)
    assert cli_run(d, "guards", "--max-creations", "2").returncode == 0
    assert cli_run(d, "sources", "add", "--name", "Form", "--url", sheet.url,
                   "--map", "Email Address=requester").returncode == 0
    for i in range(3):
        sheet.row(f"11/27/2026 11:0{i}:00", f"burst{i}@{DOMAIN}", f"Burst{i}")
    proc = cli_run(d, "run", "--json")
    assert proc.returncode == 3, proc.stderr
    out = json.loads(proc.stdout)
    assert out["status"] == "held" and out["held"] == 3 and out["counts"]["taken"] == 3
    assert not any(a["email"].startswith("burst") for a in sim.chat_agents.values()) and smtp.messages == []
    assert cli_run(d, "run", "--json").returncode == 0  # held rows wait; nothing taken twice
    runs = json.loads(cli_run(d, "runs", "list", "--json").stdout)
    held = next(r for r in runs if r["status"] == "held")
    assert held["waiting"] == 3
    proc = cli_run(d, "runs", "allow", str(held["id"]), "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["counts"]["created"] == 3
    assert sum(a["email"].startswith("burst") for a in sim.chat_agents.values()) == 3
    assert len(smtp.messages) == 3
    # A second burst, discarded: the requests end rejected, nothing created.
    for i in range(3, 6):
        sheet.row(f"11/27/2026 12:0{i}:00", f"burst{i}@{DOMAIN}", f"Burst{i}")
    proc = cli_run(d, "run", "--json")
    assert proc.returncode == 3
    run_id = json.loads(proc.stdout)["run_id"]
    assert cli_run(d, "runs", "discard", str(run_id)).returncode == 0
    statuses = {r["email"]: r["status"] for r in json.loads(cli_run(d, "requests", "list", "--json").stdout)}
    assert [statuses[f"burst{i}@{DOMAIN}"] for i in range(3, 6)] == ["rejected"] * 3
    assert cli_run(d, "runs", "allow", str(run_id)).returncode == 2  # nothing left to review


def test_policy_when_due_daily_summary_once_and_the_chat_lock(connected, sim, smtp, capsys):
    d = connected
    use_smtp(d, smtp)
    assert main(["--data-dir", str(d), "chat", "schedule", "--inactivity-every", "24",
                 "--summary-to", f"admin@{DOMAIN}", "--json"]) == 0
    capsys.readouterr()
    first = chat_run(d)
    assert first.inactivity is not None and first.batch is None  # the policy's interval was due
    assert [m["To"] for m in smtp.messages] == [f"admin@{DOMAIN}"]
    assert smtp.messages[0]["Subject"].startswith("EvalSync chat summary")
    second = chat_run(d)
    assert second.inactivity is None and len(smtp.messages) == 1  # neither is due again today
    ctx = AppContext.create(d)
    try:
        with schedule.ChatLock(ctx.data_dir):
            assert main(["--data-dir", str(d), "chat", "run"]) == 6
            assert "Another chat run is running" in capsys.readouterr().err
            assert main(["--data-dir", str(d), "chat", "requests", "process"]) == 6  # nor a manual batch beside it
    finally:
        ctx.db.close()
