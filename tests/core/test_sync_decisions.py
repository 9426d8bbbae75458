"""Each row of the sync decision table, on its own (no database, no network)."""

from __future__ import annotations

import pytest

from evalsync_gui.core.sync import guard
from evalsync_gui.core.sync.decisions import (Create, Deactivate, Lookup, Remote, Update, decide,
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
    ("10", 11, 0, True), ("10", 10, 0, False), ("default", 0, 0, False), ("0", 0, 0, False), ("0%", 0, 0, False),
    ("200%", 1, 0, True), ("200%", 2, 1, False), (None, 11, 54, True), ("", 11, 55, False), (" 5 ", 6, 0, True)])
def test_guard_is_exact_more_than(limit, planned, synced, held):
    """Issue 15 defect 8: "more than P%" in integers (29% of 100 is 29, which is not more)."""
    assert guard.exceeds(limit, planned, synced) is held


@pytest.mark.parametrize("limit,words", [("default", "more than 10 users and more than 20% of the synced users"),
                                         (None, "more than 10 users and more than 20% of the synced users"),
                                         (" 5% ", "more than 5% of the synced users"),
                                         ("5%", "more than 5% of the synced users"), ("3", "more than 3 users")])
def test_guard_describe(limit, words):
    assert guard.describe(limit) == words


@pytest.mark.parametrize("fields,value", [({"emp": "E-7"}, "E-7"), ({"emp": 42}, "42"), ({"emp": ""}, None),
                                          ({"emp": None}, None), ({"emp": {"x": 1}}, None), ({"emp": [1]}, None),
                                          ({"emp": True}, None), ({}, None), ({"other": "E-7"}, None)])
def test_identifier_from_a_user_field(fields, value):
    from evalsync_gui.core.sync.decisions import identifier_value

    assert identifier_value(zd(user_fields=fields), "user_fields.emp") == value
    assert Remote.from_api(zd(user_fields=fields), "user_fields.emp").identifier == value
    assert identifier_value(zd(user_fields=fields, external_id="X-1"), "default") is None


def test_default_mode_never_records_an_identifier_change():
    remote = Remote.from_api(zd(external_id="EMP-9"))
    assert decide(IN_SCOPE, remote, local(identifier="EMP-1"), linked=True) is None
    # "default" as the configuration spells it (SyncConfig.identifier), not only the parameter default.
    assert decide(IN_SCOPE, Remote.from_api(zd(external_id="EMP-9"), "default"), local(identifier="EMP-1"),
                  linked=True, identifier_mode="default") is None
    changed = decide(IN_SCOPE, Remote.from_api(zd(external_id="EMP-9"), "external_id"), local(identifier="EMP-1"),
                     linked=True, identifier_mode="external_id")
    assert isinstance(changed, Update) and changed.changes == (("identifier", "EMP-1", "EMP-9"),)


def test_describe_action_for_each_kind():
    from evalsync_gui.core.sync.decisions import describe_action

    create = decide(IN_SCOPE, R, None, linked=False)
    assert describe_action(create) == {"action": "create", "user_id": None, "zendesk_id": 7, "name": "Ann",
                                       "email": "ann@x.test", "changes": [], "reason": "new in Zendesk"}
    renamed = decide(IN_SCOPE, Remote.from_api(zd(name="Anna")), local(), linked=True)
    assert describe_action(renamed) == {"action": "update", "user_id": 1, "zendesk_id": 7, "name": "Anna",
                                        "email": "ann@x.test", "reason": "changed in Zendesk",
                                        "changes": [{"field": "name", "old": "Ann", "new": "Anna"}]}
    linked = decide(IN_SCOPE, R, local(zendesk_id=None, source="csv"), linked=False)
    assert describe_action(linked)["action"] == "link" and describe_action(linked)["reason"] == "matched by identifier"
    back = decide(IN_SCOPE, R, local(status="deactivated", deactivated_by="sync"), linked=True)
    assert describe_action(back)["action"] == "return" and describe_action(back)["reason"] == "returned in Zendesk"
    gone = decide(SUSPENDED, R, local(status="active", name="Ann L", email="al@x.test"), linked=True)
    assert describe_action(gone) == {"action": "deactivate", "user_id": 1, "zendesk_id": 7, "name": "Ann L",
                                     "email": "al@x.test", "changes": [], "reason": "suspended in Zendesk",
                                     "reason_code": "suspended"}


def test_a_row_deactivated_by_sync_comes_back_linked_with_its_changes():
    back = decide(IN_SCOPE, Remote.from_api(zd(name="Anna")), local(zendesk_id=None, status="deactivated",
                                                                     deactivated_by="sync"), linked=False)
    assert isinstance(back, Update) and back.returned and back.link
    assert back.changes == (("name", "Ann", "Anna"),) and back.reason == "returned in Zendesk"
    again = decide(IN_SCOPE, R, local(status="deactivated", deactivated_by="sync"), linked=True)
    assert again.returned and not again.link


def test_update_reasons():
    meta_only = decide(IN_SCOPE, Remote.from_api(zd(updated_at="2025-05-05T00:00:00Z")), local(), linked=True)
    assert meta_only.reason == "changed in Zendesk" and not meta_only.recorded
    matched_and_renamed = decide(IN_SCOPE, Remote.from_api(zd(name="Anna")), local(zendesk_id=None), linked=False)
    assert matched_and_renamed.reason == "changed in Zendesk" and matched_and_renamed.link
    matched = decide(IN_SCOPE, R, local(zendesk_id=None), linked=False)
    assert matched.reason == "matched by identifier"


def test_defaults_are_the_default_identifier_mode():
    user = zd(external_id="EMP-1", email="ann@x.test")
    assert Remote.from_api(user).identifier is None
    row = local(id=3, zendesk_id=None, identifier="EMP-1", source="csv")
    actions, _ = plan_page([user], Lookup(unlinked_by_key={("email", "ann@x.test"): row}), SCOPE)
    assert isinstance(actions[0], Update) and actions[0].link and actions[0].changes == ()


def test_plan_page_passes_the_identifier_mode_to_the_decision():
    row = local(identifier="EMP-1")
    actions, _ = plan_page([zd(external_id="EMP-2")], Lookup(by_zendesk_id={7: row}), SCOPE, "external_id")
    assert actions[0].changes == (("identifier", "EMP-1", "EMP-2"),)


def test_claimed_rows_stay_claimed_across_pages():
    row = local(id=3, zendesk_id=None, source="manual")
    claimed: set[int] = set()
    first, _ = plan_page([zd(id=7)], Lookup(unlinked_by_key={("email", "ann@x.test"): row}), SCOPE, claimed=claimed)
    second, _ = plan_page([zd(id=8)], Lookup(unlinked_by_key={("email", "ann@x.test"): row}), SCOPE, claimed=claimed)
    assert first[0].link and claimed == {3}
    assert isinstance(second[0], Create)


def test_a_user_without_email_or_identifier_matches_nobody():
    row = local(id=3, zendesk_id=None, email=None, source="manual")
    actions, _ = plan_page([zd(email=None)], Lookup(unlinked_by_key={("email", None): row}), SCOPE)
    assert isinstance(actions[0], Create)


def test_remote_carries_the_zendesk_fields_as_stored():
    r = Remote.from_api(zd(id=9, name="Bo", email="bo@x.test", role="admin", custom_role_id=5,
                           updated_at="2025-01-02T03:04:05Z"))
    assert (r.zendesk_id, r.name, r.email, r.zendesk_role, r.custom_role_id, r.zendesk_active, r.zendesk_suspended,
            r.zendesk_updated_at, r.identifier) == (9, "Bo", "bo@x.test", "admin", 5, 1, 0, "2025-01-02T03:04:05Z", None)
    gone = Remote.from_api(zd(active=False, suspended=True))
    assert (gone.zendesk_active, gone.zendesk_suspended) == (0, 1)


def test_every_recorded_field_is_compared_in_default_mode():
    remote = Remote.from_api(zd(name="N", email="n@x.test", role="admin", custom_role_id=5))
    changed = decide(IN_SCOPE, remote, local(), linked=True)
    assert [name for name, _, _ in changed.changes] == ["name", "email", "zendesk_role", "custom_role_id"]
