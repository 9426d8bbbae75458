"""A tiny in-memory Zendesk OAuth/users-me fake for unit tests (httpx.MockTransport).

Only what the auth unit tests need: rotation (old pair dies), 401 invalid_token bodies,
users/me, token revoke. Integration tests use the real simulator instead.
"""

from __future__ import annotations

import itertools
import json
import threading

import httpx

INVALID = {"error": "invalid_token",
           "error_description": "The access token provided is expired, revoked, malformed or invalid for other reasons."}


class FakeZendesk:
    def __init__(self, ttl: int = 1800, role: str = "admin") -> None:
        self.ttl = ttl
        self.role = role
        self.now = 1_000_000.0
        self.pairs: dict[str, dict] = {}  # access -> {refresh, expires}
        self.refresh_calls = 0
        self.api_tokens = {("admin@abc.test", "tok-123")}
        self.requests: list[tuple[str, str]] = []
        self.down = False
        self.me_answer: tuple[int, dict] | None = None  # replaces users/me's answer (after a token exchange)
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.transport = httpx.MockTransport(self.handle)

    def issue(self) -> dict:
        n = next(self._ids)
        access, refresh = f"acc-{n}-secretvalue", f"ref-{n}-secretvalue"
        self.pairs[access] = {"refresh": refresh, "expires": self.now + self.ttl}
        return {"access_token": access, "refresh_token": refresh, "token_type": "bearer",
                "expires_in": self.ttl, "refresh_token_expires_in": 2592000, "scope": "read"}

    def expire_all(self) -> None:
        for pair in self.pairs.values():
            pair["expires"] = self.now - 1

    def handle(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("down", request=request)
        with self._lock:
            self.requests.append((request.method, request.url.path))
            return self._handle(request)

    def _handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/oauth/tokens":
            body = json.loads(request.content)
            if body["grant_type"] == "authorization_code":
                return httpx.Response(200, json=self.issue())
            self.refresh_calls += 1
            for access, pair in list(self.pairs.items()):
                if pair["refresh"] == body.get("refresh_token"):
                    del self.pairs[access]  # rotation: the old pair dies
                    return httpx.Response(200, json=self.issue())
            return httpx.Response(400, json={"error": "invalid_grant", "error_description": "bad refresh"})
        auth = request.headers.get("Authorization", "")
        user = None
        if auth.startswith("Bearer "):
            pair = self.pairs.get(auth[7:])
            if pair is None or pair["expires"] <= self.now:
                return httpx.Response(401, json=INVALID)
            user = {"id": 7, "name": "Ada Admin", "email": "admin@abc.test", "role": self.role}
            if path == "/api/v2/oauth/tokens/current" and request.method == "DELETE":
                del self.pairs[auth[7:]]
                return httpx.Response(204)
        elif auth.startswith("Basic "):
            import base64
            email, _, token = base64.b64decode(auth[6:]).decode().partition("/token:")
            if (email, token) not in self.api_tokens:
                return httpx.Response(401, json={"error": "Couldn't authenticate you"})
            user = {"id": 7, "name": "Ada Admin", "email": email, "role": self.role}
        if path == "/api/v2/users/me" and self.me_answer is not None:
            return httpx.Response(self.me_answer[0], json=self.me_answer[1])
        if path == "/api/v2/users/me":
            return httpx.Response(200, json={"user": user or {"id": None, "name": "Anonymous user", "role": "end-user"}})
        return httpx.Response(404, json={"error": "RecordNotFound", "description": "Not found"})
