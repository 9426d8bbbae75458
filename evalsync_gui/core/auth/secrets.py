"""Secrets live only in the OS keyring (service ``EvalSync``), bound to where they may be sent.

The keyring is the desktop's, or EvalSync's encrypted file when ``EVALSYNC_KEYRING=encrypted-file``
(:mod:`evalsync_gui.core.auth.server_keyring`, for servers and cron); :func:`active_keyring` picks.

Every entry belongs to a :class:`SecretScope`: the exact origin the secret may be sent to
(``scheme://host[:port]``, as :func:`~evalsync_gui.core.zendesk.urls.origin_of` writes it) and
the id of the data folder that owns it (a random id kept in that folder's settings, made the
first time it is needed). The keyring user name is ``<origin>|<kind>|<folder id>`` and the
stored value is an envelope ``{"origin", "kind", "folder", "secret"}``: a read checks the
envelope against the scope asked for, so a secret is only ever handed out for the origin it
was saved with. Two data folders never see or delete each other's entries, and a data folder
whose connection setting names another address finds nothing (the user signs in again).

Kinds used today: ``oauth`` (the access+refresh pair and their expiry as ONE JSON value, so a
rotation is one atomic write) and ``api_token`` (the legacy API token). Other modules may use
their own kinds (e.g. Chat API client secrets) with a scope for *their* origin.

Entries of the old layout (``<subdomain>:oauth`` / ``<subdomain>:api_token``, no origin) are
read once by :meth:`SecretStore.adopt_legacy`, only when the caller's origin is exactly the one
the subdomain implies (``https://<subdomain>.zendesk.com``); they are then re-stored under the
new key and removed. See docs/RELIABILITY.md ("Secrets bound to their origin").

When no secure backend is active this module refuses to store anything (no plaintext
fallback) and says so in one line. Secure means on an allow-list (:data:`SECURE_BACKENDS`).
Error messages are built from facts, never from the secret or the backend's exception text.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import keyring
import keyring.errors

from evalsync_gui.core.auth import server_keyring
from evalsync_gui.core.errors import SecretStoreError
from evalsync_gui.core.redact import register_secret
from evalsync_gui.core.zendesk.urls import origin_of

if TYPE_CHECKING:
    from evalsync_gui.core.store.settings import Settings

log = logging.getLogger("evalsync.auth.secrets")

SERVICE = "EvalSync"
OAUTH = "oauth"
API_TOKEN = "api_token"
FOLDER_ID_KEY = "data_folder.id"  # settings key: this data folder's random id

# Backends known to keep secrets encrypted at rest and out of other users' reach. Anything
# else (plaintext files, the null and fail backends, unknown third-party ones) is refused.
SECURE_BACKENDS = frozenset({
    "keyring.backends.SecretService.Keyring",      # GNOME Keyring / KeePassXC over Secret Service
    "keyring.backends.libsecret.Keyring",          # the same Secret Service, through libsecret
    "keyring.backends.kwallet.DBusKeyring",        # KWallet 5/6
    "keyring.backends.kwallet.DBusKeyringKWallet4",
    "keyring.backends.macOS.Keyring",              # macOS Keychain
    "keyring.backends.Windows.WinVaultKeyring",    # Windows Credential Manager
    server_keyring.BACKEND_NAME,                   # EVALSYNC_KEYRING=encrypted-file (servers, cron)
    # --demo keeps throwaway simulator tokens in memory only (evalsync_gui/app.py).
    "evalsync_gui.app.DemoMemoryKeyring",
})
# The test suite's and the benchmarks' plaintext JSON backends, allowed ONLY when this variable
# is "1" (set by tests/conftest.py and the bench harness; never by the app).
TEST_BACKENDS = frozenset({"tests.keyring_backends.FileKeyring", "bench.keyring_backend.FileKeyring"})
ENV_ALLOW_TEST_BACKEND = "EVALSYNC_ALLOW_TEST_KEYRING"

NO_BACKEND = ("No secure keyring is available to hold the Zendesk credentials, so nothing was stored; "
              f"{server_keyring.OPTIONS}, then try again.")


@dataclass(frozen=True)
class SecretScope:
    """Where a secret may be sent (``origin``) and which data folder owns it (``folder_id``)."""

    origin: str
    folder_id: str

    @classmethod
    def for_url(cls, url: str, folder_id: str) -> SecretScope:
        """The scope of ``url``'s origin (scheme, host and port; default ports dropped)."""
        return cls(origin_of(url), folder_id)

    def allows(self, url: str) -> bool:
        """True when ``url`` is on exactly this scope's origin."""
        try:
            return origin_of(url) == self.origin
        except ValueError:
            return False


def folder_id(settings: Settings) -> str:
    """This data folder's random id, created (and kept in its settings) on first use."""
    value = settings.get(FOLDER_ID_KEY)
    if isinstance(value, str) and value:
        return value
    value = secrets.token_hex(8)
    settings.set(FOLDER_ID_KEY, value)
    return value


def _name(backend: object) -> str:
    cls = type(backend)
    return f"{cls.__module__}.{cls.__name__}"  # __name__: classes built inside functions keep a plain name


def _backends(backend: object) -> list[object]:
    # The chainer writes to the first member that accepts; every member must be acceptable.
    return list(getattr(backend, "backends", None) or [backend])


def active_keyring():
    """The backend-selection hook: the encrypted file when ``EVALSYNC_KEYRING=encrypted-file``
    (see server_keyring; raises SecretStoreError when it is unusable), else the OS keyring."""
    return server_keyring.active_backend() or server_keyring.os_keyring()


def is_secure_backend_name(name: str) -> bool:
    """True when the backend class named ``name`` may hold EvalSync's secrets."""
    if name in SECURE_BACKENDS:
        return True
    return name in TEST_BACKENDS and os.environ.get(ENV_ALLOW_TEST_BACKEND) == "1"


def backend_description() -> str:
    """A short name of the keyring in use, for the status card (e.g. ``SecretService Keyring``)."""
    try:
        backend = active_keyring()
    except SecretStoreError:
        return "encrypted file (locked)"
    return getattr(backend, "name", None) or _name(backend)


def ensure_secure_backend() -> object:
    """The active keyring backend; SecretStoreError unless every member of it is on the allow-list."""
    backend = active_keyring()
    members = _backends(backend)
    if not members or not all(is_secure_backend_name(_name(b)) for b in members):
        raise SecretStoreError(NO_BACKEND)
    return backend


def _username(scope: SecretScope, kind: str) -> str:
    if not isinstance(scope, SecretScope):  # the old (account, kind) call shape must fail loudly
        raise TypeError("SecretStore needs a SecretScope (origin + data folder id), not "
                        f"{type(scope).__name__}; see evalsync_gui.core.auth.secrets")
    return f"{scope.origin}|{kind}|{scope.folder_id}"


_SECRET_FIELDS = ("access_token", "refresh_token", "client_secret", "token", "password", "secret")


def _register(value: str) -> None:
    """Tell the redactor about a secret this process now holds (a JSON value: its secret fields)."""
    try:
        parsed = json.loads(value)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        for key in _SECRET_FIELDS:
            if isinstance(parsed.get(key), str):
                register_secret(parsed[key])
    else:
        register_secret(value)


def _legacy_username(subdomain: str, kind: str) -> str:
    return f"{subdomain}:{kind}"


def _translate(exc: Exception, action: str) -> SecretStoreError:
    if isinstance(exc, SecretStoreError):
        return exc  # already one line written for the user
    if isinstance(exc, keyring.errors.KeyringLocked):
        return SecretStoreError(f"The keyring is locked, so EvalSync could not {action}; unlock it and try again.")
    if isinstance(exc, keyring.errors.NoKeyringError):
        return SecretStoreError(NO_BACKEND)
    # Backend messages can echo what was passed in; log only the type.
    log.warning("keyring %s failed: %s", action, type(exc).__name__)
    return SecretStoreError(f"The keyring refused to {action} ({type(exc).__name__}); "
                            "check that it is unlocked and working, then try again.")


class SecretStore:
    """Reads and writes EvalSync's keyring entries, each bound to a :class:`SecretScope`.

    Public API (stable): ``get/set/delete(scope, kind)``, ``get_json/set_json(scope, kind)``,
    ``wipe(scope, kinds)`` and ``adopt_legacy(scope, subdomain, kind)``.
    """

    def __init__(self, service: str = SERVICE) -> None:
        self.service = service

    # -- raw keyring access -------------------------------------------------------------
    def _read(self, username: str) -> str | None:
        backend = ensure_secure_backend()
        try:
            return backend.get_password(self.service, username)
        except Exception as exc:  # noqa: BLE001 - every backend failure becomes one line
            raise _translate(exc, "read the saved sign-in") from None

    def _write(self, username: str, value: str) -> None:
        backend = ensure_secure_backend()
        try:
            backend.set_password(self.service, username, value)
        except Exception as exc:  # noqa: BLE001
            raise _translate(exc, "save the sign-in") from None

    def _remove(self, username: str) -> bool:
        try:
            backend = ensure_secure_backend()
        except SecretStoreError:
            return False  # nothing of ours can be in a backend we refuse to write to
        try:
            backend.delete_password(self.service, username)
            return True
        except keyring.errors.PasswordDeleteError:
            return False
        except Exception as exc:  # noqa: BLE001
            raise _translate(exc, "remove the saved sign-in") from None

    # -- scoped entries -----------------------------------------------------------------
    def get(self, scope: SecretScope, kind: str) -> str | None:
        """The secret saved for ``scope`` and ``kind``; None if absent or bound elsewhere."""
        raw = self._read(_username(scope, kind))
        if raw is None:
            return None
        try:
            envelope = json.loads(raw)
        except ValueError:
            envelope = None
        if (not isinstance(envelope, dict) or envelope.get("origin") != scope.origin
                or envelope.get("kind") != kind or not isinstance(envelope.get("secret"), str)):
            log.warning("ignored a keyring entry that is not bound to %s", scope.origin)
            return None
        _register(envelope["secret"])
        return envelope["secret"]

    def set(self, scope: SecretScope, kind: str, value: str) -> None:
        """Save ``value`` for ``scope`` and ``kind``, with the origin it may be sent to."""
        _register(value)
        envelope = {"origin": scope.origin, "kind": kind, "folder": scope.folder_id, "secret": value}
        self._write(_username(scope, kind), json.dumps(envelope, separators=(",", ":")))

    def delete(self, scope: SecretScope, kind: str) -> bool:
        """Remove one entry; True if it existed. Missing entries are not an error."""
        return self._remove(_username(scope, kind))

    def get_json(self, scope: SecretScope, kind: str) -> dict[str, Any] | None:
        raw = self.get(scope, kind)
        if raw is None:
            return None
        try:
            value = json.loads(raw)
        except ValueError:
            return None
        return value if isinstance(value, dict) else None

    def set_json(self, scope: SecretScope, kind: str, value: dict[str, Any]) -> None:
        self.set(scope, kind, json.dumps(value, separators=(",", ":")))

    def wipe(self, scope: SecretScope, kinds: tuple[str, ...] = (OAUTH, API_TOKEN)) -> None:
        """Remove this folder's secrets of ``kinds`` for ``scope``'s origin."""
        for kind in kinds:
            self.delete(scope, kind)

    # -- the old layout -----------------------------------------------------------------
    def adopt_legacy(self, scope: SecretScope, subdomain: str, kind: str) -> bool:
        """Move an old ``<subdomain>:<kind>`` entry under ``scope``; True when one was moved.

        Used only when ``scope.origin`` is exactly ``https://<subdomain>.zendesk.com``: the old
        entry never said where it may go, and that is the only address its name implies.
        """
        if scope.origin != f"https://{subdomain}.zendesk.com":
            return False
        legacy = _legacy_username(subdomain, kind)
        value = self._read(legacy)
        if value is None:
            return False
        self.set(scope, kind, value)
        self._remove(legacy)
        log.info("moved a saved %s sign-in to the origin-bound keyring entry", kind)
        return True
