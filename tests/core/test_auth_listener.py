"""PKCE values and the one-shot redirect listener (real sockets on 127.0.0.1)."""

from __future__ import annotations

import base64
import hashlib
import socket
import threading
import time

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


def _waiting(listener: RedirectListener, timeout: float = 10) -> tuple[threading.Thread, dict]:
    result: dict = {}

    def run() -> None:
        started = time.monotonic()
        try:
            result["code"] = listener.wait(timeout)
        except AuthError as exc:
            result["error"] = exc
        result["took"] = time.monotonic() - started

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, result


def test_wrong_or_missing_state_is_ignored_and_the_real_answer_still_lands():
    listener = RedirectListener(0, "right")
    t, result = _waiting(listener)
    for query in ("code=abc&state=wrong", "code=abc", "code=abc&state=", "error=access_denied&state=nope"):
        r = httpx.get(listener.redirect_uri + "?" + query, timeout=5)
        assert r.status_code == 400 and "still waiting" in r.text
        assert t.is_alive()
    assert httpx.get(listener.redirect_uri + "?code=real&state=right", timeout=5).status_code == 200
    t.join(5)
    assert result["code"] == "real"


def test_ignored_answers_are_counted_in_the_timeout_message():
    listener = RedirectListener(0, "right")
    t, result = _waiting(listener, timeout=1.0)
    httpx.get(listener.redirect_uri + "?code=abc&state=forged", timeout=5)
    t.join(5)
    assert "No answer" in str(result["error"]) and "1 answer that did not belong" in str(result["error"])


@pytest.mark.parametrize("host", ["evil.example:{port}", "127.0.0.1:1", "localhost", "attacker.test"])
def test_a_foreign_host_header_is_refused(host):
    listener = RedirectListener(0, "s")
    t, result = _waiting(listener)
    r = httpx.get(listener.redirect_uri + "?code=abc&state=s", headers={"Host": host.format(port=listener.port)},
                  timeout=5)
    assert r.status_code == 400 and t.is_alive()
    r = httpx.get(f"http://localhost:{listener.port}/callback?code=ok&state=s", timeout=5)
    assert r.status_code == 200
    t.join(5)
    assert result["code"] == "ok"


def test_a_trickling_client_cannot_outlive_the_timeout():
    listener = RedirectListener(0, "s")
    stop = threading.Event()

    def trickle() -> None:
        with socket.create_connection(("127.0.0.1", listener.port)) as s:
            for byte in b"GET /callback?state=s&code=x HTTP/1.1\r\n":
                if stop.wait(1.0):  # one byte a second: each read is within the socket timeout
                    return
                try:
                    s.sendall(bytes([byte]))
                except OSError:
                    return

    threading.Thread(target=trickle, daemon=True).start()
    t, result = _waiting(listener, timeout=2.0)
    t.join(8)
    stop.set()
    assert not t.is_alive() and "No answer" in str(result["error"]) and result["took"] < 4


def test_idle_connections_do_not_delay_or_shut_out_the_real_callback():
    listener = RedirectListener(0, "s")
    t, result = _waiting(listener)
    idle = [socket.create_connection(("127.0.0.1", listener.port)) for _ in range(12)]
    try:
        started = time.monotonic()
        r = httpx.get(listener.redirect_uri + "?code=real&state=s", timeout=10)
        t.join(5)
        assert r.status_code == 200 and result["code"] == "real"
        assert time.monotonic() - started < 3
    finally:
        for s in idle:
            s.close()


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
