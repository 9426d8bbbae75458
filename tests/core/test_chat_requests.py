"""Intake: the form, CSV import with a column mapping, dedupe on re-import, reasons for bad rows."""

from __future__ import annotations

import pytest

from evalsync_gui.core.chat import requests as rq
from evalsync_gui.core.errors import UsageError

FORM_HEADER = ("Timestamp,Email Address,Email address of the user requiring chat access,First Name,Second Name\n")


def write(tmp_path, text, name="form.csv"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_guess_mapping_google_forms_header():
    cols = [c.strip().lower() for c in FORM_HEADER.split(",")]
    m = rq.guess_mapping(cols)
    assert m == {"email": "email address of the user requiring chat access", "requester": "email address",
                 "first_name": "first name", "last_name": "second name", "requested_at": "timestamp"}


def test_import_reimport_and_reasons(ctx, tmp_path):
    path = write(tmp_path, FORM_HEADER
                 + "11/23/2026 10:00:00,lead@acme.com,zoe@acme.com,Zoë,O'Brien\n"
                 + "11/23/2026 10:01:00,lead@acme.com,bad@acme.com.evil.io,Eve,L\n"
                 + "11/23/2026 10:02:00,lead@acme.com,no-at-sign,No,At\n"
                 + "11/23/2026 10:03:00,lead@acme.com,x@acme.com,,Nofirst\n"
                 + "11/23/2026 10:04:00,lead@acme.com,y@ACME.com,=cmd(),Y\n")
    report = rq.import_csv(ctx.db, path, domains=["acme.com"])
    assert (report.added, report.rejected, report.duplicates) == (2, 1, 0)
    reasons = dict(report.problems)
    assert "only starts with" in reasons[3] and "no @" in reasons[4] and "first name" in reasons[5]
    again = rq.import_csv(ctx.db, path, domains=["acme.com"])
    assert (again.added, again.duplicates) == (0, 3)
    counts = rq.status_counts(ctx.db)
    assert counts == {"queued": 2, "rejected": 1}
    row = ctx.db.query("SELECT * FROM chat_requests WHERE email = 'zoe@acme.com'")[0]
    assert row["requested_at"] == "2026-11-23T10:00:00Z" and row["first_name"] == "Zoë"


def test_explicit_mapping_and_bad_mapping(ctx, tmp_path):
    path = write(tmp_path, "who,agent,fn,ln\nlead@acme.com,a@acme.com,A,B\n")
    with pytest.raises(UsageError, match="No column is mapped"):
        rq.import_csv(ctx.db, path, {"email": "agent"})
    with pytest.raises(UsageError, match="not in the file"):
        rq.import_csv(ctx.db, path, {"email": "nope", "requester": "who", "first_name": "fn", "last_name": "ln"})
    rep = rq.import_csv(ctx.db, path, {"email": "agent", "requester": "who", "first_name": "fn", "last_name": "ln"})
    assert rep.added == 1


def test_form_add(ctx):
    rid, status, reason = rq.add_request(ctx.db, requester="lead@acme.com", email="new@acme.com",
                                         first_name="New", last_name="Person", domains=["acme.com"])
    assert rid and status == "queued" and reason is None
    _, status, reason = rq.add_request(ctx.db, requester="lead@acme.com", email="new@evil-acme.com",
                                       first_name="New", last_name="Person", domains=["acme.com"])
    assert status == "rejected" and "only ends with" in reason
    with pytest.raises(UsageError, match="no @"):
        rq.add_request(ctx.db, requester="lead@acme.com", email="bad", first_name="A", last_name="B")
