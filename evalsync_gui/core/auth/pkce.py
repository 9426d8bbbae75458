"""PKCE (RFC 7636, S256) and the OAuth ``state`` value.

The verifier never leaves this computer except in the final code exchange; the browser
only ever sees its SHA-256 challenge, so an intercepted code is useless to anyone else.
"""

from __future__ import annotations

import base64
import hashlib
import secrets

_UNRESERVED = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"


def make_verifier(length: int = 64) -> str:
    """A random code verifier of ``length`` (43..128) unreserved characters."""
    if not 43 <= length <= 128:
        raise ValueError("a PKCE verifier has 43 to 128 characters")
    return "".join(secrets.choice(_UNRESERVED) for _ in range(length))


def challenge_for(verifier: str) -> str:
    """The S256 challenge: base64url(sha256(verifier)) without padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def make_state() -> str:
    """An unguessable ``state`` that ties the redirect to this very attempt (CSRF guard)."""
    return secrets.token_urlsafe(32)
