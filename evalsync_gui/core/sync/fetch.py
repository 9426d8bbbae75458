"""Reading users from Zendesk as a stream of pages, each with the cursor to resume after it.

* :func:`iter_listing`: ``GET /api/v2/users.json`` with cursor pagination (``page[size]=100``,
  ``role[]`` or ``permission_set``), never offset pagination. ``links.next`` is followed as
  given, only to the account's own origin. It ends only on ``meta.has_more: false`` (a real
  last page still carries a next link; a trailing empty page says false too).
* :func:`iter_incremental`: the cursor-based incremental export (1000 per page, admins only),
  following ``after_url`` until ``end_of_stream: true``; the last ``after_url`` is kept to resume.
  Zendesk allows it 10 requests a minute: :func:`incremental_pacer` paces a client to that.

Both fail closed (docs/ZENDESK.md section 2): a page without a ``users`` list, a flag that is
not a JSON boolean, an empty page that says more follow, "more" without a next link, or a next
link already followed raise :class:`ResponseError`, so the run fails and deactivates nobody.
* :func:`prefetched`: runs a page iterator on a background thread with a small bounded queue,
  so the database work on one page hides behind the download of the next.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass

from evalsync_gui.core.errors import ResponseError, ZendeskError
from evalsync_gui.core.sync.users import clean_users, decode_page
from evalsync_gui.core.zendesk.pacing import EndpointPacer

log = logging.getLogger("evalsync.sync")
USERS_PATH = "/api/v2/users.json"
INCREMENTAL_PATH = "/api/v2/incremental/users/cursor.json"
PAGE_SIZE = 100
INCREMENTAL_PAGE_SIZE = 1000
INCREMENTAL_PER_MINUTE = 10  # docs/ZENDESK.md section 4
REPEATED_PAGE = "Zendesk repeated a page of the user list; the sync stopped without deactivating anyone. Retry later."
WRONG_SHAPE = "Zendesk sent a page of the wrong shape; retry the sync."
NOT_A_USERS_PAGE = ("Zendesk sent a page without a list of users; the sync stopped without deactivating "
                    "anyone. Retry the sync.")
NO_END_FLAG = ("Zendesk sent a page that does not say whether more users follow; the sync stopped "
               "without deactivating anyone. Retry the sync.")
EMPTY_BUT_MORE = ("Zendesk sent an empty page but said more users follow; the sync stopped without "
                  "deactivating anyone. Retry the sync.")
NO_NEXT_LINK = "Zendesk said more users follow but sent no next-page link; retry the sync."
CLOSE_WAIT = 60.0  # seconds closing a prefetched stream waits for the fetcher's current request


@dataclass(frozen=True)
class Page:
    """One parsed page. ``next_url`` is where to resume after it; ``done``: the stream ended.

    ``users`` holds checked users only (see :mod:`.users`); ``skipped`` counts the entries
    dropped for having no usable id."""

    key: str
    users: list
    next_url: str | None
    done: bool
    skipped: int = 0


def iter_listing(client, key: str, params: list[tuple[str, str]], start_url: str | None = None) -> Iterator[Page]:
    """Cursor-paginated user listing for one filter, from its start or from ``start_url``.

    When Zendesk refuses a cursor (400: a saved one expired, or the account changed), the
    listing starts again from its start, once; users already read stay read (seen-marks)."""
    first: list[tuple[str, str]] = [*params, ("page[size]", str(PAGE_SIZE))]
    url: str = start_url or USERS_PATH
    query: list[tuple[str, str]] | None = None if start_url else first
    followed: set[str] = {url}  # the start path itself is never a next link: harmless
    restarts = 1
    while True:
        try:
            answer = client.get(url, query, decode=decode_page)
        except ZendeskError as exc:
            if exc.status != 400 or query is not None or restarts < 1:
                raise
            log.warning("Zendesk refused a listing cursor (%s); reading the %s listing from its start", exc, key)
            restarts = 0
            url, query, followed = USERS_PATH, first, {USERS_PATH}
            continue
        body = _users_page(answer)
        raw = body["users"]
        users, skipped = clean_users(raw)
        if _flag(body.get("meta") or {}, "has_more") is False:
            # The only end: a real last page says so (and may still carry a next link).
            yield Page(key, users, None, True, skipped)
            return
        if not raw:
            raise ResponseError(EMPTY_BUT_MORE)
        nxt = (body.get("links") or {}).get("next")
        if not nxt:
            raise ResponseError(NO_NEXT_LINK)
        if not isinstance(nxt, str):
            raise ResponseError(WRONG_SHAPE)
        nxt = client.check_same_origin(nxt)
        if nxt in followed:
            # A cursor that points back at a page already read would loop forever.
            raise ResponseError(REPEATED_PAGE)
        followed.add(nxt)
        yield Page(key, users, nxt, False, skipped)
        url, query = nxt, None


def iter_incremental(client, start_url: str | None = None, start_time: int | None = None) -> Iterator[Page]:
    """The incremental user export from a saved ``after_url`` or from ``start_time`` (epoch s)."""
    if start_url:
        url, query = start_url, None
    else:
        url = INCREMENTAL_PATH
        query = [("start_time", str(int(start_time or 0))), ("per_page", str(INCREMENTAL_PAGE_SIZE))]
    followed: set[str] = {url}
    while True:
        body = _users_page(client.get(url, query, decode=decode_page))
        users, skipped = clean_users(body["users"])
        end = _flag(body, "end_of_stream")
        after = body.get("after_url")
        if after and not isinstance(after, str):
            raise ResponseError(WRONG_SHAPE)
        after = client.check_same_origin(after) if after else None
        if not end and not after:
            raise ResponseError("Zendesk's incremental export sent no next link before its end; retry the sync.")
        if not end and after in followed:
            raise ResponseError(REPEATED_PAGE)
        # At the end of the stream after_url is still set: it is where the next run starts.
        yield Page("incremental", users, after or url, end, skipped)
        if end:
            return
        followed.add(after)
        url, query = after, None


def incremental_pacer(**kwargs) -> EndpointPacer:
    """A pacer for the incremental exports at their documented limit (kwargs: on_wait, clock...)."""
    return EndpointPacer("/api/v2/incremental/", INCREMENTAL_PER_MINUTE,
                         label="Zendesk's incremental export", **kwargs)


def _users_page(body) -> dict:
    """The body when it is a users page: an object with a ``users`` list (``meta``/``links`` objects)."""
    if not isinstance(body, dict) or not isinstance(body.get("users"), list):
        raise ResponseError(NOT_A_USERS_PAGE)
    for part in ("meta", "links"):
        if body.get(part) is not None and not isinstance(body[part], dict):
            raise ResponseError(WRONG_SHAPE)
    return body


def _flag(part: dict, name: str) -> bool:
    """A pagination flag that must be a JSON boolean; anything else is no answer at all."""
    value = part.get(name)
    if type(value) is not bool:
        raise ResponseError(NO_END_FLAG)
    return value


def prefetched(pages: Generator[Page, None, None], depth: int = 4, *, wait_budget: Callable[[], float | None] | None = None,
               on_idle: Callable[[], None] | None = None) -> Iterator[Page]:
    """Yield ``pages`` while a background thread fetches up to ``depth`` pages ahead.

    Errors raised by the fetching thread are re-raised here, in order. Closing this
    generator (break, exception, cancel) stops the fetcher after its current request and
    waits for that request to end (at most :data:`CLOSE_WAIT` seconds; a request hung
    longer is left to its daemon thread). When the next page is not ready within
    ``wait_budget()`` seconds (``None``: no limit; ``0``: only a page already fetched),
    ``on_idle()`` runs before waiting on (the group commit uses it so no write lock is held
    across a wait).
    """
    q: queue.Queue = queue.Queue(maxsize=max(1, depth))
    stop = threading.Event()

    def put(item) -> bool:
        # Once stopped, at most the one put already past this check still lands; the
        # consumer empties the queue after stopping, so that put never blocks for good.
        if stop.is_set():
            return False
        q.put(item)
        return not stop.is_set()  # stopped while waiting: fetch nothing more

    def produce() -> None:
        try:
            for page in pages:
                if not put((page, None)):
                    return
            put(None)  # the end
        except BaseException as exc:  # handed to the consumer, which decides
            put((None, exc))
        finally:
            pages.close()  # runs the source's own cleanup now, on this thread

    thread = threading.Thread(target=produce, name="sync-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            try:
                # Queue.get's timeout: None waits as long as it takes, 0 takes only a page already here.
                entry = q.get(timeout=wait_budget() if wait_budget is not None else None)
            except queue.Empty:
                if on_idle is not None:
                    on_idle()
                entry = q.get()
            if entry is None:
                return
            page, error = entry
            if error is not None:
                raise error
            yield page
    finally:
        stop.set()
        _drain(q)  # a fetcher blocked on the full queue puts its page, sees `stop` and ends
        thread.join(CLOSE_WAIT)


def _drain(q: queue.Queue) -> None:
    """Empty ``q`` without waiting."""
    while True:
        try:
            q.get_nowait()
        except queue.Empty:
            return
