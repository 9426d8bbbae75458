"""Secrets live only in the OS keyring (service ``EvalSync``), through the keyring library.

Entries are keyed by account and method: ``abc-energy:oauth`` holds the access token, the
refresh token and their expiry as ONE JSON value, so a rotation is a single atomic write;
``abc-energy:api_token`` holds the legacy API token. When no secure backend exists this
module refuses to store anything (no plaintext fallback) and says so in one line.
Error messages are built from facts, never from the secret or the backend's exception text.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import keyring
import keyring.errors

from evalsync_gui.core.auth import server_keyring
from evalsync_gui.core.errors import SecretStoreError

log = logging.getLogger("evalsync.auth.secrets")

SERVICE = "EvalSync"
OAUTH = "oauth"
API_TOKEN = "api_token"

# Backends that would "store" a secret in plain text or not at all.
_INSECURE = {
    "keyring.backends.fail.Keyring",
    "keyring.backends.null.Keyring",
    "keyrings.alt.file.PlaintextKeyring",
    "keyrings.alt.file.EncryptedKeyring",  # prompts on a tty; unusable from the GUI
    # Registered by merely installing keyrings.cryptfile: prompt on a tty, or plain text.
    # EvalSync uses that library only through server_keyring (EVALSYNC_KEYRING=encrypted-file).
    "keyrings.cryptfile.cryptfile.CryptFileKeyring",
    "keyrings.cryptfile.file.EncryptedKeyring",
    "keyrings.cryptfile.file.PlaintextKeyring",
}

NO_BACKEND = ("No secure keyring is available to hold the Zendesk credentials, so nothing was stored; "
              f"{server_keyring.OPTIONS}, then try again.")


def _name(backend: object) -> str:
    cls = type(backend)
    return f"{cls.__module__}.{cls.__qualname__}"


def _backends(backend: object) -> list[object]:
    # The chainer wraps the real ones; it is secure if any of its members is.
    return list(getattr(backend, "backends", None) or [backend])


def active_keyring():
    """The backend-selection hook: the encrypted file when ``EVALSYNC_KEYRING=encrypted-file``
    (see server_keyring; raises SecretStoreError when it is unusable), else the OS keyring."""
    return server_keyring.active_backend() or server_keyring.os_keyring()


def backend_description() -> str:
    """A short name of the keyring in use, for the status card (e.g. ``SecretService Keyring``)."""
    try:
        backend = active_keyring()
    except SecretStoreError:
        return "encrypted file (locked)"
    return getattr(backend, "name", None) or _name(backend)


def ensure_secure_backend() -> object:
    """The active keyring backend; SecretStoreError unless it actually keeps secrets safely."""
    backend = active_keyring()
    members = _backends(backend)
    if not members or all(_name(b) in _INSECURE for b in members):
        raise SecretStoreError(NO_BACKEND)
    return backend


def _username(account: str, kind: str) -> str:
    return f"{account}:{kind}"


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
    """Reads and writes EvalSync's keyring entries."""

    def __init__(self, service: str = SERVICE) -> None:
        self.service = service

    def get(self, account: str, kind: str) -> str | None:
        backend = ensure_secure_backend()
        try:
            return backend.get_password(self.service, _username(account, kind))
        except Exception as exc:  # noqa: BLE001 - every backend failure becomes one line
            raise _translate(exc, "read the saved sign-in") from None

    def set(self, account: str, kind: str, value: str) -> None:
        backend = ensure_secure_backend()
        try:
            backend.set_password(self.service, _username(account, kind), value)
        except Exception as exc:  # noqa: BLE001
            raise _translate(exc, "save the sign-in") from None

    def delete(self, account: str, kind: str) -> bool:
        """Remove one entry; True if it existed. Missing entries are not an error."""
        try:
            backend = ensure_secure_backend()
        except SecretStoreError:
            return False  # nothing of ours can be in a backend we refuse to write to
        try:
            backend.delete_password(self.service, _username(account, kind))
            return True
        except keyring.errors.PasswordDeleteError:
            return False
        except Exception as exc:  # noqa: BLE001
            raise _translate(exc, "remove the saved sign-in") from None

    def get_json(self, account: str, kind: str) -> dict[str, Any] | None:
        raw = self.get(account, kind)
        if raw is None:
            return None
        try:
            value = json.loads(raw)
        except ValueError:
            return None
        return value if isinstance(value, dict) else None

    def set_json(self, account: str, kind: str, value: dict[str, Any]) -> None:
        self.set(account, kind, json.dumps(value, separators=(",", ":")))

    def wipe(self, account: str) -> None:
        """Remove every EvalSync secret for ``account``."""
        for kind in (OAUTH, API_TOKEN):
            self.delete(account, kind)
