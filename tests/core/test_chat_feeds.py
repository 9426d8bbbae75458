"""What Google answers for a published sheet's link, and the line EvalSync says for each
(docs/ZENDESK.md section 8), through httpx.MockTransport."""

from __future__ import annotations

import re

import httpx
import pytest

from evalsync_gui.core.chat import feeds

LINK = "https://docs.google.com/spreadsheets/d/e/2PACX-x/pub?gid=0&single=true&output=csv"
CSV = b"Timestamp,Email Address\n11/27/2026 10:00:00,lead@acme.com\n"


def fetch(handler, url: str = LINK, **kw):
    return feeds.fetch_sheet(url, transport=httpx.MockTransport(handler), **kw)


def test_the_published_csv_is_read_through_googles_redirect():
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "docs.google.com":
            return httpx.Response(307, headers={"Location": "https://doc-0s-sheets.googleusercontent.com/pub/x"})
        return httpx.Response(200, headers={"Content-Type": "text/csv"}, content=CSV)

    header, records = fetch(handler)
    assert header == ["timestamp", "email address"] and records == [
        (2, {"timestamp": "11/27/2026 10:00:00", "email address": "lead@acme.com"})]


@pytest.mark.parametrize("answer, words", [
    (httpx.Response(404, text="Not Found"), "wrong or the sheet was unpublished (HTTP 404)"),
    (httpx.Response(401), "not published to the web (HTTP 401)"),
    (httpx.Response(200, headers={"Content-Type": "text/html; charset=UTF-8"}, text="<html>Sign in</html>"),
     "returned a web page, not CSV"),
    (httpx.Response(200, headers={"Content-Type": "text/plain"}, text="<!DOCTYPE html><html></html>"),
     "returned a web page, not CSV"),
    (httpx.Response(302, headers={"Location": "https://accounts.google.com/ServiceLogin?continue=x"}),
     "asks for a sign-in"),
    (httpx.Response(302, headers={"Location": "http://evil.example.com/x.csv"}), "will not follow"),
    (httpx.Response(503), "answered HTTP 503; the next poll tries again"),
])
def test_each_refusal_has_its_own_line(answer, words):
    with pytest.raises(feeds.FeedError, match=re.escape(words)) as err:
        fetch(lambda request: answer)
    assert "\n" not in str(err.value)


def test_links_and_sizes_are_checked():
    with pytest.raises(feeds.FeedError, match="https://"):
        feeds.check_sheet_url("http://docs.google.com/x")
    with pytest.raises(feeds.FeedError, match="user name or password"):
        feeds.check_sheet_url("https://me:pw@docs.google.com/x")
    assert feeds.check_sheet_url(" http://127.0.0.1:8080/x ") == "http://127.0.0.1:8080/x"
    big = lambda request: httpx.Response(200, headers={"Content-Type": "text/csv"}, content=CSV * 50)  # noqa: E731
    with pytest.raises(feeds.FeedError, match="byte limit"):
        fetch(big, max_bytes=len(CSV) * 10)
    many = lambda request: httpx.Response(200, content=b"a,b\n" + b"1,2\n" * 11)  # noqa: E731
    with pytest.raises(feeds.FeedError, match="more than 10 rows"):
        fetch(many, max_rows=10)
