"""The one-shot redirect listener that receives the OAuth code from the browser.

It binds 127.0.0.1 only (never all interfaces), answers only ``GET /callback`` with a ``Host``
of ``127.0.0.1:PORT`` or ``localhost:PORT`` (a DNS-rebound name is refused), checks the
``state`` before it looks at anything else, answers the browser with a short page saying the
window can be closed, and closes after the first accepted callback.

Nothing but the real answer ends the wait: other paths (``/favicon.ico``), a wrong ``Host``, and
a callback with a missing or wrong ``state`` (a web page can fire those blind at the predictable
port) are answered and ignored until the timeout or Cancel. Each connection is served on its own
thread with a total deadline (:data:`CONNECTION_DEADLINE`, however slowly it trickles bytes), so
idle or slow connections cannot delay or shut out the real callback.
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
MAX_CONNECTIONS = 32        # served at once; more are closed at once (the browser retries)


@dataclass
class _Outcome:
    code: str | None = None
    error: str | None = None


_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>EvalSync</title>
<style>body{{font-family:sans-serif;margin:4em auto;max-width:32em;color:#222}}h1{{font-size:1.3em}}</style>
</head><body><h1>{title}</h1><p>{text}</p><p>You can close this window and return to EvalSync.</p></body></html>"""


def redirect_uri_for(port: int) -> str:
    """The redirect URI to register in the Zendesk OAuth client for ``port``."""
    return f"http://{LOOPBACK}:{port}{CALLBACK_PATH}"


class _Server(ThreadingMixIn, HTTPServer):
    daemon_threads = True     # a stuck client never keeps the process alive
    block_on_close = False    # close() does not wait for handlers past their deadline
    request_queue_size = 64
    # SO_REUSEADDR lets a retry bind while the last answer's connection sits in TIME_WAIT; on
    # POSIX it still refuses a second live listener. Windows' SO_REUSEADDR would allow port
    # stealing, so there the socket is made exclusive instead.
    allow_reuse_address = os.name != "nt"

    def server_bind(self) -> None:
        if os.name == "nt":  # pragma: no cover
            self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_EXCLUSIVEADDRUSE, 1)
        super().server_bind()

    def __init__(self, port: int, state: str) -> None:
        self.expected_state = state
        self.outcome: _Outcome | None = None
        self.ignored = 0  # callbacks refused for a wrong or missing state or Host
        self._decided = threading.Lock()
        self._slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        super().__init__((LOOPBACK, port), _Handler)

    def decide(self, outcome: _Outcome) -> bool:
        """Record the first accepted callback; False if one was already recorded."""
        with self._decided:
            if self.outcome is not None:
                return False
            self.outcome = outcome
            return True

    def process_request(self, request, client_address) -> None:  # noqa: ANN001 - socketserver's API
        if not self._slots.acquire(blocking=False):
            self.shutdown_request(request)  # too many at once: drop this one, keep serving
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request, client_address) -> None:  # noqa: ANN001
        watchdog = threading.Timer(CONNECTION_DEADLINE, _cut, (request,))
        watchdog.daemon = True
        watchdog.start()
        try:
            super().process_request_thread(request, client_address)
        finally:
            watchdog.cancel()
            self._slots.release()

    def allowed_hosts(self) -> set[str]:
        port = self.server_address[1]
        return {f"{LOOPBACK}:{port}", f"localhost:{port}"}


def _cut(request: socket.socket) -> None:
    """The connection's deadline passed: end it, however slowly it was sending."""
    try:
        request.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    timeout = 5  # per read; the watchdog in _Server bounds the whole connection

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        parts = urlsplit(self.path)
        if parts.path != CALLBACK_PATH or self.server.outcome is not None:
            self._answer(404, "Not found", "This address is only used by EvalSync to receive the Zendesk answer.")
            return
        if (self.headers.get("Host") or "").strip().lower() not in self.server.allowed_hosts():
            self._ignore("This address only answers the browser on this computer.")
            return
        query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        if not query.get("state") or query["state"] != self.server.expected_state:
            # Forged, stale or blind: refuse it, but keep waiting for the real answer.
            self._ignore("This answer does not belong to the sign-in EvalSync started; EvalSync is still waiting.")
            return
        if query.get("error"):
            outcome = _Outcome(error=query["error"][:60])
            page = (200, "Access not granted", "Zendesk did not grant EvalSync access.")
        elif not query.get("code"):
            outcome = _Outcome(error="no_code")
            page = (400, "Sign-in incomplete", "Zendesk sent no authorization code. Start again from EvalSync.")
        else:
            outcome = _Outcome(code=query["code"])
            page = (200, "EvalSync is authorised", "EvalSync received Zendesk's answer and is finishing the sign-in.")
        if not self.server.decide(outcome):
            page = (404, "Not found", "This address is only used by EvalSync to receive the Zendesk answer.")
        self._answer(*page)

    def _ignore(self, text: str) -> None:
        with self.server._decided:
            self.server.ignored += 1
        self._answer(400, "Sign-in not accepted", text)

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

    def __init__(self, port: int, state: str) -> None:
        if not 0 <= port <= 65535:
            raise UsageError(f"The redirect port {port} is not a valid port (1 to 65535).")
        try:
            self._server = _Server(port, state)
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

    def wait(self, timeout: float = 300.0, is_cancelled: Callable[[], bool] | None = None) -> str:
        """Serve until the callback arrives; return the code, or raise AuthError/Cancelled."""
        deadline = time.monotonic() + timeout
        try:
            while self._server.outcome is None:
                if is_cancelled is not None and is_cancelled():
                    raise Cancelled("Sign-in cancelled; nothing was stored.")
                if time.monotonic() >= deadline:
                    minutes = f"{timeout / 60:g} minutes" if timeout >= 60 else f"{timeout:g} seconds"
                    ignored = self._server.ignored
                    also = (f" ({ignored} answer{'s' if ignored != 1 else ''} that did not belong to this sign-in "
                            "were ignored)") if ignored else ""
                    raise AuthError(f"No answer from Zendesk in the browser within {minutes}{also}; "
                                    "click Authenticate (or run connect) to try again.")
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
