"""core/sync/fetch.py on its own: the requests it sends, the pages it yields, the errors it raises.

Zendesk is a scripted list of answers behind the real HTTP client (httpx.MockTransport), so
each rule of docs/ZENDESK.md section 2 is checked where it is implemented.
"""

from __future__ import annotations

import logging
import threading
import time

import httpx
import pytest

from evalsync_gui.core.errors import ResponseError, ZendeskError
from evalsync_gui.core.sync import fetch
from evalsync_gui.core.sync.users import ZendeskUser
from evalsync_gui.core.zendesk.http import ApiTokenAuth, RetryPolicy, ZendeskHttp

BASE = "https://acme.zendesk.com"
EXPORT = f"{BASE}/api/v2/incremental/users/cursor.json"


class Script:
    """Answers in order; records every request as (path, params)."""

    def __init__(self, *answers) -> None:
        self.answers = list(answers)
        self.seen: list[tuple[str, list[tuple[str, str]]]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append((request.url.path, list(request.url.params.multi_items())))
        answer = self.answers.pop(0)
        return answer if isinstance(answer, httpx.Response) else httpx.Response(200, json=answer)


def client(script: Script) -> ZendeskHttp:
    return ZendeskHttp(BASE, ApiTokenAuth("a@acme.test", "t"), transport=httpx.MockTransport(script),
                       retry=RetryPolicy(max_attempts=1), sleep=lambda s: None)


def user(uid: int) -> dict:
    return {"id": uid, "name": f"U{uid}", "email": f"u{uid}@x.test", "role": "agent"}


def export_page(users, after: str | None, end) -> dict:
    return {"users": users, "after_url": after, "end_of_stream": end}


# -- incremental export ---------------------------------------------------------------------
def test_export_first_request_and_pages():
    script = Script(export_page([user(1), {"name": "no id"}], f"{EXPORT}?cursor=a", False),
                    export_page([user(2)], f"{EXPORT}?cursor=b", True))
    pages = list(fetch.iter_incremental(client(script), start_time=1234))
    assert script.seen[0] == ("/api/v2/incremental/users/cursor.json", [("start_time", "1234"), ("per_page", "1000")])
    assert script.seen[1] == ("/api/v2/incremental/users/cursor.json", [("cursor", "a")])
    assert [(p.key, [u.id for u in p.users], p.next_url, p.done, p.skipped) for p in pages] == [
        ("incremental", [1], f"{EXPORT}?cursor=a", False, 1),
        ("incremental", [2], f"{EXPORT}?cursor=b", True, 0)]
    assert all(type(u) is ZendeskUser for p in pages for u in p.users)


def test_export_without_a_start_time_starts_at_zero():
    script = Script(export_page([], f"{EXPORT}?cursor=a", True))
    assert [p.done for p in fetch.iter_incremental(client(script))] == [True]
    assert script.seen[0][1] == [("start_time", "0"), ("per_page", "1000")]


def test_export_end_without_an_after_url_resumes_where_it_read():
    script = Script(export_page([user(1)], None, True))
    (page,) = fetch.iter_incremental(client(script), start_url=f"{EXPORT}?cursor=z")
    assert (page.next_url, page.done) == (f"{EXPORT}?cursor=z", True)
    assert script.seen == [("/api/v2/incremental/users/cursor.json", [("cursor", "z")])]


def test_export_no_next_link_before_the_end_is_an_error():
    pages = fetch.iter_incremental(client(Script(export_page([user(1)], None, False))))
    with pytest.raises(ResponseError) as err:
        next(pages)
    assert str(err.value) == "Zendesk's incremental export sent no next link before its end; retry the sync."


def test_export_repeating_its_start_is_an_error_before_any_page():
    start = f"{EXPORT}?cursor=s"
    pages = fetch.iter_incremental(client(Script(export_page([user(1)], start, False))), start_url=start)
    with pytest.raises(ResponseError) as err:
        next(pages)
    assert str(err.value) == fetch.REPEATED_PAGE


@pytest.mark.parametrize("after", [7, ["x"], {"u": 1}])
def test_export_after_url_of_the_wrong_type(after):
    with pytest.raises(ResponseError) as err:
        list(fetch.iter_incremental(client(Script(export_page([], after, False)))))
    assert str(err.value) == fetch.WRONG_SHAPE


def test_export_after_url_to_another_host_is_refused():
    with pytest.raises(ZendeskError, match="not this account's address"):
        list(fetch.iter_incremental(client(Script(export_page([], "https://evil.example/x", True)))))


@pytest.mark.parametrize("end", [None, "true", 1, 0])
def test_export_end_flag_must_be_a_boolean(end):
    with pytest.raises(ResponseError) as err:
        list(fetch.iter_incremental(client(Script(export_page([], f"{EXPORT}?cursor=a", end)))))
    assert str(err.value) == fetch.NO_END_FLAG


# -- cursor listing -------------------------------------------------------------------------
def listing_page(users, more, nxt) -> dict:
    return {"users": users, "meta": {"has_more": more}, "links": {"next": nxt}}


NEXT = f"{BASE}/api/v2/users.json?page%5Bafter%5D=c1&page%5Bsize%5D=100"


def test_listing_requests_and_pages():
    script = Script(listing_page([user(1), {"id": "x"}], True, NEXT), listing_page([user(2)], False, NEXT + "2"))
    pages = list(fetch.iter_listing(client(script), "role:agent", [("role[]", "agent")]))
    assert script.seen == [("/api/v2/users.json", [("role[]", "agent"), ("page[size]", "100")]),
                           ("/api/v2/users.json", [("page[after]", "c1"), ("page[size]", "100")])]
    assert [(p.key, [u.id for u in p.users], p.next_url, p.done, p.skipped) for p in pages] == [
        ("role:agent", [1], NEXT, False, 1), ("role:agent", [2], None, True, 0)]


def test_listing_from_a_saved_cursor_never_reads_it_twice():
    pages = fetch.iter_listing(client(Script(listing_page([user(1)], True, NEXT))), "k", [], start_url=NEXT)
    with pytest.raises(ResponseError) as err:
        next(pages)
    assert str(err.value) == fetch.REPEATED_PAGE


@pytest.mark.parametrize("body,message", [
    ({"meta": {"has_more": False}}, fetch.NOT_A_USERS_PAGE),
    ([user(1)], fetch.NOT_A_USERS_PAGE),
    ({"users": [], "meta": {"has_more": True}, "links": {"next": NEXT}}, fetch.EMPTY_BUT_MORE),
    ({"users": [user(1)], "meta": {"has_more": True}, "links": {"next": None}}, fetch.NO_NEXT_LINK),
    ({"users": [user(1)], "meta": {"has_more": True}}, fetch.NO_NEXT_LINK),
    ({"users": [user(1)], "meta": {"has_more": True}, "links": {"next": 5}}, fetch.WRONG_SHAPE),
    ({"users": [user(1)], "meta": [], "links": {}}, fetch.WRONG_SHAPE),
    ({"users": [user(1)], "meta": {"has_more": False}, "links": "x"}, fetch.WRONG_SHAPE),
    ({"users": [user(1)], "links": {"next": NEXT}}, fetch.NO_END_FLAG),
])
def test_listing_refuses_what_is_not_a_complete_answer(body, message):
    with pytest.raises(ResponseError) as err:
        list(fetch.iter_listing(client(Script(body)), "k", []))
    assert str(err.value) == message


def test_listing_restarts_once_when_a_saved_cursor_is_refused(caplog):
    refused = httpx.Response(400, json={"error": "InvalidPaginationParameter"})
    script = Script(refused, listing_page([user(1)], False, None))
    with caplog.at_level(logging.WARNING, logger="evalsync.sync"):
        pages = list(fetch.iter_listing(client(script), "k", [("role[]", "agent")], start_url=NEXT))
    assert [r.getMessage() for r in caplog.records] == [
        "Zendesk refused a listing cursor (Zendesk refused GET /api/v2/users.json (400: InvalidPaginationParameter).);"
        " reading the k listing from its start"]
    assert [p.users[0].id for p in pages] == [1]
    assert script.seen[1] == ("/api/v2/users.json", [("role[]", "agent"), ("page[size]", "100")])
    # A second refusal in the same listing (or a refused first page) is not hidden.
    script = Script(refused, listing_page([user(1)], True, NEXT + "x"), refused)
    with pytest.raises(ZendeskError) as err:
        list(fetch.iter_listing(client(script), "k", [], start_url=NEXT))
    assert err.value.status == 400 and len(script.seen) == 3
    with pytest.raises(ZendeskError):
        list(fetch.iter_listing(client(Script(refused)), "k", []))
    with pytest.raises(ZendeskError):  # only a 400 means "refused cursor"
        list(fetch.iter_listing(client(Script(httpx.Response(422, json={}))), "k", [], start_url=NEXT))


def test_listing_after_a_restart_still_refuses_a_loop():
    refused = httpx.Response(400, json={"error": "InvalidPaginationParameter"})
    script = Script(refused, listing_page([user(1)], True, NEXT), listing_page([user(2)], True, NEXT))
    with pytest.raises(ResponseError) as err:
        list(fetch.iter_listing(client(script), "k", [], start_url=NEXT))
    assert str(err.value) == fetch.REPEATED_PAGE


# -- prefetching ----------------------------------------------------------------------------
def test_prefetched_keeps_order_and_hands_errors_over_in_place():
    def pages():
        yield from range(30)
        raise ResponseError("boom")

    got = []
    with pytest.raises(ResponseError, match="boom"):
        for item in fetch.prefetched(pages(), depth=1):
            time.sleep(0.002)  # a slower consumer: the fetcher meets a full queue and waits
            got.append(item)
    assert got == list(range(30))


def test_prefetched_passes_none_and_falsy_pages_through():
    assert list(fetch.prefetched((x for x in [0, "", None, [], 5]), depth=2)) == [0, "", None, [], 5]


def test_prefetched_calls_on_idle_when_the_next_page_is_late():
    gate = threading.Event()
    idle: list[int] = []

    def pages():
        yield 1
        gate.wait(5)
        yield 2

    out = []
    for item in fetch.prefetched(pages(), wait_budget=lambda: 0.0, on_idle=lambda: (idle.append(1), gate.set())):
        out.append(item)
    assert out == [1, 2] and idle


def _wait_for(check, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_prefetched_reads_at_most_depth_pages_ahead():
    produced: list[int] = []

    def pages():
        for i in range(100):
            produced.append(i)
            yield i

    stream = fetch.prefetched(pages(), depth=1)
    assert next(stream) == 0
    # One page handed over, one in the queue, one waiting to be put: never more.
    _wait_for(lambda: len(produced) >= 3)
    time.sleep(0.3)
    assert len(produced) == 3
    stream.close()


def test_closing_prefetched_stops_the_fetcher_and_closes_the_source():
    closed = threading.Event()
    produced: list[int] = []

    def pages():
        try:
            for i in range(1000):
                produced.append(i)
                yield i
        finally:
            closed.set()

    source = pages()  # held here, so only prefetched's own close() can run its finally
    stream = fetch.prefetched(source, depth=1)
    assert next(stream) == 0
    fetchers = [t for t in threading.enumerate() if t.name == "sync-prefetch"]
    assert fetchers and all(t.daemon for t in fetchers)
    stream.close()
    assert closed.wait(5)
    assert len(produced) < 10  # stopped, not drained to the end


def test_pages_are_read_by_the_typed_decoder():
    """Both streams hand the body to users.decode_page (msgspec, 10 of 37 keys), not json.loads."""
    from evalsync_gui.core.sync.users import decode_page

    decoders = []

    class Stub:
        def __init__(self, body):
            self.body = body

        def get(self, url, query=None, *, decode=None):
            decoders.append(decode)
            return self.body

        def check_same_origin(self, url):
            return url

    list(fetch.iter_listing(Stub(listing_page([user(1)], False, None)), "k", []))
    list(fetch.iter_incremental(Stub(export_page([user(1)], f"{EXPORT}?cursor=a", True))))
    assert decoders == [decode_page, decode_page]


def test_closing_while_the_fetcher_is_between_pages_stops_it():
    """Closed while a page is being fetched (not while waiting on the queue): no further page."""
    produced: list[int] = []
    reading = threading.Event()

    def pages():
        for i in range(100):
            reading.set()
            time.sleep(0.05)  # a request in flight
            produced.append(i)
            yield i

    source = pages()
    stream = fetch.prefetched(source, depth=4)
    assert next(stream) == 0
    stream.close()  # the fetcher is inside a request now (the queue has room)
    assert len(produced) <= 3, produced


# -- prefetching: when the open group is committed, and how closing ends the fetcher -----------
# Each page source below is held by a threading.Event the test (or the consumer's own callback)
# sets, so the order of "page ready" and "consumer waiting" is decided by the test, not the clock.

@pytest.mark.parametrize("budget", [0.0, 0.05])
def test_a_page_later_than_the_budget_commits_the_open_group_before_waiting(budget):
    """``on_idle`` (the group commit) runs once the budget is spent, and only the page it
    releases arrives after it: the next page is only fetched once the group was committed."""
    committed = threading.Event()
    events: list[str] = []

    def pages():
        yield 1
        assert committed.wait(10), "the consumer waited for page 2 without committing first"
        yield 2

    def on_idle() -> None:
        events.append("commit")
        committed.set()

    for item in fetch.prefetched(pages(), wait_budget=lambda: budget, on_idle=on_idle):
        events.append(f"page {item}")
    assert events == ["page 1", "commit", "page 2"]


def test_a_page_within_the_budget_does_not_commit_the_group():
    """The budget is how long the consumer waits before committing: a page that arrives while
    it waits is applied in the same group (no commit)."""
    asked: list[int] = []
    waiting_for_page_2 = threading.Event()
    idle: list[int] = []

    def budget() -> float:
        asked.append(1)
        if len(asked) == 2:  # asked before waiting for page 2
            waiting_for_page_2.set()
        return 60.0

    def pages():
        yield 1
        assert waiting_for_page_2.wait(10)
        yield 2

    assert list(fetch.prefetched(pages(), wait_budget=budget, on_idle=lambda: idle.append(1))) == [1, 2]
    assert idle == []


def test_without_a_budget_the_consumer_waits_and_never_commits_early():
    fetching = threading.Event()
    release = threading.Event()
    idle: list[int] = []

    def pages():
        yield 1
        fetching.set()
        assert release.wait(10)
        yield 2

    stream = fetch.prefetched(pages(), on_idle=lambda: idle.append(1))
    assert next(stream) == 1
    assert fetching.wait(10)
    release.set()
    assert list(stream) == [2] and idle == []


def test_closing_waits_for_the_fetchers_current_request_and_its_cleanup():
    """Closed while the fetcher is inside a request: close returns only after that request
    ended and the source's own cleanup ran, so nothing uses the client after the stream."""
    fetching = threading.Event()
    release = threading.Event()
    order: list[str] = []

    def pages():
        try:
            yield 1
            fetching.set()
            assert release.wait(10)  # a request in flight
            yield 2
        finally:
            order.append("source closed")

    stream = fetch.prefetched(pages(), depth=4)
    assert next(stream) == 1
    assert fetching.wait(10)

    def close() -> None:
        stream.close()
        order.append("close returned")

    closer = threading.Thread(target=close)
    closer.start()
    release.set()
    closer.join(30)
    assert order == ["source closed", "close returned"]


def test_closing_while_the_fetcher_waits_on_a_full_queue_ends_it_before_close_returns():
    produced: list[int] = []
    closed = threading.Event()
    full = threading.Event()

    def pages():
        try:
            for i in range(100):
                produced.append(i)
                if i == 2:
                    full.set()  # page 1 is in the queue (depth 1), page 2 is waiting to be put
                yield i
        finally:
            closed.set()

    stream = fetch.prefetched(pages(), depth=1)
    assert next(stream) == 0
    assert full.wait(10)
    stream.close()
    assert closed.is_set() and produced == [0, 1, 2]
    assert not [t for t in threading.enumerate() if t.name == "sync-prefetch" and t.is_alive()]


def test_closing_leaves_a_hung_request_behind_after_close_wait(monkeypatch):
    """A request that never ends does not hold the closing caller for more than CLOSE_WAIT."""
    monkeypatch.setattr(fetch, "CLOSE_WAIT", 0.2)
    fetching = threading.Event()
    release = threading.Event()
    closed = threading.Event()

    def pages():
        try:
            yield 1
            fetching.set()
            release.wait(60)  # hung until the test lets go
            yield 2
        finally:
            closed.set()

    stream = fetch.prefetched(pages(), depth=1)
    assert next(stream) == 1
    assert fetching.wait(10)
    closer = threading.Thread(target=stream.close, daemon=True)
    closer.start()
    try:
        closer.join(20)
        assert not closer.is_alive(), "close waited for a hung request past CLOSE_WAIT"
        assert not closed.is_set()  # the request is still hung: left behind, not waited for
    finally:
        release.set()
    assert closed.wait(10)  # once it ends, the fetcher stops and closes the source


def test_incremental_pacer_paces_the_export_and_says_so():
    now = [1000.0]
    reasons: list[str] = []

    def sleep(seconds: float) -> None:
        now[0] += seconds

    pacer = fetch.incremental_pacer(clock=lambda: now[0], sleep=sleep, on_wait=lambda s, why: reasons.append(why))
    assert pacer.covers(fetch.INCREMENTAL_PATH) and not pacer.covers(fetch.USERS_PATH)
    for _ in range(fetch.INCREMENTAL_PER_MINUTE + 1):
        pacer.before_request()
    assert reasons == ["Zendesk's incremental export allows 10 requests a minute; waiting 61s before the next page"]
    assert now[0] == 1061.0
