"""The Chat API connection: separate from the Support sign-in, because Zendesk keeps them apart.

Zendesk's Chat API accepts only an access token issued to a *Chat API client* (Chat dashboard
> Settings > Account > API: a client id and a secret shown once); Support API tokens and
Support OAuth tokens do not authenticate Chat requests (docs/ZENDESK.md section 5). So:

* the client secret and the Chat token pair live in the OS keyring through
  :class:`~evalsync_gui.core.auth.secrets.SecretStore`, each bound to where it is sent (issue 13):
  the client secret (kind ``chat_client_secret``) to the Chat OAuth server's origin, the token
  pair (kind ``chat_oauth``) to the account's origin where ``/api/v2/chat`` lives, with the
  OAuth server's origin recorded in the pair so its refresh token goes nowhere else; non-secret
  facts live in the ``chat.connection`` setting;
* the authorization-code flow uses the same loopback listener as Support, with a mandatory
  ``state`` and no PKCE (Chat does not support it); ``client_credentials`` serves a
  confidential client; on a 401 the token is refreshed with its refresh token when Zendesk
  gave one, or fetched again with the client credentials, never with the Support sign-in;
* the Chat OAuth server is Zendesk's documented ``https://www.zopim.com/oauth2/…`` by default;
  ``https://{subdomain}.zendesk.com/oauth2/chat/…`` is selectable (``--base-url``, setting
  ``chat.oauth_base``).

Chat API requests go to the Support account's own origin (``{subdomain}.zendesk.com/api/v2/chat``).
"""

from __future__ import annotations

import logging
import threading
import time
import webbrowser
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx

from evalsync_gui.core.auth import pkce
from evalsync_gui.core.auth.connection import iso, now_iso
from evalsync_gui.core.auth.listener import RedirectListener
from evalsync_gui.core.auth.oauth import TokenSet
from evalsync_gui.core.auth.secrets import SecretScope, SecretStore, ensure_secure_backend
from evalsync_gui.core.context import AppContext
from evalsync_gui.core.errors import AuthError, EvalsyncError, PermissionDenied, UsageError, ZendeskError
from evalsync_gui.core.zendesk.http import RetryPolicy, ZendeskHttp
from evalsync_gui.core.zendesk.urls import checked_base_url

log = logging.getLogger("evalsync.chat.connection")

CONNECTION_KEY = "chat.connection"
OAUTH_BASE_KEY = "chat.oauth_base"
SECRET_KIND = "chat_client_secret"
TOKEN_KIND = "chat_oauth"
ZOPIM = "https://www.zopim.com"
GRANTS = ("code", "client_credentials")
SCOPES = ("read", "write")
DEFAULT_TIMEOUT = 300.0

NOT_CONNECTED = ("No Chat API connection: Zendesk's Chat API accepts only a token from a Chat API client, "
                 "never the Support sign-in; add a client in the Chat dashboard (Settings > Account > API), then "
                 "connect it in the Chat API section or with `evalsync chat connect --client-id ID "
                 "--client-secret-stdin`.")
REFUSED = ("Zendesk's Chat API no longer accepts EvalSync's Chat token (expired or revoked); connect Chat again "
           "in the Chat API section or with `evalsync chat connect` (the Support sign-in is unaffected).")
NEEDS_SUPPORT = ("Connect to Zendesk Support first (Authenticate tab or `evalsync connect`): the Chat connection "
                 "uses the same account.")


@dataclass
class ChatConnection:
    """What EvalSync knows about the Chat connection; never holds a secret."""

    account: str          # the Support account's subdomain
    api_base: str         # https://{subdomain}.zendesk.com: where /api/v2/chat lives
    oauth_base: str       # the Chat OAuth server's origin
    client_id: str
    grant: str            # code | client_credentials
    scopes: list[str] = field(default_factory=lambda: list(SCOPES))
    connected_at: str | None = None
    expires_at: str | None = None
    refreshable: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ChatConnection:
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})


# -- endpoints ---------------------------------------------------------------------------
def oauth_prefix(oauth_base: str) -> str:
    """``/oauth2`` on www.zopim.com (the help article's host), ``/oauth2/chat`` on a Zendesk host."""
    return "/oauth2" if (urlsplit(oauth_base).hostname or "").lower() == "www.zopim.com" else "/oauth2/chat"


def default_oauth_base(ctx: AppContext) -> str:
    """The setting ``chat.oauth_base`` when set, else Zendesk's documented Chat OAuth host."""
    return str(ctx.settings.get(OAUTH_BASE_KEY) or ZOPIM)


def authorize_url(oauth_base: str, client_id: str, redirect_uri: str, state: str, subdomain: str) -> str:
    """The browser address for the authorization-code grant (no PKCE: Chat does not support it)."""
    query = urlencode({"response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri,
                       "scope": " ".join(SCOPES), "state": state, "subdomain": subdomain})
    return f"{oauth_base}{oauth_prefix(oauth_base)}/authorizations/new?{query}"


def post_token(oauth_base: str, form: dict[str, str], *, transport: httpx.BaseTransport | None = None,
               clock: Callable[[], float] = time.time) -> TokenSet:
    """POST the form to the Chat token endpoint; any refusal becomes one AuthError line."""
    sent_at = clock()
    with ZendeskHttp(oauth_base, None, transport=transport, timeout=30.0,
                     retry=RetryPolicy(max_attempts=3, rate_limit_budget=120.0)) as http:
        try:
            answer = http.request("POST", f"{oauth_prefix(oauth_base)}/token", data=form)
        except (AuthError, PermissionDenied):
            raise AuthError(_refusal(form)) from None
        except ZendeskError as exc:
            if exc.status is not None and 400 <= exc.status < 500:
                raise AuthError(_refusal(form)) from None
            raise
    return TokenSet.from_response(answer, sent_at)


def _refusal(form: dict[str, str]) -> str:
    grant = form.get("grant_type")
    if grant == "client_credentials":
        return ("Zendesk's Chat OAuth server refused the client credentials: check the client id and secret; "
                "client_credentials works only for a confidential Chat client (otherwise use --grant code).")
    if grant == "refresh_token":
        return REFUSED
    return ("Zendesk's Chat OAuth server refused the authorization code (expired, already used, or the client id, "
            "secret or redirect URL does not match); connect Chat again.")


def redirect_uri(ctx: AppContext, port: int | None = None) -> str:
    """The exact redirect URL to register on the Chat API client (``port``, else the Support redirect port's)."""
    from evalsync_gui.core.auth.listener import redirect_uri_for
    from evalsync_gui.core.auth.session import redirect_port

    return redirect_uri_for(redirect_port(ctx) if port is None else port)


def setup_steps(ctx: AppContext) -> list[str]:
    """The Chat API setup, one step a line, for the GUI's Chat API section and help texts."""
    return [
        "Connect Zendesk Support first (the Chat connection uses the same account).",
        "In the Chat dashboard open Settings > Account > API and click Add API client.",
        f"Enter any name and company, and this redirect URL: {redirect_uri(ctx)}",
        "Copy the client id and the secret (Zendesk shows the secret only once).",
        "Paste both here and connect; a browser window asks you to allow EvalSync.",
    ]


# -- stored state ------------------------------------------------------------------------
def chat_connection(ctx: AppContext) -> ChatConnection | None:
    """The stored Chat connection facts, or None."""
    data = ctx.settings.get(CONNECTION_KEY)
    return ChatConnection.from_dict(data) if isinstance(data, dict) else None


def _support_account(ctx: AppContext) -> tuple[str, str]:
    from evalsync_gui.core.auth.session import connection_info

    info = connection_info(ctx)
    if info is None:
        raise AuthError(NEEDS_SUPPORT)
    return info.subdomain, info.base_url


def _scopes(ctx: AppContext, conn: ChatConnection) -> tuple[SecretScope, SecretScope]:
    """Where the token pair may go (the account's API) and where the client secret may go (OAuth server)."""
    from evalsync_gui.core.auth.session import secret_scope

    return secret_scope(ctx, conn.api_base), secret_scope(ctx, conn.oauth_base)


class ChatAuth:
    """Bearer auth with the Chat token; a 401 refreshes it the Chat way, never the Support way.

    ``origin`` is the only address the access token goes to; the refresh token and the client
    secret go only to the OAuth server origin they were saved with.
    """

    method = "chat_oauth"
    unauthorized_message = REFUSED

    def __init__(self, conn: ChatConnection, scopes: tuple[SecretScope, SecretScope], *,
                 transport: httpx.BaseTransport | None = None, clock: Callable[[], float] = time.time,
                 on_rotate: Callable[[TokenSet], None] | None = None) -> None:
        self.conn = conn
        self.token_scope, self.secret_scope = scopes
        self.origin = self.token_scope.origin
        self._transport, self._clock, self._on_rotate = transport, clock, on_rotate
        self._lock = threading.Lock()
        self._sent = threading.local()  # the token each thread last sent: one renewal serves all
        data = SecretStore().get_json(self.token_scope, TOKEN_KIND)
        if not data or not data.get("access_token"):
            raise AuthError(NOT_CONNECTED)
        self._oauth_origin = data.get("oauth_origin")
        self._tokens = TokenSet.from_dict(data)

    def headers(self) -> dict[str, str]:
        token = self._tokens.access_token
        self._sent.token = token
        return {"Authorization": f"Bearer {token}"}

    def refresh(self) -> bool:
        """New token by the refresh token Zendesk gave, else by client credentials; False if neither.

        Writes run on several threads: when another thread already renewed the token this
        thread's request was sent with, the request is simply resent with the new one.
        """
        with self._lock:
            if getattr(self._sent, "token", None) not in (None, self._tokens.access_token):
                return True
            form = self._refresh_form()
            if form is None:
                return False
            try:
                tokens = post_token(self.conn.oauth_base, form, transport=self._transport, clock=self._clock)
            except EvalsyncError as exc:
                log.warning("Chat token not renewed: %s", exc)
                return False
            SecretStore().set_json(self.token_scope, TOKEN_KIND, _pair(tokens, self.secret_scope))
            self._tokens = tokens
        if self._on_rotate is not None:
            self._on_rotate(tokens)
        return True

    def _refresh_form(self) -> dict[str, str] | None:
        if self._oauth_origin != self.secret_scope.origin or not self.secret_scope.allows(self.conn.oauth_base):
            return None  # the OAuth server changed since the pair was saved: connect Chat again
        secret = SecretStore().get(self.secret_scope, SECRET_KIND)
        if self._tokens.refresh_token:
            form = {"grant_type": "refresh_token", "refresh_token": self._tokens.refresh_token,
                    "client_id": self.conn.client_id}
            if secret:
                form["client_secret"] = secret
            return form
        if self.conn.grant == "client_credentials" and secret:
            return {"grant_type": "client_credentials", "client_id": self.conn.client_id, "client_secret": secret,
                    "scope": " ".join(SCOPES)}
        return None

    @property
    def expires_at(self) -> float | None:
        return self._tokens.expires_at

    def __repr__(self) -> str:
        return "ChatAuth(<redacted>)"


def chat_http(ctx: AppContext, **http_kwargs: Any) -> ZendeskHttp:
    """A client for ``/api/v2/chat/*`` with the Chat token; raises AuthError (exit 4) before any
    request when no Chat connection exists. ``http_kwargs`` pass to :class:`ZendeskHttp`."""
    conn = chat_connection(ctx)
    if conn is None:
        raise AuthError(NOT_CONNECTED)

    def record(tokens: TokenSet) -> None:
        current = chat_connection(ctx)
        if current is not None:
            current.expires_at = iso(tokens.expires_at)
            ctx.settings.set(CONNECTION_KEY, current.to_dict())

    auth = ChatAuth(conn, _scopes(ctx, conn), transport=http_kwargs.get("transport"),
                    clock=ctx.extras.get("clock", time.time), on_rotate=record)
    return ZendeskHttp(conn.api_base, auth, **http_kwargs)


# -- connecting --------------------------------------------------------------------------
def connect(ctx: AppContext, client_id: str, client_secret: str, *, grant: str = "code",
            oauth_base: str | None = None, port: int | None = None,
            open_browser: Callable[[str], Any] | None = webbrowser.open, timeout: float = DEFAULT_TIMEOUT,
            is_cancelled: Callable[[], bool] | None = None,
            transport: httpx.BaseTransport | None = None) -> ChatConnection:
    """Get a Chat token (authorization code through the loopback listener, or client
    credentials), check it with one read of the Chat agents, then store it; blocking.

    A failed attempt stores nothing and leaves an earlier Chat connection as it was.
    """
    from evalsync_gui.core.auth.session import redirect_port

    client_id, client_secret = (client_id or "").strip(), (client_secret or "").strip()
    if not client_id:
        raise UsageError("Type the Chat API client id (Chat dashboard > Settings > Account > API).")
    if not client_secret:
        raise UsageError("Give the Chat API client secret (shown once when the client was created).")
    if grant not in GRANTS:
        raise UsageError(f"--grant must be one of {', '.join(GRANTS)}, not {grant!r}.")
    account, api_base = _support_account(ctx)
    base = checked_base_url(oauth_base or default_oauth_base(ctx))
    ensure_secure_backend()
    clock = ctx.extras.get("clock", time.time)
    if grant == "client_credentials":
        form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": client_secret,
                "scope": " ".join(SCOPES)}
    else:
        state = pkce.make_state()
        with _listen(redirect_port(ctx) if port is None else port, state) as listener:  # state checked, no PKCE
            if open_browser is not None:
                open_browser(authorize_url(base, client_id, listener.redirect_uri, state, account))
            code = listener.wait(timeout, is_cancelled)
            redirect_uri = listener.redirect_uri
        form = {"grant_type": "authorization_code", "code": code, "client_id": client_id,
                "client_secret": client_secret, "redirect_uri": redirect_uri, "scope": " ".join(SCOPES)}
    tokens = post_token(base, form, transport=transport, clock=clock)
    conn = ChatConnection(account=account, api_base=api_base, oauth_base=base, client_id=client_id, grant=grant,
                          scopes=tokens.scope.split() or list(SCOPES), connected_at=now_iso(),
                          expires_at=iso(tokens.expires_at), refreshable=bool(tokens.refresh_token))
    store = SecretStore()
    scopes = _scopes(ctx, conn)
    old_tokens, old_secret = store.get(scopes[0], TOKEN_KIND), store.get(scopes[1], SECRET_KIND)
    store.set_json(scopes[0], TOKEN_KIND, _pair(tokens, scopes[1]))
    store.set(scopes[1], SECRET_KIND, client_secret)
    try:
        with ZendeskHttp(api_base, ChatAuth(conn, scopes, transport=transport, clock=clock), transport=transport,
                         retry=RetryPolicy(max_attempts=3, backoff_base=0.5, backoff_max=2.0),
                         is_cancelled=is_cancelled) as http:
            http.get("/api/v2/chat/agents", params={"limit": 1})
    except BaseException:
        _restore(store, scopes, old_tokens, old_secret)
        raise
    ctx.settings.set(CONNECTION_KEY, conn.to_dict())
    return conn


def _pair(tokens: TokenSet, oauth_scope: SecretScope) -> dict[str, Any]:
    """The stored pair, with the OAuth server origin its refresh token may be sent to."""
    return {**tokens.to_dict(), "oauth_origin": oauth_scope.origin}


def _listen(port: int, state: str) -> RedirectListener:
    """The loopback listener; a busy port becomes ``RedirectPortBusy`` (names the port to change)."""
    from evalsync_gui.core.auth.session import RedirectPortBusy

    try:
        return RedirectListener(port, state)
    except AuthError as exc:  # the constructor raises AuthError only when it cannot bind
        raise RedirectPortBusy(port, str(exc)) from None


def _restore(store: SecretStore, scopes: tuple[SecretScope, SecretScope], tokens: str | None,
             secret: str | None) -> None:
    for scope, kind, value in ((scopes[0], TOKEN_KIND, tokens), (scopes[1], SECRET_KIND, secret)):
        if value is None:
            store.delete(scope, kind)
        else:
            store.set(scope, kind, value)


def disconnect(ctx: AppContext) -> bool:
    """Forget the Chat connection: its keyring entries and facts. True if one existed.

    The Support sign-in is untouched. The token stays valid in Zendesk until it expires or
    is revoked in the Chat dashboard (Settings > Account > API), which the caller says.
    """
    conn = chat_connection(ctx)
    if conn is not None:
        token_scope, secret_scope = _scopes(ctx, conn)
        store = SecretStore()
        store.delete(token_scope, TOKEN_KIND)
        store.delete(secret_scope, SECRET_KIND)
    ctx.settings.delete(CONNECTION_KEY)
    return conn is not None
