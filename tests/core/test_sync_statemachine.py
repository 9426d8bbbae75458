"""Hypothesis state machine: random Zendesk changes and syncs, invariants after each step."""

from __future__ import annotations

import tempfile

from hypothesis import settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from evalsync_gui.core.context import AppContext
from evalsync_gui.core.sync.config import SyncConfig, save_config
from evalsync_gui.core.sync.runner import run_sync
from tests.core.sync_fake import FakeZendesk, client_for


class SyncMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.ctx = AppContext.create(tempfile.mkdtemp())
        self.ctx.extras["sync_is_admin"] = True
        save_config(self.ctx, SyncConfig(roles=["agent", "admin"]))
        with self.ctx.db.transaction() as conn:
            conn.execute("INSERT INTO users (name, email, status, source) VALUES ('Hand', 'hand@x.test', 'active', 'manual')")
        self.fz = FakeZendesk()
        self.fz.seeding = False
        for i in range(3):
            self.fz.add(f"U{i}", f"u{i}@x.test")
        self.synced = False
        self.n = 10

    def teardown(self) -> None:
        self.ctx.db.close()

    def _pick(self, i: int) -> int:
        ids = sorted(self.fz.users)
        return ids[i % len(ids)]

    @rule(role=st.sampled_from(["agent", "admin", "end-user"]))
    def add(self, role):
        self.n += 1
        self.fz.add(f"N{self.n}", f"n{self.n}@x.test", role=role)

    @rule(i=st.integers(0, 50))
    def rename(self, i):
        self.fz.touch(self._pick(i), name=f"R{i}")

    @rule(i=st.integers(0, 50))
    def set_email(self, i):
        self.n += 1
        self.fz.touch(self._pick(i), email=f"m{self.n}@x.test")

    @rule(i=st.integers(0, 50), role=st.sampled_from(["agent", "admin", "end-user"]))
    def change_role(self, i, role):
        self.fz.touch(self._pick(i), role=role)

    @rule(i=st.integers(0, 50), on=st.booleans())
    def suspend(self, i, on):
        self.fz.touch(self._pick(i), suspended=on)

    @rule(i=st.integers(0, 50), active=st.booleans())
    def delete_or_restore(self, i, active):
        self.fz.touch(self._pick(i), active=active)

    @rule(full=st.booleans())
    def sync(self, full):
        r = run_sync(self.ctx, client=client_for(self.fz), full=full, allow_deactivations=True)
        assert r.status == "completed", r.error
        self.synced = True
        in_scope = {uid for uid, u in self.fz.users.items()
                    if u["active"] and not u["suspended"] and u["role"] in ("agent", "admin")}
        local = {r["zendesk_id"]: r["status"] for r in self.ctx.db.query(
            "SELECT zendesk_id, status FROM users WHERE zendesk_id IS NOT NULL")}
        assert in_scope <= set(local)
        for uid, status in local.items():
            if status != "deactivated":
                assert uid in in_scope

    @precondition(lambda self: self.synced)
    @rule()
    def partial_sync(self):
        before = self.ctx.db.query("SELECT id, status FROM users ORDER BY id")
        self.fz.fail_after = len(self.fz.requests)
        try:
            r = run_sync(self.ctx, client=client_for(self.fz), full=True, allow_deactivations=True)
        finally:
            self.fz.fail_after = None
        assert r.status == "failed"
        after = {row["id"]: row["status"] for row in self.ctx.db.query("SELECT id, status FROM users")}
        for row in before:
            if row["status"] != "deactivated":
                assert after[row["id"]] != "deactivated"

    @invariant()
    def no_duplicates_and_hand_made_untouched(self):
        dup = self.ctx.db.scalar("SELECT count(*) - count(DISTINCT zendesk_id) FROM users WHERE zendesk_id IS NOT NULL")
        assert dup == 0
        hand = self.ctx.db.query("SELECT status, zendesk_id FROM users WHERE source = 'manual'")
        assert [tuple(h) for h in hand] == [("active", None)]


SyncMachine.TestCase.settings = settings(max_examples=25, stateful_step_count=15, deadline=None)
TestSyncMachine = SyncMachine.TestCase
