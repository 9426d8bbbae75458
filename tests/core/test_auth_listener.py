"""PKCE values and the one-shot redirect listener (real sockets on 127.0.0.1)."""

from __future__ import annotations

import base64
import hashlib
import os
import socket
import threading
import time

import httpx
import pytest

from evalsync_gui.core.auth import pkce
from evalsync_gui.core.auth.listener import MAX_CONNECTIONS, RedirectListener, bind_option, timeout_message
from evalsync_gui.core.errors import AuthError, Cancelled, UsageError


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


# ----- Written to kill the mutants `make mutate MODULES=auth.listener` left alive -------------
# The browser's page, the status and headers, and the message `wait` ends with, for each answer.

def _answer_and_wait(query: str, state: str = "s"):
    listener = RedirectListener(0, state)
    t, out = _in_thread(listener.redirect_uri + "?" + query)
    try:
        result = listener.wait(10, is_cancelled=lambda: False)
    except AuthError as exc:
        result = exc
    t.join(5)
    return out[0], result


def _page(title: str, text: str) -> str:
    return ('<!doctype html><html lang="en"><head><meta charset="utf-8"><title>EvalSync</title>\n'
            '<style>body{font-family:sans-serif;margin:4em auto;max-width:32em;color:#222}h1{font-size:1.3em}</style>\n'
            f'</head><body><h1>{title}</h1><p>{text}</p><p>You can close this window and return to EvalSync.</p>'
            '</body></html>')


def test_the_accepted_answer_page_and_headers():
    r, code = _answer_and_wait("code=abc&state=s")
    assert code == "abc"
    assert r.status_code == 200
    assert r.text == _page("EvalSync is authorised", "EvalSync received Zendesk&#x27;s answer and is finishing the sign-in.")
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert r.headers["content-length"] == str(len(r.content))
    assert r.headers["cache-control"] == "no-store"
    assert r.headers["connection"] == "close"


def test_a_blank_error_with_a_code_is_an_accepted_answer():
    r, code = _answer_and_wait("error=&code=abc&state=s")
    assert (r.status_code, code) == (200, "abc")


def test_access_denied_page_and_message():
    r, err = _answer_and_wait("error=access_denied&state=s")
    assert r.status_code == 200 and r.text == _page("Access not granted", "Zendesk did not grant EvalSync access.")
    assert str(err) == "Access was not allowed in Zendesk; click Authenticate again and choose Allow."


def test_another_error_is_named_shortened():
    r, err = _answer_and_wait("error=" + "x" * 80 + "&code=abc&state=s")
    assert r.status_code == 200
    assert str(err) == (f"Zendesk refused the authorization ({'x' * 60}); check the OAuth client identifier and its "
                        "redirect URI, then try again.")


@pytest.mark.parametrize("query", ["state=s", "code=&state=s"])
def test_an_answer_without_a_code_page_and_message(query):
    r, err = _answer_and_wait(query)
    assert r.status_code == 400
    assert r.text == _page("Sign-in incomplete", "Zendesk sent no authorization code. Start again from EvalSync.")
    assert str(err) == "Zendesk sent no authorization code; start the sign-in again."


def test_other_paths_and_refused_answers_get_their_pages():
    listener = RedirectListener(0, "right")
    t, result = _waiting(listener)
    r = httpx.get(f"http://127.0.0.1:{listener.port}/favicon.ico?code=abc&state=right", timeout=5)
    assert r.status_code == 404 and r.text == _page(
        "Not found", "This address is only used by EvalSync to receive the Zendesk answer.")
    r = httpx.get(listener.redirect_uri + "?code=abc&state=wrong", timeout=5)
    assert r.status_code == 400 and r.text == _page(
        "Sign-in not accepted", "This answer does not belong to the sign-in EvalSync started; EvalSync is still waiting.")
    r = httpx.get(listener.redirect_uri + "?code=abc&state=right", headers={"Host": "evil.test"}, timeout=5)
    assert r.status_code == 400 and r.text == _page(
        "Sign-in not accepted", "This address only answers the browser on this computer.")
    assert t.is_alive()
    r = httpx.get(listener.redirect_uri + "?code=real&state=right", headers={"Host": f"LOCALHOST:{listener.port}"},
                  timeout=5)
    assert r.status_code == 200
    t.join(5)
    assert result["code"] == "real"


def test_a_request_without_a_host_is_refused():
    listener = RedirectListener(0, "s")
    t, result = _waiting(listener, timeout=1.5)
    with socket.create_connection(("127.0.0.1", listener.port)) as s:
        s.sendall(b"GET /callback?code=abc&state=s HTTP/1.0\r\n\r\n")
        answer = b""
        while chunk := s.recv(4096):
            answer += chunk
    assert answer.startswith(b"HTTP/1.0 400 ") and b"only answers the browser on this computer" in answer
    t.join(5)
    assert str(result["error"]) == ("No answer from Zendesk in the browser within 1.5 seconds (1 answer that did not "
                                    "belong to this sign-in was ignored); click Authenticate (or run connect) to try "
                                    "again.")


def test_the_timeout_message_counts_every_ignored_answer():
    listener = RedirectListener(0, "right")
    t, result = _waiting(listener, timeout=1.5)
    for _ in range(2):
        httpx.get(listener.redirect_uri + "?code=abc&state=forged", timeout=5)
    t.join(5)
    assert str(result["error"]) == ("No answer from Zendesk in the browser within 1.5 seconds (2 answers that did not "
                                    "belong to this sign-in were ignored); click Authenticate (or run connect) to try "
                                    "again.")


def test_the_timeout_message_without_ignored_answers():
    with pytest.raises(AuthError) as info:
        RedirectListener(0, "s").wait(0.25)
    assert str(info.value) == ("No answer from Zendesk in the browser within 0.25 seconds; click Authenticate "
                               "(or run connect) to try again.")


def test_cancel_message_and_the_port_is_freed():
    listener = RedirectListener(0, "s")
    with pytest.raises(Cancelled) as info:
        listener.wait(10, is_cancelled=lambda: True)
    assert str(info.value) == "Sign-in cancelled; nothing was stored."
    RedirectListener(listener.port, "again").close()
    listener.close()  # a second close is harmless


@pytest.mark.parametrize("port", [-1, 65536, 100000])
def test_a_port_out_of_range_is_refused(port):
    with pytest.raises(UsageError) as info:
        RedirectListener(port, "s")
    assert str(info.value) == f"The redirect port {port} is not a valid port (1 to 65535)."


def test_the_highest_port_is_a_valid_port():
    try:
        RedirectListener(65535, "s").close()
    except AuthError:
        pass  # in use on this machine: still not refused as out of range


def test_port_in_use_message_names_the_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        with pytest.raises(AuthError) as info:
            RedirectListener(port, "s")
    assert str(info.value) == (
        f"Cannot listen for Zendesk's answer on 127.0.0.1:{port} (Address already in use); close the program using "
        "that port or choose another redirect port (and register its redirect URI in the Zendesk OAuth client).")


def test_redirect_uri_and_port_is_free():
    from evalsync_gui.core.auth.listener import port_is_free, redirect_uri_for

    assert redirect_uri_for(47123) == "http://127.0.0.1:47123/callback"
    with RedirectListener(0, "s") as listener:
        assert listener.redirect_uri == f"http://127.0.0.1:{listener.port}/callback"
        assert port_is_free(listener.port) is False
    assert port_is_free(listener.port) is True


def _is_open(s: socket.socket) -> bool:
    """True while the listener has not closed ``s`` (nothing to read, no end of stream)."""
    s.setblocking(False)
    try:
        return s.recv(1) != b""
    except BlockingIOError:
        return True
    finally:
        s.setblocking(True)


def test_idle_connections_holding_every_slot_do_not_shut_out_the_real_callback(capfd):
    """MAX_CONNECTIONS idle connections (a browser's pre-opened ones, or a local program's) hold
    every slot; the real callback still lands at once, and only the oldest idle one was closed
    to make room. The idle ones would last the whole 60 s deadline here: nothing waits for it."""
    listener = RedirectListener(0, "s", connection_deadline=60)
    t, result = _waiting(listener, timeout=30)
    idle = [socket.create_connection(("127.0.0.1", listener.port)) for _ in range(MAX_CONNECTIONS)]
    try:
        r = httpx.get(listener.redirect_uri + "?code=real&state=s", timeout=20)
        t.join(10)
        assert r.status_code == 200 and result["code"] == "real"
        idle[0].settimeout(10)
        assert idle[0].recv(1) == b""  # the oldest made room
        assert all(_is_open(s) for s in idle[1:])  # the others are untouched
    finally:
        for s in idle:
            s.close()
    assert "Traceback" not in capfd.readouterr().err  # made room quietly, not through an error handler


def test_each_new_connection_beyond_the_slots_closes_the_oldest_in_turn():
    listener = RedirectListener(0, "s", connection_deadline=60)
    t, result = _waiting(listener, timeout=30)
    conns = [socket.create_connection(("127.0.0.1", listener.port)) for _ in range(MAX_CONNECTIONS + 3)]
    try:
        for s in conns[:3]:
            s.settimeout(10)
            assert s.recv(1) == b""
        r = httpx.get(listener.redirect_uri + "?code=real&state=s", timeout=20)  # closes the 4th
        t.join(10)
        assert r.status_code == 200 and result["code"] == "real"
        conns[3].settimeout(10)
        assert conns[3].recv(1) == b""
        assert all(_is_open(s) for s in conns[4:])
    finally:
        for s in conns:
            s.close()


def test_more_requests_in_a_row_than_slots_are_all_served():
    """Every finished connection gives its slot back (none is left counted as open)."""
    listener = RedirectListener(0, "s", connection_deadline=60)
    t, result = _waiting(listener, timeout=60)
    for _ in range(MAX_CONNECTIONS + 8):
        assert httpx.get(f"http://127.0.0.1:{listener.port}/favicon.ico", timeout=20).status_code == 404
    assert httpx.get(listener.redirect_uri + "?code=real&state=s", timeout=20).status_code == 200
    t.join(10)
    assert result["code"] == "real"


def test_a_connection_is_cut_at_its_deadline_however_slowly_it_sends():
    """A client that keeps trickling header bytes (each read succeeds) is cut at the connection
    deadline, and the listener goes on waiting for the real answer."""
    listener = RedirectListener(0, "s", connection_deadline=0.5)
    t, result = _waiting(listener, timeout=60)
    stop = threading.Event()
    with socket.create_connection(("127.0.0.1", listener.port)) as s:
        def trickle() -> None:
            try:
                s.sendall(b"GET /callback?code=x&state=s HTTP/1.1\r\nX-Slow: ")
                while not stop.wait(0.02):
                    s.sendall(b"a")
            except OSError:
                pass  # cut

        sender = threading.Thread(target=trickle, daemon=True)
        sender.start()
        try:
            s.settimeout(30)
            assert s.recv(1) == b""  # cut by the listener, not by the end of the trickle
        finally:
            stop.set()
            sender.join(10)
    assert t.is_alive()
    assert httpx.get(listener.redirect_uri + "?code=real&state=s", timeout=20).status_code == 200
    t.join(10)
    assert result["code"] == "real"


def test_a_second_valid_callback_is_not_found_and_changes_nothing():
    """Two connections carry valid callbacks; the first accepted one is the answer, the other
    (sent after it, on a connection accepted before it) gets the not-found page."""
    listener = RedirectListener(0, "s")
    t, result = _waiting(listener, timeout=30)
    with socket.create_connection(("127.0.0.1", listener.port)) as late:
        # Accepted before the first callback's connection (the listener accepts in order).
        r = httpx.get(listener.redirect_uri + "?code=first&state=s", timeout=20)
        assert r.status_code == 200
        t.join(10)
        assert result["code"] == "first"
        late.sendall(f"GET /callback?code=second&state=s HTTP/1.1\r\nHost: 127.0.0.1:{listener.port}\r\n\r\n".encode())
        late.settimeout(20)
        answer = b""
        while chunk := late.recv(4096):
            answer += chunk
    assert answer.startswith(b"HTTP/1.0 404 ")
    assert answer.endswith(_page("Not found", "This address is only used by EvalSync to receive the Zendesk answer.")
                           .encode())
    assert listener._server.outcome.code == "first"


def test_the_timeout_message_in_minutes_and_seconds():
    assert timeout_message(300, 0) == ("No answer from Zendesk in the browser within 5 minutes; click Authenticate "
                                       "(or run connect) to try again.")
    assert timeout_message(60, 1) == ("No answer from Zendesk in the browser within 1 minute (1 answer that did not "
                                      "belong to this sign-in was ignored); click Authenticate (or run connect) to "
                                      "try again.")
    assert timeout_message(90, 3).startswith("No answer from Zendesk in the browser within 1.5 minutes (3 answers that "
                                             "did not belong to this sign-in were ignored); ")
    assert "within 59.5 seconds;" in timeout_message(59.5, 0)
    assert "within 1 second;" in timeout_message(1, 0)


def test_refusals_of_either_kind_are_all_counted():
    listener = RedirectListener(0, "right")
    t, result = _waiting(listener, timeout=1.5)
    assert httpx.get(listener.redirect_uri + "?code=a&state=right", headers={"Host": "evil.test"}, timeout=5
                     ).status_code == 400
    assert httpx.get(listener.redirect_uri + "?code=a&state=forged", timeout=5).status_code == 400
    assert httpx.get(listener.redirect_uri + "?code=a&state=right", headers={"Host": "evil.test"}, timeout=5
                     ).status_code == 400
    t.join(10)
    assert "(3 answers that did not belong to this sign-in were ignored)" in str(result["error"])


def test_the_bind_option_per_platform():
    """Windows gets an exclusive socket (its SO_REUSEADDR would let another program take the
    port); POSIX gets SO_REUSEADDR (a retry binds at once, a second live listener is refused:
    test_receives_code_answers_page_and_closes, test_second_live_listener_on_the_same_port_is_refused)."""
    assert bind_option("nt") == "SO_EXCLUSIVEADDRUSE"
    assert bind_option("posix") == "SO_REUSEADDR"
    assert hasattr(socket, bind_option(os.name))


def test_cancel_is_noticed_within_a_second_while_nothing_arrives():
    listener = RedirectListener(0, "s")
    started = time.monotonic()
    with pytest.raises(Cancelled):
        listener.wait(30, is_cancelled=lambda: time.monotonic() - started > 0.1)
    assert time.monotonic() - started < 1.0  # the listener looks up from the socket every 0.2 s
