"""The one way EvalSync talks HTTP to Zendesk: auth, retries, rate limits, safe links.

Policy, in order of precedence for each response:

* 429: wait ``Retry-After`` (bounded by the client's total rate-limit budget), then retry.
* 401: ask the auth once to refresh (OAuth rotation); if it cannot, fail with AuthError.
* 403 / 404 / other 4xx: fail at once with Zendesk's own description.
* 5xx, timeouts, dropped connections, malformed JSON or an HTML page with 200: retry with
  exponential backoff and full jitter up to ``RetryPolicy.max_attempts``. Writes are
  retried only when the request cannot have reached Zendesk (connect errors, 429).
* Pacing: when ``X-Rate-Limit-Remaining`` reaches 0 the next request waits for the window's
  reset instead of spending a 429. An endpoint with its own limit (the incremental export)
  gets an :class:`~.pacing.EndpointPacer` (``add_pacer``), whose waits are not charged to
  the rate-limit budget.

Nothing here logs or raises a header, a body or a query string: events and errors carry
the method, the path, the status and counts only.
"""

from __future__ import annotations

import base64
import json
import logging
import random
import re
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from evalsync_gui import __version__
from evalsync_gui.core.errors import (
    AuthError,
    Cancelled,
    NotFound,
    PermissionDenied,
    RateLimitError,
    ResponseError,
    TlsError,
    UnsafeUrlError,
    ZendeskError,
)
from evalsync_gui.core.redact import register_secret
from evalsync_gui.core.zendesk.urls import checked_base_url, same_origin

log = logging.getLogger("evalsync.http")

_ABSOLUTE = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

Params = dict[str, Any] | list[tuple[str, Any]] | None
Decode = Callable[[bytes], Any]  # parses a response body; raises ValueError when malformed


def bound_elsewhere(origin: str, url: str) -> AuthError:
    """The one line for a credential asked to go to an address it was not saved for."""
    return AuthError(f"The saved Zendesk sign-in belongs to {origin}, not {url}; sign in again for the new "
                     "address in the Authenticate tab or with `evalsync connect`.")


class Auth(Protocol):
    """How a request is authenticated; implementations live in ``core.auth``.

    An auth may carry ``origin`` (``scheme://host[:port]``): the only address its credential
    may be sent to. :class:`ZendeskHttp` refuses to pair it with any other base URL.
    """

    method: str

    def headers(self) -> dict[str, str]: ...

    def refresh(self) -> bool: ...


class ApiTokenAuth:
    """Legacy API token: basic auth with ``{email}/token:{token}``."""

    method = "api_token"

    def __init__(self, email: str, token: str, origin: str | None = None) -> None:
        self.origin = origin
        register_secret(token)
        raw = f"{email}/token:{token}".encode()
        self._header = "Basic " + base64.b64encode(raw).decode("ascii")

    def headers(self) -> dict[str, str]:
        return {"Authorization": self._header}

    def refresh(self) -> bool:
        return False

    def __repr__(self) -> str:  # never show the credential
        return "ApiTokenAuth(<redacted>)"


class BearerAuth:
    """A fixed OAuth access token (no refresh)."""

    method = "oauth"

    def __init__(self, access_token: str) -> None:
        register_secret(access_token)
        self._header = f"Bearer {access_token}"

    def headers(self) -> dict[str, str]:
        return {"Authorization": self._header}

    def refresh(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "BearerAuth(<redacted>)"


@dataclass
class RetryPolicy:
    max_attempts: int = 6
    backoff_base: float = 0.5
    backoff_max: float = 20.0
    rate_limit_budget: float = 600.0
    pace: bool = True


@dataclass(frozen=True)
class HttpEvent:
    """A progress/log event; never contains credentials or query strings."""

    kind: str  # "response" | "retry" | "rate_limited" | "paced" | "refresh"
    method: str
    path: str
    status: int | None
    wait: float = 0.0
    detail: str = ""


class _Retry(Exception):
    """Internal: this attempt failed in a way worth retrying."""

    def __init__(self, reason: str, status: int | None = None, wait: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.wait = wait


def _header_number(headers: httpx.Headers, *names: str) -> float | None:
    for name in names:
        value = headers.get(name)
        if value is not None:
            try:
                return float(value.strip())
            except ValueError:
                continue
    return None


def _tls_problem(exc: BaseException) -> str | None:
    """A short reason when ``exc`` was caused by TLS (a bad certificate, a failed handshake), else None."""
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, ssl.SSLCertVerificationError):
            return f"certificate not trusted: {cause.verify_message or 'verification failed'}"[:120]
        if isinstance(cause, ssl.SSLError):
            return f"TLS handshake failed: {cause.reason or type(cause).__name__}"[:120]
        cause = cause.__cause__ or cause.__context__
    return None


def _credentials_in(request: httpx.Request | None) -> list[str]:
    """The secret strings a request carried (header value, and a basic token decoded)."""
    if request is None:
        return []
    value = request.headers.get("Authorization", "")
    found = [part for part in value.split() if len(part) >= 6]
    for part in list(found):
        try:
            decoded = base64.b64decode(part, validate=True).decode("utf-8")
        except ValueError:
            continue
        found.append(decoded)
        found.extend(p for p in decoded.split(":", 1)[1:] if len(p) >= 6)
    return found


def _scrubbed(text: str, response: httpx.Response) -> str:
    """``text`` with any credential of the request removed (a proxy or error page may echo it)."""
    try:
        request = response.request
    except RuntimeError:
        request = None
    for secret in sorted(_credentials_in(request), key=len, reverse=True):
        text = text.replace(secret, "[redacted]")
    return text


def _error_text(response: httpx.Response) -> str:
    """Zendesk's own short description of an error, from any of its error body shapes."""
    return _error_info(response)[0]


def _error_info(response: httpx.Response) -> tuple[str, frozenset[str]]:
    """The error's description (scrubbed of credentials) and its codes, from one parse of the body."""
    try:
        body = response.json()
    except ValueError:
        return "", frozenset()
    return _scrubbed(_raw_error_text(body), response), _error_codes(body)


def _raw_error_text(body: Any) -> str:
    if isinstance(body, dict):
        if isinstance(body.get("errors"), list) and body["errors"]:
            first = body["errors"][0]
            if isinstance(first, dict):
                return str(first.get("detail") or first.get("title") or "")[:200]
        desc = body.get("description") or body.get("error_description") or body.get("error")
        if isinstance(desc, dict):
            desc = desc.get("message") or desc.get("title")
        return str(desc or "")[:200]
    return ""


_CODE = re.compile(r"^[A-Za-z][A-Za-z_]{0,63}$")


def _error_codes(body: Any) -> frozenset[str]:
    """Zendesk's machine-readable error codes: ``error`` and every ``details.<field>[].error``
    (e.g. RecordInvalid, DuplicateValue). Only short identifiers are kept, never user data."""
    if not isinstance(body, dict):
        return frozenset()
    found = [body.get("error")]
    details = body.get("details")
    if isinstance(details, dict):
        found += [item.get("error") for items in details.values() if isinstance(items, list)
                  for item in items if isinstance(item, dict)]
    return frozenset(code for code in found if isinstance(code, str) and _CODE.fullmatch(code))


class ZendeskHttp:
    """A Zendesk API client for one account origin; safe to share between threads."""

    def __init__(
        self,
        base_url: str,
        auth: Auth | None,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        on_event: Callable[[HttpEvent], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        is_cancelled: Callable[[], bool] | None = None,
    ) -> None:
        self.base_url = checked_base_url(base_url)
        bound_to = getattr(auth, "origin", None)
        if bound_to is not None and bound_to != self.base_url:
            raise bound_elsewhere(bound_to, self.base_url)
        self.auth = auth
        self.retry = retry or RetryPolicy()
        self.on_event = on_event
        self._sleep = sleep
        self._is_cancelled: Callable[[], bool] = lambda: False
        self._cancellable = False
        if is_cancelled is not None:
            self.is_cancelled = is_cancelled
        self._client = httpx.Client(
            transport=transport,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 15.0)),
            follow_redirects=False,
            headers={"Accept": "application/json", "User-Agent": f"EvalSync/{__version__}"},
        )
        self._lock = threading.Lock()
        self._pace_until = 0.0
        self._rate_wait_total = 0.0
        self._pacers: list = []  # pacing.EndpointPacer, one per endpoint with its own limit
        self.request_count = 0
        self.rate_limited_count = 0

    # -- public API --------------------------------------------------------------------
    def get(self, path_or_url: str, params: Params = None, *, decode: Decode | None = None) -> Any:
        """GET and return parsed JSON (``decode(content)`` instead of ``json.loads`` when given)."""
        return self.request("GET", path_or_url, params=params, decode=decode)

    def request(self, method: str, path_or_url: str, *, params: Params = None, json: Any = None,
                decode: Decode | None = None, data: dict[str, str] | None = None) -> Any:
        """Send a request with the retry policy; returns parsed JSON, or None for an empty body.

        ``decode`` parses a response body in place of ``json.loads``; a ``ValueError`` from it
        counts as malformed JSON (retried for GETs). ``data`` sends a form-encoded body instead
        of JSON (the Chat OAuth token endpoint takes form fields)."""
        method = method.upper()
        url = self._url(path_or_url)
        path = url.path
        idempotent = method in ("GET", "HEAD")
        attempt = 0
        refreshed = False
        pacers = [p for p in self._pacers if p.covers(path)]
        while True:
            self._check_cancelled()
            self._wait_for_pace(method, path)
            for pacer in pacers:
                pacer.before_request()
            try:
                return self._attempt(method, url, path, params, json, idempotent, refreshed, decode, data)
            except _Refreshed:
                refreshed = True
                continue
            except _Retry as retry:
                if retry.status == 429 and retry.reason == "rate limited":
                    # Already waited; 429s are bounded by the rate-limit budget, not by
                    # max_attempts, so a storm ends in RateLimitError, not "check the network".
                    continue
                attempt += 1
                if attempt >= self.retry.max_attempts:
                    raise self._give_up(retry, path, attempt) from None
                wait = retry.wait if retry.wait is not None else self._backoff(attempt)
                # A 5xx Retry-After is a hint, not a contract: never stall longer than the backoff cap.
                wait = max(0.0, min(wait, self.retry.backoff_max))
                self._emit("retry", method, path, retry.status, wait, retry.reason)
                log.info("%s %s: %s; retry %d in %.1fs", method, path, retry.reason, attempt, wait)
                self._sleep_interruptibly(wait)

    @property
    def is_cancelled(self) -> Callable[[], bool]:
        """The cancel check; may be set after construction (a worker hands over its own)."""
        return self._is_cancelled

    @is_cancelled.setter
    def is_cancelled(self, check: Callable[[], bool] | None) -> None:
        self._is_cancelled = check or (lambda: False)
        self._cancellable = check is not None

    @property
    def rate_limit_wait_total(self) -> float:
        return self._rate_wait_total

    def add_pacer(self, pacer) -> None:
        """Pace the requests under ``pacer.prefix`` (see :mod:`.pacing`) until ``remove_pacer``."""
        self._pacers.append(pacer)

    def remove_pacer(self, pacer) -> None:
        if pacer in self._pacers:
            self._pacers.remove(pacer)

    def check_same_origin(self, url: str) -> str:
        return same_origin(url, self.base_url)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> ZendeskHttp:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- one attempt -------------------------------------------------------------------
    def _attempt(self, method, url, path, params, body, idempotent, refreshed, decode=None, form=None) -> Any:
        headers = self.auth.headers() if self.auth else {}
        started = time.monotonic()
        try:
            with self._lock:
                self.request_count += 1
            response = self._client.request(method, url, params=params, json=body, data=form, headers=headers)
        except httpx.ConnectError as exc:
            problem = _tls_problem(exc)
            if problem:
                raise TlsError(f"TLS/certificate problem with {url.host} ({problem}); check the address, this "
                               "computer's clock and any proxy or antivirus that inspects HTTPS, then try again.") from None
            raise _Retry(f"could not connect ({type(exc).__name__})") from None
        except (httpx.TimeoutException, httpx.TransportError) as exc:
            if not idempotent:
                raise ZendeskError(
                    f"The connection to Zendesk failed during {method} {path} ({type(exc).__name__}); "
                    "the change may or may not have been made: check, then retry.", retryable=True) from None
            raise _Retry(f"network error ({type(exc).__name__})") from None
        status = response.status_code
        self._note_rate_headers(response.headers)
        for pacer in self._pacers:
            pacer.observe(path, status, response.headers)
        self._emit("response", method, path, status, time.monotonic() - started)
        if status == 429:
            raise self._rate_limited(method, path, response)
        if status == 401:
            if not refreshed and self.auth is not None and self.auth.refresh():
                self._emit("refresh", method, path, status)
                raise _Refreshed()
            raise self._unauthorized(response)
        if status == 403:
            text = _error_text(response)
            raise PermissionDenied(
                f"Zendesk denied {method} {path} (403){': ' + text if text else ''}. "
                "The connected user's role, plan or token scope does not allow it.")
        if status == 404:
            raise NotFound(f"Zendesk has no {path} (404 {_error_text(response) or 'Not found'}).")
        if 400 <= status < 500:
            text, codes = _error_info(response)
            raise ZendeskError(f"Zendesk refused {method} {path} ({status}: {text or response.reason_phrase}).",
                               status=status, codes=codes)
        if status >= 500:
            if not idempotent and status not in (502, 503, 504):
                raise ZendeskError(f"Zendesk failed on {method} {path} ({status}); check the result, then retry.",
                                   status=status, retryable=True)
            raise _Retry(f"HTTP {status}", status, _header_number(response.headers, "Retry-After"))
        if 300 <= status < 400:
            raise ZendeskError(f"Zendesk redirected {path} ({status}); check the account name.", status=status)
        return self._parse(response, path, idempotent, decode)

    def _parse(self, response: httpx.Response, path: str, idempotent: bool, decode: Decode | None = None) -> Any:
        content = response.content
        if response.status_code == 204 or not content.strip():
            return None
        ctype = response.headers.get("content-type", "")
        if "html" in ctype.lower():
            if idempotent:
                raise _Retry("an HTML page instead of JSON", response.status_code)
            raise ResponseError(f"Zendesk answered {path} with a web page instead of data; try again later.")
        try:
            return (decode or json.loads)(content)
        except ValueError:
            if idempotent:
                raise _Retry("malformed JSON", response.status_code) from None
            raise ResponseError(f"Zendesk's answer to {path} was not valid JSON; try again later.") from None

    # -- rate limits -------------------------------------------------------------------
    def _note_rate_headers(self, headers: httpx.Headers) -> None:
        if not self.retry.pace:
            return
        remaining = _header_number(headers, "X-Rate-Limit-Remaining", "ratelimit-remaining", "rate-limit-remaining")
        if remaining is not None and remaining <= 0:
            reset = _header_number(headers, "ratelimit-reset", "rate-limit-reset")
            wait = reset if reset is not None else 1.0
            with self._lock:
                self._pace_until = max(self._pace_until, time.monotonic() + min(wait, 60.0))

    def _wait_for_pace(self, method: str, path: str) -> None:
        wait = self._pace_until - time.monotonic()
        if wait > 0:
            self._emit("paced", method, path, None, wait, "rate limit reached; waiting for the next window")
            self._sleep_interruptibly(wait)
            with self._lock:
                self._rate_wait_total += wait

    def _rate_limited(self, method: str, path: str, response: httpx.Response) -> Exception:
        wait = _header_number(response.headers, "Retry-After")
        wait = 60.0 if wait is None or wait < 0 else min(wait, 3600.0)
        # Retry-After: 0 would let a storm spin without ever spending the budget.
        wait = max(wait, 1.0)
        with self._lock:
            self.rate_limited_count += 1
            spent = self._rate_wait_total
        if spent + wait > self.retry.rate_limit_budget:
            return RateLimitError(
                f"Zendesk's rate limit kept refusing requests ({self.rate_limited_count} times, "
                f"{spent:.0f}s waited); try again later or raise the wait budget.", status=429, retryable=True)
        self._emit("rate_limited", method, path, 429, wait, f"rate limited; waiting {wait:.0f}s")
        self._sleep_interruptibly(wait)
        with self._lock:
            self._rate_wait_total += wait
        return _Retry("rate limited", 429, 0.0)

    # -- failures ----------------------------------------------------------------------
    def _unauthorized(self, response: httpx.Response) -> AuthError:
        text = _error_text(response)
        own = getattr(self.auth, "unauthorized_message", None)
        if isinstance(own, str) and own:
            return AuthError(own)  # e.g. the Chat connection says to reconnect Chat, not Support
        if "invalid_token" in response.text[:500] or (self.auth is not None and self.auth.method == "oauth"):
            return AuthError("Zendesk no longer accepts EvalSync's access (the token expired or was revoked); "
                             "authenticate again in the Authenticate tab or with `evalsync connect`.")
        return AuthError("Zendesk did not accept the e-mail and API token"
                         f"{' (' + text + ')' if text else ''}; check them or authenticate again.")

    def _give_up(self, retry: _Retry, path: str, attempts: int) -> ZendeskError:
        if retry.reason in ("malformed JSON", "an HTML page instead of JSON"):
            return ResponseError(f"Zendesk kept sending {retry.reason} for {path} ({attempts} attempts); "
                                 "try again later.", status=retry.status, retryable=True)
        what = f"HTTP {retry.status}" if retry.status else retry.reason
        return ZendeskError(f"Zendesk could not be reached reliably ({what} on {path} after {attempts} attempts); "
                            "check the network and try again later.", status=retry.status, retryable=True)

    # -- helpers -----------------------------------------------------------------------
    def _url(self, path_or_url: str) -> httpx.URL:
        # Anything with a scheme (any case) or a network-path reference ("//host") is absolute
        # and must be on this origin; only a plain path is joined to base_url. The parsed URL
        # is what gets sent, so a long cursor link is parsed once per request, not twice.
        if _ABSOLUTE.match(path_or_url) or path_or_url.startswith(("//", "\\\\", "/\\", "\\/")):
            url = same_origin(path_or_url, self.base_url)
        else:
            url = self.base_url + "/" + path_or_url.lstrip("/")
        if _CONTROL.search(url):
            raise UnsafeUrlError("Zendesk sent an address with control characters; refused. "
                                 "Try again later or report it.")
        try:
            return httpx.URL(url)
        except (httpx.InvalidURL, ValueError):
            raise UnsafeUrlError("Zendesk sent an address EvalSync cannot use; refused. "
                                 "Try again later or report it.") from None

    def _backoff(self, attempt: int) -> float:
        cap = min(self.retry.backoff_max, self.retry.backoff_base * (2 ** (attempt - 1)))
        return random.uniform(cap / 2, cap)

    def _check_cancelled(self) -> None:
        if self.is_cancelled():
            raise Cancelled()

    def _sleep_interruptibly(self, seconds: float) -> None:
        """Sleep in short steps so a cancel is noticed within a fraction of a second."""
        if self._cancellable:
            left = seconds
            while left > 0:
                self._check_cancelled()
                step = min(left, 0.1)
                self._sleep(step)
                left -= step
            self._check_cancelled()
        elif seconds > 0:
            self._sleep(seconds)

    def _emit(self, kind: str, method: str, path: str, status: int | None, wait: float = 0.0, detail: str = "") -> None:
        if self.on_event is not None:
            self.on_event(HttpEvent(kind, method, path, status, wait, detail))


class _Refreshed(Exception):
    """Internal: the auth refreshed its credentials; resend the request once."""
