"""The fault matrix at the level an admin sees: a whole sync run against the simulator.

For every fault the run ends 'completed' or 'failed' with a one-line reason that says what
to do, the database stays consistent, nobody is deactivated after a failed read, and the
error is in the run history (sync_runs.error) and in the log.
"""

from __future__ import annotations

import logging

import pytest

from evalsync_gui.core.errors import EvalsyncError

from .helpers import assert_one_line
from .syncenv import make_env

PERSISTENT = ["500", "502", "503", "504", "malformed", "truncated", "cut", "html200", "drop", "429"]


@pytest.fixture
def env(tmp_path):
    e = make_env(tmp_path)
    yield e
    e.ctx.db.close()
    e.sim.stop()


def _baseline_then_delete(env, n: int = 3) -> list[int]:
    """A clean first sync, then ``n`` agents deleted in Zendesk: a complete read would deactivate them."""
    first = env.sync()
    assert first.status == "completed", first.error
    gone = env.sim.ids("agent")[:n]
    for uid in gone:
        env.sim.delete(uid)
    return gone


def _check_failed_run(env, result, before_deactivated: int) -> str:
    assert result.status == "failed", result
    text = result.error or ""
    assert text and "\n" not in text and len(text) < 600
    assert env.sim.api_token not in text
    assert env.deactivated() == before_deactivated, "someone was deactivated after a failed read"
    status, error = env.rows("SELECT status, error FROM sync_runs WHERE id = ?", (result.run_id,))[0]
    assert (status, error) == ("failed", text)
    env.consistent()
    return text


@pytest.mark.parametrize("kind", PERSISTENT)
def test_persistent_fault_mid_listing_fails_cleanly(env, kind):
    _baseline_then_delete(env)
    before = env.deactivated()
    env.sim.faults.add("/api/v2/users", kind, times=10_000, after=1, retry_after=1)
    result = env.sync(full=True)
    text = _check_failed_run(env, result, before)
    assert "try again" in text.lower() or "retry" in text.lower()


@pytest.mark.parametrize("kind", PERSISTENT)
def test_transient_fault_mid_listing_completes(env, kind):
    gone = _baseline_then_delete(env)
    before = env.deactivated()
    env.sim.faults.add("/api/v2/users", kind, times=1, after=1, retry_after=1)
    result = env.sync(full=True)
    assert result.status == "completed", result.error
    # Exactly the deleted agents, nobody else (a retried page must not make anyone look absent).
    assert env.deactivated() == before + len(gone) and result.deactivated == len(gone)
    rows = env.rows("SELECT zendesk_id FROM users WHERE status = 'deactivated' AND zendesk_id IN (%s)"
                    % ",".join("?" * len(gone)), tuple(gone))
    assert sorted(r[0] for r in rows) == sorted(gone)
    env.consistent()


def test_timeout_mid_listing(env):
    _baseline_then_delete(env)
    before = env.deactivated()
    env.sim.faults.add("/api/v2/users", "timeout", times=10_000, after=1, delay=1.0)
    result = env.sync(full=True, client=env.client(timeout=0.3))
    _check_failed_run(env, result, before)


def test_revoked_token_fails_and_asks_to_authenticate_again(env):
    _baseline_then_delete(env)
    before = env.deactivated()
    token = env.sim.add_api_token(env.sim.admin_email)
    env.sim.revoke_api_token(token)
    from evalsync_gui.core.zendesk.http import ApiTokenAuth, ZendeskHttp

    client = ZendeskHttp(env.sim.base_url, ApiTokenAuth(env.sim.admin_email, token), sleep=lambda s: None)
    result = env.sync(full=True, client=client)
    text = _check_failed_run(env, result, before)
    assert "authenticate again" in text and token not in text
    assert result.exit_code == 4


def test_error_is_written_to_the_log(env, caplog):
    _baseline_then_delete(env)
    env.sim.faults.add("/api/v2/users", "500", times=10_000)
    with caplog.at_level(logging.INFO):
        result = env.sync(full=True)
    assert result.status == "failed"
    logged = [r for r in caplog.records if r.levelno >= logging.WARNING and result.error in r.getMessage()]
    assert logged, "a failed run's error is stored but never logged"


def test_weird_users_are_stored_safely(env):
    """10,000-char names, RTL text, emoji, nulls, wrong types, missing fields."""
    store = env.sim.store
    # Agents with a paid seat: light agents, contributors and chat-only agents are not imported by "agent".
    ids = [uid for uid in env.sim.ids("agent")
           if store.users[uid].get("role_type") in (None, 0) and store.users[uid].get("chat_only") is not True][:12]
    weird = [
        {"name": "N" * 10_000},
        {"name": "\u0645\u062d\u0645\u062f \u0627\u0644\u0639\u0644\u064a \u202e evil"},
        {"name": "Zoë 👩🏽‍💻🚀 \u0000 null-byte"},
        {"name": None},
        {"email": None},
        {"name": 12345},
        {"email": ["not", "a", "string"]},
        {"role": None},
        {"active": "yes"},
        {"updated_at": None},
        {"custom_role_id": "seven"},
        {"external_id": {"nested": True}},
    ]
    with store.lock:
        for uid, change in zip(ids, weird):
            store.users[uid].update(change)
            store._frag.pop(uid, None)
        store.users[ids[-1]].pop("email", None)  # a missing field too
        store._frag.pop(ids[-1], None)
    result = env.sync(full=True)
    # Every entry has a usable id, so every one is stored, its odd fields read the safe way.
    assert result.status == "completed", result.error
    env.consistent()
    stored = {r[0]: r[1:] for r in env.rows("SELECT zendesk_id, name, email, status FROM users "
                                            "WHERE zendesk_id IS NOT NULL")}
    assert set(ids) - set(stored) == {ids[7]}  # "role": null is no agent: not imported
    assert stored[ids[0]][0] == "N" * 10_000
    assert stored[ids[1]][0].startswith("\u0645")
    assert "\x00" not in stored[ids[2]][0] and stored[ids[2]][0].startswith("Zoë")
    assert stored[ids[5]][0] == "12345" and stored[ids[6]][1] is None
    assert all(stored[uid][2] != "deactivated" for uid in ids if uid != ids[7])  # "active": "yes" is not a deletion


def test_same_user_on_two_pages_is_stored_once(env, monkeypatch):
    """Zendesk can return a user again on the next page (it changed during the listing)."""
    import httpx

    real_send = httpx.Client.send
    state = {"first": None, "n": 0}

    def send(self, request, **kw):
        response = real_send(self, request, **kw)
        if request.url.path == "/api/v2/users.json" and response.status_code == 200:
            state["n"] += 1
            data = response.json()
            if state["n"] == 1:
                state["first"] = data["users"][-1]
            elif state["n"] == 2 and state["first"]:
                data["users"].insert(0, state["first"])
                return httpx.Response(200, json=data, request=request)
        return response

    monkeypatch.setattr(httpx.Client, "send", send)
    result = env.sync()
    assert result.status == "completed", result.error
    env.consistent()
    assert len(env.directory()) == result.new


def test_repeating_cursor_stops_instead_of_looping(env, monkeypatch):
    """A next link that points back at a page already read must end the run, not spin forever."""
    import httpx

    real_send = httpx.Client.send
    seen = {"first_next": None, "calls": 0}

    def send(self, request, **kw):
        response = real_send(self, request, **kw)
        if request.url.path == "/api/v2/users.json" and response.status_code == 200:
            seen["calls"] += 1
            if seen["calls"] > 50:
                raise RuntimeError("looping on a repeated cursor")
            data = response.json()
            if seen["first_next"] is None:
                seen["first_next"] = data["links"]["next"]
            else:  # every later page sends the reader back to page 2
                data["links"]["next"] = seen["first_next"]
                data["meta"]["has_more"] = True
            return httpx.Response(200, json=data, request=request)
        return response

    monkeypatch.setattr(httpx.Client, "send", send)
    result = env.sync()
    assert result.status == "failed" and "\n" not in result.error
    assert seen["calls"] <= 5
    env.consistent()


def test_full_disk_during_a_sync(env):
    """SQLITE_FULL part-way (PRAGMA max_page_count on the run's own connection)."""
    from evalsync_gui.core.errors import StoreError

    _baseline_then_delete(env)
    before = env.deactivated()
    for uid in env.sim.ids("agent")[:200]:
        env.sim.rename(uid, "R" * 2000)  # enough new text to overflow the few free pages
    conn = env.ctx.db.connect()
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages + 5}")
    try:
        result = env.sync(full=True)
        assert result.status == "failed" and "full" in result.error, result
    except StoreError as exc:  # the run could not even record its failure: the disk is full
        assert "full" in assert_one_line(exc)
    conn.execute("PRAGMA max_page_count = 1073741823")
    assert env.deactivated() == before
    env.consistent()
    again = env.sync(full=True)  # space freed: the retry path works
    assert again.status == "completed", again.error
    statuses = [s for (s,) in env.rows("SELECT status FROM sync_runs ORDER BY id")]
    assert "running" not in statuses


def test_database_locked_by_another_process_during_a_sync(env, monkeypatch):
    import subprocess
    import sys
    import textwrap

    from evalsync_gui.core.errors import StoreError
    from evalsync_gui.core.store import db as dbmod

    _baseline_then_delete(env)
    before = env.deactivated()
    env.ctx.db.close()
    monkeypatch.setattr(dbmod, "BUSY_TIMEOUT_MS", 200)
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sqlite3, time
        c = sqlite3.connect({str(env.db_path)!r}, isolation_level=None)
        c.execute("BEGIN EXCLUSIVE"); print("locked", flush=True); time.sleep(2); c.execute("ROLLBACK")
    """)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        try:
            result = env.sync(full=True)
            assert result.status == "failed" and "busy" in result.error, result
        except StoreError as exc:
            assert "busy" in assert_one_line(exc) and "try again" in str(exc)
    finally:
        holder.wait(timeout=10)
    env.ctx.db.close()
    monkeypatch.setattr(dbmod, "BUSY_TIMEOUT_MS", 5000)
    assert env.deactivated() == before
    env.consistent()
    assert env.sync(full=True).status == "completed"
