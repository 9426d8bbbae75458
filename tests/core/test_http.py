"""ZendeskHttp against httpx.MockTransport: retries, rate limits, auth refresh, safe links."""

from __future__ import annotations

import httpx
import pytest

from evalsync_gui.core.errors import (
    AuthError, Cancelled, NotFound, PermissionDenied, RateLimitError, ResponseError, UnsafeUrlError,
    UsageError, ZendeskError,
)
from evalsync_gui.core.zendesk.http import ApiTokenAuth, BearerAuth, RetryPolicy, ZendeskHttp

BASE = "https://abc-energy.zendesk.com"


def client(handler, **kw):
    slept: list[float] = []
    kw.setdefault("sleep", slept.append)
    c = ZendeskHttp(BASE, kw.pop("auth", ApiTokenAuth("a@b.c", "sekrit")), transport=httpx.MockTransport(handler), **kw)
    c.slept = slept
    return c


def seq(*responses):
    it = iter(responses)

    def handler(request):
        r = next(it)
        return r(request) if callable(r) else r
    return handler


def test_basic_auth_header_and_json():
    seen = {}

    def handler(request):
        seen["auth"] = request.headers["Authorization"]
        return httpx.Response(200, json={"user": {"id": 1}})
    c = client(handler)
    assert c.get("/api/v2/users/me") == {"user": {"id": 1}}
    assert seen["auth"].startswith("Basic ")
    assert "sekrit" not in repr(c.auth)


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_is_retried_then_succeeds(status):
    c = client(seq(httpx.Response(status), httpx.Response(200, json={"ok": 1})))
    assert c.get("/x") == {"ok": 1}
    assert c.request_count == 2


def test_5xx_gives_up_with_readable_error():
    c = client(lambda r: httpx.Response(503), retry=RetryPolicy(max_attempts=3))
    with pytest.raises(ZendeskError, match="after 3 attempts") as err:
        c.get("/x")
    assert err.value.retryable and err.value.exit_code == 5


def test_429_honours_retry_after():
    c = client(seq(httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(200, json={})))
    c.get("/x")
    assert sum(c.slept) == pytest.approx(7)
    assert c.rate_limited_count == 1


def test_429_storm_ends_in_rate_limit_error_within_budget():
    c = client(lambda r: httpx.Response(429, headers={"Retry-After": "30"}),
               retry=RetryPolicy(rate_limit_budget=100, max_attempts=100))
    with pytest.raises(RateLimitError):
        c.get("/x")
    assert sum(c.slept) <= 100


def test_pacing_waits_for_reset_when_remaining_is_zero():
    hdr = {"X-Rate-Limit-Remaining": "0", "ratelimit-reset": "5"}
    c = client(seq(httpx.Response(200, json={}, headers=hdr), httpx.Response(200, json={})))
    c.get("/a")
    c.get("/b")
    assert sum(c.slept) == pytest.approx(5, abs=0.5)


@pytest.mark.parametrize("body,ctype", [(b'{"users": [', "application/json"), (b"<html>oops</html>", "text/html")])
def test_malformed_or_html_is_retried_then_fails(body, ctype):
    c = client(lambda r: httpx.Response(200, content=body, headers={"content-type": ctype}),
               retry=RetryPolicy(max_attempts=2))
    with pytest.raises(ResponseError):
        c.get("/x")


def test_timeout_and_reset_are_retried():
    calls = iter([httpx.ReadTimeout("t"), httpx.RemoteProtocolError("reset"), None])

    def handler(request):
        exc = next(calls)
        if exc:
            raise exc
        return httpx.Response(200, json={"ok": True})
    assert client(handler).get("/x") == {"ok": True}


def test_write_is_not_retried_after_a_timeout():
    def handler(request):
        raise httpx.ReadTimeout("t")
    with pytest.raises(ZendeskError, match="may or may not"):
        client(handler).request("POST", "/api/v2/chat/agents", json={})


def test_401_refreshes_once_then_retries():
    class Rotating:
        method = "oauth"
        token = "old"

        def headers(self):
            return {"Authorization": f"Bearer {self.token}"}

        def refresh(self):
            self.token = "new"
            return True

    def handler(request):
        if request.headers["Authorization"] == "Bearer old":
            return httpx.Response(401, json={"error": "invalid_token"})
        return httpx.Response(200, json={"ok": 1})
    assert client(handler, auth=Rotating()).get("/x") == {"ok": 1}


def test_401_without_refresh_is_auth_error_without_token():
    c = client(lambda r: httpx.Response(401, json={"error": "invalid_token"}), auth=BearerAuth("tok-123456"))
    with pytest.raises(AuthError) as err:
        c.get("/x")
    assert "tok-123456" not in str(err.value)
    assert err.value.exit_code == 4


def test_403_and_404():
    with pytest.raises(PermissionDenied):
        client(lambda r: httpx.Response(403, json={"error": "Forbidden"})).get("/x")
    with pytest.raises(NotFound):
        client(lambda r: httpx.Response(404, json={"error": "RecordNotFound", "description": "Not found"})).get("/x")


def test_links_to_other_origins_are_refused_before_sending():
    sent = []
    c = client(lambda r: sent.append(r) or httpx.Response(200, json={}))
    for evil in ("https://evil.example.com/api/v2/users", "http://abc-energy.zendesk.com/api/v2/users",
                 "https://abc-energy.zendesk.com.evil.io/api/v2/users", "https://abc-energy.zendesk.com:444/x"):
        with pytest.raises(UnsafeUrlError):
            c.get(evil)
    assert sent == []
    c.get(BASE + "/api/v2/users?page%5Bsize%5D=100")
    assert len(sent) == 1


def test_plain_http_only_on_loopback():
    with pytest.raises(UsageError):
        ZendeskHttp("http://abc-energy.zendesk.com", None)
    for base in ("http://127.0.0.1:8765", "http://localhost:8765"):
        sent: list[httpx.Request] = []
        with ZendeskHttp(base, None, transport=httpx.MockTransport(
                lambda r: sent.append(r) or httpx.Response(200, json={"ok": True}))) as loopback:
            assert loopback.get("/api/v2/users/me.json") == {"ok": True}
        assert [str(r.url) for r in sent] == [base + "/api/v2/users/me.json"]
    for bad in ("http://127.0.0.1.evil.io", "http://localhost.evil.io:8765", "http://10.0.0.1:8765"):
        with pytest.raises(UsageError):
            ZendeskHttp(bad, None)


def test_cancel_interrupts_a_long_wait():
    flag = {"cancel": False}

    def sleeper(s):
        flag["cancel"] = True
    c = client(lambda r: httpx.Response(429, headers={"Retry-After": "60"}), sleep=sleeper,
               is_cancelled=lambda: flag["cancel"])
    with pytest.raises(Cancelled):
        c.get("/x")


def test_4xx_keeps_zendesk_error_codes_but_no_user_data():
    body = {"error": "RecordInvalid", "description": "Record validation errors",
            "details": {"email": [{"description": "Email: ann@x.test is already being used", "error": "DuplicateValue"}],
                        "name": [{"error": "not a code: ann@x.test"}, "junk"]}}
    c = client(lambda r: httpx.Response(422, json=body))
    with pytest.raises(ZendeskError) as info:
        c.request("POST", "/api/v2/users", json={"user": {}})
    assert info.value.status == 422 and info.value.codes == {"RecordInvalid", "DuplicateValue"}
