"""User-object checks, repeated cursors and the custom-role name cache (core/sync)."""

from __future__ import annotations

import json

import httpx
import pytest

from evalsync_gui.core.errors import ResponseError
from evalsync_gui.core.sync import fetch, roles
from evalsync_gui.core.sync.users import ZendeskUser, clean_user, clean_users, decode_page
from evalsync_gui.core.zendesk.http import ApiTokenAuth, ZendeskHttp

BASE = "https://abc.zendesk.com"


def test_clean_user_coerces_fields_and_drops_users_without_an_id():
    user = clean_user({"id": 7, "name": 12, "email": ["x"], "role": None, "active": "yes", "suspended": "no",
                       "custom_role_id": "seven", "external_id": {"a": 1}, "user_fields": [1]})
    assert user == ZendeskUser(id=7, name="12", email=None, role=None, custom_role_id=None, active=True,
                               suspended=False, updated_at=None, external_id=None, user_fields={})
    assert clean_user({"id": 1, "name": "a\x00b", "email": "\ud800@x"}).name == "ab"
    users, skipped = clean_users([{"id": 0}, {"id": True}, {"id": 2**64}, {"name": "no id"}, 5, None, {"id": "9"}])
    assert [u.id for u in users] == [9] and skipped == 6
    assert clean_user({"id": 3, "active": False}).active is False  # only false means deleted


def _page(*users) -> bytes:
    return json.dumps({"users": list(users), "meta": {"has_more": False}}).encode()


FULL = {"id": 5, "url": "x", "name": "Zoë", "email": "zoe@x.test", "role": "agent", "custom_role_id": 9,
        "active": True, "suspended": False, "updated_at": "2024-01-01T00:00:00Z", "external_id": "E1",
        "user_fields": {"team": "north"}, "tags": [], "photo": None, "details": ""}


@pytest.mark.parametrize("odd", [
    {}, {"email": ""}, {"role": ""}, {"updated_at": ""}, {"external_id": ""}, {"external_id": 12},
    {"name": None}, {"name": 3}, {"name": "a\x00b"}, {"email": None}, {"active": None}, {"active": 0},
    {"suspended": "yes"}, {"custom_role_id": "9"}, {"custom_role_id": 0}, {"user_fields": None},
    {"id": "5"}, {"id": 0}, {"id": 2**64}, {"id": 5.0}, {"custom_role_id": 9.0}, {"name": "\ud800"},
    {"user_fields": {"a": [1], "b": None}}, {"role": "end-user", "suspended": True, "active": False},
])
def test_fast_and_careful_decoding_agree(odd):
    """A page the typed decoder takes gives exactly what checking each dict gives."""
    user = {**FULL, **odd}
    body = _page(user, FULL)
    decoded, _ = clean_users(decode_page(body)["users"])
    careful, _ = clean_users(json.loads(body)["users"])
    assert decoded == careful


def test_typed_decoding_keeps_the_page_keys_and_skips_the_rest():
    body = json.dumps({"users": [FULL], "meta": {"has_more": True}, "links": {"next": "n"}, "count": 3}).encode()
    page = decode_page(body)
    assert set(page) == {"users", "meta", "links"} and type(page["users"][0]) is ZendeskUser
    assert decode_page(b'{"meta": {}}') == {"meta": {}}  # no users key: none added
    with pytest.raises(ValueError):
        decode_page(b'{"users": [')


def _client(handler):
    return ZendeskHttp(BASE, ApiTokenAuth("a@b.c", "tok"), sleep=lambda s: None,
                       transport=httpx.MockTransport(handler))


def test_repeated_incremental_cursor_stops():
    after = f"{BASE}/api/v2/incremental/users/cursor.json?cursor=abc"
    client = _client(lambda r: httpx.Response(200, json={"users": [{"id": 1}], "after_url": after,
                                                         "end_of_stream": False}))
    with pytest.raises(ResponseError, match="repeated a page"):
        list(fetch.iter_incremental(client, start_time=0))


def test_listing_page_of_the_wrong_shape_is_refused():
    client = _client(lambda r: httpx.Response(200, json={"users": [], "links": "nope"}))
    with pytest.raises(ResponseError, match="wrong shape"):
        list(fetch.iter_listing(client, "k", []))


def test_role_names_are_cached_and_filled_only_when_new(ctx):
    with ctx.db.transaction() as conn:
        for uid, zid, rid in ((1, 11, 5), (2, 12, 6), (3, None, 5)):
            conn.execute("INSERT INTO users (id, zendesk_id, name, status, source, custom_role_id, created_at, "
                         "updated_at) VALUES (?, ?, 'u', 'pending', 'zendesk', ?, 'x', 'x')", (uid, zid, rid))
        assert roles.store_names(conn, {5: "Tier 1", 6: "Tier 2"}) == 2
    names = dict(ctx.db.query("SELECT id, custom_role_name FROM users"))
    assert names == {1: "Tier 1", 2: "Tier 2", 3: None}  # hand-made rows are not touched
    assert roles.cached_names(ctx.db) == {5: "Tier 1", 6: "Tier 2"}
    assert not roles.needs_refresh(ctx.db, full_listing=False) and roles.needs_refresh(ctx.db, full_listing=True)
    with ctx.db.transaction() as conn:
        assert roles.store_names(conn, {5: "Tier 1", 6: "Tier Two"}) == 1
