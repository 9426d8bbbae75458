"""`evalsync simulator` serves until interrupted and prints how to connect."""

from __future__ import annotations

import signal
import subprocess
import sys

import httpx

from evalsync_gui.cli import build_parser


def test_parser_needs_no_data_folder():
    args = build_parser().parse_args(["simulator", "--port", "0", "--users", "10", "--chat-kind", "support",
                                      "--plan", "team"])
    assert args.needs_context is False and args.users == 10 and (args.chat_kind, args.plan) == ("support", "team")
    assert build_parser().parse_args(["simulator", "--chat-mode", "standalone"]).chat_mode == "standalone"  # old


def test_standalone_server_answers_and_stops_on_ctrl_c():
    proc = subprocess.Popen([sys.executable, "-m", "evalsync_gui.cli", "simulator", "--port", "0", "--users", "12",
                             "--end-users", "5", "--chat-agents", "3"], stdout=subprocess.PIPE, text=True)
    try:
        lines = []
        while not lines or not lines[-1].startswith("Press Ctrl-C"):
            lines.append(proc.stdout.readline())
        base = lines[0].rsplit(" ", 1)[-1].strip()
        banner = {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:]) if v}
        email, token = banner["admin email"], banner["API token"]
        assert banner["OAuth client id"] == "evalsync-desktop" and banner["account"] == "abc-energy"
        r = httpx.get(f"{base}/api/v2/users/me.json", auth=(f"{email}/token", token), timeout=5)
        assert r.json()["user"]["email"] == email
        chat_id, chat_secret = banner["Chat client id"], banner["Chat secret"]
        got = httpx.post(f"{base}/oauth2/token", data={"grant_type": "client_credentials", "client_id": chat_id,
                                                        "client_secret": chat_secret}, timeout=5)
        chat = httpx.get(f"{base}/api/v2/chat/agents", headers={"Authorization": "Bearer " +
                                                                 got.json()["access_token"]}, timeout=5)
        assert chat.status_code == 200 and len(chat.json()) == 3
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=10)
    assert proc.returncode == 0 and "stopped" in out
