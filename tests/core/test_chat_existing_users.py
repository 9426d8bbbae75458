"""The decision for a create Zendesk refused because the address is taken, and how the batch
records it (in-memory backend; the loopback test is test_chat_end_user_upgrade.py)."""

from __future__ import annotations

import pytest

from evalsync_gui.core.chat import audit, processor
from evalsync_gui.core.chat import requests as rq
from evalsync_gui.core.chat.agents_api import Agent, EmailTaken
from evalsync_gui.core.chat.existing_users import ALREADY, ENABLE, REJECT, UPGRADE, decide, owner_of
from evalsync_gui.core.errors import ZendeskError

CHAT_ROLE, NO_CHAT_ROLE = 11, 12


def user(uid=7, email="jane@acme.com", role="end-user", active=True, suspended=False, shared=False,
         custom_role_id=None):
    return {"id": uid, "email": email, "name": "Jane Doe", "role": role, "active": active, "suspended": suspended,
            "shared": shared, "custom_role_id": custom_role_id}


def has_chat(u):
    return u["role"] != "end-user" and not u["suspended"] and u["custom_role_id"] in (None, CHAT_ROLE)


# -- the decision table ---------------------------------------------------------------------
@pytest.mark.parametrize("found, action, words", [
    ([user()], UPGRADE, ""),
    ([user(email="Jane@ACME.com")], UPGRADE, ""),  # the address matches whatever its casing
    ([user(suspended=True)], REJECT, "suspended end-user"),
    ([user(shared=True)], REJECT, "shared from another Zendesk account"),
    ([user(active=False)], REJECT, "probably deleted"),
    ([], REJECT, "probably deleted"),  # search never shows deleted users
    ([user(email="jane@acme.com.au")], REJECT, "secondary address"),  # a near match is not the owner
    ([user(role="agent", custom_role_id=NO_CHAT_ROLE)], ENABLE, ""),
    ([user(role="agent", custom_role_id=CHAT_ROLE, suspended=True)], ENABLE, ""),  # enable unsuspends staff
    ([user(role="agent", custom_role_id=CHAT_ROLE)], ALREADY, ""),
    ([user(role="admin")], ALREADY, ""),
])
def test_decide(found, action, words):
    got = decide(" JANE@acme.com ", found, has_chat)
    assert got.action == action
    assert words in got.reason
    if action == REJECT:
        assert got.reason.startswith("JANE@acme.com ")  # one readable line that says what to do:
        assert "submit the request again" in got.reason or "home account" in got.reason
    else:
        assert got.user is found[0] and got.reason == ""


def test_owner_is_the_exact_address_among_several():
    near, exact = user(1, "jane@acme.com.au"), user(2, "JANE@acme.com")
    assert owner_of("jane@acme.com", [near, exact]) is exact


# -- the batch ------------------------------------------------------------------------------
class SupportLike:
    """A Support-mode backend: staff in the extract, end-users only visible through lookup."""

    mode = "support"

    def __init__(self, staff, people):
        self.staff = {a.key: a for a in staff}
        self.people = {p["email"].lower(): p for p in people}
        self.calls: list[tuple[str, str]] = []
        self.fail_upgrade: ZendeskError | None = None

    def extract(self, on_page=None):
        return [Agent(**vars(a)) for a in self.staff.values()]

    def create(self, email, first, last):
        self.calls.append(("create", email))
        if email.lower() in self.people or email.lower() in self.staff:
            raise EmailTaken(email, ZendeskError("Zendesk refused POST /api/v2/users (422: Record validation "
                                                 "errors).", status=422))
        return 201, {"user": {"id": 500}}, Agent(500, email, enabled=True)

    def lookup(self, email):
        self.calls.append(("lookup", email))
        p = self.people.get(email.lower())
        return [p] if p else []

    def has_chat(self, u):
        return has_chat(u)

    def to_agent(self, u):
        return Agent(u["id"], u["email"], enabled=has_chat(u), suspended=u["suspended"])

    def upgrade(self, u):
        self.calls.append(("upgrade", u["email"]))
        if self.fail_upgrade:
            raise self.fail_upgrade
        u.update(role="agent", custom_role_id=CHAT_ROLE)
        return 200, {"user": {"id": u["id"], "role": "agent", "custom_role_id": CHAT_ROLE}}

    def enable(self, agent):
        self.calls.append(("enable", agent.email))
        return 200, {"user": {"id": agent.id}}

    def disable(self, agent):
        raise NotImplementedError

    def delete(self, agent):
        raise NotImplementedError


def add(ctx, email):
    rq.add_request(ctx.db, requester="lead@acme.com", email=email, first_name="Jane", last_name="Doe")


def test_batch_upgrades_end_user_and_settles_races(ctx):
    people = [user(1, "jane@acme.com"), user(2, "sus@acme.com", suspended=True), user(3, "gone@acme.com", active=False),
              user(4, "racer@acme.com", role="agent", custom_role_id=NO_CHAT_ROLE),
              user(5, "won@acme.com", role="agent", custom_role_id=CHAT_ROLE)]
    backend = SupportLike([Agent(9, "on@acme.com", enabled=True)], people)
    for e in ("Jane@ACME.com", "sus@acme.com", "gone@acme.com", "racer@acme.com", "won@acme.com", "jane@acme.com"):
        add(ctx, e)
    result = processor.process_batch(ctx.db, backend, ["acme.com"],
                                     compose=lambda status, req: (req["requester"], f"s {status}", "b"))
    assert [(o.email, o.status) for o in result.outcomes] == [
        ("Jane@ACME.com", "created"), ("sus@acme.com", "rejected"), ("gone@acme.com", "rejected"),
        ("racer@acme.com", "enabled"), ("won@acme.com", "already_enabled"), ("jane@acme.com", "already_enabled")]
    assert "suspended end-user" in result.outcomes[1].reason and "deleted" in result.outcomes[2].reason
    assert result.outcomes[0].agent_id == 1
    # One lookup per refused create, at most one write after it, never a second create.
    assert backend.calls == [
        ("create", "Jane@ACME.com"), ("lookup", "Jane@ACME.com"), ("upgrade", "jane@acme.com"),
        ("create", "sus@acme.com"), ("lookup", "sus@acme.com"), ("create", "gone@acme.com"),
        ("lookup", "gone@acme.com"), ("create", "racer@acme.com"), ("lookup", "racer@acme.com"),
        ("enable", "racer@acme.com"), ("create", "won@acme.com"), ("lookup", "won@acme.com")]
    actions = [(r["email"], r["action"]) for r in reversed(audit.recent_actions(ctx.db))]
    assert ("Jane@ACME.com", audit.UPGRADED) in actions and ("racer@acme.com", audit.ENABLED) in actions
    assert ("sus@acme.com", audit.REJECTED) in actions
    upgraded = next(r for r in audit.recent_actions(ctx.db) if r["action"] == audit.UPGRADED)
    assert upgraded["zendesk_status"] == 200 and "end-user" in upgraded["detail"]
    mails = [tuple(r) for r in ctx.db.query("SELECT to_addr, subject FROM email_outbox ORDER BY id")]
    assert mails == [("lead@acme.com", "s created"), ("lead@acme.com", "s enabled")]
    assert rq.status_counts(ctx.db) == {"created": 1, "rejected": 2, "enabled": 1, "already_enabled": 2}


def test_failed_upgrade_is_failed_and_retried_once_next_batch(ctx):
    backend = SupportLike([], [user(1, "jane@acme.com")])
    backend.fail_upgrade = ZendeskError("Zendesk refused PUT /api/v2/users/1 (400: Bad).", status=400)
    add(ctx, "jane@acme.com")
    first = processor.process_batch(ctx.db, backend, ["acme.com"])
    assert first.outcomes[0].status == "failed"
    assert first.outcomes[0].reason.startswith("could not settle the Zendesk user who already has this address")
    assert backend.calls == [("create", "jane@acme.com"), ("lookup", "jane@acme.com"), ("upgrade", "jane@acme.com")]
    backend.fail_upgrade = None
    backend.calls.clear()
    second = processor.process_batch(ctx.db, backend, ["acme.com"])
    assert [o.status for o in second.outcomes] == ["created"]
    assert backend.calls == [("create", "jane@acme.com"), ("lookup", "jane@acme.com"), ("upgrade", "jane@acme.com")]


def test_backend_without_lookup_fails_the_request_as_before(ctx):
    class NoLookup:
        mode = "standalone"
        extract = SupportLike.extract
        create = SupportLike.create

        def __init__(self):
            self.staff, self.people, self.calls = {}, {"jane@acme.com": user()}, []

    backend = NoLookup()
    add(ctx, "jane@acme.com")
    result = processor.process_batch(ctx.db, backend, ["acme.com"])
    assert [o.status for o in result.outcomes] == ["failed"] and "422" in result.outcomes[0].reason


def test_dry_run_makes_no_lookup(ctx):
    backend = SupportLike([], [user(1, "jane@acme.com")])
    add(ctx, "jane@acme.com")
    result = processor.process_batch(ctx.db, backend, ["acme.com"], dry_run=True)
    assert [o.status for o in result.outcomes] == ["created"] and backend.calls == []


@pytest.mark.parametrize("codes, taken", [
    ({"RecordInvalid", "DuplicateValue"}, True),
    ({"RecordInvalid"}, True),  # no details: look the address up to be sure
    (frozenset(), True),
    ({"RecordInvalid", "InvalidValue"}, False),  # another validation error: not an address problem
])
def test_support_create_reads_the_422_codes(codes, taken):
    import httpx

    from evalsync_gui.core.chat.agents_api import SupportChat
    from evalsync_gui.core.zendesk.http import ApiTokenAuth, ZendeskHttp

    details = {"email" if "DuplicateValue" in codes else "name": [{"error": c} for c in codes - {"RecordInvalid"}]}
    body = {"error": "RecordInvalid", "details": details} if "RecordInvalid" in codes else {"description": "no"}
    http = ZendeskHttp("https://acme.zendesk.com", ApiTokenAuth("a@b.c", "x"),
                       transport=httpx.MockTransport(lambda r: httpx.Response(422, json=body)))
    chat = SupportChat(http, CHAT_ROLE, NO_CHAT_ROLE)
    with pytest.raises(ZendeskError) as info:
        chat.create("jane@acme.com", "Jane", "Doe")
    assert isinstance(info.value, EmailTaken) is taken
