"""The connection as the rest of EvalSync sees it: connect, check, open a client, disconnect.

Non-secret facts (account, address, method, e-mail, client id, expiry, scopes, who we are)
live in the settings table under ``zendesk.connection``; the secrets live only in the keyring
(:mod:`evalsync_gui.core.auth.secrets`), bound to the origin they were saved for and to this
data folder's id (:func:`secret_scope`). A connection setting that names another address finds
no secret, so nothing is sent there; the user signs in again. Every failure leaves the previous
state untouched or, after a half-finished connect, removes what was written, so a retry starts clean.
"""

from __future__ import annotations

import contextlib
import logging
import time
import webbrowser
from collections.abc import Callable
from typing import Any

import httpx

from evalsync_gui.core.account import Account, resolve_account
from evalsync_gui.core.auth import oauth, pkce
from evalsync_gui.core.auth.connection import (
    ConnectionInfo,
    fetch_me,
    info_from_user,
    iso,
)
from evalsync_gui.core.auth.credentials import OAuthAuth
from evalsync_gui.core.auth.listener import DEFAULT_REDIRECT_PORT, RedirectListener
from evalsync_gui.core.auth.secrets import (
    API_TOKEN,
    OAUTH,
    SecretScope,
    SecretStore,
    ensure_secure_backend,
    folder_id,
)
from evalsync_gui.core.context import AppContext
from evalsync_gui.core.errors import AuthError, EvalsyncError, SecretStoreError, UsageError
from evalsync_gui.core.redact import register_secret
from evalsync_gui.core.zendesk.http import ApiTokenAuth, Auth, RetryPolicy, ZendeskHttp
from evalsync_gui.core.zendesk.urls import origin_of

__all__ = [
    "ConnectionInfo", "DEFAULT_REDIRECT_PORT", "NOT_CONNECTED", "open_client", "connection_info",
    "connect_api_token", "start_oauth", "check_connection", "disconnect", "required_scopes",
    "redirect_port", "set_redirect_port", "check_redirect_port", "RedirectPortBusy",
    "MIN_REDIRECT_PORT", "MAX_REDIRECT_PORT", "secret_scope",
]

log = logging.getLogger("evalsync.auth")

CONNECTION_KEY = "zendesk.connection"
ORIGINS_KEY = "zendesk.keyring_origins"     # every origin this folder may have keyring entries for
LEGACY_ACCOUNTS_KEY = "zendesk.keyring_accounts"  # before origin binding: subdomains with entries
REDIRECT_PORT_KEY = "auth.redirect_port"
CHAT_MANAGEMENT_KEY = "chat.management_enabled"
DEFAULT_OAUTH_TIMEOUT = 300.0
MIN_REDIRECT_PORT, MAX_REDIRECT_PORT = 1024, 65535
NOT_CONNECTED = "Not connected to Zendesk: authenticate in the Authenticate tab or run `evalsync connect`."

# A connect attempt should fail fast on a wrong account name; syncs keep the default policy.
_CONNECT_RETRY = RetryPolicy(max_attempts=3, backoff_base=0.5, backoff_max=2.0, rate_limit_budget=60.0)


# -- settings helpers -------------------------------------------------------------------
def required_scopes(ctx: AppContext) -> list[str]:
    """Least scopes for the enabled features: read, plus write once Chat agent management is on."""
    return ["read", "write"] if ctx.settings.get(CHAT_MANAGEMENT_KEY, False) else ["read"]


def redirect_port(ctx: AppContext) -> int:
    """The configured redirect listener port (setting ``auth.redirect_port``)."""
    return int(ctx.settings.get(REDIRECT_PORT_KEY, DEFAULT_REDIRECT_PORT))


def check_redirect_port(port: object) -> int:
    """``port`` as an int when it may be used as the redirect port, else UsageError.

    Ports below 1024 need administrator rights on most systems, so neither the CLI nor the
    GUI offers them; both call this so they refuse the same values with the same words.
    """
    try:
        value = int(port)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        value = None
    if value is None or isinstance(port, bool) or not MIN_REDIRECT_PORT <= value <= MAX_REDIRECT_PORT:
        raise UsageError(f"The redirect port must be a number from {MIN_REDIRECT_PORT} to {MAX_REDIRECT_PORT} "
                         f"(got {port}); choose another port.")
    return value


def set_redirect_port(ctx: AppContext, port: object) -> int:
    """Validate and store the redirect port (setting ``auth.redirect_port``); returns the stored port.

    The OAuth client in Zendesk must list ``redirect_uri_for(port)`` exactly, so a change here
    means the admin registers the new URL there too.
    """
    value = check_redirect_port(port)
    ctx.settings.set(REDIRECT_PORT_KEY, value)
    return value


class RedirectPortBusy(AuthError):
    """The redirect listener could not bind its port; ``port`` says which one."""

    def __init__(self, port: int, message: str) -> None:
        super().__init__(message)
        self.port = port


def connection_info(ctx: AppContext) -> ConnectionInfo | None:
    """The stored connection facts, or None when not connected."""
    data = ctx.settings.get(CONNECTION_KEY)
    return ConnectionInfo.from_dict(data) if isinstance(data, dict) else None


def _save_info(ctx: AppContext, info: ConnectionInfo) -> None:
    ctx.settings.set(CONNECTION_KEY, info.to_dict())


def secret_scope(ctx: AppContext, base_url: str) -> SecretScope:
    """The keyring scope for secrets sent to ``base_url`` from this data folder."""
    return SecretScope.for_url(base_url, folder_id(ctx.settings))


def _remember_origin(ctx: AppContext, scope: SecretScope) -> None:
    origins = list(ctx.settings.get(ORIGINS_KEY, []) or [])
    if scope.origin not in origins:
        ctx.settings.set(ORIGINS_KEY, origins + [scope.origin])


def _missing(scope: SecretScope, what: str) -> AuthError:
    return AuthError(f"This data folder has no saved {what} for {scope.origin} (sign-ins are bound to the "
                     "address and data folder they were made for); sign in again in the Authenticate tab "
                     "or with `evalsync connect`.")


def _scope_for(ctx: AppContext, info: ConnectionInfo, kind: str) -> SecretScope:
    """The scope of the stored connection, adopting an old-layout entry when it is safe."""
    scope = secret_scope(ctx, info.base_url)
    store = SecretStore()
    if store.get(scope, kind) is None and store.adopt_legacy(scope, info.subdomain, kind):
        _remember_origin(ctx, scope)
    return scope


def _clock(ctx: AppContext) -> Callable[[], float]:
    return ctx.extras.get("clock", time.time)


def _account(ctx: AppContext, subdomain: str, base_url: str | None) -> Account:
    return resolve_account(subdomain, base_url or ctx.base_url)


# -- clients ------------------------------------------------------------------------------
def _oauth_auth(ctx: AppContext, info: ConnectionInfo, transport: httpx.BaseTransport | None) -> OAuthAuth:
    def record_expiry(tokens: oauth.TokenSet) -> None:
        current = connection_info(ctx)
        if current is not None and current.subdomain == info.subdomain:
            current.token_expires_at = iso(tokens.expires_at)
            _save_info(ctx, current)

    scope = _scope_for(ctx, info, OAUTH)
    if SecretStore().get(scope, OAUTH) is None:
        raise _missing(scope, "sign-in")
    return OAuthAuth(info.base_url, scope, info.client_id or "", ctx.data_dir,
                     transport=transport, clock=_clock(ctx), on_rotate=record_expiry)


def _auth_for(ctx: AppContext, info: ConnectionInfo, transport: httpx.BaseTransport | None) -> Auth:
    if info.method == OAUTH:
        return _oauth_auth(ctx, info, transport)
    scope = _scope_for(ctx, info, API_TOKEN)
    token = SecretStore().get(scope, API_TOKEN)
    if not token:
        raise _missing(scope, "API token")
    return ApiTokenAuth(info.email or "", token, origin=scope.origin)


def open_client(ctx: AppContext, **http_kwargs: Any) -> ZendeskHttp:
    """An authenticated client for the stored connection; raises AuthError when not connected.

    ``http_kwargs`` pass through to :class:`ZendeskHttp` (on_event, is_cancelled, retry,
    transport, sleep, timeout).
    """
    info = connection_info(ctx)
    if info is None:
        raise AuthError(NOT_CONNECTED)
    auth = _auth_for(ctx, info, http_kwargs.get("transport"))
    if info.method == API_TOKEN:
        http_kwargs["on_event"] = _noting_token_use(ctx, info, http_kwargs.get("on_event"))
    return ZendeskHttp(info.base_url, auth, **http_kwargs)


def _noting_token_use(ctx: AppContext, info: ConnectionInfo, chained: Callable | None) -> Callable:
    """An on_event hook that records this client's first accepted request as the API token's
    last use (Zendesk deactivates tokens unused for 30 days: see token_timeline)."""
    noted: list[bool] = []

    def on_event(event) -> None:
        if not noted and event.kind == "response" and event.status is not None and event.status < 400:
            noted.append(True)
            try:
                current = connection_info(ctx)
                if current is not None and (current.subdomain, current.method) == (info.subdomain, API_TOKEN):
                    current.token_last_used_at = iso(_clock(ctx)())
                    _save_info(ctx, current)
            except EvalsyncError as exc:  # a note about the token must never fail the request
                log.warning("could not note the API token's use: %s", exc)
        if chained is not None:
            chained(event)

    return on_event


# -- connecting ---------------------------------------------------------------------------
def _finish_connect(ctx: AppContext, info: ConnectionInfo) -> ConnectionInfo:
    """Make ``info`` the connection, removing secrets of any other account or method."""
    previous = connection_info(ctx)
    _save_info(ctx, info)
    if previous is not None:
        before, now = secret_scope(ctx, previous.base_url), secret_scope(ctx, info.base_url)
        if (before.origin, previous.method) != (now.origin, info.method):
            other = API_TOKEN if info.method == OAUTH else OAUTH
            SecretStore().delete(now, other)
            if before.origin != now.origin:
                SecretStore().wipe(before)
    return info


def connect_api_token(ctx: AppContext, subdomain: str, email: str, token: str, *,
                      base_url: str | None = None, transport: httpx.BaseTransport | None = None) -> ConnectionInfo:
    """Check e-mail + API token against users/me, then store the token in the keyring."""
    account = _account(ctx, subdomain, base_url)
    email = (email or "").strip()
    token = (token or "").strip()
    if "@" not in email or email.startswith("@") or email.endswith("@"):
        raise UsageError("Type the e-mail address of the Zendesk user the API token belongs to.")
    if not token:
        raise UsageError("Paste the Zendesk API token (Admin Center > Apps and integrations > Zendesk API).")
    ensure_secure_backend()  # refuse before anything goes over the wire
    scope = secret_scope(ctx, account.base_url)
    with ZendeskHttp(account.base_url, ApiTokenAuth(email, token, origin=scope.origin), transport=transport,
                     retry=_CONNECT_RETRY) as http:
        user = fetch_me(http)
    info = info_from_user(user, subdomain=account.subdomain, base_url=account.base_url, method=API_TOKEN,
                          email=email)
    store = SecretStore()
    _remember_origin(ctx, scope)
    store.set(scope, API_TOKEN, token)
    try:
        return _finish_connect(ctx, info)
    except EvalsyncError:
        store.delete(scope, API_TOKEN)
        raise


def start_oauth(ctx: AppContext, subdomain: str, client_id: str, *, base_url: str | None = None,
                port: int = DEFAULT_REDIRECT_PORT, scopes: list[str] | None = None,
                open_browser: Callable[[str], Any] | None = webbrowser.open, timeout: float = DEFAULT_OAUTH_TIMEOUT,
                is_cancelled: Callable[[], bool] | None = None,
                transport: httpx.BaseTransport | None = None) -> ConnectionInfo:
    """Run the whole authorization code + PKCE flow; blocking (use a worker thread in the GUI).

    Opens the browser at Zendesk's authorize page (``open_browser(url)``; pass a function that
    prints the address for ``--no-browser``), waits for the redirect on 127.0.0.1:``port``,
    exchanges the code, stores the pair in the keyring and checks users/me.
    """
    account = _account(ctx, subdomain, base_url)
    client_id = (client_id or "").strip()
    if not client_id:
        raise UsageError("Type the OAuth client identifier of the EvalSync client created in Zendesk Admin Center.")
    ensure_secure_backend()
    scopes = list(scopes or required_scopes(ctx))
    verifier, state = pkce.make_verifier(), pkce.make_state()
    register_secret(verifier)
    with _listen(port, state) as listener:
        url = oauth.authorize_url(account.base_url, client_id, listener.redirect_uri, scopes, state,
                                  pkce.challenge_for(verifier))
        if open_browser is not None:
            open_browser(url)
        code = listener.wait(timeout, is_cancelled)
        register_secret(code)
        redirect_uri = listener.redirect_uri
    tokens = oauth.exchange_code(account.base_url, client_id, code, verifier, redirect_uri,
                                 scopes=scopes, transport=transport, clock=_clock(ctx))
    granted = tokens.scope.split() if tokens.scope else scopes
    store = SecretStore()
    secret = secret_scope(ctx, account.base_url)
    _remember_origin(ctx, secret)
    store.set_json(secret, OAUTH, tokens.to_dict())  # stored before first use
    try:
        auth = OAuthAuth(account.base_url, secret, client_id, ctx.data_dir, transport=transport,
                         clock=_clock(ctx))
        with ZendeskHttp(account.base_url, auth, transport=transport, retry=_CONNECT_RETRY,
                         is_cancelled=is_cancelled) as http:
            user = fetch_me(http)
        info = info_from_user(user, subdomain=account.subdomain, base_url=account.base_url, method=OAUTH,
                              expires_at=auth.expires_at, scopes=granted, client_id=client_id)
        return _finish_connect(ctx, info)
    except BaseException:
        # Clean state: the new pair is not kept when the check failed; the old connection stays.
        _revoke_quietly(account.base_url, store.get_json(secret, OAUTH), transport)
        store.delete(secret, OAUTH)
        previous = connection_info(ctx)
        if (previous is not None and previous.method == OAUTH
                and secret_scope(ctx, previous.base_url).origin == secret.origin):
            ctx.settings.delete(CONNECTION_KEY)
        raise


def _listen(port: int, state: str) -> RedirectListener:
    """Bind the redirect listener; a bind failure becomes :class:`RedirectPortBusy` so callers
    can say where *their* user changes the port (the GUI's box, the CLI's flag)."""
    try:
        return RedirectListener(port, state)
    except AuthError as exc:  # the constructor raises AuthError only when it cannot bind
        raise RedirectPortBusy(port, str(exc)) from None


def _revoke_quietly(base_url: str, data: dict | None, transport: httpx.BaseTransport | None) -> None:
    if not data or not data.get("access_token"):
        return
    try:
        with ZendeskHttp(base_url, _StaticBearer(data["access_token"], base_url), transport=transport,
                         retry=RetryPolicy(max_attempts=1)) as http:
            http.request("DELETE", "/api/v2/oauth/tokens/current")
    except EvalsyncError:
        pass


class _StaticBearer:
    method = "oauth"

    def __init__(self, token: str, base_url: str) -> None:
        register_secret(token)
        self._header = f"Bearer {token}"
        self.origin = origin_of(base_url)

    def headers(self) -> dict[str, str]:
        return {"Authorization": self._header}

    def refresh(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "_StaticBearer(<redacted>)"


# -- checking and leaving -----------------------------------------------------------------
def check_connection(ctx: AppContext, *, transport: httpx.BaseTransport | None = None,
                     is_cancelled: Callable[[], bool] | None = None) -> ConnectionInfo:
    """Call users/me with the stored credentials and update the stored facts."""
    info = connection_info(ctx)
    if info is None:
        raise AuthError(NOT_CONNECTED)
    auth = _auth_for(ctx, info, transport)
    with ZendeskHttp(info.base_url, auth, transport=transport, retry=_CONNECT_RETRY,
                     is_cancelled=is_cancelled) as http:
        user = fetch_me(http)
    expires_at = auth.expires_at if isinstance(auth, OAuthAuth) else None
    fresh = info_from_user(user, subdomain=info.subdomain, base_url=info.base_url, method=info.method,
                           expires_at=expires_at, scopes=info.scopes, email=info.email, client_id=info.client_id)
    _save_info(ctx, fresh)
    return fresh


def disconnect(ctx: AppContext, *, transport: httpx.BaseTransport | None = None) -> str | None:
    """Sign out: revoke the OAuth token (best effort), then remove every secret and the settings.

    Returns None when everything went well, else one line saying what could not be done
    (e.g. the revoke failed because Zendesk was unreachable); the local sign-out happens anyway.
    """
    info = connection_info(ctx)
    note: str | None = None
    if info is not None and info.method == OAUTH:
        try:
            auth = _oauth_auth(ctx, info, transport)
            with ZendeskHttp(info.base_url, auth, transport=transport, retry=_CONNECT_RETRY) as http:
                http.request("DELETE", "/api/v2/oauth/tokens/current")
        except EvalsyncError as exc:
            log.warning("token revoke failed: %s", exc)
            note = (f"Signed out of EvalSync, but the token could not be revoked in Zendesk ({_short(exc)}); "
                    f"revoke it in Admin Center > Apps and integrations > OAuth tokens if needed.")
    elif info is not None and info.method == API_TOKEN:
        note = ("Signed out of EvalSync; the API token itself stays active in Zendesk until you delete it "
                "in Admin Center.")
    origins = set(ctx.settings.get(ORIGINS_KEY, []) or [])
    if info is not None:
        for kind in (OAUTH, API_TOKEN):  # an old-layout entry this folder could use goes too
            with contextlib.suppress(SecretStoreError):
                _scope_for(ctx, info, kind)
        origins.add(secret_scope(ctx, info.base_url).origin)
    ctx.settings.delete(CONNECTION_KEY)
    store = SecretStore()
    this_folder = folder_id(ctx.settings)
    for origin in sorted(origins):
        store.wipe(SecretScope(origin, this_folder))
    ctx.settings.delete(ORIGINS_KEY)
    ctx.settings.delete(LEGACY_ACCOUNTS_KEY)
    return note


def _short(exc: EvalsyncError) -> str:
    text = str(exc)
    return text.split(";")[0].rstrip(".")
