"""OAuth 2 state of the simulated account: clients, codes, access and refresh tokens.

Authorization code + PKCE (S256, verified), refresh-token rotation (the old pair stops
working at once), expiring access tokens, revocation. Secrets are random, never logged.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

CODE_TTL = 120
REDIRECT_OK = re.compile(r"^http://(127\.0\.0\.1|localhost|\[::1\])(:\d+)?(/.*)?$")

INVALID_GRANT = ("The provided authorization grant is invalid, expired, revoked, does not match the "
                 "redirection URI used in the authorization request, or was issued to another client.")
INVALID_CLIENT = ("Client authentication failed due to unknown client, no client authentication included, "
                  "or unsupported authentication method.")


class OAuthError(Exception):
    """An OAuth failure with the RFC 6749 ``error`` code and an HTTP status."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(error)
        self.error, self.description, self.status = error, description, status


@dataclass
class OAuthClient:
    identifier: str
    kind: str = "public"
    secret: str | None = None
    redirect_uris: tuple[str, ...] = ()
    name: str = "EvalSync Desktop"
    strict: bool = False  # redirect URIs only when registered, and the secret on every exchange (Chat)
    owner_id: int | None = None  # who a client_credentials token acts as

    def accepts(self, redirect_uri: str) -> bool:
        if self.strict:
            return redirect_uri in self.redirect_uris
        return redirect_uri in self.redirect_uris or bool(REDIRECT_OK.match(redirect_uri))


@dataclass
class _Code:
    client_id: str
    user_id: int
    redirect_uri: str
    scope: str
    challenge: str | None
    expires: float


@dataclass
class Token:
    id: int
    access: str
    refresh: str
    client_id: str
    user_id: int
    scopes: list[str]
    created: float
    expires: float
    refresh_expires: float
    used: float | None = None
    alive: bool = True
    extra: dict = field(default_factory=dict)


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


class OAuthState:
    """Everything the authorization server remembers."""

    def __init__(self, clock: Callable[[], float], access_ttl: int, refresh_ttl: int) -> None:
        self._now = clock
        self._lock = threading.Lock()
        self.access_ttl, self.refresh_ttl = access_ttl, refresh_ttl
        self.clients: dict[str, OAuthClient] = {}
        self._codes: dict[str, _Code] = {}
        self._by_access: dict[str, Token] = {}
        self._by_refresh: dict[str, Token] = {}
        self._next_id = 360_050_000_001

    def register(self, client: OAuthClient) -> None:
        self.clients[client.identifier] = client

    def issue_code(self, client_id: str, user_id: int, redirect_uri: str, scope: str, challenge: str | None) -> str:
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._codes[code] = _Code(client_id, user_id, redirect_uri, scope, challenge, self._now() + CODE_TTL)
        return code

    def exchange_code(self, client_id: str, code: str, redirect_uri: str, verifier: str | None,
                      secret: str | None = None, expires_in: int | None = None) -> Token:
        self._client(client_id, secret)
        with self._lock:
            grant = self._codes.pop(code, None)  # single use, even when the exchange fails
        if grant is None or grant.expires < self._now() or grant.client_id != client_id \
                or grant.redirect_uri != redirect_uri:
            raise OAuthError("invalid_grant", INVALID_GRANT)
        if grant.challenge is not None:
            if not verifier or s256(verifier) != grant.challenge:
                raise OAuthError("invalid_grant", INVALID_GRANT)
        return self._mint(client_id, grant.user_id, grant.scope.split(), expires_in)

    def refresh(self, client_id: str, refresh_token: str, secret: str | None = None,
                expires_in: int | None = None) -> Token:
        self._client(client_id, secret)
        with self._lock:
            old = self._by_refresh.get(refresh_token)
            if old is None or not old.alive or old.refresh_expires < self._now() or old.client_id != client_id:
                raise OAuthError("invalid_grant", INVALID_GRANT)
            self._kill(old)  # rotation: the old access + refresh pair dies now
        return self._mint(client_id, old.user_id, old.scopes, expires_in)

    def _client(self, client_id: str, secret: str | None) -> OAuthClient:
        client = self.clients.get(client_id)
        needs_secret = client is not None and (client.kind == "confidential" or client.secret is not None)
        if client is None or (needs_secret and secret != client.secret):
            raise OAuthError("invalid_client", INVALID_CLIENT, 401)
        return client

    def client_credentials(self, client_id: str, secret: str | None, scope: str,
                           expires_in: int | None = None) -> Token:
        """The client_credentials grant: confidential clients only, no refresh token."""
        client = self._client(client_id, secret)
        if client.kind != "confidential" or client.owner_id is None:
            raise OAuthError("invalid_client", INVALID_CLIENT, 401)
        tok = self._mint(client_id, client.owner_id, scope.split(), expires_in)
        tok.extra["no_refresh"] = True
        with self._lock:
            self._by_refresh.pop(tok.refresh, None)
        return tok

    def _mint(self, client_id: str, user_id: int, scopes: list[str], expires_in: int | None) -> Token:
        now = self._now()
        ttl = self.access_ttl if expires_in is None else min(max(int(expires_in), 300), 172_800)
        with self._lock:
            tok = Token(self._next_id, secrets.token_hex(32), secrets.token_hex(32), client_id, user_id,
                        scopes or ["read"], now, now + ttl, now + self.refresh_ttl)
            self._next_id += 1
            self._by_access[tok.access] = tok
            self._by_refresh[tok.refresh] = tok
        return tok

    def lookup(self, access_token: str) -> Token | None:
        """The live, unexpired token for a bearer string, else None."""
        tok = self._by_access.get(access_token)
        if tok is None or not tok.alive or tok.expires <= self._now():
            return None
        tok.used = self._now()
        return tok

    def revoke(self, tok: Token) -> None:
        with self._lock:
            self._kill(tok)

    def revoke_all(self) -> None:
        with self._lock:
            for tok in list(self._by_access.values()):
                self._kill(tok)

    def _kill(self, tok: Token) -> None:
        tok.alive = False
        self._by_access.pop(tok.access, None)
        self._by_refresh.pop(tok.refresh, None)

    def live_tokens(self) -> list[Token]:
        return [t for t in self._by_access.values() if t.alive]
