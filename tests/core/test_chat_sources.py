"""Request sources without the network: a growing local CSV, row identity, outcome files, guards."""

from __future__ import annotations

import os
import stat

import pytest

from evalsync_gui.core.chat import guards, mailer, outcomes, processor, sources
from evalsync_gui.core.chat import requests as rq
from evalsync_gui.core.chat.agents_api import Agent
from evalsync_gui.core.errors import UsageError

HEADER = "Timestamp,Requester,Agent e-mail,First name,Last name\n"
MAP = {"requester": "requester"}


def line(ts: str, email: str, first: str = "Ann", requester: str = "lead@acme.com") -> str:
    return f"{ts},{requester},{email},{first},Lee\n"


@pytest.fixture
def responses(tmp_path):
    path = tmp_path / "responses.csv"
    path.write_text(HEADER, encoding="utf-8")
    return path


def add_file(ctx, path, **kw) -> sources.Source:
    src, _ = sources.add_source(ctx.db, "Responses", path=str(path), mapping=MAP, **kw)
    return src


def poll(ctx) -> sources.PollReport:
    return sources.poll(ctx.db, sources.get_source(ctx.db, "Responses"), ["acme.com"])


def emails(ctx) -> list[str]:
    return [r["email"] for r in reversed(rq.list_requests(ctx.db))]


def test_a_half_written_line_is_taken_on_the_next_poll_whole(ctx, responses):
    add_file(ctx, responses)
    with open(responses, "a", encoding="utf-8") as fh:
        fh.write(line("2026-11-27 10:00:00", "ann@acme.com"))
        fh.write("2026-11-27 10:01:00,lead@acme.com,bo")  # the writer stopped mid-address
    assert poll(ctx).taken == 1 and emails(ctx) == ["ann@acme.com"]
    assert poll(ctx).taken == 0  # still half: waits
    with open(responses, "a", encoding="utf-8") as fh:
        fh.write('b@acme.com,Bob,"Lee\nJr"\n')  # the rest, with a quoted two-line cell
        fh.write('2026-11-27 10:02:00,lead@acme.com,cy@acme.com,Cy,"Half')
    report = poll(ctx)
    assert report.taken == 1 and emails(ctx) == ["ann@acme.com", "bob@acme.com"]
    assert rq.list_requests(ctx.db)[0]["last_name"] == "Lee\nJr"
    with open(responses, "a", encoding="utf-8") as fh:
        fh.write(' quoted"\n')
    assert poll(ctx).taken == 1 and emails(ctx)[-1] == "cy@acme.com"


def test_rows_are_taken_once_even_when_the_file_is_rewritten_and_reordered(ctx, responses):
    add_file(ctx, responses)
    rows = [line("2026-11-27 10:00:00", "ann@acme.com"), line("2026-11-27 10:05:00", "bob@acme.com", "Bob")]
    responses.write_text(HEADER + "".join(rows), encoding="utf-8")
    assert poll(ctx).taken == 2
    # Another tool rewrites the file sorted the other way, one name edited, one new row.
    rows = [rows[1].replace("Bob", "Robert"), rows[0], line("2026-11-27 11:00:00", "cy@acme.com", "Cy")]
    responses.write_text(HEADER + "".join(rows), encoding="utf-8")
    report = poll(ctx)
    assert (report.taken, report.changed) == (1, 1)
    assert emails(ctx) == ["ann@acme.com", "bob@acme.com", "cy@acme.com"]
    assert poll(ctx).changed == 0  # unchanged file: nothing read again
    # The same person asking again later is a new row (a new timestamp).
    with open(responses, "a", encoding="utf-8") as fh:
        fh.write(line("2026-11-28 09:00:00", "ann@acme.com"))
    assert poll(ctx).taken == 1


def test_rows_there_before_the_source_are_skipped_unless_asked(ctx, responses, tmp_path):
    responses.write_text(HEADER + line("2026-11-01 10:00:00", "old@acme.com"), encoding="utf-8")
    add_file(ctx, responses)
    assert poll(ctx).taken == 0 and emails(ctx) == []
    other = tmp_path / "other.csv"
    other.write_text(HEADER + line("2026-11-01 10:00:00", "old@acme.com"), encoding="utf-8")
    src, skipped = sources.add_source(ctx.db, "Other", path=str(other), mapping=MAP, include_existing=True)
    assert skipped == 0 and sources.poll(ctx.db, src, ["acme.com"]).taken == 1


def test_a_row_id_column_identifies_rows(ctx, tmp_path):
    path = tmp_path / "ids.csv"
    path.write_text("Id,Requester,Agent e-mail,First name,Last name\n", encoding="utf-8")
    src, _ = sources.add_source(ctx.db, "Ids", path=str(path), mapping=MAP)
    assert src.mapping["row_id"] == "id"
    path.write_text(path.read_text() + "7,lead@acme.com,ann@acme.com,Ann,Lee\n", encoding="utf-8")
    assert sources.poll(ctx.db, src, ["acme.com"]).taken == 1
    path.write_text(path.read_text().replace("Ann,Lee", "Anne,Lee"), encoding="utf-8")
    report = sources.poll(ctx.db, sources.get_source(ctx.db, "Ids"), ["acme.com"])
    assert (report.taken, report.changed) == (0, 1)


def test_mapping_and_location_are_checked(ctx, responses, tmp_path):
    with pytest.raises(UsageError, match="timestamp"):
        sources.add_source(ctx.db, "X", path=str(responses), mapping={"requested_at": "", **MAP})
    with pytest.raises(UsageError, match="not a regular file"):
        sources.add_source(ctx.db, "X", path=str(tmp_path), mapping=MAP)
    fifo = tmp_path / "fifo.csv"
    os.mkfifo(fifo)
    with pytest.raises(UsageError, match="not a regular file"):
        sources.add_source(ctx.db, "X", path=str(fifo), mapping=MAP)
    add_file(ctx, responses)
    with pytest.raises(UsageError, match="exists"):
        add_file(ctx, responses)
    sources.remove_source(ctx.db, "Responses")
    assert sources.list_sources(ctx.db) == []


def test_outcome_file_beside_the_source(ctx, responses, tmp_path):
    add_file(ctx, responses)
    responses.write_text(HEADER + line("2026-11-27 10:00:00", "ann@acme.com")
                         + line("2026-11-27 10:01:00", "x@evil.io") + line("2026-11-27 10:02:00", "bad"),
                         encoding="utf-8")
    before = responses.read_bytes()
    poll(ctx)
    src = sources.get_source(ctx.db, "Responses")
    planted = tmp_path / "planted.txt"
    planted.write_text("keep me")
    os.symlink(planted, outcomes.outcome_path(src))  # a symlink planted where the outcome file goes
    path = outcomes.write_outcomes(ctx.db, src)
    assert path == tmp_path / "responses.outcomes.csv" and responses.read_bytes() == before
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and not path.is_symlink() and planted.read_text() == "keep me"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")] == []
    text = path.read_text(encoding="utf-8").splitlines()
    assert text[0] == "row,status,reason,time"
    assert [r.split(",")[:2] for r in text[1:]] == [["2", "queued"], ["3", "rejected"], ["4", "unusable"]]


# -- guards (issue 13.3, issue 16.3) ---------------------------------------------------------
class Chat:
    mode = "standalone"

    def __init__(self):
        self.created = []

    def extract(self, on_page=None):
        return [Agent(1, "on@acme.com", enabled=True)]

    def create(self, email, first, last):
        self.created.append(email)
        return 201, {}, Agent(100 + len(self.created), email, enabled=True)


def compose(status, req):
    return mailer.compose(mailer.DEFAULT_TEMPLATES, status, req)


def test_requesters_are_checked_and_only_they_get_mail(ctx):
    rq.add_request(ctx.db, requester="outsider@evil.com", email="new@acme.com", first_name="N", last_name="L")
    rq.add_request(ctx.db, requester="lead@acme.com", email="two@acme.com", first_name="T", last_name="L")
    rq.add_request(ctx.db, requester="other@acme.com", email="three@acme.com", first_name="T", last_name="L")
    backend = Chat()
    result = processor.process_batch(ctx.db, backend, ["acme.com"], compose=compose, requesters=["lead@acme.com"])
    got = {o.email: (o.status, o.reason) for o in result.outcomes}
    assert got["new@acme.com"][0] == "rejected" and "requester" in got["new@acme.com"][1]
    assert got["three@acme.com"] == ("rejected", "requester other@acme.com is not on the requester list")
    assert backend.created == ["two@acme.com"]
    assert [r[0] for r in ctx.db.query("SELECT to_addr FROM email_outbox")] == ["lead@acme.com"]
    # Without a requester list, the requester's domain must be allowed.
    assert guards.requester_problem("x@evil.com", ["acme.com"]) is not None
    assert guards.requester_problem("x@acme.com", ["acme.com"]) is None


def test_request_text_in_mail_is_cleaned_and_limited():
    req = {"first_name": "Eve\r\nBcc: victim@evil.com", "last_name": "X" * 500, "email": "eve@acme.com",
           "requester": "lead@acme.com"}
    to, subject, body = compose("created", req)
    assert "\n" not in subject and "\r" not in subject and to == "lead@acme.com"
    assert "\nBcc:" not in body and "X" * mailer.MAX_FIELD not in body and "…" in body
    assert compose("created", {**req, "requester": "a@b.com\r\nBcc: x@evil.com"}) is None


def test_a_creation_burst_is_held_and_allowed_ones_pass(ctx):
    for i in range(4):
        rq.add_request(ctx.db, requester="lead@acme.com", email=f"n{i}@acme.com", first_name="N", last_name="L")
    rq.add_request(ctx.db, requester="lead@acme.com", email="on@acme.com", first_name="O", last_name="N")
    backend = Chat()
    result = processor.process_batch(ctx.db, backend, ["acme.com"], guard=guards.burst_guard(ctx.db, 1, 3))
    assert result.counts() == {"held": 4, "already_enabled": 1} and backend.created == []
    held = [r for r in rq.list_requests(ctx.db) if r["email"].startswith("n")]
    assert {r["status"] for r in held} == {"queued"} and all("held for review" in r["reason"] for r in held)
    assert processor.process_batch(ctx.db, backend, ["acme.com"]).outcomes == []  # held ones wait for review
    guards.allow(ctx.db, 1)
    again = processor.process_batch(ctx.db, backend, ["acme.com"], guard=guards.burst_guard(ctx.db, 2, 3))
    assert again.counts() == {"created": 4}


def test_daily_mail_cap(ctx):
    with ctx.db.transaction() as conn:
        for i in range(3):
            conn.execute("INSERT INTO email_outbox (to_addr, subject, body, status, sent_at) VALUES"
                         " ('a@acme.com', 's', 'b', 'sent', strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))")
    assert guards.mail_budget(ctx.db, 5) == 2 and guards.mail_budget(ctx.db, 3) == 0


def test_a_file_not_written_yet_can_be_added_with_a_full_mapping(ctx, tmp_path):
    later = tmp_path / "later.csv"
    with pytest.raises(UsageError, match="map every field"):
        sources.add_source(ctx.db, "Later", path=str(later), mapping=MAP)
    full = {"requester": "requester", "email": "agent e-mail", "first_name": "first name",
            "last_name": "last name", "requested_at": "timestamp"}
    src, skipped = sources.add_source(ctx.db, "Later", path=str(later), mapping=full)
    assert skipped == 0 and sources.poll(ctx.db, src, ["acme.com"]).error.startswith(str(later))
    later.write_text(HEADER + line("2026-11-27 10:00:00", "ann@acme.com"), encoding="utf-8")
    report = sources.poll(ctx.db, sources.get_source(ctx.db, "Later"), ["acme.com"])
    assert report.taken == 1 and report.error is None and sources.get_source(ctx.db, "Later").last_error is None


def test_daily_cap_holds_the_rest_of_the_outbox_until_tomorrow(ctx):
    from evalsync_gui.core.chat import service
    from tests.core.test_chat_mailer import BoundController, Inbox

    inbox = Inbox()
    ctl = BoundController(inbox)
    port = ctl.port
    ctl.start()
    try:
        ctx.settings.set("chat.smtp", {"host": "127.0.0.1", "port": port, "security": "none", "user": "",
                                       "from": "evalsync@acme.com"})
        guards.Guards(daily_mail_cap=2).save(ctx.settings)
        with ctx.db.transaction() as conn:
            for i in range(3):
                conn.execute("INSERT INTO email_outbox (to_addr, subject, body) VALUES (?, 's', 'b')",
                             (f"lead{i}@acme.com",))
        first = service.send_outbox(ctx.db, ctx.settings)
        second = service.send_outbox(ctx.db, ctx.settings)
    finally:
        ctl.stop()
    assert first.sent == 2 and len(inbox.messages) == 2
    assert second.sent == 0 and "daily cap" in second.error
    assert ctx.db.scalar("SELECT count(*) FROM email_outbox WHERE status = 'pending'") == 1


def test_burst_guard_never_holds_the_re_read_of_an_admin_step(ctx):
    waiting = {"id": 1, "email": "step@acme.com", "status": "needs_admin_step"}
    new = {"id": 2, "email": "new@acme.com", "status": "queued"}
    todo, held = guards.burst_guard(ctx.db, 1, 0)([waiting, new], {})
    assert todo == [waiting] and [r["id"] for r, _ in held] == [2]


class _SupportLookup:
    """A Support-kind backend's read side: ``lookup`` answers like the users search."""

    mode = "support"

    def __init__(self, known: set[str], broken: set[str] = frozenset()) -> None:
        self.known, self.broken, self.looked_up = known, broken, []

    def lookup(self, email: str) -> list[dict]:
        self.looked_up.append(email)
        if email in self.broken:
            from evalsync_gui.core.errors import ResponseError

            raise ResponseError("The users search answered without a users list; try again later.")
        return [{"id": 50 + len(self.looked_up), "email": email.upper()}] if email in self.known else []


def test_on_the_support_kind_people_zendesk_knows_are_not_counted_as_creations(ctx):
    """Agents without Chat and end-users are missing from the Chat extract but exist in Support:
    granting them creates nobody, so they neither trip the burst guard nor get held."""
    reqs = [{"id": i, "email": f"p{i}@acme.com", "status": "queued"} for i in range(1, 6)]
    backend = _SupportLookup(known={"p1@acme.com", "p2@acme.com", "p3@acme.com"})
    todo, held = guards.burst_guard(ctx.db, 7, 2)(reqs, {}, backend)
    assert todo == reqs and held == []  # 2 unknown: not more than 2
    assert sorted(backend.looked_up) == [f"p{i}@acme.com" for i in range(1, 6)]
    todo, held = guards.burst_guard(ctx.db, 8, 1)(reqs, {}, backend)  # 2 unknown: more than 1
    assert [r["id"] for r in todo] == [1, 2, 3] and [r["id"] for r, _ in held] == [4, 5]
    assert "would create 2 agents, more than 1; allow or discard run 8" in held[0][1]


def test_an_unsure_lookup_counts_as_a_creation_and_few_requests_are_not_looked_up(ctx):
    reqs = [{"id": i, "email": f"p{i}@acme.com", "status": "queued"} for i in range(1, 4)]
    backend = _SupportLookup(known={"p1@acme.com", "p2@acme.com"}, broken={"p2@acme.com"})
    todo, held = guards.burst_guard(ctx.db, 9, 1)(reqs, {}, backend)
    assert [r["id"] for r in todo] == [1] and [r["id"] for r, _ in held] == [2, 3]
    quiet = _SupportLookup(known=set())
    assert guards.burst_guard(ctx.db, 10, 3)(reqs, {}, quiet) == (reqs, []) and quiet.looked_up == []
