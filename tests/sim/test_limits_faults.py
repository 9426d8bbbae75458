"""Rate limits with their headers, latency, and every injectable fault."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from tests.sim.conftest import chat_client_for, client_for


def test_rate_limit_headers_and_429(sim_factory):
    sim = sim_factory(rate_limit_per_minute=5)
    with client_for(sim) as c:
        first = c.get("/api/v2/users/me.json")
        for name in ("X-Rate-Limit", "X-Rate-Limit-Remaining", "ratelimit-limit", "ratelimit-remaining",
                     "ratelimit-reset"):
            assert name in first.headers
        assert first.headers["X-Rate-Limit"] == "5" and first.headers["X-Rate-Limit-Remaining"] == "4"
        assert 1 <= int(first.headers["ratelimit-reset"]) <= 60
        statuses = [c.get("/api/v2/users.json").status_code for _ in range(5)]
        assert statuses == [200, 200, 200, 200, 429]
        limited = c.get("/api/v2/custom_roles.json")  # the limit is account-wide
        assert limited.status_code == 429 and 1 <= int(limited.headers["Retry-After"]) <= 60
        assert limited.headers["X-Rate-Limit-Remaining"] == "0"
        sim.advance(60)  # next window
        assert c.get("/api/v2/users.json").status_code == 200


def test_incremental_and_chat_have_their_own_limits(sim_factory):
    sim = sim_factory(incremental_per_minute=2, chat_per_minute=3)
    with client_for(sim) as c:
        inc = [c.get("/api/v2/incremental/users/cursor", params={"start_time": 0}).status_code for _ in range(3)]
        assert inc == [200, 200, 429]
    with chat_client_for(sim) as chat_c:
        chat = [chat_c.get("/api/v2/chat/agents").status_code for _ in range(4)]
        assert chat == [200, 200, 200, 429]
    with client_for(sim) as c:
        ok = c.get("/api/v2/users.json")
        assert ok.status_code == 200 and ok.headers["X-Rate-Limit"] == "700"


def test_latency_is_added(sim_factory):
    sim = sim_factory(latency=0.05)
    with client_for(sim) as c:
        t = time.perf_counter()
        c.get("/api/v2/users/me.json")
        assert time.perf_counter() - t >= 0.05


@pytest.mark.parametrize("kind,status", [("429", 429), ("500", 500), ("502", 502), ("503", 503), ("504", 504)])
def test_status_faults_fire_once_then_recover(sim, kind, status):
    sim.faults.add("/api/v2/users", kind, times=1, after=1, retry_after=7)
    with client_for(sim) as c:
        assert c.get("/api/v2/users.json").status_code == 200  # `after=1` lets the first through
        bad = c.get("/api/v2/users.json")
        assert bad.status_code == status
        if kind in ("429", "503"):
            assert bad.headers["Retry-After"] == "7"
        assert c.get("/api/v2/users.json").status_code == 200
    assert [s for *_, s in sim.request_log] == [200, status, 200]


@pytest.mark.parametrize("kind", ["malformed", "truncated"])
def test_broken_json_faults(sim, kind):
    sim.faults.add("/api/v2/users", kind)
    with client_for(sim) as c:
        bad = c.get("/api/v2/users.json")
        assert bad.status_code == 200 and bad.headers["Content-Type"].startswith("application/json")
        with pytest.raises(json.JSONDecodeError):
            json.loads(bad.content)
        assert c.get("/api/v2/users.json").json()["users"]


def test_html_error_page_with_200(sim):
    sim.faults.add("/api/v2/users", "html200")
    with client_for(sim) as c:
        r = c.get("/api/v2/users.json")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html") and "<html>" in r.text


@pytest.mark.parametrize("kind", ["drop", "cut"])
def test_connection_faults(sim, kind):
    sim.faults.add("/api/v2/users", kind)
    with client_for(sim) as c:
        with pytest.raises(httpx.TransportError):
            c.get("/api/v2/users.json")
        assert c.get("/api/v2/users.json").status_code == 200


def test_timeout_fault(sim):
    sim.faults.add("/api/v2/users", "timeout", delay=2.0)
    with client_for(sim) as c:
        with pytest.raises(httpx.ReadTimeout):
            c.get("/api/v2/users.json", timeout=0.3)
    assert [s for *_, s in sim.request_log] in ([], [0])


def test_faults_match_method_and_prefix(sim):
    sim.faults.add("/api/v2/users", "500", times=2, method="POST")
    with client_for(sim) as c:
        assert c.get("/api/v2/users.json").status_code == 200
        assert c.get("/api/v2/custom_roles.json").status_code == 200
        assert c.post("/api/v2/users.json", json={"user": {"name": "A"}}).status_code == 500
    assert sim.faults.pending()
    sim.faults.clear()
    assert not sim.faults.pending()
    with pytest.raises(ValueError):
        sim.faults.add("/x", "explode")


def test_optional_gzip(sim_factory):
    sim = sim_factory(gzip=True)
    with client_for(sim) as c:
        r = c.get("/api/v2/users.json", params={"page[size]": 50})
    assert r.headers["Content-Encoding"] == "gzip" and len(r.json()["users"]) == 50


def test_stop_hangs_up_on_kept_alive_connections(sim_factory):
    sim = sim_factory()
    with client_for(sim) as c:
        assert c.get("/api/v2/users/me.json").status_code == 200
        sim.stop()
        with pytest.raises(httpx.TransportError):
            c.get("/api/v2/users/me.json")


def test_wait_idle_returns_only_after_a_dead_clients_last_request_is_logged(sim_factory):
    """A client that sent a request and died: the server still answers (and logs) it later."""
    import base64
    import socket

    sim = sim_factory(latency=0.3)
    auth = base64.b64encode(f"{sim.admin_email}/token:{sim.api_token}".encode()).decode()
    with socket.create_connection(("127.0.0.1", sim.port)) as raw:
        raw.sendall(f"GET /api/v2/users/me.json HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Basic {auth}\r\n\r\n"
                    .encode())
    assert sim.request_log == []  # still inside the 0.3 s latency
    sim.wait_idle()
    assert [(m, p) for m, p, _, _ in sim.request_log] == [("GET", "/api/v2/users/me.json")]


def test_wait_idle_times_out_while_a_client_keeps_a_connection(sim_factory):
    sim = sim_factory()
    with client_for(sim) as c:
        assert c.get("/api/v2/users/me.json").status_code == 200
        with pytest.raises(TimeoutError, match="1 open connection"):
            sim.wait_idle(timeout=0.2)
    sim.wait_idle()
