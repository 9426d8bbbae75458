"""The incremental export is paced at its own limit (10 a minute, docs/ZENDESK.md section 4).

Against the simulator, which refuses an 11th export request within a minute with 429: a
catch-up far larger than ten pages completes in one run, with no 429 and a rate-limit budget
too small to survive one, and the progress says it is waiting and for how long. The pacer
sleeps on the simulator's clock, so the test takes no real minutes.
"""

from __future__ import annotations

import pytest

from evalsync_gui.core.sync import fetch
from evalsync_gui.core.sync.config import SyncConfig, save_config
from evalsync_gui.core.sync.runner import run_sync
from evalsync_gui.core.zendesk.http import ApiTokenAuth, RetryPolicy, ZendeskHttp
from evalsync_gui.core.zendesk.pacing import EndpointPacer


def _client(sim):
    # A budget smaller than one Retry-After: any 429 on the way fails the run.
    return ZendeskHttp(sim.base_url, ApiTokenAuth(sim.admin_email, sim.api_token),
                       retry=RetryPolicy(rate_limit_budget=5))


def test_large_catch_up_completes_in_one_run_and_says_it_waits(ctx, sim, monkeypatch):
    ctx.extras.update(sync_is_admin=True, pace_clock=sim.clock.now, pace_sleep=sim.advance)
    save_config(ctx, SyncConfig(roles=["agent", "admin"]))
    assert run_sync(ctx, client=_client(sim)).status == "completed"
    sim.advance(120)
    staff = [r["zendesk_id"] for r in ctx.db.query("SELECT zendesk_id FROM users WHERE status = 'pending' LIMIT 30")]
    for n, uid in enumerate(staff):
        sim.rename(uid, f"Renamed {n}")
    sim.advance(120)
    monkeypatch.setattr(fetch, "INCREMENTAL_PAGE_SIZE", 1)  # 30+ pages: three minutes' worth
    seen = []
    result = run_sync(ctx, client=_client(sim), progress=seen.append)
    assert result.mode == "incremental" and result.status == "completed", result.error
    assert result.updated == len(staff)
    exports = [e for e in sim.request_log if e[1].startswith("/api/v2/incremental/")]
    assert len(exports) > 2 * fetch.INCREMENTAL_PER_MINUTE
    assert all(e[3] != 429 for e in sim.request_log)
    waits = [p for p in seen if p.phase == "waiting"]
    assert waits and all(0 < p.waiting_seconds <= 61 for p in waits)
    assert "10 requests a minute" in waits[0].wait_reason and "waiting" in waits[0].wait_reason


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_pacer_keeps_any_minute_under_the_limit_and_learns_from_headers():
    clock = _Clock()
    waits = []
    pacer = EndpointPacer("/api/v2/incremental/", 10, clock=clock, sleep=clock.sleep,
                          on_wait=lambda s, why: waits.append(s))
    sent = []
    for _ in range(25):
        pacer.before_request()
        sent.append(clock.now)
    assert all(sent[i + 10] - sent[i] >= 60 for i in range(len(sent) - 10))
    assert len(waits) == 2
    # The endpoint header says 3 a minute, none left, 20 s to the reset.
    pacer.observe("/api/v2/incremental/users/cursor.json", 200,
                  {"zendesk-ratelimit-incremental-exports": "total=3; remaining=0; resets=20"})
    assert pacer.limit == 3
    before = clock.now
    pacer.before_request()
    assert clock.now - before >= 20
    pacer.observe("/api/v2/users.json", 429, {})  # another endpoint: ignored
    assert pacer.limit == 3
    pacer.observe("/api/v2/incremental/users/cursor.json", 429, {})
    assert pacer.limit == 2


def test_pacer_wait_is_cancellable():
    from evalsync_gui.core.errors import Cancelled

    clock = _Clock()
    pacer = EndpointPacer("/x", 1, clock=clock, sleep=clock.sleep, is_cancelled=lambda: clock.now > 1010)
    pacer.before_request()
    with pytest.raises(Cancelled):
        pacer.before_request()
