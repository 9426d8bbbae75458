"""The simulator: a real HTTP/1.1 server on loopback speaking Zendesk's wire formats.

Pipeline per request: latency -> fault injection -> rate limit -> authentication ->
scope check -> endpoint. Everything is logged to ``request_log`` (status 0 = no answer).
"""

from __future__ import annotations

import base64
import gc
import gzip
import logging
import re
import secrets
import select
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from evalsync_gui.sim import routes_chat as rc
from evalsync_gui.sim import routes_chat_oauth as rco
from evalsync_gui.sim import routes_oauth as ro
from evalsync_gui.sim import routes_users as ru
from evalsync_gui.sim.chat import ChatAgents, SupportChatView
from evalsync_gui.sim.clock import Clock
from evalsync_gui.sim.config import SimConfig
from evalsync_gui.sim.faults import Fault, FaultPlan
from evalsync_gui.sim.limits import RateLimiter
from evalsync_gui.sim.oauth import OAuthClient, OAuthState
from evalsync_gui.sim.org import seed_org
from evalsync_gui.sim.store import UserStore
from evalsync_gui.sim.wire import HttpError, Principal, Request, Response, error, json_response

log = logging.getLogger("evalsync.sim")
CLIENT_ID = "evalsync-desktop"
CHAT_CLIENT_ID = "evalsync-chat"
INVALID_TOKEN = {"error": "invalid_token", "error_description": "The access token provided is expired, revoked, "
                                                                "malformed or invalid for other reasons."}
BASIC_401 = {"error": "Couldn't authenticate you"}

Handler = Callable[..., Response]
_ROUTES: list[tuple[str, re.Pattern[str], Handler]] = [
    (m, re.compile(p + r"$"), h) for m, p, h in (
        ("GET", r"/api/v2/users", ru.list_users),
        ("POST", r"/api/v2/users", ru.create_user),
        ("GET", r"/api/v2/users/me", ru.me),
        ("GET", r"/api/v2/users/count", ru.count_users),
        ("GET", r"/api/v2/users/show_many", ru.show_many),
        ("GET", r"/api/v2/users/search", ru.search_users),
        ("GET", r"/api/v2/users/(\d+)", ru.show_user),
        ("PUT", r"/api/v2/users/(\d+)", ru.update_user),
        ("DELETE", r"/api/v2/users/(\d+)", ru.delete_user),
        ("GET", r"/api/v2/user_fields", ru.user_fields),
        ("GET", r"/api/v2/users/(\d+)/entitlements/full", rc.entitlements_full),
        ("GET", r"/api/v2/custom_roles", ru.custom_roles),
        ("GET", r"/api/v2/custom_roles/(\d+)", ru.custom_role),
        ("GET", r"/api/v2/incremental/users/cursor", ru.export_cursor),
        ("GET", r"/api/v2/incremental/users", ru.export_time),
        ("GET", r"/api/v2/oauth/tokens/current", ro.current_token),
        ("DELETE", r"/api/v2/oauth/tokens/current", ro.revoke_current),
        ("GET", r"/api/v2/chat/agents", rc.list_agents),
        ("POST", r"/api/v2/chat/agents", rc.create_agent),
        ("GET", r"/api/v2/chat/agents/me", rc.get_me),
        ("GET", r"/api/v2/chat/agents/email/([^/]+)", rc.by_email),
        ("GET", r"/api/v2/chat/agents/(\d+)", rc.get_agent),
        ("PUT", r"/api/v2/chat/agents/(\d+)", rc.update_agent),
        ("DELETE", r"/api/v2/chat/agents/(\d+)", rc.delete_agent),
        ("GET", r"/oauth/authorizations/new", ro.authorize),
        ("POST", r"/oauth/authorizations", ro.decide),
        ("POST", r"/oauth/tokens", ro.token),
        ("GET", r"/oauth2(?:/chat)?/authorizations/new", rco.authorize),
        ("POST", r"/oauth2(?:/chat)?/token", rco.token),
        ("POST", r"/_sim/admin-center/users/(\d+)/chat", rc.admin_center_chat),
    )
]
# Paths anyone may call without credentials (OAuth itself) and paths any valid token may call.
_PUBLIC = ("/oauth/", "/oauth2/", "/_sim/")
_CHAT = "/api/v2/chat/"
_NO_SCOPE = ("/api/v2/users/me", "/api/v2/oauth/tokens/current")


class Simulator:
    """A simulated Zendesk account served over HTTP on 127.0.0.1 (see SimConfig)."""

    def __init__(self, config: SimConfig | None = None, **overrides: Any) -> None:
        self.config = config or SimConfig(**overrides)
        cfg = self.config
        self.clock = Clock()
        self._server = _Server((cfg.host, cfg.port), _Handler)
        self._server.sim = self
        self.port: int = self._server.server_address[1]
        self.base_url = f"http://{cfg.host}:{self.port}"
        gc_was_on = gc.isenabled()
        gc.disable()  # hundreds of thousands of new dicts: the cyclic GC would rescan them again and again
        try:
            org = seed_org(cfg, self.base_url, self.clock.now())
            self.store = UserStore(org, self.base_url, self.clock.now)
        finally:
            if gc_was_on:
                gc.enable()
        self.chat: Any = (ChatAgents(org.chat_agents, self.clock.now) if cfg.chat_kind == "writable"
                          else SupportChatView(self.store, org.owner_id))
        self.limiter = RateLimiter(self.clock.now, cfg.rate_limit_per_minute, cfg.incremental_per_minute,
                                   cfg.chat_per_minute)
        self.faults = FaultPlan()
        self.oauth = OAuthState(self.clock.now, cfg.access_token_ttl, cfg.refresh_token_ttl)
        strict = cfg.support_redirect_uris is not None
        self.oauth.register(OAuthClient(CLIENT_ID, redirect_uris=tuple(cfg.support_redirect_uris or ()), strict=strict))
        self.oauth_client_id = CLIENT_ID
        # The Chat API's own OAuth server and client (Chat dashboard > Settings > Account > API).
        self.chat_oauth = OAuthState(self.clock.now, cfg.access_token_ttl, cfg.refresh_token_ttl)
        self.chat_client_id = CHAT_CLIENT_ID
        self.chat_client_secret = secrets.token_urlsafe(24)
        self.chat_oauth.register(OAuthClient(CHAT_CLIENT_ID, kind=cfg.chat_client_kind, secret=self.chat_client_secret,
                                             redirect_uris=cfg.chat_redirect_uris, name="EvalSync Chat",
                                             strict=True, owner_id=org.owner_id))
        self._api_tokens: dict[str, str] = {}
        self.admin_email: str = self.store.users[org.owner_id]["email"]
        self.api_token = self.add_api_token(self.admin_email)
        self._approver_id = org.owner_id
        self.request_log: list[tuple[str, str, str, int]] = []
        self._log_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.stopping = threading.Event()

    # ----- lifecycle ---------------------------------------------------------------------
    def start(self) -> Simulator:
        """Serve on a daemon thread; returns self."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                                            name=f"zendesk-sim:{self.port}", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket (idempotent)."""
        self.stopping.set()
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()
        self._server.drop_connections()

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ----- test API ----------------------------------------------------------------------
    @property
    def users(self) -> dict[int, dict]:
        """The live user objects by id (deleted ones too, with ``active: false``)."""
        return self.store.users

    @property
    def subdomain(self) -> str:
        return self.config.subdomain

    @property
    def custom_roles(self) -> list[dict]:
        return self.store.custom_roles

    @property
    def chat_agents(self) -> dict[int, dict]:
        """Chat agents by id as the Chat API shows them (derived from Support in support mode)."""
        return self.chat.agents if self.config.chat_kind == "writable" else self.chat.all()

    def chat_agent(self, cid: int) -> dict | None:
        return self.chat.agents.get(cid) if self.config.chat_kind == "writable" else self.chat.get(cid)

    def set_chat_access(self, uid: int, on: bool = True) -> None:
        """Play the admin's click in Admin Center (Team members > agent > Roles and access > Chat)."""
        if self.config.chat_kind != "support":
            raise ValueError("Chat access is an Admin Center setting only when Chat was created in Support")
        if uid not in self.store.users:
            raise KeyError(uid)
        self.chat.set_access(uid, on)

    def chat_access(self, uid: int) -> bool:
        """Support kind: whether the team member's Chat entitlement is on."""
        user = self.store.users[uid]
        return self.config.chat_kind == "support" and self.chat.has_access(user)

    def register_chat_redirect(self, uri: str) -> None:
        """Register one more redirect URL on the Chat API client (as in the Chat dashboard)."""
        client = self.chat_oauth.clients[self.chat_client_id]
        client.redirect_uris = (*client.redirect_uris, uri)

    def chat_token(self, scope: str = "read write") -> str:
        """A Chat access token for the owner, as a confidential client's client_credentials gives."""
        return self.chat_oauth.client_credentials(self.chat_client_id, self.chat_client_secret, scope).access

    def add_api_token(self, email: str) -> str:
        """A new API token acting as the user with this email."""
        if self.store.find_email(email) is None:
            raise KeyError(email)
        token = secrets.token_urlsafe(30)
        self._api_tokens[token] = email.lower()
        return token

    def revoke_api_token(self, token: str) -> None:
        self._api_tokens.pop(token, None)

    def approver(self) -> dict:
        """The signed-in browser user who approves OAuth requests (the owner by default)."""
        return self.store.users[self._approver_id]

    def set_approver(self, uid: int) -> None:
        self._approver_id = uid

    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)

    def add_user(self, name: str, email: str | None, role: str = "agent", custom_role_id: int | None = None,
                 external_id: str | None = None, user_fields: dict | None = None) -> dict:
        return self.store.add(name, email, role, custom_role_id, external_id, user_fields)

    def rename(self, uid: int, name: str) -> dict:
        return self.store.rename(uid, name)

    def set_email(self, uid: int, email: str | None) -> dict:
        return self.store.set_email(uid, email)

    def change_role(self, uid: int, role: str, custom_role_id: int | None = None) -> dict:
        return self.store.change_role(uid, role, custom_role_id)

    def suspend(self, uid: int) -> dict:
        return self.store.set_suspended(uid, True)

    def unsuspend(self, uid: int) -> dict:
        return self.store.set_suspended(uid, False)

    def delete(self, uid: int) -> dict:
        return self.store.set_active(uid, False)

    def restore(self, uid: int) -> dict:
        return self.store.set_active(uid, True)

    def revoke_all_tokens(self) -> None:
        """Revoke every OAuth token (API tokens are untouched)."""
        self.oauth.revoke_all()

    def set_rate_limit(self, per_minute: int | None, incremental: int | None = None, chat: int | None = None) -> None:
        """Change limits at run time; ``0`` switches a limit off."""
        self.limiter.set_limits(per_minute if per_minute is not None else 0, incremental, chat)

    def wait_idle(self, timeout: float = 10.0) -> None:
        """Block until no client connection is open; call it only when no client is running.

        A client killed mid-request leaves its request in the socket buffer; the server may read,
        apply and log it well after the client died (a loaded machine delays that thread). Tests
        that start the next client after a SIGKILL wait here so the dead client's last request
        cannot land in the middle of the next run, as it could not on a real restart minutes later.
        """
        deadline = time.monotonic() + timeout
        quiet_since: float | None = None
        # Idle must last a moment: a dead client's orphaned socket may still be delivering its
        # last bytes on loopback, and the accept loop may not have picked a connection up yet.
        while quiet_since is None or time.monotonic() - quiet_since < 0.05:
            now = time.monotonic()
            if self._server.open_connections():
                quiet_since = None
                if now > deadline:
                    raise TimeoutError(f"simulator still has {self._server.open_connections()} open connection(s)")
            elif quiet_since is None:
                quiet_since = now
            time.sleep(0.005)

    def clear_log(self) -> None:
        with self._log_lock:
            self.request_log.clear()

    def role_id(self, name: str) -> int:
        """Custom role id by name ("Admin", "Light agent", "Tier 1", ...)."""
        return next(r["id"] for r in self.store.custom_roles if r["name"] == name)

    def ids(self, role: str | None = None, include_deleted: bool = False) -> list[int]:
        """User ids ascending, optionally for one role."""
        return sorted(uid for uid, u in self.store.users.items()
                      if (include_deleted or u["active"]) and (role is None or u["role"] == role))

    # ----- request pipeline --------------------------------------------------------------
    def log(self, req: Request, status: int) -> None:
        with self._log_lock:
            self.request_log.append((req.method, req.path, req.query, status))

    def handle(self, req: Request, inject: bool = True) -> Response | Fault:
        """Answer one request, or return the fault the handler must act out."""
        if inject:
            if self.config.latency:
                self.stopping.wait(self.config.latency)
            fault = self.faults.take(req.method, req.path)
            if fault is not None:
                return fault
        route = req.route
        api = route.startswith("/api/")
        headers: list[tuple[str, str]] = []
        if api:
            category = ("chat" if route.startswith("/api/v2/chat") else
                        "incremental" if route.startswith("/api/v2/incremental") else "account")
            verdict = self.limiter.check(category)
            headers = verdict.headers
            if verdict.retry_after is not None:
                return too_many(verdict.retry_after, headers)
        try:
            resp = self._dispatch(req)
        except HttpError as exc:
            resp = exc.response
        resp.headers = headers + resp.headers
        return resp

    def _dispatch(self, req: Request) -> Response:
        route = req.route
        matched = [(m, rx.match(route), h) for m, rx, h in _ROUTES]
        found = [(m, mt, h) for m, mt, h in matched if mt]
        if not found:
            return error(404, "InvalidEndpoint", "Not found")
        hit = next(((mt, h) for m, mt, h in found if m == req.method), None)
        if hit is None:
            return error(405 if route.startswith("/oauth") else 404, "InvalidEndpoint", "Not found")
        mt, handler = hit
        if not route.startswith(_PUBLIC):
            req.principal = self._authenticate(req)
            self._check_scope(req)
        return handler(self, req, *mt.groups())

    def _authenticate(self, req: Request) -> Principal | None:
        header = req.headers.get("Authorization") or ""
        scheme, _, cred = header.partition(" ")
        if req.route.startswith(_CHAT):
            return self._authenticate_chat(scheme, cred)
        if scheme.lower() == "bearer":
            tok = self.oauth.lookup(cred.strip())
            user = self.store.users.get(tok.user_id) if tok else None
            if tok is None or user is None or not user["active"] or user["suspended"]:
                raise HttpError(json_response(INVALID_TOKEN, 401, [
                    ("WWW-Authenticate", 'Bearer realm="Doorkeeper", error="invalid_token"')]))
            return Principal(user, "oauth", tok)
        if scheme.lower() == "basic":
            try:
                login, _, secret = base64.b64decode(cred.strip()).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                login, secret = "", ""
            email = login[:-6] if login.endswith("/token") else None
            uid = self.store.find_email(email) if email and self._api_tokens.get(secret) == email.lower() else None
            user = self.store.users.get(uid) if uid is not None else None
            if user is not None and user["active"] and not user["suspended"]:
                return Principal(user, "api_token")
        elif not header and req.route == "/api/v2/users/me":
            return None  # anonymous: Zendesk answers users/me with an anonymous user
        raise HttpError(json_response(BASIC_401, 401, [("WWW-Authenticate", 'Basic realm="Web Password"')]))

    def _authenticate_chat(self, scheme: str, cred: str) -> Principal:
        """The Chat API takes only Chat OAuth tokens: Support Basic or Bearer get Zendesk's 401."""
        if scheme.lower() == "bearer":
            tok = self.chat_oauth.lookup(cred.strip())
            user = self.store.users.get(tok.user_id) if tok else None
            if tok is not None and user is not None and user["active"] and not user["suspended"]:
                return Principal(user, "chat_oauth", tok)
            raise HttpError(json_response(INVALID_TOKEN, 401, [
                ("WWW-Authenticate", 'Bearer realm="Doorkeeper", error="invalid_token"')]))
        raise HttpError(json_response(BASIC_401, 401, [("WWW-Authenticate", 'Basic realm="Web Password"')]))

    @staticmethod
    def _check_scope(req: Request) -> None:
        p = req.principal
        if p is None or p.method != "oauth" or req.route.startswith(_NO_SCOPE):
            return
        scopes = set(p.token.scopes)
        write = req.method not in ("GET", "HEAD")
        resource = "users" if req.route.startswith(("/api/v2/users", "/api/v2/incremental/users")) else None
        need = "write" if write else "read"
        ok = need in scopes or (resource is not None and f"{resource}:{need}" in scopes)
        if not ok:
            raise HttpError(json_response({"error": "Forbidden",
                                           "description": f"You are missing the following required scopes: {need}"},
                                          403))


def too_many(retry_after: int, headers: list[tuple[str, str]]) -> Response:
    body = f"Too Many Requests: rate limit exceeded, retry after {retry_after} seconds\n".encode()
    return Response(429, body, "text/plain; charset=utf-8", headers + [("Retry-After", str(retry_after))])


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # socketserver's default backlog of 5 makes the kernel drop the connections of a client that
    # opens more at once (a Chat batch sends 8 writes in parallel): they are retried a second or
    # more later, possibly after that client was killed. Zendesk's front end accepts them at once.
    request_queue_size = 128
    sim: Simulator

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.open_sockets: set[socket.socket] = set()
        self._sock_lock = threading.Lock()

    def get_request(self) -> tuple[socket.socket, Any]:
        conn, addr = super().get_request()
        with self._sock_lock:
            self.open_sockets.add(conn)
        return conn, addr

    def shutdown_request(self, request: Any) -> None:
        with self._sock_lock:
            self.open_sockets.discard(request)
        super().shutdown_request(request)

    def open_connections(self) -> int:
        """Connections being served, plus one if a connection waits to be accepted."""
        with self._sock_lock:
            served = len(self.open_sockets)
        try:
            waiting = bool(select.select([self.socket], [], [], 0)[0])
        except (OSError, ValueError):  # closed listening socket: nothing can be waiting
            waiting = False
        return served + waiting

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up mid-answer is normal (killed, timed out); anything else is printed."""
        if isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            return
        super().handle_error(request, client_address)

    def drop_connections(self) -> None:
        """Hang up on kept-alive clients so a stopped simulator really stops answering."""
        with self._sock_lock:
            conns = list(self.open_sockets)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


_HTML_ERROR = (b"<!DOCTYPE html><html><head><title>Zendesk - Service unavailable</title></head><body>"
               b"<h1>We'll be right back</h1><p>Zendesk is temporarily unavailable. Please try again.</p>"
               b"</body></html>")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in separate writes
    server_version = "nginx"
    sys_version = ""
    timeout = 60

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - keep the test output quiet
        return

    def _serve(self) -> None:
        sim: Simulator = self.server.sim  # type: ignore[attr-defined]
        path, _, query = self.path.partition("?")
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        req = Request(self.command, path, query, self.headers, body)
        started = time.perf_counter()
        # Logged just before the answer goes out, so a test that got a response sees it logged.
        self._log = lambda status: sim.log(req, status)
        try:
            result = sim.handle(req)
        except Exception:  # a simulator bug must look like a Zendesk 500, not kill the connection
            log.exception("simulator failed on %s %s", req.method, req.path)
            result = error(500, "InternalServerError", "Something went wrong in the simulator")
        if isinstance(result, Fault):
            self._act_out(sim, req, result)
        else:
            self._send(result, started)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

    def _send(self, resp: Response, started: float, body: bytes | None = None, close: bool = False) -> None:
        payload = resp.body if body is None else body
        zipped = (body is None and self.server.sim.config.gzip and len(payload) > 1024  # type: ignore[attr-defined]
                  and "gzip" in (self.headers.get("Accept-Encoding") or ""))
        if zipped:
            payload = gzip.compress(payload, compresslevel=1)
        self._log(resp.status)
        self.send_response(resp.status)
        if resp.content_type:
            self.send_header("Content-Type", resp.content_type)
        if zipped:
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Vary", "Accept-Encoding")
        self.send_header("Content-Length", str(len(resp.body if close else payload)))
        names = {k.lower() for k, _ in resp.headers}
        if "cache-control" not in names:
            self.send_header("Cache-Control", "max-age=0, private, must-revalidate" if resp.status < 300
                             else "no-cache")
        for key, value in resp.headers:
            self.send_header(key, value)
        self.send_header("x-zendesk-api-version", "v2")
        self.send_header("X-Zendesk-Zorg", "yes")
        self.send_header("x-request-id", uuid.uuid4().hex[:18])
        self.send_header("x-runtime", f"{time.perf_counter() - started:.6f}")
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if self.command != "HEAD" and payload:
            self.wfile.write(payload)
        self.wfile.flush()

    def _act_out(self, sim: Simulator, req: Request, fault: Fault) -> int:
        started = time.perf_counter()
        kind = fault.kind
        if kind in ("drop", "timeout"):
            if kind == "timeout":
                sim.stopping.wait(fault.delay)
            self._log(0)
            self.close_connection = True
            return 0
        if kind == "429":
            self._send(too_many(fault.retry_after, []), started)
            return 429
        if kind in ("500", "502", "503", "504"):
            status = int(kind)
            if status == 500:
                resp = error(500, "InternalServerError", "Something went wrong")
            else:
                resp = Response(status, _HTML_ERROR, "text/html; charset=utf-8",
                                [("Retry-After", str(fault.retry_after))] if status == 503 else [])
            self._send(resp, started)
            return status
        real = sim.handle(Request(req.method, req.path, req.query, req.headers, req.body), inject=False)
        real = real if isinstance(real, Response) else error(500, "InternalServerError", "fault")
        if kind == "html200":
            self._send(Response(200, _HTML_ERROR, "text/html; charset=utf-8"), started)
        elif kind == "malformed":
            self._send(Response(200, real.body[: max(1, len(real.body) // 3)] + b',,"\x00}]', real.content_type,
                                real.headers), started)
        elif kind == "truncated":
            self._send(Response(200, real.body[: max(1, len(real.body) // 2)], real.content_type, real.headers),
                       started)
        elif kind == "cut":  # promise the full length, send half, hang up
            self._send(Response(200, real.body, real.content_type, real.headers), started,
                       body=real.body[: max(1, len(real.body) // 2)], close=True)
        return 200


