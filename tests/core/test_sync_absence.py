"""core/sync/absence.py on its own: why a user missing from a complete listing is missing."""

from __future__ import annotations

import logging

import httpx
import pytest

from evalsync_gui.core.sync import absence
from evalsync_gui.core.sync.apply import Absent
from evalsync_gui.core.sync.decisions import ABSENT_REASON, REASON_FOR_CODE, ROLE_CHANGED_REASON
from evalsync_gui.core.sync.scope import Scope
from evalsync_gui.core.zendesk.http import ApiTokenAuth, RetryPolicy, ZendeskHttp

BASE = "https://acme.zendesk.com"
SCOPE = Scope.from_roles(["agent"])


def client(handler) -> ZendeskHttp:
    return ZendeskHttp(BASE, ApiTokenAuth("a@acme.test", "t"), transport=httpx.MockTransport(handler),
                       retry=RetryPolicy(max_attempts=1), sleep=lambda s: None)


def zendesk(users: dict[int, dict], seen: list | None = None):
    def handler(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(dict(request.url.params))
        assert request.url.path == absence.SHOW_MANY_PATH
        ids = [int(x) for x in request.url.params["ids"].split(",")]
        return httpx.Response(200, json={"users": [users[i] for i in ids if i in users]})
    return handler


def absent(uid: int, role: str = "agent", custom: int | None = None) -> Absent:
    return Absent(user_id=uid * 10, zendesk_id=uid, status="active", zendesk_role=role, custom_role_id=custom)


def zd(uid: int, **kw) -> dict:
    return {"id": uid, "name": f"U{uid}", "role": "agent", "active": True, "suspended": False, **kw}


def test_each_reason_and_the_one_that_is_not_absent_at_all(caplog):
    users = {1: zd(1, active=False), 2: zd(2, suspended=True), 3: zd(3, role="end-user"), 5: zd(5)}
    seen: list = []
    got = absence.reasons(client(zendesk(users, seen)), [absent(i) for i in (1, 2, 3, 4, 5)], SCOPE)
    assert got == [(10, REASON_FOR_CODE["deleted"], "deleted"), (20, REASON_FOR_CODE["suspended"], "suspended"),
                   (30, ROLE_CHANGED_REASON, "role_changed"), (40, ABSENT_REASON, "gone")]
    assert seen == [{"ids": "1,2,3,4,5", "include_deleted": "true"}]
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING] == [
        "Zendesk user 5 was missing from the listing but is in scope; not deactivated"]


def test_same_role_no_longer_imported_is_out_of_scope():
    got = absence.reasons(client(zendesk({7: zd(7, role="admin")})), [absent(7, role="admin")], SCOPE)
    assert got == [(70, REASON_FOR_CODE["out_of_scope"], "out_of_scope")]
    custom = Scope.from_roles(["custom:5"])
    got = absence.reasons(client(zendesk({8: zd(8, custom_role_id=6)})), [absent(8, custom=5)], custom)
    assert got == [(80, ROLE_CHANGED_REASON, "role_changed")]


def test_at_most_100_ids_per_request():
    seen: list = []
    got = absence.reasons(client(zendesk({}, seen)), [absent(i) for i in range(1, 251)], SCOPE)
    assert [len(p["ids"].split(",")) for p in seen] == [100, 100, 50]
    assert seen[1]["ids"].split(",")[0] == "101"
    assert len(got) == 250 and {code for _, _, code in got} == {"gone"}


@pytest.mark.parametrize("answer", [httpx.Response(500, json={}), httpx.Response(403, json={"error": "Forbidden"}),
                                    httpx.Response(200, json={"users": None}), httpx.Response(200, json=[])])
def test_a_failed_look_up_leaves_the_listing_word_gone(answer, caplog):
    with caplog.at_level(logging.INFO, logger="evalsync.sync"):
        got = absence.reasons(client(lambda r: answer), [absent(1), absent(2)], SCOPE)
    assert got == [(10, ABSENT_REASON, "gone"), (20, ABSENT_REASON, "gone")]
    if answer.status_code != 200:
        (line,) = [r.getMessage() for r in caplog.records]
        assert line.startswith("looking up 2 absent users failed (Zendesk ")
        assert line.endswith("); their reason stays 'no longer in Zendesk'")


def test_users_zendesk_did_not_ask_for_are_ignored():
    got = absence.reasons(client(lambda r: httpx.Response(200, json={"users": [zd(9, active=False)]})),
                          [absent(1)], SCOPE)
    assert got == [(10, ABSENT_REASON, "gone")]


def test_nobody_absent_costs_no_request():
    assert absence.reasons(client(lambda r: pytest.fail("no request expected")), [], SCOPE) == []


def test_a_user_found_in_scope_does_not_end_the_batch():
    users = {1: zd(1), 2: zd(2, active=False)}
    got = absence.reasons(client(zendesk(users)), [absent(1), absent(2), absent(3)], SCOPE)
    assert got == [(20, REASON_FOR_CODE["deleted"], "deleted"), (30, ABSENT_REASON, "gone")]
