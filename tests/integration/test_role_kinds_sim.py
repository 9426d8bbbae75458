"""Roles as Zendesk means them: role, role_type, custom_role_id, chat_only (docs/ZENDESK.md section 3).

Against the simulator over loopback: "agent" imports only agents with a paid seat; light
agents, contributors and chat-only agents are separate choices; ``roles --count`` counts
every kind and the paid seats.
"""

from __future__ import annotations

import io
import json

import pytest

from evalsync_gui.cli import main
from evalsync_gui.core.sync import role_kinds
from evalsync_gui.core.sync.config import SyncConfig, save_config
from evalsync_gui.core.sync.runner import run_sync
from evalsync_gui.core.sync.scope import Scope, describe
from evalsync_gui.core.sync.users import clean_user
from evalsync_gui.core.zendesk.http import ApiTokenAuth, ZendeskHttp


def _client(sim):
    return ZendeskHttp(sim.base_url, ApiTokenAuth(sim.admin_email, sim.api_token))


def _present(sim, kind: str) -> set[int]:
    return {u["id"] for u in sim.users.values() if u["active"] and not u["suspended"]
            and role_kinds.kind_of(clean_user(u)) == kind}


def _imported(ctx) -> set[int]:
    return {r["zendesk_id"] for r in ctx.db.query("SELECT zendesk_id FROM users WHERE status = 'pending'")}


@pytest.mark.parametrize(("role", "role_type", "chat_only", "kind"), [
    ("agent", None, False, "agent"), ("agent", 0, False, "agent"), ("agent", 1, False, "light_agent"),
    ("agent", 2, True, "chat_only"), ("agent", None, True, "chat_only"), ("agent", 3, False, "contributor"),
    ("admin", 4, False, "admin"), ("admin", 5, False, "admin"), ("end-user", None, False, "end_user"),
    ("agent", 9, False, "agent"), ("agent", "1", False, "agent"),  # unknown values: keep the paid side
])
def test_classify_reads_role_type_and_chat_only(role, role_type, chat_only, kind):
    user = clean_user({"id": 7, "role": role, "role_type": role_type, "chat_only": chat_only})
    assert role_kinds.kind_of(user) == kind


def test_agents_no_longer_import_kinds_without_a_paid_seat(ctx, sim):
    ctx.extras["sync_is_admin"] = True
    light, contributors, chat = (_present(sim, k) for k in ("light_agent", "contributor", "chat_only"))
    assert light and contributors and chat
    save_config(ctx, SyncConfig(roles=["agent", "admin"]))
    first = run_sync(ctx, client=_client(sim))
    assert first.status == "completed", first.error
    assert not _imported(ctx) & (light | contributors | chat)
    assert _present(sim, "agent") <= _imported(ctx)

    save_config(ctx, SyncConfig(roles=["agent", "admin", "light_agent", "contributor", "chat_only"]))
    second = run_sync(ctx, client=_client(sim))
    assert second.status == "completed" and second.new == len(light | contributors | chat), second.error
    assert light | contributors | chat <= _imported(ctx)


def test_a_named_custom_role_is_imported_whatever_its_kind(sim):
    light_role = sim.role_id("Light agent")
    scope = Scope.from_roles([f"custom:{light_role}"])
    user = clean_user(sim.users[min(_present(sim, "light_agent"))])
    assert scope.covers(user) and not Scope.from_roles(["agent"]).covers(user)
    assert scope.listings() == [(f"permission_set:{light_role}", [("permission_set", str(light_role))])]
    # Only-light-agents still reads the agent listing: Zendesk cannot filter by role_type.
    assert Scope.from_roles(["light_agent"]).listings() == [("role:agent", [("role[]", "agent")])]
    assert describe(Scope.from_roles(["agent", "light_agent", "chat_only"])) == \
        "all agents with a paid seat, light agents, and chat-only agents"


def test_configure_accepts_the_new_names_and_roles_counts_them(data_dir, sim, capsys, monkeypatch):
    d = ["--data-dir", str(data_dir)]
    assert main([*d, "configure", "--roles", "agent,admin,contributor"]) == 0
    assert "all agents with a paid seat, all admins, and contributors" in capsys.readouterr().out
    assert main([*d, "configure", "--roles", "light agent"]) == 2
    assert "light_agent" in capsys.readouterr().err  # the error names the accepted names
    assert main([*d, "roles", "--json"]) == 0
    before = json.loads(capsys.readouterr().out)
    assert before["counted_at"] is None and all(k["count"] is None for k in before["kinds"])

    monkeypatch.setattr("sys.stdin", io.StringIO(sim.api_token + "\n"))
    assert main([*d, "connect", "--subdomain", "abc-energy", "--base-url", sim.base_url,
                 "--email", sim.admin_email, "--api-token-stdin"]) == 0
    capsys.readouterr()
    assert main([*d, "roles", "--count", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    by_name = {k["name"]: k for k in report["kinds"]}
    staff = [u for u in sim.users.values() if u["active"] and u["role"] in ("agent", "admin")]
    for name in ("agent", "admin", "light_agent", "contributor", "chat_only"):
        assert by_name[name]["count"] == sum(role_kinds.kind_of(clean_user(u)) == name for u in staff), name
    assert by_name["contributor"]["count"] == sim.config.contributors
    assert by_name["chat_only"]["count"] == sim.config.chat_only_agents
    assert [k["name"] for k in report["kinds"] if k["in_scope"]] == ["agent", "admin", "contributor"]
    assert [k["name"] for k in report["kinds"] if not k["paid_seat"]] == ["light_agent", "contributor", "chat_only"]
    assert report["paid_seats"] == by_name["agent"]["count"] + by_name["admin"]["count"]
    assert main([*d, "roles"]) == 0  # the stored count, in words
    assert "paid seats, counted" in capsys.readouterr().out
