"""The one-shot redirect listener that receives the OAuth code from the browser.

It binds 127.0.0.1 only (never all interfaces), answers only ``GET /callback`` with a ``Host``
of ``127.0.0.1:PORT`` or ``localhost:PORT`` (a DNS-rebound name is refused), checks the
``state`` before it looks at anything else, answers the browser with a short page saying the
window can be closed, and closes after the first accepted callback.

Nothing but the real answer ends the wait: other paths (``/favicon.ico``), a wrong ``Host``, and
a callback with a missing or wrong ``state`` (a web page can fire those blind at the predictable
port) are answered and ignored until the timeout or Cancel. Each connection is served on its own
thread and cut at its deadline (:data:`CONNECTION_DEADLINE`, however slowly it trickles bytes);
at most :data:`MAX_CONNECTIONS` are served at once, and when all are taken a new connection
closes the oldest one to make room. A browser sends its request the moment it connects, so the
oldest is an idle or trickling one: idle connections (a browser's pre-opened ones, or a local
program's) cannot delay or shut out the real callback.
"""

from __future__ import annotations

import html
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from socketserver import ThreadingMixIn
from urllib.parse import parse_qs, urlsplit

from evalsync_gui.core.errors import AuthError, Cancelled, UsageError

DEFAULT_REDIRECT_PORT = 47123
CALLBACK_PATH = "/callback"
LOOPBACK = "127.0.0.1"
CONNECTION_DEADLINE = 10.0  # seconds a connection may take in total, from accept to answer
MAX_CONNECTIONS = 32        # served at once; one more closes the oldest


@dataclass
class _Outcome:
    code: str | None = None
    error: str | None = None


_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>EvalSync</title>
<style>body{{font-family:sans-serif;margin:4em auto;max-width:32em;color:#222}}h1{{font-size:1.3em}}</style>
</head><body><h1>{title}</h1><p>{text}</p><p>You can close this window and return to EvalSync.</p></body></html>"""
_NOT_FOUND = (404, "Not found", "This address is only used by EvalSync to receive the Zendesk answer.")
_NOT_ACCEPTED = "Sign-in not accepted"


def redirect_uri_for(port: int) -> str:
    """The redirect URI to register in the Zendesk OAuth client for ``port``."""
    return f"http://{LOOPBACK}:{port}{CALLBACK_PATH}"


def bind_option(os_name: str) -> str:
    """The socket option (a name in :mod:`socket`) the listener turns on before binding, for ``os.name``.

    POSIX: ``SO_REUSEADDR``, so a retry binds while the last answer's connection sits in
    TIME_WAIT (a second live listener is still refused). Windows' ``SO_REUSEADDR`` would let
    another program take the port over, so there the socket is made exclusive instead."""
    return "SO_EXCLUSIVEADDRUSE" if os_name == "nt" else "SO_REUSEADDR"


BIND_OPTION = bind_option(os.name)


def timeout_message(timeout: float, ignored: int) -> str:
    """What :meth:`RedirectListener.wait` says when no answer came within ``timeout`` seconds
    (``ignored``: the answers refused meanwhile for not belonging to this sign-in)."""
    also = ""
    if ignored:
        noun, verb = ("answer", "was") if ignored == 1 else ("answers", "were")
        also = f" ({ignored} {noun} that did not belong to this sign-in {verb} ignored)"
    return (f"No answer from Zendesk in the browser within {_duration(timeout)}{also}; "
            "click Authenticate (or run connect) to try again.")


def _duration(seconds: float) -> str:
    """``300`` -> "5 minutes", ``60`` -> "1 minute", ``1.5`` -> "1.5 seconds"."""
    count, unit = (seconds / 60, "minute") if seconds >= 60 else (seconds, "second")
    return f"{count:g} {unit}{'' if count == 1 else 's'}"


def _accepted(query: dict[str, str]) -> tuple[_Outcome, tuple[int, str, str]]:
    """What an answer with the right state means, and the page the browser gets for it."""
    if query.get("error"):
        return _Outcome(error=query["error"][:60]), (200, "Access not granted", "Zendesk did not grant EvalSync access.")
    if not query.get("code"):
        return _Outcome(error="no_code"), (
            400, "Sign-in incomplete", "Zendesk sent no authorization code. Start again from EvalSync.")
    return _Outcome(code=query["code"]), (
        200, "EvalSync is authorised", "EvalSync received Zendesk's answer and is finishing the sign-in.")


class _Server(ThreadingMixIn, HTTPServer):
    daemon_threads = True     # a stuck client never keeps the process alive (nor its watchdog:
                              # a timer started on a daemon thread is a daemon too)
    block_on_close = False    # close() does not wait for handlers past their deadline
    request_queue_size = 64
    allow_reuse_address = False  # server_bind sets BIND_OPTION instead, per platform

    def __init__(self, port: int, state: str, connection_deadline: float) -> None:
        self.expected_state = state
        self.connection_deadline = connection_deadline
        self.outcome: _Outcome | None = None
        self.ignored = 0  # callbacks refused for a wrong or missing state or Host
        self._lock = threading.Lock()  # guards outcome, ignored and _open
        self._slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        self._open: list[socket.socket] = []  # connections being served, oldest first
        super().__init__((LOOPBACK, port), _Handler)

    def server_bind(self) -> None:
        self.socket.setsockopt(socket.SOL_SOCKET, getattr(socket, BIND_OPTION), True)
        super().server_bind()

    def answer(self, target: str, host: str | None) -> tuple[int, str, str]:
        """The page (status, title, text) for ``GET target``; records the first accepted callback.

        Judged whole under one lock, so exactly one callback is ever accepted and every request
        after it, however close behind, is not found."""
        parts = urlsplit(target)
        with self._lock:
            if parts.path != CALLBACK_PATH or self.outcome is not None:
                return _NOT_FOUND
            if host is None or host.strip().lower() not in self.allowed_hosts():
                self.ignored += 1
                return 400, _NOT_ACCEPTED, "This address only answers the browser on this computer."
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            if query.get("state") != self.expected_state:
                # Forged, stale or blind: refuse it, but keep waiting for the real answer.
                self.ignored += 1
                return (400, _NOT_ACCEPTED,
                        "This answer does not belong to the sign-in EvalSync started; EvalSync is still waiting.")
            self.outcome, page = _accepted(query)
            return page

    def process_request(self, request, client_address) -> None:  # noqa: ANN001 - socketserver's API
        if not self._slots.acquire(blocking=False):
            with self._lock:
                if self._open:
                    _cut(self._open[0])  # every slot taken: the oldest makes room
            self._slots.acquire()  # given back as soon as the cut connection's thread ends
        with self._lock:
            self._open.append(request)
        super().process_request(request, client_address)

    def process_request_thread(self, request, client_address) -> None:  # noqa: ANN001
        watchdog = threading.Timer(self.connection_deadline, _cut, (request,))
        watchdog.start()
        try:
            super().process_request_thread(request, client_address)
        finally:
            watchdog.cancel()
            with self._lock:
                self._open.remove(request)
            self._slots.release()

    def allowed_hosts(self) -> set[str]:
        port = self.server_address[1]
        return {f"{LOOPBACK}:{port}", f"localhost:{port}"}


def _cut(request: socket.socket) -> None:
    """End a connection now (its deadline passed, or it makes room), however slowly it was sending."""
    try:
        request.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    # No per-read timeout: the server's watchdog bounds the whole connection.

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        self._answer(*self.server.answer(self.path, self.headers.get("Host")))

    def _answer(self, status: int, title: str, text: str) -> None:
        body = _PAGE.format(title=html.escape(title), text=html.escape(text)).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass  # the query string holds the code: never log it


class RedirectListener:
    """Bind at construction (so the port is ours before the browser opens), then :meth:`wait`."""

    def __init__(self, port: int, state: str, *, connection_deadline: float = CONNECTION_DEADLINE) -> None:
        if not 0 <= port <= 65535:
            raise UsageError(f"The redirect port {port} is not a valid port (1 to 65535).")
        try:
            self._server = _Server(port, state, connection_deadline)
        except OSError as exc:
            raise AuthError(
                f"Cannot listen for Zendesk's answer on 127.0.0.1:{port} ({exc.strerror or 'in use'}); "
                "close the program using that port or choose another redirect port "
                "(and register its redirect URI in the Zendesk OAuth client).") from None
        self._server.timeout = 0.2
        self._closed = False
        self._lock = threading.Lock()

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def redirect_uri(self) -> str:
        return redirect_uri_for(self.port)

    def wait(self, timeout: float, is_cancelled: Callable[[], bool] | None = None) -> str:
        """Serve until the callback arrives or ``timeout`` seconds pass; return the code, or raise AuthError/Cancelled."""
        deadline = time.monotonic() + timeout
        try:
            while self._server.outcome is None:
                if is_cancelled is not None and is_cancelled():
                    raise Cancelled("Sign-in cancelled; nothing was stored.")
                if time.monotonic() >= deadline:
                    raise AuthError(timeout_message(timeout, self._server.ignored))
                self._server.handle_request()
        finally:
            self.close()
        return self._result(self._server.outcome)

    @staticmethod
    def _result(outcome: _Outcome) -> str:
        if outcome.code:
            return outcome.code
        if outcome.error == "access_denied":
            raise AuthError("Access was not allowed in Zendesk; click Authenticate again and choose Allow.")
        if outcome.error == "no_code":
            raise AuthError("Zendesk sent no authorization code; start the sign-in again.")
        raise AuthError(f"Zendesk refused the authorization ({outcome.error}); check the OAuth client "
                        "identifier and its redirect URI, then try again.")

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                self._server.server_close()

    def __enter__(self) -> RedirectListener:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def port_is_free(port: int) -> bool:
    """True when 127.0.0.1:``port`` can be bound right now (used for a friendly check in the GUI)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((LOOPBACK, port))
        except OSError:
            return False
    return True
