"""Run records: start/finish, history, CSV export, undo, interrupted runs, held deactivations."""

from __future__ import annotations

import os
import time

from evalsync_gui.core.sync import apply, state

RUN_COLUMNS = ("id", "started_at", "finished_at", "trigger", "mode", "status", "dry_run", "requests", "n_new",
               "n_updated", "n_deactivated", "n_held", "n_seen", "error", "undone_at")
# Columns a change record may name and undo may restore.
_UNDOABLE = {"name", "email", "zendesk_role", "custom_role_id", "identifier", "status", "flag",
             "deactivated_by", "deactivation_reason", "zendesk_id"}


def now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


# -- recording ---------------------------------------------------------------------------
def start_run(db, trigger: str, mode: str, dry_run: bool) -> int:
    with db.transaction() as conn:
        cur = conn.execute("INSERT INTO sync_runs (started_at, trigger, mode, status, dry_run, pid) "
                           "VALUES (?, ?, ?, 'running', ?, ?)", (now_iso(), trigger, mode, int(dry_run), os.getpid()))
        return int(cur.lastrowid)


def update_counts(conn, run_id: int, new: int, updated: int, seen: int, requests: int) -> None:
    conn.execute("UPDATE sync_runs SET n_new = ?, n_updated = ?, n_seen = n_seen + ?, requests = ? WHERE id = ?",
                 (new, updated, seen, requests, run_id))


def set_outcome(conn, run_id: int, new: int, updated: int, deactivated: int, held: int) -> None:
    conn.execute("UPDATE sync_runs SET n_new = ?, n_updated = ?, n_deactivated = ?, n_held = ? WHERE id = ?",
                 (new, updated, deactivated, held, run_id))


def finish_run(db, run_id: int, status: str, requests: int, error: str | None) -> None:
    with db.transaction() as conn:
        conn.execute("UPDATE sync_runs SET status = ?, finished_at = ?, requests = ?, error = ? WHERE id = ?",
                     (status, now_iso(), requests, error, run_id))


def mark_interrupted_runs(ctx) -> int:
    """Runs left 'running' by a crashed process become 'interrupted'. Call with the lock held."""
    with ctx.db.transaction() as conn:
        cur = conn.execute("UPDATE sync_runs SET status = 'interrupted', finished_at = ?, "
                           "error = coalesce(error, 'EvalSync stopped during this run; the next sync resumes it.') "
                           "WHERE status = 'running'", (now_iso(),))
        return cur.rowcount


# -- reading -----------------------------------------------------------------------------
def list_runs(ctx, limit: int = 50, offset: int = 0) -> list[dict]:
    """Newest first."""
    rows = ctx.db.query(f"SELECT {', '.join(RUN_COLUMNS)} FROM sync_runs ORDER BY id DESC LIMIT ? OFFSET ?",
                        (limit, offset))
    return [dict(r) for r in rows]


def get_run(ctx, run_id: int) -> dict:
    """One run with its ``changes`` (user name and e-mail included)."""
    from evalsync_gui.core.errors import UsageError

    rows = ctx.db.query(f"SELECT {', '.join(RUN_COLUMNS)} FROM sync_runs WHERE id = ?", (run_id,))
    if not rows:
        raise UsageError(f"There is no sync run {run_id}; see `evalsync runs list`.")
    run = dict(rows[0])
    run["changes"] = [dict(r) for r in ctx.db.query(
        "SELECT c.id, c.user_id, u.name, u.email, c.action, c.field, c.old_value, c.new_value, c.reason, c.reason_code, "
        "c.state, c.at "
        "FROM user_changes c LEFT JOIN users u ON u.id = c.user_id WHERE c.run_id = ? ORDER BY c.id", (run_id,))]
    return run


def export_runs_csv(ctx, path) -> None:
    """Every run and every change, one row per change (runs without changes get one row)."""
    from evalsync_gui.core import csvsafe  # formula-injection-safe cells

    header = [*RUN_COLUMNS, "change_user_id", "change_action", "change_field", "change_old", "change_new",
              "change_reason", "change_state"]
    rows = ctx.db.query(
        f"SELECT {', '.join('r.' + c for c in RUN_COLUMNS)}, c.user_id, c.action, c.field, c.old_value, c.new_value, "
        "c.reason, c.state FROM sync_runs r LEFT JOIN user_changes c ON c.run_id = r.id ORDER BY r.id, c.id")
    csvsafe.write_csv(path, header, (tuple(row) for row in rows), encoding="utf-8")


# -- held deactivations ------------------------------------------------------------------
def held_deactivations(ctx, run_id: int | None = None) -> list[dict]:
    """Held deactivations, one per person; ``reason_code`` is machine-readable (schema_reason_codes)."""
    sql = ("SELECT c.id, c.run_id, c.user_id, u.name, u.email, u.zendesk_id, c.old_value AS old_status, c.reason, "
           "c.reason_code FROM user_changes c JOIN users u ON u.id = c.user_id WHERE c.state = 'held'")
    params: tuple = ()
    if run_id is not None:
        sql += " AND c.run_id = ?"
        params = (run_id,)
    return [dict(r) for r in ctx.db.query(sql + " ORDER BY c.run_id, u.name", params)]


def allow_held(ctx, run_id: int) -> int:
    """Apply the run's held deactivations now; returns how many users were deactivated.

    Each held row is checked against the newest complete listing first: a user it returned
    and did not plan to deactivate is never deactivated (the row is discarded instead).
    """
    with ctx.db.transaction() as conn:
        conn.execute(_DISCARD_PRESENT, (run_id,))
        n = apply.apply_planned(conn, run_id, now_iso(), state="held")
        conn.execute("UPDATE sync_runs SET n_deactivated = n_deactivated + ? WHERE id = ?", (n, run_id))
        apply.supersede_held(conn, run_id)
        apply.refresh_held_runs(conn)
    return n


# The newest complete listing: a full run that got as far as the guard (completed or held, not
# a dry run). A user it marked seen and planned no deactivation for was there, fine; that
# listing outranks a held row of the same or an older run. Unlinked users are not the sync's.
_DISCARD_PRESENT = """
    WITH newest AS (SELECT max(id) AS run FROM sync_runs
                    WHERE mode = 'full' AND dry_run = 0 AND status IN ('completed', 'held'))
    UPDATE user_changes SET state = 'discarded'
    WHERE id IN (
        SELECT c.id FROM user_changes c JOIN users u ON u.id = c.user_id, newest n
        WHERE c.run_id = ?1 AND c.state = 'held' AND (
            u.zendesk_id IS NULL OR (
                n.run >= c.run_id AND u.last_seen_run = n.run AND NOT EXISTS (
                    SELECT 1 FROM user_changes d
                    WHERE d.run_id = n.run AND d.user_id = u.id AND d.action = 'deactivate'))))"""


def discard_held(ctx, run_id: int) -> int:
    """Keep the users; the held rows become 'discarded'. Returns how many were discarded."""
    with ctx.db.transaction() as conn:
        n = conn.execute("UPDATE user_changes SET state = 'discarded' WHERE run_id = ? AND state = 'held'",
                         (run_id,)).rowcount
        apply.refresh_held_runs(conn)
    return n


# -- undo --------------------------------------------------------------------------------
def undo_run(ctx, run_id: int) -> dict:
    """Reverse a run: renames back, deactivations reversed, imported users removed if still Pending.

    A field is put back only while it still holds the value this run wrote, so later
    edits (by a newer run or the admin) win. The run's held deactivations, and any held row of
    a user it removes, are discarded. The next sync is a full listing.
    """
    from evalsync_gui.core.errors import UsageError

    run = ctx.db.query("SELECT status, undone_at, dry_run FROM sync_runs WHERE id = ?", (run_id,))
    if not run:
        raise UsageError(f"There is no sync run {run_id}; see `evalsync runs list`.")
    status, undone_at, dry_run = run[0]
    if undone_at:
        raise UsageError(f"Sync run {run_id} was already undone.")
    if status == "running":
        raise UsageError(f"Sync run {run_id} is still running; wait for it to finish.")
    if dry_run:
        raise UsageError(f"Sync run {run_id} was a dry run: it changed nothing, so there is nothing to undo.")
    counts = {"removed": 0, "reverted": 0, "reactivated": 0, "kept": 0}
    now = now_iso()
    with ctx.db.transaction() as conn:
        active_before = _active(conn)
        changes = conn.execute("SELECT user_id, action, field, old_value, new_value FROM user_changes "
                               "WHERE run_id = ? AND state = 'applied' ORDER BY id DESC", (run_id,)).fetchall()
        for ch in changes:
            counts[_undo_one(conn, *ch, now)] += 1
        _check_licences(ctx, run_id, active_before, _active(conn))  # raising rolls the whole undo back
        conn.execute("UPDATE user_changes SET state = 'undone' WHERE run_id = ? AND state = 'applied'", (run_id,))
        conn.execute("UPDATE user_changes SET state = 'discarded' WHERE run_id = ? AND state IN ('held', 'planned')",
                     (run_id,))
        conn.execute("UPDATE sync_runs SET undone_at = ? WHERE id = ?", (now, run_id))
        apply.refresh_held_runs(conn)  # this run's held rows, and those of removed users, are gone
        state.forget_all(conn)
    return counts


def _active(conn) -> int:
    return conn.execute("SELECT count(*) FROM users WHERE status = 'active'").fetchone()[0]


def _check_licences(ctx, run_id: int, before: int, after: int) -> None:
    """Refuse an undo that would make more users active than the licence limit allows (users
    it reactivates held a licence before the run, but others may have taken them since)."""
    from evalsync_gui.core import directory
    from evalsync_gui.core.errors import UsageError

    limit = directory.licence_limit(ctx.settings)
    if after > before and after > limit:
        raise UsageError(f"Undoing run {run_id} would make {after - before:,} users active again: {after:,} licences "
                         f"but the limit is {limit:,} ({before:,} in use). Nothing was undone; deactivate users "
                         f"or {directory.RAISE_LIMIT_HINT}, then undo again.")


def _undo_one(conn, uid: int, action: str, column: str | None, old: str | None, new: str | None, now: str) -> str:
    """Undo one applied change; returns the ``undo_run`` count it adds to."""
    if action == "create":
        if not conn.execute("DELETE FROM users WHERE id = ? AND status = 'pending'", (uid,)).rowcount:
            return "kept"
        # Nothing of a removed user may stay held: the run would stay held with rows nobody can
        # see, and Allow would act on a user who is gone (ids are never reused: store.user_ids).
        conn.execute("UPDATE user_changes SET state = CASE state WHEN 'applied' THEN 'undone' ELSE 'discarded' END "
                     "WHERE user_id = ? AND state IN ('applied', 'held')", (uid,))
        return "removed"
    if action == "deactivate":
        cur = conn.execute("UPDATE users SET status = ?, deactivated_by = NULL, deactivation_reason = NULL, "
                           "updated_at = ? WHERE id = ? AND status = 'deactivated' AND deactivated_by = 'sync'",
                           (old or "pending", now, uid))
        return "reactivated" if cur.rowcount else "kept"
    if column not in _UNDOABLE:
        return "kept"
    # A return's three rows (status, flag, deactivated_by) go back together, only while the user
    # is still Pending as the run left them: an admin's activation also clears deactivated_by.
    clause = " AND status = 'pending'" if action == "return" else ""
    cur = conn.execute(f"UPDATE users SET {column} = ?, updated_at = ? WHERE id = ? AND {column} IS ?{clause}",
                       (old, now, uid, new))
    return "reverted" if cur.rowcount else "kept"
