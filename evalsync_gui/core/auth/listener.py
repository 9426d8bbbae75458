"""The one-shot redirect listener that receives the OAuth code from the browser.

It binds 127.0.0.1 only (never all interfaces), answers only ``GET /callback``, checks the
``state`` before it looks at anything else, answers the browser with a short page saying the
window can be closed, and closes after the first callback. Other paths (a browser asking for
``/favicon.ico``) get a 404 and do not end the wait.
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
from urllib.parse import parse_qs, urlsplit

from evalsync_gui.core.errors import AuthError, Cancelled, UsageError

DEFAULT_REDIRECT_PORT = 47123
CALLBACK_PATH = "/callback"
LOOPBACK = "127.0.0.1"


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


class _Server(HTTPServer):
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
        super().__init__((LOOPBACK, port), _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    timeout = 5  # a client that connects and says nothing must not hang the wait loop

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        parts = urlsplit(self.path)
        if parts.path != CALLBACK_PATH or self.server.outcome is not None:
            self._answer(404, "Not found", "This address is only used by EvalSync to receive the Zendesk answer.")
            return
        query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        if query.get("state") != self.server.expected_state:
            # Could be a forged or stale redirect: refuse it and end the attempt.
            self.server.outcome = _Outcome(error="state")
            self._answer(400, "Sign-in not accepted",
                         "This answer does not belong to the sign-in EvalSync started. Start again from EvalSync.")
            return
        if query.get("error"):
            self.server.outcome = _Outcome(error=query["error"][:60])
            self._answer(200, "Access not granted", "Zendesk did not grant EvalSync access.")
            return
        if not query.get("code"):
            self.server.outcome = _Outcome(error="no_code")
            self._answer(400, "Sign-in incomplete", "Zendesk sent no authorization code. Start again from EvalSync.")
            return
        self.server.outcome = _Outcome(code=query["code"])
        self._answer(200, "EvalSync is authorised", "EvalSync received Zendesk's answer and is finishing the sign-in.")

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
                    raise AuthError(f"No answer from Zendesk in the browser within {minutes}; "
                                    "click Authenticate (or run connect) to try again.")
                self._server.handle_request()
        finally:
            self.close()
        return self._result(self._server.outcome)

    @staticmethod
    def _result(outcome: _Outcome) -> str:
        if outcome.code:
            return outcome.code
        if outcome.error == "state":
            raise AuthError("The browser's answer did not match this sign-in (state mismatch); "
                            "it was refused. Start the sign-in again.")
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
