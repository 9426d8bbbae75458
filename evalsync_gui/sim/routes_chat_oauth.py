"""The Chat OAuth server: its own client, authorize page and token endpoint, apart from Support's.

Served at both hosts' paths (``/oauth2/authorizations/new`` and ``/oauth2/token`` as on
www.zopim.com; ``/oauth2/chat/…`` as on ``{subdomain}.zendesk.com``). Strict where Zendesk
is: the redirect URI must be registered on the client, ``state`` is passed back, there is no
PKCE, the client secret is checked on every exchange, and ``client_credentials`` works only
for a confidential client (docs/ZENDESK.md section 5). Token bodies are form-encoded or JSON.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from evalsync_gui.sim.oauth import OAuthError, Token
from evalsync_gui.sim.routes_oauth import INVALID_BODY, _page, _redirect, token_body
from evalsync_gui.sim.wire import Request, Response, json_response

if TYPE_CHECKING:
    from evalsync_gui.sim.server import Simulator


def authorize(sim: Simulator, req: Request) -> Response:
    """GET …/authorizations/new: approve for the signed-in approver (the page never redirects to
    an unregistered address)."""
    q = dict(req.params)
    client = sim.chat_oauth.clients.get(q.get("client_id", ""))
    redirect_uri = q.get("redirect_uri", "")
    if client is None or not client.accepts(redirect_uri):
        return _page(400, "Invalid OAuth request", "<p>The client or its redirect URL is not registered.</p>")
    if q.get("response_type") != "code":
        return _redirect(redirect_uri, {"error": "unsupported_response_type", "state": q.get("state")})
    code = sim.chat_oauth.issue_code(client.identifier, sim.approver()["id"], redirect_uri,
                                     q.get("scope", "read"), None)
    return _redirect(redirect_uri, {"code": code, "state": q.get("state")})


def _body(tok: Token) -> dict:
    body = {"access_token": tok.access, "token_type": "Bearer", "scope": " ".join(tok.scopes),
            "expires_in": int(tok.expires - tok.created)}
    if not tok.extra.get("no_refresh"):
        body["refresh_token"] = tok.refresh
    return body


def token(sim: Simulator, req: Request) -> Response:
    """POST …/token: authorization_code, refresh_token or client_credentials."""
    body = token_body(req)
    if body is None:
        return json_response(INVALID_BODY, 400)
    grant, client_id, secret = body.get("grant_type"), str(body.get("client_id", "")), body.get("client_secret")
    state = sim.chat_oauth
    try:
        if grant == "authorization_code":
            tok = state.exchange_code(client_id, str(body.get("code", "")), str(body.get("redirect_uri", "")),
                                      None, secret)
        elif grant == "refresh_token":
            tok = state.refresh(client_id, str(body.get("refresh_token", "")), secret)
        elif grant == "client_credentials":
            tok = state.client_credentials(client_id, secret, str(body.get("scope") or "read"))
        else:
            raise OAuthError("unsupported_grant_type",
                             "The authorization grant type is not supported by the authorization server.")
    except OAuthError as exc:
        return json_response({"error": exc.error, "error_description": exc.description}, exc.status,
                             [("Cache-Control", "no-store")])
    return json_response(_body(tok), 200, [("Cache-Control", "no-store")])
