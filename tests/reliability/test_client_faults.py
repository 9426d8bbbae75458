"""Every network fault, over real loopback HTTP against the simulator, through the shared client.

Each fault either heals within the retry policy (the request succeeds) or ends in ONE line
of EvalSync's own error class that says what to do; the token never appears in it.
"""

from __future__ import annotations

import base64

import httpx
import pytest

from evalsync_gui.core.errors import AuthError, RateLimitError, ResponseError, ZendeskError
from evalsync_gui.core.zendesk.http import ApiTokenAuth, RetryPolicy, ZendeskHttp

from .helpers import assert_one_line

import evalsync_gui.sim as sim_mod  # noqa: E402

USERS = "/api/v2/users.json"
HEALING = ["500", "502", "503", "504", "malformed", "truncated", "cut", "html200", "drop"]


@pytest.fixture(scope="module")
def zsim():
    with sim_mod.Simulator(sim_mod.SimConfig(agents=30, admins=2, end_users=10, chat_agents=5,
                                             rate_limit_per_minute=None)) as s:
        yield s


@pytest.fixture
def fresh(zsim):
    zsim.faults.clear()
    yield zsim
    zsim.faults.clear()


def _client(sim, waits: list[float] | None = None, **retry) -> ZendeskHttp:
    waits = [] if waits is None else waits
    policy = RetryPolicy(**{"max_attempts": 4, "backoff_base": 0.01, "backoff_max": 0.05, **retry})
    return ZendeskHttp(sim.base_url, ApiTokenAuth(sim.admin_email, sim.api_token), retry=policy,
                       sleep=waits.append, timeout=retry.pop("timeout", 5.0) if "timeout" in retry else 5.0)


def _secrets(sim) -> tuple[str, str]:
    return sim.api_token, base64.b64encode(f"{sim.admin_email}/token:{sim.api_token}".encode()).decode()


@pytest.mark.parametrize("kind", HEALING)
def test_transient_fault_heals_within_the_retry_policy(fresh, kind):
    fresh.faults.add("/api/v2/users", kind, times=2)
    with _client(fresh) as c:
        body = c.get(USERS, [("role[]", "agent"), ("page[size]", "10")])
    assert len(body["users"]) == 10
    # body-mangling faults use up two of the planned firings per request in the simulator
    assert 2 <= c.request_count <= 3


@pytest.mark.parametrize("kind", HEALING)
def test_persistent_fault_fails_in_one_readable_line(fresh, kind):
    fresh.faults.add("/api/v2/users", kind, times=50)
    with _client(fresh) as c, pytest.raises(ZendeskError) as info:
        c.get(USERS)
    text = assert_one_line(info.value, secrets=_secrets(fresh))
    assert "try again" in text.lower()
    if kind in ("malformed", "truncated", "html200"):
        assert isinstance(info.value, ResponseError)
    assert 2 <= c.request_count <= 4


def test_timeout_is_retried_then_fails(fresh):
    fresh.faults.add("/api/v2/users", "timeout", times=50, delay=1.0)
    policy = RetryPolicy(max_attempts=2, backoff_base=0.01, backoff_max=0.02)
    with ZendeskHttp(fresh.base_url, ApiTokenAuth(fresh.admin_email, fresh.api_token), retry=policy,
                     timeout=0.3, sleep=lambda s: None) as c, pytest.raises(ZendeskError) as info:
        c.get(USERS)
    assert "network" in str(info.value).lower() or "reached" in str(info.value)
    assert_one_line(info.value, secrets=_secrets(fresh))


def test_429_storm_honours_retry_after_and_is_bounded_by_the_budget(fresh):
    fresh.faults.add("/api/v2/users", "429", times=1000, retry_after=7)
    waits: list[float] = []
    with _client(fresh, waits, rate_limit_budget=30) as c, pytest.raises(RateLimitError) as info:
        c.get(USERS)
    assert waits and all(w == 7 for w in waits)  # Retry-After honoured exactly
    assert sum(waits) <= 30  # total wait bounded by the setting
    text = assert_one_line(info.value, secrets=_secrets(fresh))
    assert "try again later" in text


def test_429_then_success_continues(fresh):
    fresh.faults.add("/api/v2/users", "429", times=3, retry_after=2)
    waits: list[float] = []
    with _client(fresh, waits) as c:
        assert c.get(USERS)["users"]
    assert waits == [2, 2, 2]


def test_5xx_retry_after_does_not_stall_the_client_for_hours():
    """A 503 whose Retry-After says 'a day' must not freeze the sync for a day."""
    waits: list[float] = []
    responses = iter([httpx.Response(503, headers={"Retry-After": "86400"}), httpx.Response(200, json={"users": []})])
    c = ZendeskHttp("https://abc-energy.zendesk.com", None, transport=httpx.MockTransport(lambda r: next(responses)),
                    sleep=waits.append, retry=RetryPolicy(backoff_max=20))
    c.get(USERS)
    assert sum(waits) <= 20


def test_revoked_token_says_authenticate_again(fresh):
    token = fresh.add_api_token(fresh.admin_email)
    fresh.revoke_api_token(token)
    with ZendeskHttp(fresh.base_url, ApiTokenAuth(fresh.admin_email, token), sleep=lambda s: None) as c:
        with pytest.raises(AuthError) as info:
            c.get(USERS)
    text = assert_one_line(info.value, secrets=(token,))
    assert "authenticate again" in text
    assert c.request_count == 1  # no retry storm against a dead credential


def test_cancel_set_after_construction_interrupts_a_rate_limit_wait():
    """Workers hand their cancel check to an already-open client (``http.is_cancelled = ...``)."""
    import threading
    import time

    cancel = threading.Event()
    c = ZendeskHttp("https://abc-energy.zendesk.com", None,
                    transport=httpx.MockTransport(lambda r: httpx.Response(429, headers={"Retry-After": "60"})))
    c.is_cancelled = cancel.is_set
    threading.Timer(0.3, cancel.set).start()
    started = time.monotonic()
    from evalsync_gui.core.errors import Cancelled

    with pytest.raises(Cancelled):
        c.get(USERS)
    assert time.monotonic() - started < 2.0
