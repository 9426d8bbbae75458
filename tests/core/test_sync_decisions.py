"""Each row of the sync decision table, on its own (no database, no network)."""

from __future__ import annotations

import pytest

from evalsync_gui.core.sync import guard
from evalsync_gui.core.sync.decisions import (ABSENT_REASON, Create, Deactivate, Lookup, Remote, Update, decide,
                                              plan_page)
from evalsync_gui.core.sync.scope import DELETED, IN_SCOPE, OUT_OF_SCOPE, SUSPENDED, Scope, describe, zendesk_state
from evalsync_gui.core.sync.users import clean_user

SCOPE = Scope.from_roles(["agent", "admin"])


def zd(**kw):
    """A checked Zendesk user, as the sync's pages deliver them."""
    base = {"id": 7, "name": "Ann", "email": "ann@x.test", "role": "agent", "custom_role_id": None,
            "active": True, "suspended": False, "updated_at": "2024-01-01T00:00:00Z"}
    return clean_user({**base, **kw})


def local(**kw):
    base = {"id": 1, "zendesk_id": 7, "name": "Ann", "email": "ann@x.test", "identifier": None, "status": "pending",
            "source": "zendesk", "zendesk_role": "agent", "custom_role_id": None, "deactivated_by": None,
            "flag": None, "zendesk_active": 1, "zendesk_suspended": 0, "zendesk_updated_at": "2024-01-01T00:00:00Z"}
    return {**base, **kw}


R = Remote.from_api(zd())


def test_in_scope_not_local_is_created_pending():
    assert isinstance(decide(IN_SCOPE, R, None, linked=False), Create)


@pytest.mark.parametrize("state", [SUSPENDED, DELETED, OUT_OF_SCOPE])
def test_not_present_and_not_local_is_ignored(state):
    assert decide(state, R, None, linked=False) is None


def test_linked_unchanged_is_nothing():
    assert decide(IN_SCOPE, R, local(), linked=True) is None


def test_linked_rename_follows_zendesk():
    a = decide(IN_SCOPE, Remote.from_api(zd(name="Ann B", email="annb@x.test")), local(), linked=True)
    assert isinstance(a, Update) and dict((f, n) for f, _, n in a.changes) == {"name": "Ann B", "email": "annb@x.test"}


def test_matched_unlinked_row_gets_linked():
    a = decide(IN_SCOPE, R, local(zendesk_id=None, source="manual"), linked=False)
    assert isinstance(a, Update) and a.link and a.kind == "link"


def test_returned_after_sync_deactivation_goes_back_to_pending():
    a = decide(IN_SCOPE, R, local(status="deactivated", deactivated_by="sync"), linked=True)
    assert isinstance(a, Update) and a.returned and a.kind == "return"


def test_admin_deactivated_stays_deactivated():
    a = decide(IN_SCOPE, Remote.from_api(zd(name="New")), local(status="deactivated", deactivated_by="admin"), linked=True)
    assert isinstance(a, Update) and not a.returned


@pytest.mark.parametrize("state,words", [(SUSPENDED, "suspended"), (DELETED, "deleted"), (OUT_OF_SCOPE, "scope")])
def test_linked_user_gone_is_deactivated_with_reason(state, words):
    a = decide(state, R, local(status="active"), linked=True)
    assert isinstance(a, Deactivate) and words in a.reason and a.old_status == "active"


@pytest.mark.parametrize("state", [SUSPENDED, DELETED, OUT_OF_SCOPE])
def test_hand_made_unlinked_user_is_never_deactivated(state):
    assert decide(state, R, local(zendesk_id=None, source="csv"), linked=False) is None


def test_already_deactivated_is_left_alone():
    assert decide(DELETED, R, local(status="deactivated", deactivated_by="sync"), linked=True) is None


def test_states():
    assert zendesk_state(zd(), SCOPE) == IN_SCOPE
    assert zendesk_state(zd(suspended=True), SCOPE) == SUSPENDED
    assert zendesk_state(zd(active=False), SCOPE) == DELETED
    assert zendesk_state(zd(role="end-user"), SCOPE) == OUT_OF_SCOPE
    tier = Scope.from_roles(["custom:5"])
    assert zendesk_state(zd(custom_role_id=5), tier) == IN_SCOPE
    assert zendesk_state(zd(custom_role_id=6), tier) == OUT_OF_SCOPE
    assert zendesk_state(zd(role="admin"), tier) == OUT_OF_SCOPE


def test_listings_and_words():
    assert Scope.from_roles(["agent", "admin", "custom:5"]).listings() == [
        ("role:agent,admin", [("role[]", "agent"), ("role[]", "admin")])]
    assert [k for k, _ in Scope.from_roles(["custom:5", "custom:6"]).listings()] == ["permission_set:5", "permission_set:6"]
    assert describe(Scope.from_roles(["custom:5", "admin"]), {5: "Tier 1"}) == \
        "agents with the custom role Tier 1, and all admins"


def test_plan_page_same_email_claims_row_once_and_dedupes():
    row = local(id=3, zendesk_id=None, source="manual")
    lookup = Lookup(unlinked_by_key={("email", "ann@x.test"): row})
    users = [zd(id=7), zd(id=8), zd(id=7, name="Ann 2")]
    actions, remotes = plan_page(users, lookup, SCOPE)
    kinds = sorted(type(a).__name__ for a in actions)
    assert kinds == ["Create", "Update"] and len(remotes) == 2


def test_identifier_external_id_matching():
    row = local(id=3, zendesk_id=None, email="other@x.test", identifier="EMP-1", source="csv")
    lookup = Lookup(unlinked_by_key={("identifier", "EMP-1"): row})
    actions, _ = plan_page([zd(external_id="EMP-1")], lookup, SCOPE, "external_id")
    assert isinstance(actions[0], Update) and actions[0].link


@pytest.mark.parametrize("limit,planned,synced,held", [
    ("default", 10, 20, False), ("default", 11, 100, False), ("default", 11, 50, True),
    ("5", 6, 1000, True), ("5", 5, 10, False), ("10%", 11, 100, True), ("10%", 10, 100, False)])
def test_guard(limit, planned, synced, held):
    assert guard.exceeds(limit, planned, synced) is held


@pytest.mark.parametrize("limit,planned,synced,held", [
    ("29%", 29, 100, False), ("29%", 30, 100, True), ("7%", 7, 100, False), ("57%", 57, 100, False),
    ("0.1%", 1, 1000, False), ("12.5%", 1, 8, False), ("12.5%", 2, 8, True), ("0%", 1, 5, True),
    ("default", 11, 55, False), ("default", 12, 55, True), ("default", 10, 0, False), ("default", 11, 0, True),
    ("10", 11, 0, True), ("10", 10, 0, False), ("default", 0, 0, False), ("0", 0, 0, False)])
def test_guard_is_exact_more_than(limit, planned, synced, held):
    """Issue 15 defect 8: "more than P%" in integers (29% of 100 is 29, which is not more)."""
    assert guard.exceeds(limit, planned, synced) is held


@pytest.mark.parametrize("limit,words", [("default", "more than 10 users and more than 20% of the synced users"),
                                         ("5%", "more than 5% of the synced users"), ("3", "more than 3 users")])
def test_guard_describe(limit, words):
    assert guard.describe(limit) == words
