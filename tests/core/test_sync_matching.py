"""Issue 15, defects 6 and 9: how a Zendesk user finds the hand-made (or CSV) row it is.

* With the identifier ``external_id``, a Zendesk user without one is matched by e-mail.
* E-mail matching folds case the same way everywhere (SQL and Python, any script), so
  ``ÉMILE@X.TEST`` and ``émile@x.test`` are one person: in the sync, in "add user" and in
  the CSV import.
"""

from __future__ import annotations

import pytest

from evalsync_gui.core import directory as d
from evalsync_gui.core.errors import UsageError
from evalsync_gui.core.sync.config import SyncConfig, save_config
from evalsync_gui.core.sync.runner import run_sync
from tests.core.sync_fake import FakeZendesk, client_for


def hand_made(ctx, name: str, email: str, identifier: str | None = None) -> int:
    with ctx.db.transaction() as conn:
        return conn.execute("INSERT INTO users (name, email, identifier, status, source) VALUES (?, ?, ?, 'active', "
                            "'manual')", (name, email, identifier)).lastrowid


def setup(ctx, identifier: str = "default"):
    ctx.extras["sync_is_admin"] = False
    save_config(ctx, SyncConfig(roles=["agent"], identifier=identifier))
    return FakeZendesk()


def rows(ctx) -> list[dict]:
    return [dict(r) for r in ctx.db.query("SELECT id, zendesk_id, name, email, status, identifier FROM users ORDER BY id")]


def test_external_id_mode_matches_users_without_one_by_email(ctx):
    fz = setup(ctx, "external_id")
    ann = hand_made(ctx, "Ann", "ann@x.test")
    bob = hand_made(ctx, "Bob", "bob@x.test", identifier="EMP-2")
    zann = fz.add("Ann Z", "Ann@X.test")  # no external_id in Zendesk
    zbob = fz.add("Bob Z", "other@x.test", external_id="EMP-2")
    r = run_sync(ctx, client=client_for(fz))
    assert r.status == "completed" and r.new == 0, r
    got = {row["id"]: row["zendesk_id"] for row in rows(ctx)}
    assert got == {ann: zann, bob: zbob}


def test_external_id_mode_does_not_match_by_email_when_the_ids_differ(ctx):
    fz = setup(ctx, "external_id")
    hand_made(ctx, "Cy", "cy@x.test", identifier="EMP-3")
    fz.add("Cy Z", "cy@x.test", external_id="EMP-9")
    assert run_sync(ctx, client=client_for(fz)).new == 1
    assert [r["zendesk_id"] is None for r in rows(ctx)] == [True, False]


@pytest.mark.parametrize("local,remote", [("ÉMILE@X.TEST", "Émile@x.test"), ("émile@x.test", "ÉMILE@X.TEST"),
                                          ("STRASSE@x.test", "strasse@X.TEST"), ("ΣΟΦΊΑ@x.test", "σοφία@x.test")])
def test_email_match_folds_non_ascii_case(ctx, local, remote):
    fz = setup(ctx)
    mine = hand_made(ctx, "Émile", local)
    zid = fz.add("Émile Z", remote)
    r = run_sync(ctx, client=client_for(fz))
    assert (r.status, r.new) == ("completed", 0), r
    assert [(row["id"], row["zendesk_id"]) for row in rows(ctx)] == [(mine, zid)]


def test_add_user_refuses_an_email_that_differs_only_in_non_ascii_case(ctx):
    d.add_user(ctx.db, ctx.settings, d.NewUser("Émile", "ÉMILE@X.TEST"))
    with pytest.raises(UsageError, match="already exists"):
        d.add_user(ctx.db, ctx.settings, d.NewUser("Émile 2", "émile@x.test"))


def test_csv_import_skips_and_refuses_non_ascii_case_twins(ctx):
    d.add_user(ctx.db, ctx.settings, d.NewUser("Émile", "ÉMILE@X.TEST"))
    result = d.import_rows(ctx.db, ctx.settings, [{"name": "E", "email": "émile@x.test"},
                                                  {"name": "Z", "email": "zoë@x.test"}])
    assert (result.added, result.skipped) == (1, 1)
    with pytest.raises(UsageError, match="twice"):
        d.import_rows(ctx.db, ctx.settings, [{"name": "A", "email": "ÅSA@x.test"}, {"name": "B", "email": "åsa@x.test"}])
