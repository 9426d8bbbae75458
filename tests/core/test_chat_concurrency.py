"""The batch with several writes in flight: same guarantees as one at a time.

A thread-safe in-memory backend holds each write for a moment so writes overlap; tests
check the window (one write first, then ``MAX_IN_FLIGHT``), that an address is never
written twice at once, and that failures, crashes and cancels with writes in flight leave
every request either finished or resumable without a second write.
"""

from __future__ import annotations

import threading
import time

import pytest

from evalsync_gui.core.chat import audit, processor
from evalsync_gui.core.chat import requests as rq
from evalsync_gui.core.chat.agents_api import Agent, ChatModeMismatch
from evalsync_gui.core.errors import ZendeskError

HOLD = 0.03  # how long each write takes: long enough for the others to start


class SlowChat:
    """Counts overlapping writes; ``fail_on`` maps an address to an error raised after (or
    instead of, when the error has no ``applied``) the change."""

    mode = "standalone"

    def __init__(self, agents=(), hold: float = HOLD):
        self.agents = {a.id: a for a in agents}
        self.hold = hold
        self.lock = threading.Lock()
        self.writes: list[tuple[str, str]] = []
        self.fail_on: dict[str, BaseException] = {}
        self.active = 0
        self.most = 0
        self.active_keys: set[str] = set()
        self.overlap_same_key = False
        self.next_id = 9000
        self.on_write = lambda email: None

    def extract(self, on_page=None):
        with self.lock:
            return [Agent(**vars(a)) for a in self.agents.values()]

    def _write(self, kind, email, apply):
        key = email.lower()
        with self.lock:
            self.active += 1
            self.most = max(self.most, self.active)
            self.overlap_same_key |= key in self.active_keys
            self.active_keys.add(key)
            self.writes.append((kind, key))
            exc = self.fail_on.pop(key, None)
        self.on_write(key)
        try:
            time.sleep(self.hold)
            if exc is not None and not getattr(exc, "applied", False):
                raise exc
            with self.lock:
                result = apply()
            if exc is not None:
                raise exc
            return result
        finally:
            with self.lock:
                self.active -= 1
                self.active_keys.discard(key)

    def enable(self, agent):
        def apply():
            self.agents[agent.id].enabled = True
            return 200, {"id": agent.id, "enabled": True}
        return self._write("enable", agent.email, apply)

    def create(self, email, first, last):
        def apply():
            self.next_id += 1
            a = Agent(self.next_id, email, first, last, first, enabled=True)
            self.agents[a.id] = a
            return 201, {"id": a.id, "email": email}, Agent(**vars(a))
        return self._write("create", email, apply)

    def disable(self, agent):
        raise NotImplementedError

    def delete(self, agent):
        raise NotImplementedError


def queue(ctx, emails):
    for e in emails:
        rq.add_request(ctx.db, requester="lead@acme.com", email=e, first_name="F", last_name="L")


def people(n, start=0):
    return [f"p{i}@acme.com" for i in range(start, start + n)]


def test_writes_overlap_up_to_the_limit_and_outcomes_stay_in_queue_order(ctx):
    backend = SlowChat([Agent(1, "off@acme.com", enabled=False), Agent(2, "on@acme.com", enabled=True)])
    emails = ["off@acme.com"] + people(20) + ["on@acme.com", "x@evil.io"]
    queue(ctx, emails)
    started = time.perf_counter()
    result = processor.process_batch(ctx.db, backend, ["acme.com"])
    elapsed = time.perf_counter() - started
    assert backend.most == processor.MAX_IN_FLIGHT
    assert len(backend.writes) == 21  # one write per changed agent, no more
    assert elapsed < 21 * HOLD * 0.6  # serial would take 21 holds
    assert [o.email for o in result.outcomes] == ["x@evil.io", "off@acme.com", *people(20), "on@acme.com"]
    assert result.counts() == {"rejected": 1, "enabled": 1, "created": 20, "already_enabled": 1}
    assert rq.status_counts(ctx.db) == {"rejected": 1, "enabled": 1, "created": 20, "already_enabled": 1}
    # Each write left its pair of rows: the marker before, the outcome after.
    actions = [r["action"] for r in audit.recent_actions(ctx.db)]
    assert actions.count(audit.CREATING) == 20 and actions.count(audit.CREATED) == 20
    assert actions.count(audit.ENABLING) == 1 and actions.count(audit.ENABLED) == 1


def test_first_write_goes_alone(ctx):
    """A refused first write (Chat lives in Support) costs one write, not a volley."""
    backend = SlowChat()
    queue(ctx, people(10))
    backend.fail_on = {"p0@acme.com": ChatModeMismatch()}
    with pytest.raises(ChatModeMismatch):
        processor.process_batch(ctx.db, backend, ["acme.com"])
    assert backend.writes == [("create", "p0@acme.com")]
    assert rq.status_counts(ctx.db) == {"queued": 10}


def test_same_address_never_written_twice_at_once(ctx):
    backend = SlowChat()
    queue(ctx, ["p0@acme.com", "a@acme.com", "A@acme.com", "b@acme.com", "a@acme.com", "c@acme.com"])
    result = processor.process_batch(ctx.db, backend, ["acme.com"])
    assert not backend.overlap_same_key
    assert sorted(backend.writes) == [("create", e) for e in ("a@acme.com", "b@acme.com", "c@acme.com",
                                                              "p0@acme.com")]
    assert [o.status for o in result.outcomes] == ["created", "created", "already_enabled", "created",
                                                   "already_enabled", "created"]


def test_failures_with_writes_in_flight_then_resume_never_acts_twice(ctx, monkeypatch):
    backend = SlowChat()
    queue(ctx, people(30))
    lost = ZendeskError("connection lost", retryable=True)
    lost.applied = True  # Zendesk created it; the answer never came back
    backend.fail_on = {"p5@acme.com": lost, "p12@acme.com": ZendeskError("Bad Request", status=400),
                       "p20@acme.com": ZendeskError("dropped", retryable=True)}
    first = processor.process_batch(ctx.db, backend, ["acme.com"])
    assert first.counts() == {"created": 27, "failed": 3} and not first.stopped
    assert len(backend.writes) == 30
    # Failed writes are queued again with a retry time (issue 15.12), not retried at once.
    assert rq.status_counts(ctx.db) == {"created": 27, "queued": 3}
    assert processor.process_batch(ctx.db, backend, ["acme.com"]).outcomes == []
    from tests.core.test_chat_processor import later

    later(monkeypatch, 2)
    backend.writes.clear()
    second = processor.process_batch(ctx.db, backend, ["acme.com"])
    # p5 was made by the lost write: confirmed from the extract, never sent again.
    assert [(o.email, o.status) for o in second.outcomes] == [
        ("p5@acme.com", "created"), ("p12@acme.com", "created"), ("p20@acme.com", "created")]
    assert sorted(backend.writes) == [("create", "p12@acme.com"), ("create", "p20@acme.com")]
    assert sorted(a.email for a in backend.agents.values()) == sorted(people(30))
    assert rq.status_counts(ctx.db) == {"created": 30}


def test_crash_with_writes_in_flight_is_resumed_without_a_second_write(ctx, monkeypatch):
    backend = SlowChat()
    queue(ctx, people(20))

    class Crash(BaseException):
        pass

    real = processor._Batch._finish
    finished = {"n": 0}

    def crash_on_the_sixth(self, conn, req, status, *args):
        finished["n"] += 1
        if finished["n"] == 6:
            raise Crash()  # the process dies while other writes are still on the wire
        return real(self, conn, req, status, *args)

    monkeypatch.setattr(processor._Batch, "_finish", crash_on_the_sixth)
    with pytest.raises(Crash):
        processor.process_batch(ctx.db, backend, ["acme.com"])
    monkeypatch.setattr(processor._Batch, "_finish", real)
    counts = rq.status_counts(ctx.db)
    sent = len(backend.writes)
    # Every request Zendesk was asked about is committed as created or still 'processing';
    # nothing was sent that is not marked, and nothing new started after the crash.
    assert counts["created"] == 5 and counts["processing"] == sent - 5
    assert counts["processing"] <= processor.MAX_IN_FLIGHT
    assert counts.get("queued", 0) == 20 - sent
    backend.writes.clear()
    result = processor.process_batch(ctx.db, backend, ["acme.com"])
    assert result.counts() == {"created": 20 - 5}
    assert len(backend.writes) == 20 - sent  # only the never-sent ones
    assert sorted(a.email for a in backend.agents.values()) == sorted(people(20))
    assert rq.status_counts(ctx.db) == {"created": 20}


def test_cancel_lets_writes_in_flight_finish_and_starts_nothing_new(ctx):
    backend = SlowChat()
    queue(ctx, people(30))
    cancel = threading.Event()
    backend.on_write = lambda key: cancel.set() if key == "p8@acme.com" else None
    result = processor.process_batch(ctx.db, backend, ["acme.com"], is_cancelled=cancel.is_set)
    assert result.stopped.startswith("cancelled")
    counts = rq.status_counts(ctx.db)
    assert "processing" not in counts  # every write that left was recorded
    assert counts["created"] == len(backend.writes) == len(result.outcomes)
    assert 9 <= counts["created"] <= 9 + processor.MAX_IN_FLIGHT
    assert counts["queued"] == 30 - counts["created"]


def test_unreachable_zendesk_stops_after_consecutive_failures(ctx):
    backend = SlowChat()
    queue(ctx, people(30))
    backend.fail_on = {e: ZendeskError("network down", retryable=True) for e in people(25, start=5)}
    result = processor.process_batch(ctx.db, backend, ["acme.com"])
    assert result.stopped.startswith("Zendesk is unreachable")
    counts = rq.status_counts(ctx.db)
    assert "processing" not in counts
    assert counts["created"] == 5
    # The failures that were already in flight are recorded too; then the window closes to one.
    failed = result.counts()["failed"]
    assert processor.MAX_CONSECUTIVE_NETWORK_FAILURES <= failed <= processor.MAX_IN_FLIGHT + 2
    assert counts["queued"] == 30 - 5  # the failed ones wait for their retry time, the rest untouched
    assert ctx.db.scalar("SELECT count(*) FROM chat_request_retries") == failed
    assert len(backend.writes) == 5 + failed


def test_max_in_flight_one_is_serial(ctx):
    backend = SlowChat(hold=0.005)
    queue(ctx, people(8))
    processor.process_batch(ctx.db, backend, ["acme.com"], max_in_flight=1)
    assert backend.most == 1 and backend.writes == [("create", e) for e in people(8)]
