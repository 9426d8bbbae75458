"""The user directory: views sorted/filtered in SQL, licences, activation, manual adds, CSV."""

from __future__ import annotations

import csv

import pytest

from evalsync_gui.core import directory as d
from evalsync_gui.core.errors import UsageError


def seed(ctx, n=5, status="pending", prefix="user"):
    with ctx.db.transaction() as conn:
        conn.executemany(
            "INSERT INTO users (zendesk_id, name, email, status, zendesk_role, custom_role_name, imported_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(None, f"{prefix} {i:03d}", f"{prefix}{i}@abc-energy.com", status, "agent" if i % 2 else "admin",
              "Tier 1" if i % 3 == 0 else None, f"2026-01-{i % 28 + 1:02d}T00:00:00Z") for i in range(n)])
    return [r[0] for r in ctx.db.query("SELECT id FROM users WHERE name LIKE ? ORDER BY id", (prefix + "%",))]


def test_view_sorts_and_filters_in_sql(ctx):
    seed(ctx, 6)
    seed(ctx, 2, status="active", prefix="zed")
    ids = d.query_ids(ctx.db, d.View(status="pending", sort="name", descending=True))
    names = [d.fetch_rows(ctx.db, [i])[i]["name"] for i in ids]
    assert names == sorted(names, reverse=True) and len(names) == 6
    assert len(d.query_ids(ctx.db, d.View(status=None, search="zed"))) == 2
    assert len(d.query_ids(ctx.db, d.View(status=None, search="tier"))) == 3
    assert len(d.query_ids(ctx.db, d.View(status=None, search="100%"))) == 0
    for key in d.SORT_SQL:
        assert len(d.query_ids(ctx.db, d.View(status=None, sort=key))) == 8


def test_counts_and_licences(ctx):
    seed(ctx, 3)
    seed(ctx, 2, status="active", prefix="act")
    assert d.counts(ctx.db) == {"pending": 3, "active": 2, "deactivated": 0}
    assert str(d.licences(ctx.db, ctx.settings)) == "2 of 150 licences used"


def test_activate_records_change_and_refuses_over_licence(ctx):
    ids = seed(ctx, 5)
    ctx.settings.set(d.LICENCE_KEY, 3)
    assert d.activate(ctx.db, ctx.settings, ids[:3], role="Team leader", team="North") == 3
    row = d.get_user(ctx.db, ids[0])
    assert (row["status"], row["evalsync_role"], row["team"]) == ("active", "team_leader", "North")
    with pytest.raises(UsageError, match="limit is 3"):
        d.activate(ctx.db, ctx.settings, ids[3:])
    assert d.counts(ctx.db)["active"] == 3  # refused as a whole
    changes = ctx.db.query("SELECT action, run_id FROM user_changes")
    assert [(c[0], c[1]) for c in changes] == [("activate", None)] * 3


def test_reactivating_a_deactivated_user_rechecks_licence(ctx):
    ids = seed(ctx, 2)
    ctx.settings.set(d.LICENCE_KEY, 1)
    d.activate(ctx.db, ctx.settings, ids[:1])
    assert d.deactivate(ctx.db, ids[:1]) == 1
    assert d.get_user(ctx.db, ids[0])["deactivated_by"] == "admin"
    d.activate(ctx.db, ctx.settings, ids[1:])
    with pytest.raises(UsageError, match="licence"):
        d.activate(ctx.db, ctx.settings, ids[:1])


def test_activate_all_pending_and_unknown_ids(ctx):
    seed(ctx, 4)
    assert d.activate(ctx.db, ctx.settings, all_pending=True, role="agent") == 4
    with pytest.raises(UsageError, match="No user with id 999"):
        d.activate(ctx.db, ctx.settings, [999])
    with pytest.raises(UsageError, match="Unknown EvalSync role"):
        d.activate(ctx.db, ctx.settings, all_pending=True, role="boss")


def test_add_user_validates_and_refuses_duplicates(ctx):
    uid = d.add_user(ctx.db, ctx.settings, d.NewUser(name="Ann", email="Ann@x.org", status="active", role="evaluator"))
    assert d.get_user(ctx.db, uid)["source"] == "manual"
    with pytest.raises(UsageError, match="already exists"):
        d.add_user(ctx.db, ctx.settings, d.NewUser(name="Ann 2", email="ann@X.org"))
    with pytest.raises(UsageError, match="not an e-mail"):
        d.add_user(ctx.db, ctx.settings, d.NewUser(name="Bob", email="bob@"))
    with pytest.raises(UsageError, match="name is required"):
        d.add_user(ctx.db, ctx.settings, d.NewUser(name=" ", email="c@x.org"))


def test_import_never_half_imports(ctx, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("name,email,identifier\nAnn,ann@x.org,A1\nBob,not-an-email,B2\nCy,,C3\n", encoding="utf-8")
    with pytest.raises(UsageError, match=r"bad.csv line 3: .*and 1 more problems.*nothing was imported"):
        d.import_csv(ctx.db, ctx.settings, bad)
    assert d.counts(ctx.db) == {"pending": 0, "active": 0, "deactivated": 0}
    good = tmp_path / "good.csv"
    good.write_text("Name;E-mail;Identifier\nAnn;ann@x.org;A1\nBob;bob@x.org;\n", encoding="utf-8")
    assert d.import_csv(ctx.db, ctx.settings, good) == d.ImportResult(added=2, skipped=0)
    assert d.import_csv(ctx.db, ctx.settings, good) == d.ImportResult(added=0, skipped=2)
    assert d.get_user(ctx.db, 1)["identifier"] == "A1"


def test_import_respects_licences(ctx, tmp_path):
    ctx.settings.set(d.LICENCE_KEY, 1)
    f = tmp_path / "two.csv"
    f.write_text("name,email\nAnn,ann@x.org\nBob,bob@x.org\n", encoding="utf-8")
    with pytest.raises(UsageError, match="licence"):
        d.import_csv(ctx.db, ctx.settings, f)
    assert d.counts(ctx.db)["active"] == 0


def test_export_view_is_formula_safe(ctx, tmp_path):
    d.add_user(ctx.db, ctx.settings, d.NewUser(name="=cmd|' /C calc'!A0", email="evil@x.org"))
    seed(ctx, 3)
    out = tmp_path / "out.csv"
    assert d.export_csv(ctx.db, out, d.View(status="pending", sort="name")) == 4
    with open(out, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0][:4] == ["id", "zendesk_id", "name", "email"]
    assert any(r[2].startswith("'=cmd") for r in rows[1:])


def test_list_users_json_shape(ctx):
    seed(ctx, 2)
    users = d.list_users(ctx.db, "pending")
    assert {"id", "zendesk_id", "name", "email", "status", "zendesk_role", "custom_role_id", "identifier",
            "updated_at"} <= set(users[0])
    assert d.list_users(ctx.db, "active") == []
