"""EvalSync's secret store against a real Secret Service (gnome-keyring under dbus-run-session).

`make test` (packaging/run_tests.sh) runs them inside a private D-Bus session with a throwaway,
unlocked GNOME Keyring when dbus-run-session and gnome-keyring-daemon are installed; by hand:
    KR=$(mktemp -d); mkdir -p -m 700 "$KR/run"
    XDG_DATA_HOME=$KR/data XDG_RUNTIME_DIR=$KR/run dbus-run-session -- sh -c \
      'echo -n ci-pass | gnome-keyring-daemon --unlock --components=secrets >/dev/null &&
       .venv/bin/python -m pytest -q -m secret_service tests/test_keyring_real.py'
(README, "Development": the real-keyring tests).
"""

from __future__ import annotations

import os
import uuid

import pytest

pytestmark = [
    pytest.mark.secret_service,
    pytest.mark.skipif(not os.environ.get("DBUS_SESSION_BUS_ADDRESS"),
                       reason="needs a D-Bus session with gnome-keyring (see the module docstring)"),
]


@pytest.fixture
def secret_service(monkeypatch):
    import keyring.core

    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.SecretService.Keyring")
    previous = keyring.get_keyring()
    keyring.core.set_keyring(keyring.core.load_env())
    yield keyring.get_keyring()
    keyring.core.set_keyring(previous)


def test_round_trip_rotation_and_wipe(secret_service):
    from evalsync_gui.core.auth.secrets import OAUTH, SecretScope, SecretStore, ensure_secure_backend

    ensure_secure_backend()
    store = SecretStore(service=f"EvalSync-test-{uuid.uuid4().hex[:8]}")
    account = SecretScope.for_url("https://abc-energy.zendesk.com", "folder-1")
    store.set_json(account, OAUTH, {"access_token": "a1", "refresh_token": "r1", "expires_at": 1.0})
    assert store.get_json(account, OAUTH)["refresh_token"] == "r1"
    store.set_json(account, OAUTH, {"access_token": "a2", "refresh_token": "r2", "expires_at": 2.0})  # rotation
    assert store.get_json(account, OAUTH) == {"access_token": "a2", "refresh_token": "r2", "expires_at": 2.0}
    store.wipe(account)
    assert store.get_json(account, OAUTH) is None
    assert store.delete(account, OAUTH) is False


def test_oauth_connect_and_sign_out_with_real_keyring(secret_service, ctx, sim):
    import threading

    import httpx

    from evalsync_gui.core.auth import session
    from evalsync_gui.core.auth.secrets import OAUTH, SecretStore

    ctx.base_url = sim.base_url

    def browser(url):
        threading.Thread(target=lambda: httpx.get(url, follow_redirects=True, timeout=10), daemon=True).start()

    info = session.start_oauth(ctx, "abc-energy", sim.oauth_client_id, port=0, open_browser=browser, timeout=20)
    assert info.is_admin
    scope = session.secret_scope(ctx, sim.base_url)
    assert SecretStore().get_json(scope, OAUTH)["access_token"]
    assert session.disconnect(ctx) is None
    assert SecretStore().get_json(scope, OAUTH) is None
