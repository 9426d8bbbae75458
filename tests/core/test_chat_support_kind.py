"""The Support kind's decision table (an in-memory Zendesk), and its batch over loopback with a
real SMTP server: the confirmation goes out when the admin step is done, not before."""

from __future__ import annotations

import pytest

from evalsync_gui.core.chat import audit, mailer, service
from evalsync_gui.core.chat import requests as rq
from evalsync_gui.core.chat.existing_users import owner_of
from evalsync_gui.core.chat.support_kind import COMPLETED, NEEDS_ADMIN_STEP, SupportKindChat
from evalsync_gui.core.errors import ZendeskError
from tests.chat_helpers import clients
from tests.core.test_chat_mailer import smtp_server  # noqa: F401 - the real SMTP server fixture

DOMAIN = "abc-energy.example.com"
BASE = "https://acme.zendesk.com"


def user(uid=7, email="jane@acme.com", role="end-user", active=True, suspended=False, shared=False,
         custom_role_id=None):
    return {"id": uid, "email": email, "name": "Jane Doe", "role": role, "active": active, "suspended": suspended,
            "shared": shared, "custom_role_id": custom_role_id}


class FakeSupport:
    """Users search, create, update and entitlements; records every call."""

    base_url = BASE

    def __init__(self, users, chat_on=(), taken=False):
        self.users = {u["id"]: u for u in users}
        self.chat_on = set(chat_on)
        self.calls: list[tuple[str, str, object]] = []
        self.taken = taken

    def get(self, path, params=None):
        self.calls.append(("GET", path, params))
        if path.endswith("/entitlements/full"):
            uid = int(path.split("/")[4])
            u = self.users[uid]
            ent = {"guide": {"name": "viewer", "is_active": False}}
            if u["role"] != "end-user":
                ent["chat"] = {"name": "agent", "is_active": uid in self.chat_on}
            return {"entitlements": ent}
        return {"users": list(self.users.values())}

    def request(self, method, path, json=None):
        self.calls.append((method, path, json))
        if method == "POST":
            if self.taken:
                self.taken = False
                self.users[99] = user(99, json["user"]["email"], "agent")
                raise ZendeskError("taken", status=422, codes=frozenset({"RecordInvalid", "DuplicateValue"}))
            self.users[50] = {**user(50, json["user"]["email"], "agent")}
            return {"user": self.users[50]}
        uid = int(path.rsplit("/", 1)[1])
        self.users[uid].update(json["user"])
        return {"user": self.users[uid]}

    def writes(self):
        return [(m, p, b) for m, p, b in self.calls if m != "GET"]


@pytest.mark.parametrize("found, chat_on, upgrade, status, words, writes", [
    ([], (), False, NEEDS_ADMIN_STEP, "created as a Support agent", [("POST", "/api/v2/users")]),
    ([], (50,), False, "created", "Chat access is on", [("POST", "/api/v2/users")]),
    ([user(role="agent")], (), False, NEEDS_ADMIN_STEP, "without Chat access", []),
    ([user(role="agent")], (7,), False, "already_enabled", "", []),
    ([user(role="agent", suspended=True)], (7,), False, "rejected", "never lifts a suspension", []),
    ([user(suspended=True)], (), True, "rejected", "never lifts a suspension", []),
    ([user(active=False)], (), True, "rejected", "deleted", []),
    ([user(shared=True)], (), True, "rejected", "shared", []),
    ([user()], (), False, NEEDS_ADMIN_STEP, "end-user", []),
    ([user()], (7,), True, "created", "upgraded", [("PUT", "/api/v2/users/7")]),
    ([user(email="jane@acme.com.au")], (), False, NEEDS_ADMIN_STEP, "created", [("POST", "/api/v2/users")]),
])
def test_grant_decision_table(found, chat_on, upgrade, status, words, writes):
    support = FakeSupport(found, chat_on)
    got = SupportKindChat(None, support, upgrade_end_users=upgrade).grant("JANE@acme.com", "Jane", "Doe")
    assert got.status == status and words in got.detail
    assert [(m, p) for m, p, _ in support.writes()] == writes
    for _, _, body in support.writes():
        assert "custom_role_id" not in body["user"] and "suspended" not in body["user"]  # no default role set
    if status == NEEDS_ADMIN_STEP:
        assert got.admin_url.startswith(BASE + "/")


def test_default_role_only_when_the_admin_chose_one():
    support = FakeSupport([])
    SupportKindChat(None, support, default_role_id=42).grant("jane@acme.com", "Jane", "Doe")
    [(_, _, body)] = support.writes()
    assert body["user"] == {"name": "Jane Doe", "email": "jane@acme.com", "role": "agent", "verified": True,
                            "custom_role_id": 42}


def test_a_create_that_races_is_settled_from_the_lookup():
    support = FakeSupport([], chat_on=(99,), taken=True)
    got = SupportKindChat(None, support).grant("jane@acme.com", "Jane", "Doe")
    assert got.status == "already_enabled"
    assert [m for m, _, _ in support.writes()] == ["POST"]  # one create, never repeated


def test_recheck_completes_only_when_chat_is_on():
    support = FakeSupport([user(role="agent")])
    backend = SupportKindChat(None, support)
    assert backend.recheck(7, "jane@acme.com", "Jane", "Doe").status == NEEDS_ADMIN_STEP
    support.chat_on.add(7)
    done = backend.recheck(7, "jane@acme.com", "Jane", "Doe")
    assert (done.status, done.action) == (COMPLETED, audit.COMPLETED)
    assert support.writes() == []


def test_owner_is_the_exact_address_among_several():
    near, exact = user(1, "jane@acme.com.au"), user(2, "JANE@acme.com")
    assert owner_of("jane@acme.com", [near, exact]) is exact


def test_confirmation_mail_after_the_admin_step(ctx, sim_factory, smtp_server):  # noqa: F811
    ctl, inbox = smtp_server
    sim = sim_factory(chat_kind="support")
    ctx.settings.set("chat.domains", [DOMAIN])
    ctx.settings.set("chat.kind", "support")
    ctx.settings.set("chat.smtp", mailer.SmtpConfig("127.0.0.1", ctl.port, "none", "", f"evalsync@{DOMAIN}")
                     .to_settings())
    rq.add_request(ctx.db, requester=f"lead@{DOMAIN}", email=f"kim@{DOMAIN}", first_name="Kim", last_name="Lee")
    with clients(ctx, sim) as http:
        first, mail = service.run_process(ctx.db, ctx.settings, http)
    assert [o.status for o in first.outcomes] == [NEEDS_ADMIN_STEP] and mail.sent == 0
    with clients(ctx, sim) as http:
        waiting, mail = service.run_process(ctx.db, ctx.settings, http)
    assert [o.status for o in waiting.outcomes] == [NEEDS_ADMIN_STEP] and mail.sent == 0
    assert [r["action"] for r in audit.recent_actions(ctx.db)].count(audit.NEEDS_ADMIN_STEP) == 1  # logged once
    sim.set_chat_access(first.outcomes[0].agent_id, True)
    with clients(ctx, sim) as http:
        done, mail = service.run_process(ctx.db, ctx.settings, http)
    assert [o.status for o in done.outcomes] == [COMPLETED] and (mail.sent, mail.failed) == (1, 0)
    [message] = inbox.messages
    assert message["To"] == f"lead@{DOMAIN}" and message["Subject"] == "Chat account enabled for Kim Lee"
