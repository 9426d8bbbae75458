"""The inactivity policy's decisions: owner, admins and exemptions are never touched."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from evalsync_gui.core.chat.agents_api import Agent
from evalsync_gui.core.chat.inactivity import Policy, preview
from evalsync_gui.core.errors import UsageError

NOW = datetime(2026, 11, 23, tzinfo=timezone.utc)


def ago(days):
    return (NOW - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def agent(i, email, days, **kw):
    kw.setdefault("enabled", True)
    return Agent(i, email, last_login=ago(days) if days is not None else None, **kw)


def decide(agents, mode="standalone", **pol):
    rows = preview(agents, Policy(**{"disable_after": 90, "delete_after": 180, **pol}), mode=mode, now=NOW)
    return {r.email: (r.action, r.why) for r in rows}


def test_standalone_decisions():
    d = decide([
        agent(1, "owner@acme.com", 999, is_owner=True), agent(2, "admin@acme.com", 999, is_admin=True),
        agent(3, "idle@acme.com", 100), agent(4, "gone@acme.com", 200), agent(5, "fresh@acme.com", 3),
        agent(6, "vip@acme.com", 400), agent(7, "x@partner.io", 400), agent(8, "off@acme.com", 120, enabled=False),
        agent(9, "never@acme.com", None, created=ago(95)), agent(10, "unknown@acme.com", None),
    ], exempt=["VIP@acme.com", "@partner.io"])
    assert d["owner@acme.com"][0] == "keep" and "owner" in d["owner@acme.com"][1]
    assert d["admin@acme.com"][0] == "keep"
    assert d["idle@acme.com"] == ("disable", "last login 100 days ago (≥ 90 days)")
    assert d["gone@acme.com"][0] == "delete"
    assert d["fresh@acme.com"][0] == "keep"
    assert d["vip@acme.com"] == ("keep", "exempt (vip@acme.com)")
    assert d["x@partner.io"] == ("keep", "exempt (domain partner.io)")
    assert d["off@acme.com"][0] == "keep" and "already disabled" in d["off@acme.com"][1]
    assert d["never@acme.com"] == ("disable", "never logged in; created 95 days ago (≥ 90 days)")
    assert d["unknown@acme.com"][0] == "keep"


def test_support_kind_only_lists_admin_steps():
    """Support kind: nothing is disabled or deleted by EvalSync; the rows become admin steps."""
    rows = preview([agent(1, "support@acme.com", 300), agent(2, "idle@acme.com", 100),
                    agent(3, "off@acme.com", 300, enabled=False)],
                   Policy(90, 180), mode="support", now=NOW, admin_url="https://acme.zendesk.com/admin/x")
    d = {r.email: r for r in rows}
    assert {r.action for r in rows} <= {"admin_step", "keep"}
    assert d["support@acme.com"].action == "admin_step" and "Admin Center" in d["support@acme.com"].why
    assert d["support@acme.com"].admin_url == "https://acme.zendesk.com/admin/x"
    assert d["idle@acme.com"].action == "admin_step" and d["off@acme.com"].action == "keep"


def test_apply_refuses_the_support_kind(ctx):
    from evalsync_gui.core.chat.inactivity import apply

    class Backend:
        mode = "support"

        def disable(self, a):
            raise AssertionError("never called")

        delete = disable

    rows = preview([agent(1, "x@acme.com", 300)], Policy(90, 180), mode="support", now=NOW)
    with pytest.raises(UsageError, match="Admin Center"):
        apply(ctx.db, Backend(), rows, {1: agent(1, "x@acme.com", 300)})


@pytest.mark.parametrize("value", ["last tuesday", "2026-13-45T00:00:00Z", 1700000000])
def test_unreadable_last_login_is_unknown_never_never_logged_in(value):
    """Issue 15 item 7: an unreadable value used to read as "never logged in" and delete the agent."""
    d = decide([Agent(1, "odd@acme.com", enabled=True, last_login=value, created=ago(400))])
    action, why = d["odd@acme.com"]
    assert action == "keep" and "unreadable" in why and "never logged in" not in why


def test_export_steps_csv_names_the_measure(tmp_path):
    from evalsync_gui.core.chat.inactivity import SUPPORT_LAST_LOGIN, export_steps_csv

    rows = preview([agent(1, "idle@acme.com", 300), agent(2, "ok@acme.com", 3)], Policy(90, 180), mode="support",
                   now=NOW, source=SUPPORT_LAST_LOGIN, admin_url="https://acme.zendesk.com/admin/people/team/members")
    assert export_steps_csv(rows, tmp_path / "steps.csv") == 1
    text = (tmp_path / "steps.csv").read_text(encoding="utf-8-sig")
    assert "idle@acme.com" in text and "API-token requests also move it" in text and "ok@acme.com" not in text


def test_m_must_exceed_n():
    with pytest.raises(UsageError, match="must be longer"):
        decide([], disable_after=90, delete_after=90)
