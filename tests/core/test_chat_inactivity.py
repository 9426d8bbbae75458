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


# ----- Written to kill the mutants `make mutate MODULES=chat.inactivity` left alive -------------
# Each goes through preview / apply / export_steps_csv / Policy, as the GUI and the CLI do.

def rows_of(agents, mode="standalone", **pol):
    return preview(agents, Policy(**{"disable_after": 90, "delete_after": 180, **pol}), mode=mode, now=NOW)


@pytest.mark.parametrize("days, enabled, expected", [
    (89, True, ("keep", "last login 89 days ago (< 90 days)")),
    (90, True, ("disable", "last login 90 days ago (≥ 90 days)")),
    (91, True, ("disable", "last login 91 days ago (≥ 90 days)")),
    (179, True, ("disable", "last login 179 days ago (≥ 90 days)")),
    (180, True, ("delete", "last login 180 days ago (≥ 180 days)")),
    (90, False, ("keep", "last login 90 days ago; already disabled")),
    (180, False, ("delete", "last login 180 days ago (≥ 180 days)")),
    (0, True, ("keep", "last login 0 days ago (< 90 days)")),
    (-5, True, ("keep", "last login 0 days ago (< 90 days)")),  # a clock ahead never gives negative days
])
def test_each_threshold_is_inclusive_and_says_so(days, enabled, expected):
    (row,) = rows_of([agent(1, "a@acme.com", days, enabled=enabled)])
    assert (row.action, row.why) == expected
    assert row.idle_days == max(0, days)


@pytest.mark.parametrize("days, expected", [(89, ("keep", "never logged in; created 89 days ago (< 90 days)")),
                                            (90, ("disable", "never logged in; created 90 days ago (≥ 90 days)")),
                                            (180, ("delete", "never logged in; created 180 days ago (≥ 180 days)")),
                                            (-3, ("keep", "never logged in; created 0 days ago (< 90 days)"))])
def test_never_logged_in_counts_from_creation(days, expected):
    for last_login in (None, ""):
        (row,) = rows_of([Agent(1, "n@acme.com", enabled=True, last_login=last_login, created=ago(days))])
        assert (row.action, row.why, row.idle_days) == (*expected, max(0, days))


def test_nothing_known_is_kept_with_the_reason():
    (row,) = rows_of([Agent(1, "n@acme.com", enabled=True, created="not a date")])
    assert (row.action, row.why, row.idle_days) == ("keep", "no last login or creation date known", None)


def test_an_unreadable_value_is_quoted_shortened_in_the_reason():
    (row,) = rows_of([Agent(1, "n@acme.com", enabled=True, last_login="x" * 50, created=ago(400))])
    assert (row.action, row.idle_days) == ("keep", None)
    assert row.why == f"last login unreadable ({'x' * 40!r}): unknown, nothing is done"


@pytest.mark.parametrize("value, days", [
    ("2026-08-25T00:00:00Z", 90), ("2026-08-25T00:00:00+00:00", 90), ("2026-08-25T00:00:00", 90),
    ("2026-08-25T01:00:00+02:00", 90), ("2026-08-25T23:00:00-02:00", 88),
])
def test_times_with_or_without_a_zone_are_read_as_utc(value, days):
    (row,) = rows_of([Agent(1, "t@acme.com", enabled=True, last_login=value)])
    assert row.idle_days == days


def test_owner_and_admin_reasons_and_no_idle_days():
    rows = {r.email: r for r in rows_of([agent(1, "o@acme.com", 999, is_owner=True, is_admin=True),
                                         agent(2, "a@acme.com", 999, is_admin=True)])}
    assert (rows["o@acme.com"].action, rows["o@acme.com"].why) == ("keep", "account owner: never touched")
    assert (rows["a@acme.com"].action, rows["a@acme.com"].why) == ("keep", "admin: never touched")
    assert rows["o@acme.com"].idle_days is None and rows["a@acme.com"].idle_days is None


@pytest.mark.parametrize("email, rules, why", [
    ("VIP@Acme.com ", [" vip@ACME.com "], "exempt (vip@acme.com)"),
    ("x@partner.io", ["partner.io"], "exempt (domain partner.io)"),
    ("x@partner.io", ["@Partner.IO"], "exempt (domain partner.io)"),
    ("x@partner.io", ["", "  ", "partner.io"], "exempt (domain partner.io)"),
    ("x@partner.io", ["  ", "@partner.io", "x@partner.io"], "exempt (domain partner.io)"),
    ("vip@acme.com", ["vip@acme.com", "acme.com"], "exempt (vip@acme.com)"),
])
def test_exemptions_match_whole_addresses_or_whole_domains(email, rules, why):
    (row,) = rows_of([agent(1, email, 400)], exempt=rules)
    assert (row.action, row.why, row.idle_days) == ("keep", why, None)


@pytest.mark.parametrize("email, rules", [
    ("x@sub.partner.io", ["partner.io"]), ("x@partner.io.evil", ["partner.io"]), ("x@evilpartner.io", ["partner.io"]),
    ("avip@acme.com", ["vip@acme.com"]), ("vip@acme.com.evil", ["vip@acme.com"]), ("vip@acme.com", ["ip@acme.com"]),
    ("x@acme.com", ["@"]), ("x@acme.com", ["", " "]), ("x@acme.com", ["x@acme.com@"]),
    ("x@acme.com", ["acme.com@x"]),
])
def test_near_misses_are_not_exempt(email, rules):
    (row,) = rows_of([agent(1, email, 400)], exempt=rules)
    assert row.action == "delete"


def test_support_kind_rows_say_what_to_do_and_where():
    url = "https://acme.zendesk.com/admin/people/team/members"
    rows = {r.email: r for r in preview(
        [agent(1, "gone@acme.com", 200), agent(2, "idle@acme.com", 100), agent(3, "off@acme.com", 200, enabled=False),
         agent(4, "off2@acme.com", 100, enabled=False), agent(5, "ok@acme.com", 3)],
        Policy(90, 180), mode="support", now=NOW, admin_url=url)}
    assert (rows["gone@acme.com"].action, rows["gone@acme.com"].why) == (
        "admin_step", "last login 200 days ago (≥ 180 days): switch Chat off in Admin Center (no public API does it)")
    assert (rows["idle@acme.com"].action, rows["idle@acme.com"].why) == (
        "admin_step", "last login 100 days ago (≥ 90 days): switch Chat off in Admin Center (no public API does it)")
    assert (rows["off@acme.com"].action, rows["off@acme.com"].why) == (
        "keep", "last login 200 days ago; Chat access already off")
    assert (rows["off2@acme.com"].action, rows["off2@acme.com"].why) == (
        "keep", "last login 100 days ago; already disabled")
    assert rows["gone@acme.com"].admin_url == url and rows["idle@acme.com"].admin_url == url
    assert rows["off@acme.com"].admin_url is None and rows["ok@acme.com"].admin_url is None
    assert rows["off@acme.com"].idle_days == 200


def test_preview_rows_carry_the_agent_and_the_measure():
    from evalsync_gui.core.chat.inactivity import SUPPORT_LAST_LOGIN

    a = Agent(7, "Zoe@acme.com", first_name="Zoe", last_name="", enabled=False, last_login=ago(10))
    b = Agent(8, "b@acme.com", first_name="Bo", last_name="Li", display_name="Bo L.", enabled=True, last_login=ago(10))
    rows = {r.agent_id: r for r in preview([a, b], Policy(90, 180), mode="standalone", now=NOW,
                                           source=SUPPORT_LAST_LOGIN, admin_url="https://x.test/")}
    r = rows[7]
    assert (r.email, r.name, r.enabled, r.last_login, r.last_login_source, r.admin_url) == (
        "Zoe@acme.com", "Zoe", False, ago(10), SUPPORT_LAST_LOGIN, None)
    assert rows[8].name == "Bo L." and rows[8].enabled is True
    (default,) = preview([a], Policy(90, 180), mode="standalone", now=NOW)
    assert default.last_login_source == "chat_agent_last_login"


def test_preview_lists_deletions_then_disables_by_idleness_then_the_rest_by_email():
    rows = rows_of([agent(1, "keep-b@acme.com", 5), agent(2, "Keep-a@acme.com", 5), agent(3, "dis1@acme.com", 100),
                    agent(4, "dis2@acme.com", 150), agent(5, "del1@acme.com", 200), agent(6, "del2@acme.com", 300),
                    agent(7, "own@acme.com", 999, is_owner=True), agent(8, "z-idle@acme.com", 50),
                    agent(9, "b-dis@acme.com", 100)])
    assert [r.email for r in rows] == ["del2@acme.com", "del1@acme.com", "dis2@acme.com", "b-dis@acme.com",
                                       "dis1@acme.com", "z-idle@acme.com", "Keep-a@acme.com", "keep-b@acme.com",
                                       "own@acme.com"]


def test_preview_without_now_uses_the_current_time():
    recent = datetime.now(timezone.utc) - timedelta(days=100)
    (row,) = preview([Agent(1, "a@acme.com", enabled=True, last_login=recent.isoformat())], Policy(90, 180),
                     mode="standalone")
    assert (row.action, row.idle_days) == ("disable", 100)


@pytest.mark.parametrize("disable, delete, message", [
    (0, 180, "The disable period must be at least 1 day."),
    (-1, 180, "The disable period must be at least 1 day."),
    (90, 90, "The delete period (90 days) must be longer than the disable period (90 days)."),
    (90, 89, "The delete period (89 days) must be longer than the disable period (90 days)."),
])
def test_a_policy_that_makes_no_sense_is_refused(disable, delete, message):
    with pytest.raises(UsageError) as info:
        rows_of([], disable_after=disable, delete_after=delete)
    assert str(info.value) == message


def test_the_narrowest_policy_is_accepted():
    (row,) = rows_of([agent(1, "a@acme.com", 2)], disable_after=1, delete_after=2)
    assert row.action == "delete"


def test_policy_settings_round_trip_with_defaults():
    assert Policy.from_settings(None) == Policy(90, 180, [])
    assert Policy.from_settings({}) == Policy(90, 180, [])
    p = Policy.from_settings({"disable_after": "30", "delete_after": 60, "exempt": ("a@b.io",)})
    assert (p.disable_after, p.delete_after, p.exempt) == (30, 60, ["a@b.io"])
    assert p.to_settings() == {"disable_after": 30, "delete_after": 60, "exempt": ["a@b.io"]}
    assert Policy.from_settings(p.to_settings()) == p


def test_export_steps_csv_writes_every_column_of_the_acting_rows(tmp_path):
    import csv

    from evalsync_gui.core.chat.inactivity import CSV_HEADER, PolicyRow, export_steps_csv

    rows = preview([agent(1, "idle@acme.com", 300), agent(2, "ok@acme.com", 3), agent(3, "dis@acme.com", 100)],
                   Policy(90, 180), mode="support", now=NOW, admin_url="https://acme.zendesk.com/admin/m")
    rows.append(PolicyRow(4, "odd@acme.com", "Odd", True, None, None, "delete", "why", "other_measure", None))
    assert export_steps_csv(rows, tmp_path / "steps.csv") == 3
    with open(tmp_path / "steps.csv", encoding="utf-8-sig", newline="") as f:
        table = list(csv.reader(f))
    assert tuple(table[0]) == CSV_HEADER
    assert table[1] == ["idle@acme.com", "", ago(300), "Chat agent last login (Chat API)", "300", "admin_step",
                        "last login 300 days ago (≥ 180 days): switch Chat off in Admin Center (no public API does it)",
                        "https://acme.zendesk.com/admin/m"]
    assert table[2][0] == "dis@acme.com" and table[2][5] == "admin_step"
    assert table[3] == ["odd@acme.com", "Odd", "", "other_measure", "", "delete", "why", ""]


class FakeBackend:
    mode = "standalone"

    def __init__(self, fail=None):
        self.calls = []
        self.fail = fail or {}

    def _act(self, what, a):
        self.calls.append((what, a.id))
        if a.id in self.fail:
            raise self.fail[a.id]
        return 200, {"ok": what}

    def disable(self, a):
        return self._act("disable", a)

    def delete(self, a):
        return self._act("delete", a)


def _stored(ctx, agents):
    with ctx.db.transaction() as conn:
        for a in agents:
            conn.execute("INSERT INTO chat_agents (id, email, enabled) VALUES (?, ?, ?)", (a.id, a.email, int(a.enabled)))


def test_apply_disables_and_deletes_only_confirmed_rows_and_logs_each(ctx):
    from evalsync_gui.core.chat import audit
    from evalsync_gui.core.chat.inactivity import apply

    agents = [agent(1, "gone@acme.com", 200), agent(2, "idle@acme.com", 100), agent(3, "ok@acme.com", 3),
              agent(4, "vanished@acme.com", 100)]
    _stored(ctx, agents)
    rows = rows_of(agents)
    backend, progress = FakeBackend(), []
    counts = apply(ctx.db, backend, rows, {a.id: a for a in agents[:3]}, actor="tester",
                   progress=lambda *p: progress.append(p))
    assert counts == {"disabled": 1, "deleted": 1, "failed": 0}
    assert backend.calls == [("delete", 1), ("disable", 2)]
    assert progress == [(1, 3, "1 of 3 policy actions"), (2, 3, "2 of 3 policy actions")]
    left = {r["id"]: r["enabled"] for r in ctx.db.query("SELECT id, enabled FROM chat_agents")}
    assert left == {2: 0, 3: 1, 4: 1}
    log = sorted((r["action"], r["email"], r["actor"], r["detail"], r["zendesk_status"])
                 for r in audit.recent_actions(ctx.db))
    assert log == [(audit.DELETED, "gone@acme.com", "tester", "last login 200 days ago (≥ 180 days)", 200),
                   (audit.DISABLED, "idle@acme.com", "tester", "last login 100 days ago (≥ 90 days)", 200)]
    assert all("ok" in r["zendesk_answer"] for r in audit.recent_actions(ctx.db))


def test_apply_without_progress_or_actor_uses_the_policy_name(ctx):
    from evalsync_gui.core.chat import audit
    from evalsync_gui.core.chat.inactivity import apply

    agents = [agent(1, "idle@acme.com", 100)]
    _stored(ctx, agents)
    assert apply(ctx.db, FakeBackend(), rows_of(agents), {1: agents[0]}) == {"disabled": 1, "deleted": 0, "failed": 0}
    assert [r["actor"] for r in audit.recent_actions(ctx.db)] == ["inactivity policy"]


def test_a_refused_action_is_counted_logged_and_the_rest_go_on(ctx):
    from evalsync_gui.core.chat import audit
    from evalsync_gui.core.chat.inactivity import apply
    from evalsync_gui.core.errors import ZendeskError

    agents = [agent(1, "gone@acme.com", 300), agent(2, "bad@acme.com", 200), agent(3, "idle@acme.com", 100),
              agent(4, "bad2@acme.com", 100)]
    _stored(ctx, agents)
    backend = FakeBackend(fail={2: ZendeskError("boom", status=422), 4: UsageError("no such agent")})
    counts = apply(ctx.db, backend, rows_of(agents), {a.id: a for a in agents})
    assert counts == {"disabled": 1, "deleted": 1, "failed": 2}
    assert [c[1] for c in backend.calls] == [1, 2, 4, 3]  # by idleness, then e-mail
    failed = sorted((r["email"], r["detail"], r["zendesk_status"]) for r in audit.recent_actions(ctx.db)
                    if r["action"] == audit.FAILED)
    assert failed == [("bad2@acme.com", "could not disable: no such agent", None),
                      ("bad@acme.com", "could not delete: boom", 422)]
    left = {r["id"]: r["enabled"] for r in ctx.db.query("SELECT id, enabled FROM chat_agents")}
    assert left == {2: 1, 3: 0, 4: 1}


def test_a_lost_sign_in_stops_apply_at_once(ctx):
    from evalsync_gui.core.chat.inactivity import apply
    from evalsync_gui.core.errors import AuthError

    agents = [agent(1, "gone@acme.com", 300), agent(2, "idle@acme.com", 100)]
    _stored(ctx, agents)
    backend = FakeBackend(fail={1: AuthError("token revoked")})
    with pytest.raises(AuthError, match="token revoked"):
        apply(ctx.db, backend, rows_of(agents), {a.id: a for a in agents})
    assert backend.calls == [("delete", 1)]


def test_cancel_between_actions_says_how_far_it_got(ctx):
    from evalsync_gui.core.chat.inactivity import apply
    from evalsync_gui.core.errors import Cancelled

    agents = [agent(1, "gone@acme.com", 300), agent(2, "idle@acme.com", 110), agent(3, "idle2@acme.com", 100)]
    _stored(ctx, agents)
    backend = FakeBackend()
    with pytest.raises(Cancelled) as info:
        apply(ctx.db, backend, rows_of(agents), {a.id: a for a in agents}, is_cancelled=lambda: len(backend.calls) == 2)
    assert str(info.value) == "Cancelled after 2 of 3 policy actions; run the policy again to go on."
    assert backend.calls == [("delete", 1), ("disable", 2)]
    assert apply(ctx.db, FakeBackend(), [], {}, is_cancelled=lambda: True) == {"disabled": 0, "deleted": 0, "failed": 0}


def test_preview_order_ties_and_kept_rows_with_more_idle_days():
    rows = rows_of([agent(1, "z-own@acme.com", None, is_owner=True), agent(2, "a-fresh@acme.com", 0),
                    agent(3, "off@acme.com", 150, enabled=False), agent(4, "dis@acme.com", 100),
                    agent(5, "a_b@acme.com", 5), agent(6, "aab@acme.com", 5)])
    assert [r.email for r in rows] == ["dis@acme.com", "off@acme.com", "a_b@acme.com", "aab@acme.com",
                                       "a-fresh@acme.com", "z-own@acme.com"]
    assert [r.email for r in rows_of([agent(1, "a@acme.com", 0), agent(2, "b@acme.com", 1)])] == [
        "b@acme.com", "a@acme.com"]  # one idle day more comes first, even against zero
    support = preview([agent(1, "off@acme.com", 300, enabled=False), agent(2, "idle@acme.com", 100)],
                      Policy(90, 180), mode="support", now=NOW)
    assert [r.email for r in support] == ["idle@acme.com", "off@acme.com"]


def test_exemption_reads_the_domain_after_the_last_at():
    (row,) = rows_of([agent(1, "x@y@partner.io", 400)], exempt=["partner.io"])
    assert row.why == "exempt (domain partner.io)"
    (row,) = rows_of([agent(1, "@partner.io", 400)], exempt=["@partner.io"])
    assert row.why == "exempt (domain partner.io)"


def test_apply_refusal_message_and_a_backend_without_a_mode(ctx):
    from evalsync_gui.core.chat.inactivity import apply

    class Support:
        mode = "support"

    with pytest.raises(UsageError) as info:
        apply(ctx.db, Support(), [], {})
    assert str(info.value) == ("On an account whose Chat was created in Support, EvalSync does not change agents for "
                               "inactivity; export the list (CSV) and switch Chat off in Admin Center.")

    class NoMode(FakeBackend):
        mode = property(lambda self: (_ for _ in ()).throw(AttributeError("mode")))

    agents = [agent(1, "idle@acme.com", 100)]
    _stored(ctx, agents)
    assert apply(ctx.db, NoMode(), rows_of(agents), {1: agents[0]}) == {"disabled": 1, "deleted": 0, "failed": 0}


def test_apply_skips_a_vanished_agent_and_goes_on_counting(ctx):
    from evalsync_gui.core.chat import audit
    from evalsync_gui.core.chat.inactivity import apply
    from evalsync_gui.core.errors import ZendeskError

    agents = [agent(1, "a-vanished@acme.com", 300), agent(2, "b@acme.com", 100), agent(3, "c@acme.com", 100),
              agent(4, "d@acme.com", 200), agent(5, "e@acme.com", 250), agent(6, "f-bad@acme.com", 95)]
    _stored(ctx, agents)
    backend = FakeBackend(fail={6: ZendeskError("nope", status=500)})
    counts = apply(ctx.db, backend, rows_of(agents), {a.id: a for a in agents[1:]}, actor="tester")
    assert counts == {"disabled": 2, "deleted": 2, "failed": 1}
    assert [r["actor"] for r in audit.recent_actions(ctx.db)] == ["tester"] * 5


@pytest.mark.parametrize("email", [""])
def test_an_agent_without_an_e_mail_matches_no_exemption(email):
    (row,) = rows_of([Agent(1, email, enabled=True, last_login=ago(400))], exempt=["xxxx", "@xxxx"])
    assert row.action == "delete"


@pytest.mark.parametrize("email", [None, 12345, ["a@x.org"]])
def test_a_chat_agent_whose_e_mail_is_not_text_is_previewed_not_crashed_on(email):
    """The Chat API's agent object is read field by field: a null (or non-text) e-mail reads as
    "" (an agent nobody can name is still judged by its last login), and preview sorts it."""
    from evalsync_gui.core.chat.agents_api import agent_from_chat

    odd = agent_from_chat({"id": 7, "email": email, "first_name": None, "display_name": 5,
                           "enabled": True, "last_login": ago(400)})
    assert (odd.email, odd.first_name, odd.display_name, odd.key) == ("", "", "", "")
    rows = preview([odd, agent(8, "b@x.org", 400), agent(9, "a@x.org", 400)],
                   Policy(disable_after=90, delete_after=180), mode="standalone", now=NOW)
    assert [(r.agent_id, r.action) for r in rows] == [(7, "delete"), (9, "delete"), (8, "delete")]
