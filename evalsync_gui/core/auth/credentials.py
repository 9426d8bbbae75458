"""OAuthAuth: the http ``Auth`` for OAuth, with proactive refresh, refresh on 401 and rotation.

Zendesk kills the old access+refresh pair on every refresh, so two refreshes must never race:
a ``threading.Lock`` serialises threads of this process and a lock file in the data folder
serialises processes (the GUI worker and a CLI run at the same time). Inside the lock the
keyring is read again: if another thread or process already rotated, its pair is adopted
instead of refreshing a second time with a dead refresh token. The new pair is written to the
keyring before it is used, so a crash right after a refresh never loses the only live pair.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx

from evalsync_gui.core.auth import oauth
from evalsync_gui.core.auth.secrets import OAUTH, SecretScope, SecretStore
from evalsync_gui.core.errors import AuthError
from evalsync_gui.core.zendesk.http import bound_elsewhere

log = logging.getLogger("evalsync.auth")

REFRESH_MARGIN = 120.0  # refresh this many seconds before the access token expires
LOCK_FILENAME = "oauth-refresh.lock"

_thread_locks: dict[str, threading.Lock] = {}
_thread_locks_guard = threading.Lock()

NOT_SAVED = ("The saved Zendesk sign-in is missing from the keyring; "
             "authenticate again in the Authenticate tab or with `evalsync connect`.")


def _thread_lock(key: str) -> threading.Lock:
    # One lock per lock file, shared by every OAuthAuth of this process.
    with _thread_locks_guard:
        return _thread_locks.setdefault(key, threading.Lock())


@contextlib.contextmanager
def file_lock(path: Path, timeout: float = 60.0) -> Iterator[None]:
    """An exclusive advisory lock on ``path`` across processes (fcntl on POSIX, msvcrt on Windows)."""
    deadline = time.monotonic() + timeout
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        while True:
            try:
                _lock_fd(fd)
                break
            except OSError:
                if time.monotonic() >= deadline:
                    raise AuthError("Another EvalSync window or command is renewing the Zendesk sign-in "
                                    "and did not finish; try again in a minute.") from None
                time.sleep(0.05)
        try:
            yield
        finally:
            _unlock_fd(fd)
    finally:
        os.close(fd)


if os.name == "nt":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _lock_fd(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)

    def _unlock_fd(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
else:
    import fcntl

    def _lock_fd(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)

    def _unlock_fd(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


class OAuthAuth:
    """Bearer auth for one account whose token pair lives in the keyring under ``scope``.

    ``base_url`` must be on ``scope.origin`` (else AuthError): the pair is only ever sent, and
    refreshed, at the origin it was saved for. ``origin`` tells ZendeskHttp the same.
    """

    method = "oauth"

    def __init__(self, base_url: str, scope: SecretScope, client_id: str, lock_dir: Path, *,
                 store: SecretStore | None = None, transport: httpx.BaseTransport | None = None,
                 clock: Callable[[], float] = time.time, margin: float = REFRESH_MARGIN,
                 on_rotate: Callable[[oauth.TokenSet], None] | None = None) -> None:
        if not scope.allows(base_url):
            raise bound_elsewhere(scope.origin, base_url)
        self.base_url = base_url
        self.scope = scope
        self.origin = scope.origin
        self.client_id = client_id
        self.lock_path = Path(lock_dir) / LOCK_FILENAME
        self.store = store or SecretStore()
        self.transport = transport
        self.clock = clock
        self.margin = margin
        self.on_rotate = on_rotate
        self.refresh_count = 0  # refreshes this object actually sent (tests, diagnostics)
        self._tokens: oauth.TokenSet | None = None
        self._lock = _thread_lock(str(self.lock_path))

    def __repr__(self) -> str:
        return f"OAuthAuth(origin={self.origin!r}, <tokens redacted>)"

    # -- Auth protocol -----------------------------------------------------------------
    def headers(self) -> dict[str, str]:
        tokens = self.tokens()
        if tokens.expires_within(self.margin, self.clock()) and tokens.refresh_token:
            tokens = self._refresh(stale=tokens.access_token)
        return {"Authorization": f"Bearer {tokens.access_token}"}

    def refresh(self) -> bool:
        """Called once on a 401: renew unless someone else already did; True when fresh tokens are ready."""
        stale = self._tokens.access_token if self._tokens else None
        self._refresh(stale=stale, forced=True)
        return True

    # -- tokens ------------------------------------------------------------------------
    def tokens(self) -> oauth.TokenSet:
        """The current pair (from memory, else the keyring)."""
        if self._tokens is None:
            self._tokens = self._load()
        return self._tokens

    @property
    def expires_at(self) -> float | None:
        return self.tokens().expires_at

    def _load(self) -> oauth.TokenSet:
        data = self.store.get_json(self.scope, OAUTH)
        if not data or not data.get("access_token"):
            raise AuthError(NOT_SAVED)
        return oauth.TokenSet.from_dict(data)

    def _refresh(self, stale: str | None, forced: bool = False) -> oauth.TokenSet:
        with self._lock, file_lock(self.lock_path):
            current = self._load()  # another thread or process may have rotated meanwhile
            rotated_elsewhere = current.access_token != stale
            fresh_enough = not current.expires_within(self.margin, self.clock())
            if rotated_elsewhere and (forced or fresh_enough):
                log.info("adopting a token pair renewed by another EvalSync thread or process")
                self._tokens = current
                return current
            if not current.refresh_token:
                raise AuthError("The Zendesk sign-in expired and has no refresh token; "
                                "authenticate again in the Authenticate tab or with `evalsync connect`.")
            new = oauth.refresh_tokens(self.base_url, self.client_id, current.refresh_token,
                                       transport=self.transport, clock=self.clock)
            if not new.refresh_token:
                new.refresh_token = None
            # Store first: the old pair is already dead at Zendesk.
            self.store.set_json(self.scope, OAUTH, new.to_dict())
            self._tokens = new
            self.refresh_count += 1
            log.info("renewed the Zendesk access token")
        if self.on_rotate is not None:
            try:
                self.on_rotate(new)
            except Exception:  # noqa: BLE001 - bookkeeping must not break the request
                log.warning("could not record the new token expiry", exc_info=False)
        return new
