"""OAuth endpoints: the approval page, the token endpoint and token introspection/revocation."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlencode

from evalsync_gui.sim.clock import iso
from evalsync_gui.sim.oauth import OAuthError, Token
from evalsync_gui.sim.wire import NOT_FOUND, HttpError, Request, Response, json_response

if TYPE_CHECKING:
    from evalsync_gui.sim.server import Simulator


def _redirect(uri: str, params: dict[str, str]) -> Response:
    sep = "&" if "?" in uri else "?"
    target = uri + sep + urlencode({k: v for k, v in params.items() if v is not None})
    return Response(302, b"", None, [("Location", target), ("Cache-Control", "no-store")])


def _page(status: int, title: str, body: str) -> Response:
    doc = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title></head>"
           f"<body><h1>{html.escape(title)}</h1>{body}</body></html>")
    return Response(status, doc.encode(), "text/html; charset=utf-8")


def authorize(sim: Simulator, req: Request) -> Response:
    """GET /oauth/authorizations/new: approve at once (auto_approve) or show Allow/Deny."""
    q = dict(req.params)
    client = sim.oauth.clients.get(q.get("client_id", ""))
    redirect_uri = q.get("redirect_uri", "")
    if client is None or not client.accepts(redirect_uri):
        # Never redirect to an unverified address: show the error instead.
        return _page(400, "Invalid OAuth request", "<p>The client or its redirect URL is not registered.</p>")
    state = q.get("state")
    if q.get("response_type") != "code":
        return _redirect(redirect_uri, {"error": "unsupported_response_type", "state": state})
    challenge = q.get("code_challenge")
    if client.kind == "public" and (not challenge or q.get("code_challenge_method") != "S256"):
        return _redirect(redirect_uri, {"error": "invalid_request",
                                        "error_description": "PKCE with code_challenge_method=S256 is required",
                                        "state": state})
    if sim.config.auto_approve:
        return _grant(sim, q, redirect_uri, challenge)
    hidden = "".join(f"<input type='hidden' name='{html.escape(k)}' value='{html.escape(v)}'>" for k, v in q.items())
    form = (f"<p><b>{html.escape(client.name)}</b> wants to access your Zendesk account "
            f"({html.escape(sim.config.subdomain)}) as {html.escape(sim.approver()['name'])} "
            f"with scope <code>{html.escape(q.get('scope', 'read'))}</code>.</p>"
            f"<form method='post' action='/oauth/authorizations'>{hidden}"
            f"<button name='decision' value='allow'>Allow</button> "
            f"<button name='decision' value='deny'>Deny</button></form>")
    return _page(200, "Authorize access", form)


def decide(sim: Simulator, req: Request) -> Response:
    """POST /oauth/authorizations: the Allow/Deny form."""
    q = dict(parse_qsl(req.body.decode("utf-8", "replace"), keep_blank_values=True))
    client = sim.oauth.clients.get(q.get("client_id", ""))
    redirect_uri = q.get("redirect_uri", "")
    if client is None or not client.accepts(redirect_uri):
        return _page(400, "Invalid OAuth request", "<p>The client or its redirect URL is not registered.</p>")
    if q.get("decision") != "allow":
        return _redirect(redirect_uri, {"error": "access_denied",
                                        "error_description": "The resource owner or authorization server denied "
                                                             "the request.", "state": q.get("state")})
    return _grant(sim, q, redirect_uri, q.get("code_challenge"))


def _grant(sim: Simulator, q: dict[str, str], redirect_uri: str, challenge: str | None) -> Response:
    code = sim.oauth.issue_code(q["client_id"], sim.approver()["id"], redirect_uri, q.get("scope", "read"), challenge)
    return _redirect(redirect_uri, {"code": code, "state": q.get("state")})


def _token_body(tok: Token) -> dict:
    return {"access_token": tok.access, "token_type": "bearer", "scope": " ".join(tok.scopes),
            "expires_in": int(tok.expires - tok.created), "refresh_token": tok.refresh,
            "refresh_token_expires_in": int(tok.refresh_expires - tok.created)}


INVALID_BODY = {"error": "invalid_request", "error_description": "The request body is not valid."}


def token_body(req: Request) -> dict | None:
    """A token request's JSON object, or None when the body is not one (both OAuth servers answer 400)."""
    try:
        body = req.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def token(sim: Simulator, req: Request) -> Response:
    """POST /oauth/tokens (JSON or form body)."""
    body = token_body(req)
    if body is None:
        return json_response(INVALID_BODY, 400)
    grant = body.get("grant_type")
    try:
        expires = int(body["expires_in"]) if body.get("expires_in") not in (None, "") else None
    except (TypeError, ValueError):
        return json_response({"error": "invalid_request", "error_description": "expires_in must be an integer"}, 400)
    try:
        if grant == "authorization_code":
            tok = sim.oauth.exchange_code(str(body.get("client_id", "")), str(body.get("code", "")),
                                          str(body.get("redirect_uri", "")), body.get("code_verifier"),
                                          body.get("client_secret"), expires)
        elif grant == "refresh_token":
            tok = sim.oauth.refresh(str(body.get("client_id", "")), str(body.get("refresh_token", "")),
                                    body.get("client_secret"), expires)
        else:
            raise OAuthError("unsupported_grant_type",
                             "The authorization grant type is not supported by the authorization server.")
    except OAuthError as exc:
        return json_response({"error": exc.error, "error_description": exc.description}, exc.status,
                             [("Cache-Control", "no-store")])
    return json_response(_token_body(tok), 200, [("Cache-Control", "no-store")])


def _current(req: Request) -> Token:
    p = req.principal
    if p is None or p.method != "oauth":
        raise HttpError(json_response(NOT_FOUND, 404))
    return p.token


def current_token(sim: Simulator, req: Request) -> Response:
    tok = _current(req)
    return json_response({"token": {
        "id": tok.id, "token": tok.access[:10], "refresh_token": tok.refresh[:10], "scopes": tok.scopes,
        "client_id": tok.client_id, "user_id": tok.user_id, "created_at": iso(tok.created),
        "expires_at": iso(tok.expires), "refresh_token_expires_at": iso(tok.refresh_expires),
        "used_at": iso(tok.used) if tok.used else None,
        "url": f"{sim.base_url}/api/v2/oauth/tokens/{tok.id}.json"}})


def revoke_current(sim: Simulator, req: Request) -> Response:
    sim.oauth.revoke(_current(req))
    return Response(204, b"", None, [("Cache-Control", "no-cache")])
