"""The connection check: who are we in Zendesk (GET /api/v2/users/me), and what to show.

Zendesk answers ``users/me`` with an *anonymous* user (no id) when the credentials are not
accepted on some paths, so a missing id is treated as an authentication failure.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

from evalsync_gui.core.errors import AuthError, NotFound, ResponseError, TlsError, ZendeskError
from evalsync_gui.core.zendesk.http import ZendeskHttp

ME_PATH = "/api/v2/users/me"
METHOD_LABELS = {"oauth": "OAuth", "api_token": "API token (legacy)"}
API_TOKEN_RETIREMENT = ("Zendesk deactivates API tokens unused for 30 days and all API tokens on 30 April 2027, "
                        "and new API tokens can no longer be created (since 27 October 2026); switch to OAuth.")


def iso(ts: float | None) -> str | None:
    """Epoch seconds to an ISO 8601 UTC string (or None)."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, tz=timezone.utc).replace(microsecond=0).isoformat()


def now_iso() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


@dataclass
class ConnectionInfo:
    """What EvalSync knows about the current connection; never holds a secret."""

    subdomain: str
    base_url: str
    method: str  # 'oauth' | 'api_token'
    user_id: int | None = None
    user_name: str = ""
    user_email: str = ""
    role: str = ""
    is_admin: bool = False
    token_expires_at: str | None = None
    scopes: list[str] = field(default_factory=list)
    checked_at: str | None = None
    email: str | None = None       # API token method: the e-mail the token belongs to
    client_id: str | None = None   # OAuth method: the public client identifier
    token_last_used_at: str | None = None  # API token method: last request Zendesk accepted (token_timeline)

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).netloc

    @property
    def method_label(self) -> str:
        return METHOD_LABELS.get(self.method, self.method)

    def summary(self) -> str:
        """``Connected to abc-energy.zendesk.com as NAME (ROLE)``."""
        return f"Connected to {self.host} as {self.user_name or self.user_email or 'unknown user'} ({self.role or 'unknown role'})"

    def admin_warning(self) -> str | None:
        """A warning when the user is not a Zendesk admin, else None."""
        if self.is_admin:
            return None
        return (f"{self.user_name or 'This user'} is a Zendesk {self.role or 'non-admin'}, not an admin: an admin is "
                "needed to authorise the integration and for the incremental user export.")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ConnectionInfo:
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})


def fetch_me(http: ZendeskHttp) -> dict[str, Any]:
    """GET users/me and return the user object; failures become one readable line."""
    host = urlsplit(http.base_url).netloc
    try:
        body = http.get(ME_PATH)
    except NotFound:
        raise ZendeskError(f"{host} answered 404 for the current user: check the account name.",
                           status=404) from None
    except (AuthError, TlsError):
        raise
    except ResponseError:
        raise ResponseError(f"{host} did not answer like Zendesk (not JSON); check the account name.") from None
    except ZendeskError as exc:
        if exc.status is None:
            raise ZendeskError(f"Could not reach {host}: check the account name and your network connection, "
                               "then try again.", retryable=True) from None
        raise
    user = body.get("user") if isinstance(body, dict) else None
    if not isinstance(user, dict):
        raise ResponseError(f"{host} sent an unexpected answer for the current user; check the account name.")
    if user.get("id") is None:
        raise AuthError(f"{host} did not accept the credentials (it answered as an anonymous visitor); "
                        "check them and authenticate again.")
    return user


def info_from_user(user: dict[str, Any], *, subdomain: str, base_url: str, method: str,
                   expires_at: float | None = None, scopes: list[str] | None = None,
                   email: str | None = None, client_id: str | None = None) -> ConnectionInfo:
    role = str(user.get("role") or "")
    return ConnectionInfo(
        subdomain=subdomain, base_url=base_url, method=method,
        user_id=user.get("id"), user_name=str(user.get("name") or ""),
        user_email=str(user.get("email") or ""), role=role, is_admin=role == "admin",
        token_expires_at=iso(expires_at), scopes=list(scopes or []), checked_at=now_iso(),
        email=email, client_id=client_id,
    )
