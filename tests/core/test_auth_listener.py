"""PKCE values and the one-shot redirect listener (real sockets on 127.0.0.1)."""

from __future__ import annotations

import base64
import hashlib
import socket
import threading

import httpx
import pytest

from evalsync_gui.core.auth import pkce
from evalsync_gui.core.auth.listener import RedirectListener
from evalsync_gui.core.errors import AuthError, Cancelled


def test_pkce_verifier_and_challenge():
    v = pkce.make_verifier()
    assert 43 <= len(v) <= 128 and set(v) <= set(pkce._UNRESERVED)
    c = pkce.challenge_for(v)
    assert "=" not in c and len(c) == 43
    assert base64.urlsafe_b64decode(c + "=") == hashlib.sha256(v.encode()).digest()
    assert pkce.make_state() != pkce.make_state()


def _browse(url: str, result: list) -> None:
    r = httpx.get(url, timeout=5)
    result.append(r)


def _in_thread(url: str) -> tuple[threading.Thread, list]:
    out: list = []
    t = threading.Thread(target=_browse, args=(url, out))
    t.start()
    return t, out


def test_receives_code_answers_page_and_closes():
    listener = RedirectListener(0, "s1")
    assert listener.redirect_uri.startswith("http://127.0.0.1:") and listener.redirect_uri.endswith("/callback")
    fav, fav_out = _in_thread(f"http://127.0.0.1:{listener.port}/favicon.ico")
    fav.join(0.05)
    ok, ok_out = None, None

    def later():
        fav.join()
        nonlocal ok, ok_out
        ok, ok_out = _in_thread(listener.redirect_uri + "?code=abc&state=s1")

    starter = threading.Thread(target=later)
    starter.start()
    assert listener.wait(10) == "abc"
    starter.join()
    ok.join()
    assert fav_out[0].status_code == 404
    assert ok_out[0].status_code == 200 and "close this window" in ok_out[0].text
    RedirectListener(listener.port, "again").close()  # closed after one callback: a retry can bind at once


def test_state_mismatch_is_refused():
    listener = RedirectListener(0, "right")
    t, out = _in_thread(listener.redirect_uri + "?code=abc&state=wrong")
    with pytest.raises(AuthError, match="state mismatch"):
        listener.wait(10)
    t.join()
    assert out[0].status_code == 400


def test_denied_in_zendesk():
    listener = RedirectListener(0, "s")
    t, _ = _in_thread(listener.redirect_uri + "?error=access_denied&state=s")
    with pytest.raises(AuthError, match="not allowed"):
        listener.wait(10)
    t.join()


def test_timeout_and_cancel():
    with pytest.raises(AuthError, match="No answer"):
        RedirectListener(0, "s").wait(0.3)
    with pytest.raises(Cancelled):
        RedirectListener(0, "s").wait(10, is_cancelled=lambda: True)


def test_second_live_listener_on_the_same_port_is_refused():
    with RedirectListener(0, "s") as first:
        with pytest.raises(AuthError, match="redirect port"):
            RedirectListener(first.port, "s")


def test_port_in_use_says_what_to_do():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        with pytest.raises(AuthError, match="redirect port"):
            RedirectListener(s.getsockname()[1], "s")


def test_binds_loopback_only():
    listener = RedirectListener(0, "s")
    try:
        assert listener._server.server_address[0] == "127.0.0.1"
    finally:
        listener.close()
