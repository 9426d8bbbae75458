"""OAuth: authorization code + PKCE, refresh rotation, expiry, scopes, introspection, revocation."""

from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

REDIRECT = "http://127.0.0.1:51234/callback"


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def authorize(sim, challenge, scope="read write", client=None):
    params = {"response_type": "code", "client_id": sim.oauth_client_id, "redirect_uri": REDIRECT, "scope": scope,
              "state": "st4te", "code_challenge": challenge, "code_challenge_method": "S256"}
    with httpx.Client(base_url=sim.base_url) as c:
        return c.get("/oauth/authorizations/new", params=params)


def code_from(resp) -> str:
    assert resp.status_code == 302, resp.text
    q = parse_qs(urlsplit(resp.headers["Location"]).query)
    assert q["state"] == ["st4te"]
    return q["code"][0]


def exchange(sim, code, verifier, **extra):
    body = {"grant_type": "authorization_code", "code": code, "client_id": sim.oauth_client_id,
            "redirect_uri": REDIRECT, "code_verifier": verifier, **extra}
    return httpx.post(f"{sim.base_url}/oauth/tokens", json=body)


def tokens(sim, scope="read write"):
    verifier, challenge = pkce()
    resp = exchange(sim, code_from(authorize(sim, challenge, scope)), verifier)
    assert resp.status_code == 200, resp.text
    return resp.json()


def bearer(sim, access):
    return httpx.Client(base_url=sim.base_url, headers={"Authorization": f"Bearer {access}"})


def test_pkce_flow_yields_working_tokens(sim):
    tok = tokens(sim)
    assert set(tok) == {"access_token", "token_type", "scope", "expires_in", "refresh_token",
                        "refresh_token_expires_in"}
    assert tok["token_type"] == "bearer" and tok["expires_in"] == 1800 and tok["scope"] == "read write"
    with bearer(sim, tok["access_token"]) as c:
        assert c.get("/api/v2/users/me.json").json()["user"]["email"] == sim.admin_email
        info = c.get("/api/v2/oauth/tokens/current.json").json()["token"]
        assert info["client_id"] == sim.oauth_client_id and info["scopes"] == ["read", "write"]
        assert info["token"] == tok["access_token"][:10]


def test_bad_verifier_wrong_redirect_and_reused_code_are_rejected(sim):
    verifier, challenge = pkce()
    code = code_from(authorize(sim, challenge))
    bad = exchange(sim, code, "x" * 50)
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_grant"
    assert exchange(sim, code, verifier).status_code == 400  # a code is single use, even after a failure
    code = code_from(authorize(sim, challenge))
    assert exchange(sim, code, verifier, redirect_uri="http://127.0.0.1:9/other").status_code == 400
    code = code_from(authorize(sim, challenge))
    sim.advance(121)
    assert exchange(sim, code, verifier).json()["error"] == "invalid_grant"  # codes live 120 s


def test_form_encoded_token_request_is_accepted(sim):
    verifier, challenge = pkce()
    code = code_from(authorize(sim, challenge))
    resp = httpx.post(f"{sim.base_url}/oauth/tokens", data={
        "grant_type": "authorization_code", "code": code, "client_id": sim.oauth_client_id,
        "redirect_uri": REDIRECT, "code_verifier": verifier})
    assert resp.status_code == 200 and resp.json()["access_token"]


def test_refresh_rotation_kills_the_old_pair(sim):
    old = tokens(sim)
    resp = httpx.post(f"{sim.base_url}/oauth/tokens", json={
        "grant_type": "refresh_token", "refresh_token": old["refresh_token"], "client_id": sim.oauth_client_id})
    assert resp.status_code == 200
    new = resp.json()
    assert new["refresh_token"] != old["refresh_token"]
    with bearer(sim, old["access_token"]) as c:
        r = c.get("/api/v2/users.json")
    assert r.status_code == 401 and r.json()["error"] == "invalid_token"
    again = httpx.post(f"{sim.base_url}/oauth/tokens", json={
        "grant_type": "refresh_token", "refresh_token": old["refresh_token"], "client_id": sim.oauth_client_id})
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    with bearer(sim, new["access_token"]) as c:
        assert c.get("/api/v2/users.json").status_code == 200


def test_access_tokens_expire(sim):
    tok = tokens(sim)
    sim.advance(1801)
    with bearer(sim, tok["access_token"]) as c:
        r = c.get("/api/v2/users.json")
    assert r.status_code == 401
    assert r.json() == {"error": "invalid_token", "error_description": "The access token provided is expired, "
                        "revoked, malformed or invalid for other reasons."}


def test_scopes_are_enforced(sim):
    tok = tokens(sim, scope="read")
    with bearer(sim, tok["access_token"]) as c:
        assert c.get("/api/v2/users.json").status_code == 200
        denied = c.put(f"/api/v2/users/{sim.ids('agent')[0]}.json", json={"user": {"name": "X"}})
        assert denied.status_code == 403 and "write" in denied.json()["description"]


def test_delete_current_and_revoke_all(sim):
    tok = tokens(sim)
    with bearer(sim, tok["access_token"]) as c:
        assert c.delete("/api/v2/oauth/tokens/current.json").status_code == 204
        assert c.get("/api/v2/users/me.json").status_code == 401
    tok = tokens(sim)
    sim.revoke_all_tokens()
    with bearer(sim, tok["access_token"]) as c:
        assert c.get("/api/v2/users/me.json").status_code == 401


@pytest.mark.parametrize("decision", ["allow", "deny"])
def test_approval_page(sim_factory, decision):
    sim = sim_factory(auto_approve=False)
    verifier, challenge = pkce()
    page = authorize(sim, challenge)
    assert page.status_code == 200 and "text/html" in page.headers["Content-Type"]
    assert "Allow" in page.text and "Deny" in page.text
    fields = dict(parse_qs(urlsplit("?" + "&".join(
        f"{k}={v}" for k, v in [("response_type", "code"), ("client_id", sim.oauth_client_id),
                                 ("redirect_uri", REDIRECT), ("scope", "read"), ("state", "st4te"),
                                 ("code_challenge", challenge), ("code_challenge_method", "S256")])).query))
    form = {k: v[0] for k, v in fields.items()} | {"decision": decision}
    resp = httpx.post(f"{sim.base_url}/oauth/authorizations", data=form)
    assert resp.status_code == 302
    q = parse_qs(urlsplit(resp.headers["Location"]).query)
    if decision == "deny":
        assert q["error"] == ["access_denied"] and q["state"] == ["st4te"]
    else:
        assert exchange(sim, q["code"][0], verifier).status_code == 200


def test_unknown_client_or_foreign_redirect_is_not_redirected(sim):
    _, challenge = pkce()
    with httpx.Client(base_url=sim.base_url) as c:
        r = c.get("/oauth/authorizations/new", params={"response_type": "code", "client_id": sim.oauth_client_id,
                                                       "redirect_uri": "https://evil.example/cb",
                                                       "code_challenge": challenge, "code_challenge_method": "S256"})
    assert r.status_code == 400 and "Location" not in r.headers
