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


def test_support_mode_deletes_only_chat_only_agents():
    d = decide([agent(1, "support@acme.com", 300), agent(2, "chatonly@acme.com", 300, chat_only=True)],
               mode="support")
    assert d["support@acme.com"][0] == "disable" and "not deleted" in d["support@acme.com"][1]
    assert d["chatonly@acme.com"][0] == "delete"


def test_m_must_exceed_n():
    with pytest.raises(UsageError, match="must be longer"):
        decide([], disable_after=90, delete_after=90)
