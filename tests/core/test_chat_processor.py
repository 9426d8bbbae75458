"""The batch processor's decision table and crash safety, with an in-memory backend."""

from __future__ import annotations

import pytest

from evalsync_gui.core.chat import audit, processor
from evalsync_gui.core.chat import requests as rq
from evalsync_gui.core.chat.agents_api import Agent
from evalsync_gui.core.errors import ZendeskError


class FakeChat:
    """A standalone-like backend that counts calls and can fail or 'crash' on a chosen write."""

    mode = "standalone"

    def __init__(self, agents):
        self.agents = {a.id: a for a in agents}
        self.extracts = 0
        self.writes: list[tuple[str, str]] = []
        self.fail_on: dict[str, Exception] = {}
        self.next_id = 9000

    def extract(self, on_page=None):
        self.extracts += 1
        return [Agent(**vars(a)) for a in self.agents.values()]

    def _maybe_fail(self, email, applied_first=False):
        exc = self.fail_on.pop(email.lower(), None)
        return exc

    def enable(self, agent):
        exc = self._maybe_fail(agent.email)
        self.writes.append(("enable", agent.email))
        if exc and not getattr(exc, "applied", False):
            raise exc
        self.agents[agent.id].enabled = True
        if exc:
            raise exc
        return 200, {"id": agent.id, "enabled": True}

    def create(self, email, first, last):
        exc = self._maybe_fail(email)
        self.writes.append(("create", email))
        if exc and not getattr(exc, "applied", False):
            raise exc
        self.next_id += 1
        a = Agent(self.next_id, email, first, last, first, enabled=True)
        self.agents[a.id] = a
        if exc:
            raise exc
        return 201, {"id": a.id, "email": email, "password": "never-logged"}, Agent(**vars(a))

    def disable(self, agent):
        raise NotImplementedError

    def delete(self, agent):
        raise NotImplementedError


def add(ctx, email, first="F", last="L"):
    rq.add_request(ctx.db, requester="lead@acme.com", email=email, first_name=first, last_name=last)


@pytest.fixture
def backend():
    return FakeChat([Agent(1, "on@acme.com", enabled=True), Agent(2, "off@acme.com", enabled=False)])


def test_decision_table(ctx, backend):
    for e in ("on@acme.com", "OFF@acme.com", "new@acme.com", "x@evil.io", "new@acme.com"):
        add(ctx, e)
    result = processor.process_batch(ctx.db, backend, ["acme.com"])
    assert [o.status for o in result.outcomes] == ["rejected", "already_enabled", "enabled", "created",
                                                   "already_enabled"]
    assert backend.extracts == 1
    assert backend.writes == [("enable", "off@acme.com"), ("create", "new@acme.com")]
    assert rq.status_counts(ctx.db) == {"already_enabled": 2, "enabled": 1, "created": 1, "rejected": 1}
    actions = [r["action"] for r in reversed(audit.recent_actions(ctx.db))]
    assert actions.count(audit.CREATED) == 1 and actions.count(audit.ENABLED) == 1
    answers = " ".join(r["zendesk_answer"] or "" for r in audit.recent_actions(ctx.db))
    assert "never-logged" not in answers  # a password echoed back is never kept
    # Nothing left: a second run extracts nothing and writes nothing.
    again = processor.process_batch(ctx.db, backend, ["acme.com"])
    assert again.outcomes == [] and backend.extracts == 1


def test_dry_run_changes_nothing(ctx, backend):
    add(ctx, "off@acme.com")
    add(ctx, "new@acme.com")
    result = processor.process_batch(ctx.db, backend, ["acme.com"], dry_run=True)
    assert [o.status for o in result.outcomes] == ["enabled", "created"]
    assert backend.writes == [] and rq.status_counts(ctx.db) == {"queued": 2}


def later(monkeypatch, minutes: int) -> None:
    """Move the retry clock forward."""
    from datetime import timedelta

    from evalsync_gui.core.chat import retries

    now = retries.utcnow() + timedelta(minutes=minutes)
    monkeypatch.setattr(retries, "utcnow", lambda: now)


def test_failure_then_resume_never_acts_twice(ctx, backend, monkeypatch):
    for e in ("a@acme.com", "b@acme.com", "c@acme.com", "off@acme.com"):
        add(ctx, e)
    cut = ZendeskError("connection lost", retryable=True)
    cut.applied = True  # Zendesk did it, the answer was lost
    backend.fail_on = {"b@acme.com": cut, "c@acme.com": ZendeskError("Bad Request", status=400)}
    first = processor.process_batch(ctx.db, backend, ["acme.com"])
    assert [o.status for o in first.outcomes] == ["created", "failed", "failed", "enabled"]
    assert "Bad Request" in first.outcomes[2].reason
    backend.writes.clear()
    # Failed writes wait for their backoff: a batch right away leaves them alone.
    assert processor.process_batch(ctx.db, backend, ["acme.com"]).outcomes == []
    later(monkeypatch, 2)
    second = processor.process_batch(ctx.db, backend, ["acme.com"])
    # b was created by the lost write: confirmed without a second POST; c is retried.
    assert [(o.email, o.status) for o in second.outcomes] == [("b@acme.com", "created"), ("c@acme.com", "created")]
    assert backend.writes == [("create", "c@acme.com")]


def test_crash_between_mark_and_result_is_resumed(ctx, backend, monkeypatch):
    add(ctx, "off@acme.com")
    add(ctx, "new@acme.com")

    class Crash(BaseException):
        pass

    real = processor._Batch._finish
    calls = {"n": 0}

    def crash_after_write(self, conn, req, status, *args):
        if status == "created":
            raise Crash()  # the process dies after Zendesk created the agent, before we recorded it
        return real(self, conn, req, status, *args)

    monkeypatch.setattr(processor._Batch, "_finish", crash_after_write)
    with pytest.raises(Crash):
        processor.process_batch(ctx.db, backend, ["acme.com"])
    assert rq.status_counts(ctx.db) == {"enabled": 1, "processing": 1}
    monkeypatch.setattr(processor._Batch, "_finish", real)
    backend.writes.clear()
    result = processor.process_batch(ctx.db, backend, ["acme.com"])
    assert [(o.email, o.status) for o in result.outcomes] == [("new@acme.com", "created")]
    assert backend.writes == []


def test_outbox_rows_queued_with_outcome(ctx, backend):
    add(ctx, "off@acme.com")
    add(ctx, "on@acme.com")
    processor.process_batch(ctx.db, backend, ["acme.com"],
                            compose=lambda status, req: (req["requester"], f"s {status}", "b"))
    rows = ctx.db.query("SELECT to_addr, subject, status FROM email_outbox")
    # Issue 15.11: the recipe e-mails on every path, an agent that was already enabled included.
    assert [tuple(r) for r in rows] == [("lead@acme.com", "s enabled", "pending"),
                                        ("lead@acme.com", "s already_enabled", "pending")]


def test_failed_requests_are_not_retried_forever(ctx, backend, monkeypatch):
    """Issue 15.12: bounded attempts with backoff, then `failed` with the reason, retried only on request."""
    from evalsync_gui.core.chat import retries

    rid = rq.add_request(ctx.db, requester="lead@acme.com", email="new@acme.com", first_name="F", last_name="L")[0]
    for attempt in range(1, retries.MAX_ATTEMPTS + 1):
        backend.fail_on = {"new@acme.com": ZendeskError("Bad Request", status=400)}
        result = processor.process_batch(ctx.db, backend, ["acme.com"])
        assert [o.status for o in result.outcomes] == ["failed"]
        later(monkeypatch, 24 * 60 * attempt)
    row = ctx.db.query("SELECT status, reason, attempts FROM chat_requests WHERE id = ?", (rid,))[0]
    assert row["status"] == "failed" and row["attempts"] == retries.MAX_ATTEMPTS
    assert "Bad Request" in row["reason"] and "gave up" in row["reason"]
    writes = len(backend.writes)
    assert processor.process_batch(ctx.db, backend, ["acme.com"]).outcomes == []  # not tried again
    assert len(backend.writes) == writes and rq.status_counts(ctx.db) == {"failed": 1}
    assert retries.retry(ctx.db) == 1  # the admin's explicit retry
    again = processor.process_batch(ctx.db, backend, ["acme.com"])
    assert [o.status for o in again.outcomes] == ["created"]
