"""OAuth 2 wire calls: the authorize address, the code exchange and the refresh grant.

Zendesk rotates refresh tokens: every refresh answers a new access+refresh pair and deletes
the old one. Callers (``credentials.OAuthAuth``) must store the new pair before using it.
A token request is a write, so the shared client never resends it after it may have reached
Zendesk; a lost answer would leave the old pair dead, and the admin re-authenticates.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx

from evalsync_gui.core.errors import AuthError, PermissionDenied, ZendeskError
from evalsync_gui.core.redact import register_secret
from evalsync_gui.core.zendesk.http import RetryPolicy, ZendeskHttp

AUTHORIZE_PATH = "/oauth/authorizations/new"
TOKEN_PATH = "/oauth/tokens"


@dataclass
class TokenSet:
    """An access+refresh pair with absolute expiry times (epoch seconds). Never printed."""

    access_token: str = field(repr=False)
    refresh_token: str | None = field(repr=False, default=None)
    expires_at: float | None = None
    refresh_expires_at: float | None = None
    scope: str = ""

    @classmethod
    def from_response(cls, body: Any, now: float) -> TokenSet:
        """Build from a /oauth/tokens answer; ``now`` is when the request was sent."""
        if not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
            raise AuthError("Zendesk's token answer had no access token; try authenticating again.")
        register_secret(body["access_token"])
        if isinstance(body.get("refresh_token"), str):
            register_secret(body["refresh_token"])
        expires_in = body.get("expires_in")
        refresh_in = body.get("refresh_token_expires_in")
        return cls(
            access_token=body["access_token"],
            refresh_token=body.get("refresh_token") or None,
            expires_at=now + float(expires_in) if isinstance(expires_in, (int, float)) else None,
            refresh_expires_at=now + float(refresh_in) if isinstance(refresh_in, (int, float)) else None,
            scope=str(body.get("scope") or ""),
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TokenSet:
        return cls(**{k: data.get(k) for k in ("access_token", "refresh_token", "expires_at",
                                                "refresh_expires_at")}, scope=data.get("scope") or "")

    def expires_within(self, seconds: float, now: float) -> bool:
        return self.expires_at is not None and self.expires_at - now <= seconds


def authorize_url(base_url: str, client_id: str, redirect_uri: str, scopes: list[str], state: str,
                  challenge: str) -> str:
    """The address to open in the browser (authorization code + PKCE S256)."""
    query = urlencode({
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": " ".join(scopes),
        "state": state,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    })
    return f"{base_url}{AUTHORIZE_PATH}?{query}"


def _token_client(base_url: str, transport: httpx.BaseTransport | None) -> ZendeskHttp:
    # No auth: a public client proves itself with the verifier or the refresh token in the body.
    return ZendeskHttp(base_url, None, transport=transport, timeout=30.0,
                       retry=RetryPolicy(max_attempts=3, rate_limit_budget=120.0))


def _post_token(base_url: str, body: dict[str, Any], transport: httpx.BaseTransport | None,
                clock: Callable[[], float], refused: str) -> TokenSet:
    sent_at = clock()
    with _token_client(base_url, transport) as http:
        try:
            answer = http.request("POST", TOKEN_PATH, json=body)
        except (AuthError, PermissionDenied):
            raise AuthError(refused) from None
        except ZendeskError as exc:
            if exc.status is not None and 400 <= exc.status < 500:
                raise AuthError(refused) from None
            raise
    return TokenSet.from_response(answer, sent_at)


def exchange_code(base_url: str, client_id: str, code: str, verifier: str, redirect_uri: str, *,
                  scopes: list[str] | None = None, transport: httpx.BaseTransport | None = None,
                  clock: Callable[[], float] = time.time) -> TokenSet:
    """Trade the authorization code (valid 120 s) for the first token pair."""
    body = {"grant_type": "authorization_code", "code": code, "client_id": client_id,
            "redirect_uri": redirect_uri, "code_verifier": verifier}
    if scopes:
        body["scope"] = " ".join(scopes)
    return _post_token(base_url, body, transport, clock,
                       "Zendesk refused the authorization code (it expired, was already used, or the client "
                       "identifier or redirect URI does not match); click Authenticate to try again.")


def refresh_tokens(base_url: str, client_id: str, refresh_token: str, *,
                   transport: httpx.BaseTransport | None = None,
                   clock: Callable[[], float] = time.time) -> TokenSet:
    """Use the refresh grant; the answer is a new pair and the old one is dead from now on."""
    body = {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client_id}
    return _post_token(base_url, body, transport, clock,
                       "Zendesk no longer accepts the saved sign-in (it was revoked or expired); "
                       "authenticate again in the Authenticate tab or with `evalsync connect`.")
