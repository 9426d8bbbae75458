"""Shared fixtures. Qt runs offscreen; the keyring is a file backend unless a test says otherwise."""

from __future__ import annotations

import os

# Must be set before any Qt import: without a display Qt aborts the process.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _isolated_environment(request, tmp_path, monkeypatch):
    """Keep every test away from the real keyring and the real per-user data folder.

    The test keyring is a file backend (tests/keyring_backends.py) chosen through
    PYTHON_KEYRING_BACKEND, so CLI subprocesses inherit it; tests marked ``secret_service``
    keep the session's real Secret Service. ``file_keyring``/``no_keyring`` still override.
    """
    monkeypatch.setenv("EVALSYNC_DATA_DIR", str(tmp_path / "default-data"))
    # The plaintext test keyring is refused by the app unless this test-only switch is on.
    monkeypatch.setenv("EVALSYNC_ALLOW_TEST_KEYRING", "1")
    if request.node.get_closest_marker("secret_service"):
        yield
        return
    import keyring.core

    from tests.keyring_backends import BACKEND_NAME, ENV_FILE

    monkeypatch.setenv(ENV_FILE, str(tmp_path / "test-keyring.json"))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", BACKEND_NAME)
    previous = keyring.get_keyring()
    keyring.core.set_keyring(keyring.core.load_env())
    yield
    keyring.core.set_keyring(previous)


@pytest.fixture
def data_dir(tmp_path):
    """A private, empty data folder."""
    d = tmp_path / "data"
    d.mkdir(mode=0o700)
    return d


@pytest.fixture
def ctx(data_dir):
    from evalsync_gui.core.context import AppContext

    c = AppContext.create(data_dir)
    yield c
    c.db.close()


# ----- Zendesk simulator (evalsync_gui.sim) ----------------------------------------------
SMALL_ORG = dict(agents=30, admins=3, end_users=40, light_agents=3, suspended=2, deleted=2, chat_agents=10)


@pytest.fixture
def sim_factory():
    """Start simulators on demand: ``sim_factory(agents=5, chat_mode="support")``; all stopped after."""
    from evalsync_gui.sim import SimConfig, Simulator

    started = []

    def make(**overrides):
        s = Simulator(SimConfig(**{**SMALL_ORG, **overrides}))
        started.append(s)
        return s.start()

    yield make
    for s in started:
        s.stop()


@pytest.fixture
def sim(sim_factory):
    """A running simulator with a small organisation (80 people), stopped after the test."""
    return sim_factory()


@pytest.fixture
def reserve_port():
    """``reserve_port()`` -> a loopback port held by this test until it ends, for code that must
    listen on a set port (the OAuth redirect listener).

    Bound to port 0 with SO_REUSEADDR and never listened on: the OS hands the port to nobody
    else (no choose-close-reuse race), and a listener that also sets SO_REUSEADDR (the OAuth
    redirect listener does, on POSIX) can still bind and listen on it.
    """
    import socket

    held: list[socket.socket] = []

    def reserve() -> int:
        s = socket.socket()
        held.append(s)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

    yield reserve
    for s in held:
        s.close()


@pytest.fixture
def reserved_port(reserve_port):
    """One port from :func:`reserve_port`."""
    return reserve_port()
