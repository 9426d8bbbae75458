"""Issue 15, defect 2: a listing is complete only when every page is a valid users page and
the last page says ``has_more: false`` (cursor) / ``end_of_stream: true`` (export).

Each broken answer below ends the run ``failed`` with one readable line and deactivates
nobody; the recorded real shapes (a non-empty last page that still carries ``links.next``,
a trailing empty page) still complete. See docs/ZENDESK.md section 2.
"""

from __future__ import annotations

import httpx
import pytest

from evalsync_gui.core.sync.config import SyncConfig, save_config
from evalsync_gui.core.sync.runner import run_sync
from tests.core.sync_fake import FakeZendesk, client_for

LISTING = "/api/v2/users.json"
EXPORT = "/api/v2/incremental/users/cursor.json"


@pytest.fixture
def fz():
    f = FakeZendesk()
    f.ids = [f.add(f"Agent {i}", f"a{i}@x.test") for i in range(8)]
    f.seeding = False
    return f


@pytest.fixture
def sctx(ctx):
    ctx.extras["sync_is_admin"] = False  # full listings only, unless a test says otherwise
    save_config(ctx, SyncConfig(roles=["agent", "admin"]))
    return ctx


def sync(ctx, fz, **kw):
    return run_sync(ctx, client=client_for(fz), **kw)


def statuses(ctx) -> list[str]:
    return [r["status"] for r in ctx.db.query("SELECT status FROM users ORDER BY id")]


def answer_listing_with(fz, body_for):
    """Replace the listing's answers: ``body_for(n, real_body)`` -> body (n = page number from 1)."""
    handle = fz.handle
    count = {"n": 0}

    def patched(request):
        response = handle(request)
        if request.url.path != LISTING:
            return response
        count["n"] += 1
        return httpx.Response(200, json=body_for(count["n"], response.json()))

    fz.handle = patched


def linked_then(sctx, fz, body_for):
    """8 users linked by a clean sync, then the listing answers with ``body_for``."""
    assert sync(sctx, fz).status == "completed"
    assert statuses(sctx) == ["pending"] * 8
    answer_listing_with(fz, body_for)
    return sync(sctx, fz, full=True)


def assert_failed_cleanly(sctx, result, *words):
    assert result.status == "failed" and result.exit_code == 5, result
    assert result.deactivated == 0 and result.held == 0
    assert statuses(sctx) == ["pending"] * 8, "someone was deactivated after an incomplete read"
    assert result.error and "\n" not in result.error
    for word in words:
        assert word in result.error.lower()
    row = sctx.db.query("SELECT status, error FROM sync_runs WHERE id = ?", (result.run_id,))[0]
    assert (row["status"], row["error"]) == ("failed", result.error)


@pytest.mark.parametrize("body", [
    {},
    {"meta": {"has_more": True}},
    {"meta": {"has_more": False}},  # says "the end" but carries no users list at all
    {"users": None, "meta": {"has_more": False}},
    {"users": {"id": 1}, "meta": {"has_more": False}},
], ids=["empty-object", "no-users-has-more", "no-users-end", "users-null", "users-object"])
def test_a_page_without_a_users_list_fails_the_run(sctx, fz, body):
    result = linked_then(sctx, fz, lambda n, real: body)
    assert_failed_cleanly(sctx, result, "retry")


def test_an_empty_page_that_says_more_follow_fails_the_run(sctx, fz):
    def body(n, real):
        return {"users": [], "meta": {"has_more": True}, "links": {"next": real["links"]["next"] or
                                                                   "https://acme.zendesk.com/api/v2/users.json?page%5Bafter%5D=x"}}

    assert_failed_cleanly(sctx, linked_then(sctx, fz, body), "retry")


def test_has_more_with_no_next_link_fails_the_run(sctx, fz):
    result = linked_then(sctx, fz, lambda n, real: {**real, "meta": {"has_more": True}, "links": {"next": None}})
    assert_failed_cleanly(sctx, result, "retry")


@pytest.mark.parametrize("meta", [None, {}, {"has_more": "false"}, {"has_more": 0}, {"has_more": None}],
                         ids=["no-meta", "meta-empty", "string", "zero", "null"])
def test_a_last_page_that_does_not_say_has_more_false_fails_the_run(sctx, fz, meta):
    def body(n, real):
        out = {"users": real["users"], "links": {"next": None}}
        if meta is not None:
            out["meta"] = meta
        return out

    assert_failed_cleanly(sctx, linked_then(sctx, fz, body), "retry")


def test_entries_without_an_id_mean_nobody_is_absent(sctx, fz):
    """Users the sync cannot name are not absent: the 7 gone users stay until a clean read."""
    assert sync(sctx, fz).status == "completed"
    kept = fz.ids[0]
    for uid in fz.ids[1:]:
        fz.users[uid]["active"] = False
    answer_listing_with(fz, lambda n, real: {**real, "users": [*real["users"], {"name": "No id", "email": "n@x.test"}]})
    result = sync(sctx, fz, full=True, allow_deactivations=True)
    assert result.deactivated == 0 and statuses(sctx) == ["pending"] * 8, result
    fz.handle = FakeZendesk.handle.__get__(fz)
    result = sync(sctx, fz, full=True, allow_deactivations=True)
    assert result.deactivated == 7 and result.status == "completed"
    assert sctx.db.scalar("SELECT status FROM users WHERE zendesk_id = ?", (kept,)) == "pending"


def test_recorded_shapes_still_complete(sctx, fz):
    """Real Zendesk: a non-empty last page keeps links.next; a trailing empty page has nulls."""
    assert sync(sctx, fz).status == "completed"
    gone = fz.ids[-1]
    fz.users[gone]["active"] = False

    def body(n, real):
        if n == 1:  # the real users, then "more" (the recorded activities quirk)
            return {**real, "meta": {"has_more": True, "after_cursor": "c1"}}
        return {"users": [], "meta": {"has_more": False, "after_cursor": None, "before_cursor": None},
                "links": {"prev": None, "next": None}}

    answer_listing_with(fz, body)
    result = sync(sctx, fz, full=True)
    assert (result.status, result.deactivated) == ("completed", 1), result.error
    answer_listing_with(fz, lambda n, real: {**real, "meta": {"has_more": False},
                                             "links": {"next": "https://acme.zendesk.com/api/v2/users.json?x=1"}})
    assert sync(sctx, fz, full=True).status == "completed"


@pytest.mark.parametrize("body", [
    {"end_of_stream": True},
    {"users": None, "end_of_stream": True},
    {"users": [], "after_url": "https://acme.zendesk.com/api/v2/incremental/users/cursor.json?cursor=x"},
    {"users": [], "end_of_stream": "true", "after_url": None},
], ids=["no-users", "users-null", "no-end-flag", "end-flag-string"])
def test_a_broken_export_page_fails_the_run(sctx, fz, body):
    sctx.extras["sync_is_admin"] = True
    assert sync(sctx, fz).status == "completed"
    handle = fz.handle

    def patched(request):
        response = handle(request)
        return httpx.Response(200, json=body) if request.url.path == EXPORT else response

    fz.handle = patched
    result = sync(sctx, fz)
    assert result.mode == "incremental"
    assert result.status == "failed" and result.error and "\n" not in result.error, result
    assert statuses(sctx) == ["pending"] * 8
