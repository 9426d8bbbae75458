"""Hypothesis throws Zendesk answers of any shape at the client and the sync engine, and
typed input of any shape at the CSV importers and the CLI.

The promise: the only exceptions that escape are EvalSync's own, each one readable line, and
the database stays consistent.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from evalsync_gui.core.errors import EvalsyncError
from evalsync_gui.core.zendesk.http import ApiTokenAuth, RetryPolicy, ZendeskHttp

from .helpers import assert_one_line, integrity_ok, no_duplicate_zendesk_users

BASE = "https://abc-energy.zendesk.com"
TOKEN = "tok-FUZZ-0123456789"
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))

json_scalars = st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=False) | st.text(max_size=40)
json_values = st.recursive(json_scalars, lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=12), c, max_size=4),
                           max_leaves=12)

header_values = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=20)
headers = st.dictionaries(st.sampled_from(["Retry-After", "X-Rate-Limit-Remaining", "ratelimit-reset",
                                           "ratelimit-remaining", "Content-Type", "X-Other"]), header_values, max_size=4)
bodies = st.one_of(json_values.map(lambda v: json.dumps(v).encode()), st.binary(max_size=200),
                   st.just(b"<html><body>Sign in</body></html>"), st.just(b'{"users": ['))


@FUZZ
@given(status=st.sampled_from([200, 201, 204, 301, 400, 401, 403, 404, 409, 422, 429, 500, 502, 503, 504, 599]),
       hdrs=headers, body=bodies)
def test_client_answers_or_raises_its_own_error(status, hdrs, body):
    slept: list[float] = []
    policy = RetryPolicy(max_attempts=3, backoff_max=2, rate_limit_budget=10)
    c = ZendeskHttp(BASE, ApiTokenAuth("a@b.c", TOKEN), sleep=slept.append, retry=policy,
                    transport=httpx.MockTransport(lambda r: httpx.Response(status, headers=hdrs, content=body)))
    try:
        c.get("/api/v2/users.json")
    except EvalsyncError as exc:
        assert_one_line(exc, secrets=(TOKEN,))
    # every wait is bounded: retries by the backoff cap, 429s and pacing by the budget (+ one window)
    assert sum(slept) <= policy.max_attempts * policy.backoff_max + policy.rate_limit_budget + 60


# -- the engine ---------------------------------------------------------------------------

def _user_objects():
    good_id = st.integers(1, 50)
    base = st.fixed_dictionaries({
        "id": good_id | json_scalars,
        "name": st.text(max_size=60) | json_scalars,
        "email": st.emails() | json_scalars,
        "role": st.sampled_from(["agent", "admin", "end-user"]) | json_scalars,
        "active": st.booleans() | json_scalars,
        "suspended": st.booleans() | json_scalars,
        "custom_role_id": st.none() | st.integers(1, 5) | json_scalars,
        "updated_at": st.just("2026-01-01T00:00:00Z") | json_scalars,
        "external_id": st.none() | st.text(max_size=10) | json_scalars,
        "user_fields": st.dictionaries(st.text(max_size=5), json_scalars, max_size=2) | json_scalars,
    })
    # sometimes drop fields, sometimes the object is not an object at all
    return st.one_of(base.flatmap(lambda d: st.sets(st.sampled_from(sorted(d)), max_size=3).map(
        lambda drop: {k: v for k, v in d.items() if k not in drop})), json_scalars)


pages = st.lists(
    st.one_of(
        st.fixed_dictionaries({"users": st.lists(_user_objects(), max_size=6),
                               "meta": st.fixed_dictionaries({"has_more": st.booleans() | json_scalars}),
                               "links": st.fixed_dictionaries({"next": st.just("NEXT") | json_scalars})}),
        json_values),
    min_size=1, max_size=3)


def _serve(pages_: list):
    """Page i links to page i+1 on this origin (the placeholder NEXT), the last one is empty."""
    def handler(request: httpx.Request) -> httpx.Response:
        i = int(request.url.params.get("page[after]", "0") or 0)
        if i >= len(pages_):
            return httpx.Response(200, json={"users": [], "meta": {"has_more": False}, "links": {"next": None}})
        body = json.loads(json.dumps(pages_[i]))
        if isinstance(body, dict) and isinstance(body.get("links"), dict) and body["links"].get("next") == "NEXT":
            body["links"]["next"] = f"{BASE}/api/v2/users.json?page%5Bafter%5D={i + 1}&page%5Bsize%5D=100"
        return httpx.Response(200, json=body)
    return handler


def test_engine_survives_any_page_shape():
    """Run the whole sync on generated pages; collect escapes instead of failing fast, so that
    a known engine bug (reported, being fixed) does not hide the other promises."""
    from evalsync_gui.core.context import AppContext
    from evalsync_gui.core.sync.config import SyncConfig, save_config
    from evalsync_gui.core.sync.runner import run_sync

    escaped: list[str] = []

    @FUZZ
    @given(pages_=pages)
    def one(pages_):
        with tempfile.TemporaryDirectory() as d:
            ctx = AppContext.create(Path(d) / "data")
            ctx.extras["sync_is_admin"] = False
            save_config(ctx, SyncConfig(roles=["agent", "admin"]))
            client = ZendeskHttp(BASE, ApiTokenAuth("a@b.c", TOKEN), sleep=lambda s: None,
                                 retry=RetryPolicy(max_attempts=2), transport=httpx.MockTransport(_serve(pages_)))
            try:
                result = run_sync(ctx, client=client)
            except EvalsyncError as exc:
                assert_one_line(exc, secrets=(TOKEN,))
                result = None
            except Exception as exc:  # noqa: BLE001
                escaped.append(f"{type(exc).__name__}: {exc}")
                result = None
            if result is not None:
                assert result.status in ("completed", "failed", "held")
                if result.error:
                    assert "\n" not in result.error
            path = ctx.db.path
            ctx.db.close()
            integrity_ok(path)  # consistent even when something escaped
            no_duplicate_zendesk_users(path)

    one()
    assert not escaped, (f"core/sync lets non-EvalSync exceptions escape run_sync on malformed user pages "
                         f"({len(escaped)} cases, e.g. {sorted(set(escaped))[:3]})")


# -- CSV files and typed input ------------------------------------------------------------

csv_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300)


@FUZZ
@given(text=csv_text)
def test_users_csv_import_any_file(text):
    from evalsync_gui.core import directory
    from evalsync_gui.core.context import AppContext

    with tempfile.TemporaryDirectory() as d:
        ctx = AppContext.create(Path(d) / "data")
        f = Path(d) / "users.csv"
        f.write_text("name,email\n" + text, encoding="utf-8")
        before = ctx.db.scalar("SELECT COUNT(*) FROM users")
        try:
            directory.import_csv(ctx.db, ctx.settings, f)
        except EvalsyncError as exc:
            assert_one_line(exc)
            assert ctx.db.scalar("SELECT COUNT(*) FROM users") == before  # never half-imported
        path = ctx.db.path
        ctx.db.close()
        integrity_ok(path)


@FUZZ
@given(text=csv_text)
def test_chat_requests_csv_import_any_file(text):
    import evalsync_gui.core.chat.requests as requests_mod
    from evalsync_gui.core.context import AppContext

    with tempfile.TemporaryDirectory() as d:
        ctx = AppContext.create(Path(d) / "data")
        f = Path(d) / "chat.csv"
        f.write_text("Timestamp,Email Address,Email of user requiring access,First name,Last name\n" + text, encoding="utf-8")
        before = ctx.db.scalar("SELECT COUNT(*) FROM chat_requests")
        try:
            requests_mod.import_csv(ctx.db, f)
        except EvalsyncError as exc:
            assert_one_line(exc)
            assert ctx.db.scalar("SELECT COUNT(*) FROM chat_requests") == before
        path = ctx.db.path
        ctx.db.close()
        integrity_ok(path)


typed = st.text(max_size=80) | st.sampled_from(["", " ", "-", "--", "'; DROP TABLE users; --", "\x00", "é" * 300,
                                                "=1+1", "../../etc/passwd", "%s%n", "a" * 10_000])


@FUZZ
@given(name=typed, email=typed, identifier=typed, team=typed)
def test_add_user_any_typed_fields(name, email, identifier, team):
    from evalsync_gui.core import directory
    from evalsync_gui.core.context import AppContext

    with tempfile.TemporaryDirectory() as d:
        ctx = AppContext.create(Path(d) / "data")
        try:
            directory.add_user(ctx.db, ctx.settings, directory.NewUser(name=name, email=email, identifier=identifier,
                                                                       team=team))
        except EvalsyncError as exc:
            assert_one_line(exc)
        assert ctx.db.scalar("SELECT COUNT(*) FROM sqlite_master WHERE name = 'users'") == 1
        path = ctx.db.path
        ctx.db.close()
        integrity_ok(path)


@FUZZ
@given(text=typed)
def test_chat_request_any_typed_fields(text):
    import evalsync_gui.core.chat.requests as requests_mod
    from evalsync_gui.core.context import AppContext

    with tempfile.TemporaryDirectory() as d:
        ctx = AppContext.create(Path(d) / "data")
        try:
            requests_mod.add_request(ctx.db, requester=text, email=text, first_name=text, last_name=text)
        except EvalsyncError as exc:
            assert_one_line(exc)
        path = ctx.db.path
        ctx.db.close()
        integrity_ok(path)


CLI_COMMANDS = [["configure", "--roles"], ["configure", "--identifier"], ["configure", "--deactivation-limit"],
                ["configure", "--interval-hours"], ["runs", "show"], ["runs", "list", "--limit"],
                ["users", "import"], ["chat", "log", "--csv"]]


def test_cli_any_argument_value(capsys):
    """Every CLI value a user can type: an exit code and a message, never a traceback."""
    import os

    from evalsync_gui import cli

    escaped: list[str] = []

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    @given(cmd=st.sampled_from(CLI_COMMANDS), value=typed)
    def one(cmd, value):
        assume("\x00" not in value)
        with tempfile.TemporaryDirectory() as d:
            old = os.getcwd()
            os.chdir(d)  # relative output files land here, not in the checkout
            try:
                code = cli.main(["--data-dir", str(Path(d) / "data"), *cmd, value])
            except SystemExit as exc:  # argparse rejects it: exit 2 with usage on stderr
                code = exc.code
            except Exception as exc:  # noqa: BLE001
                escaped.append(f"{' '.join(cmd)} {value[:20]!r}: {type(exc).__name__}: {str(exc)[:80]}")
                return
            finally:
                os.chdir(old)
            out = capsys.readouterr()
            assert code in (0, 1, 2, 3, 4, 5, 6), (cmd, value, code)
            assert "Traceback" not in out.err and "Traceback" not in out.out

    one()
    assert not escaped, f"exceptions escaped the CLI: {sorted(set(escaped))[:3]}"
