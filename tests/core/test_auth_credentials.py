"""OAuthAuth: proactive refresh, refresh on 401, rotation stored before use, no refresh races."""

from __future__ import annotations

import threading

import pytest

from evalsync_gui.core.auth import oauth
from evalsync_gui.core.auth.credentials import OAuthAuth
from evalsync_gui.core.auth.secrets import OAUTH, SecretScope, SecretStore
from evalsync_gui.core.errors import AuthError
from evalsync_gui.core.zendesk.http import ZendeskHttp
from tests.core.auth_fake import FakeZendesk
from tests.keyring_backends import file_keyring  # noqa: F401 - fixture

BASE = "https://abc.zendesk.com"
SCOPE = SecretScope.for_url(BASE, "folder-1")
pytestmark = pytest.mark.usefixtures("file_keyring")


@pytest.fixture
def fake():
    return FakeZendesk(ttl=1800)


def _seed(fake: FakeZendesk) -> oauth.TokenSet:
    tokens = oauth.TokenSet.from_response(fake.issue(), fake.now)
    SecretStore().set_json(SCOPE, OAUTH, tokens.to_dict())
    return tokens


def _auth(fake, tmp_path, **kw) -> OAuthAuth:
    return OAuthAuth(BASE, SCOPE, "client-1", tmp_path, transport=fake.transport, clock=lambda: fake.now, **kw)


def _me(auth, fake):
    with ZendeskHttp(BASE, auth, transport=fake.transport) as http:
        return http.get("/api/v2/users/me")["user"]


def test_uses_stored_pair_without_refreshing(fake, tmp_path):
    _seed(fake)
    auth = _auth(fake, tmp_path)
    assert _me(auth, fake)["name"] == "Ada Admin"
    assert fake.refresh_calls == 0


def test_refreshes_before_expiry_and_stores_new_pair_first(fake, tmp_path):
    old = _seed(fake)
    rotated = []
    auth = _auth(fake, tmp_path, on_rotate=rotated.append)
    fake.now += 1800 - 60  # inside the 2-minute margin
    _me(auth, fake)
    assert fake.refresh_calls == 1
    stored = SecretStore().get_json(SCOPE, OAUTH)
    assert stored["access_token"] != old.access_token and stored["refresh_token"] != old.refresh_token
    assert rotated and rotated[0].access_token == stored["access_token"]
    assert old.access_token not in fake.pairs  # the old pair is dead at Zendesk


def test_refreshes_once_on_401_invalid_token(fake, tmp_path):
    _seed(fake)
    auth = _auth(fake, tmp_path)
    fake.expire_all()  # Zendesk says expired although our clock does not know yet
    assert _me(auth, fake)["id"] == 7
    assert fake.refresh_calls == 1


def test_revoked_refresh_token_ends_in_one_line(fake, tmp_path):
    _seed(fake)
    auth = _auth(fake, tmp_path)
    fake.pairs.clear()  # revoked in Admin Center
    with pytest.raises(AuthError, match="authenticate again") as err:
        _me(auth, fake)
    assert "secretvalue" not in str(err.value)
    assert fake.refresh_calls == 1


def test_adopts_pair_rotated_by_another_process(fake, tmp_path):
    _seed(fake)
    mine = _auth(fake, tmp_path)
    mine.tokens()  # cached before the other process rotates
    other = _auth(fake, tmp_path)
    fake.now += 1790
    _me(other, fake)
    assert fake.refresh_calls == 1
    _me(mine, fake)  # proactive refresh finds the keyring already rotated: no second refresh
    assert fake.refresh_calls == 1


def test_concurrent_threads_refresh_once(fake, tmp_path):
    _seed(fake)
    fake.now += 1799
    auths = [_auth(fake, tmp_path) for _ in range(8)]
    for a in auths:
        a.tokens()
    errors: list[Exception] = []

    def run(a):
        try:
            _me(a, fake)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(a,)) for a in auths]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert fake.refresh_calls == 1


def test_missing_secret_says_authenticate_again(fake, tmp_path):
    with pytest.raises(AuthError, match="missing from the keyring"):
        _auth(fake, tmp_path).headers()


def test_repr_hides_tokens(fake, tmp_path):
    tokens = _seed(fake)
    auth = _auth(fake, tmp_path)
    auth.tokens()
    assert tokens.access_token not in repr(auth) and tokens.access_token not in repr(tokens)
