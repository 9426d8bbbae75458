"""Reading users from Zendesk as a stream of pages, each with the cursor to resume after it.

* :func:`iter_listing`: ``GET /api/v2/users.json`` with cursor pagination (``page[size]=100``,
  ``role[]`` or ``permission_set``), never offset pagination. ``links.next`` is followed as
  given, only to the account's own origin. It stops on ``has_more: false`` or an empty page
  (a real last page still carries a next link). A next link already followed in the same
  listing is an error, not a loop.
* :func:`iter_incremental`: the cursor-based incremental export (1000 per page, admins only),
  following ``after_url`` until ``end_of_stream``; the last ``after_url`` is kept to resume.
  A repeated ``after_url`` before the end of the stream is an error, not a loop. Zendesk
  allows it 10 requests a minute: :func:`incremental_pacer` paces a client to that.
* :func:`prefetched`: runs a page iterator on a background thread with a small bounded queue,
  so the database work on one page hides behind the download of the next.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from evalsync_gui.core.errors import ResponseError
from evalsync_gui.core.sync.users import clean_users, decode_page
from evalsync_gui.core.zendesk.pacing import EndpointPacer

USERS_PATH = "/api/v2/users.json"
INCREMENTAL_PATH = "/api/v2/incremental/users/cursor.json"
PAGE_SIZE = 100
INCREMENTAL_PAGE_SIZE = 1000
INCREMENTAL_PER_MINUTE = 10  # docs/ZENDESK.md section 4
REPEATED_PAGE = "Zendesk repeated a page of the user list; the sync stopped without deactivating anyone. Retry later."
WRONG_SHAPE = "Zendesk sent a page of the wrong shape; retry the sync."


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
    """Cursor-paginated user listing for one filter, from its start or from ``start_url``."""
    url: str = start_url or USERS_PATH
    query: list[tuple[str, str]] | None = None if start_url else [*params, ("page[size]", str(PAGE_SIZE))]
    followed: set[str] = {url} if start_url else set()
    while True:
        body = _object(client.get(url, query, decode=decode_page), "users")
        raw = body.get("users") or []
        users, skipped = clean_users(raw)
        has_more = (body.get("meta") or {}).get("has_more")
        nxt = (body.get("links") or {}).get("next")
        if not raw or has_more is False:
            yield Page(key, users, None, True, skipped)
            return
        if not nxt:
            raise ResponseError("Zendesk said more users follow but sent no next-page link; retry the sync.")
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
    followed: set[str] = {url} if start_url else set()
    while True:
        body = _object(client.get(url, query, decode=decode_page), "users")
        users, skipped = clean_users(body.get("users") or [])
        end = body.get("end_of_stream") is True
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


def _object(body, key: str) -> dict:
    if not isinstance(body, dict) or not isinstance(body.get(key, []), list):
        raise ResponseError(WRONG_SHAPE)
    for part in ("meta", "links"):
        if body.get(part) is not None and not isinstance(body[part], dict):
            raise ResponseError(WRONG_SHAPE)
    return body


_END = object()


def prefetched(pages: Iterator[Page], depth: int = 4, *, wait_budget: Callable[[], float | None] | None = None,
               on_idle: Callable[[], None] | None = None) -> Iterator[Page]:
    """Yield ``pages`` while a background thread fetches up to ``depth`` pages ahead.

    Errors raised by the fetching thread are re-raised here, in order. Closing this
    generator (break, exception, cancel) stops the fetcher after its current request.
    When the next page is not ready within ``wait_budget()`` seconds, ``on_idle()`` runs
    before waiting on (the group commit uses it so no write lock is held across a wait).
    """
    q: queue.Queue = queue.Queue(maxsize=max(1, depth))
    stop = threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for page in pages:
                if not put(("page", page)):
                    return
            put(("end", _END))
        except BaseException as exc:  # handed to the consumer, which decides
            put(("error", exc))
        finally:
            close = getattr(pages, "close", None)
            if close:
                close()

    thread = threading.Thread(target=produce, name="sync-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            budget = wait_budget() if wait_budget is not None else None
            try:
                kind, item = q.get() if budget is None else q.get(timeout=budget) if budget > 0 else q.get_nowait()
            except queue.Empty:
                if on_idle is not None:
                    on_idle()
                kind, item = q.get()
            if kind == "page":
                yield item
            elif kind == "error":
                raise item
            else:
                return
    finally:
        stop.set()
        deadline = time.monotonic() + 60
        while thread.is_alive() and time.monotonic() < deadline:
            try:
                q.get_nowait()
            except queue.Empty:
                thread.join(0.05)
