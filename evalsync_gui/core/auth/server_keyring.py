"""The opt-in encrypted-file keyring for machines without a Secret Service (servers, cron, CI).

Contract (README "Running on a server"):

* ``EVALSYNC_KEYRING=encrypted-file`` selects it; unset (or ``os``) keeps the OS keyring,
  the desktop default. Any other value is refused.
* The passphrase is read from ``$EVALSYNC_KEYRING_PASSPHRASE_FILE`` when set, otherwise from
  ``$CREDENTIALS_DIRECTORY/evalsync-keyring-passphrase`` (systemd's ``LoadCredential=`` /
  ``LoadCredentialEncrypted=``). The file must be a regular file owned by the current user
  with no group or other permissions (0600, or systemd's stricter 0400); anything else is
  refused before it is read.
* The secrets live encrypted in ``<data folder>/keyring.cryptfile`` (keyrings.cryptfile:
  AES-GCM, a key derived from the passphrase with Argon2id per entry, each entry bound to its
  service and user name). Without the passphrase the file shows only the entry names.

Writes replace the file atomically under a lock file next to it, so a GUI and a CLI run (or
two CLI runs) never see half a file; OAuth refresh rotation additionally holds its own
cross-process lock (``credentials.py``), exactly as with the OS keyring.

When the encrypted file is not selected, :func:`os_keyring` keeps keyrings.cryptfile's
backends (registered with the keyring library by merely being installed, one of them a
plaintext file) out of the OS keyring's automatic choice.
"""

from __future__ import annotations

import configparser
import os
import stat
import tempfile
import threading
from pathlib import Path

import keyring.core

from evalsync_gui.core.errors import SecretStoreError

ENV_SELECT = "EVALSYNC_KEYRING"
ENCRYPTED_FILE = "encrypted-file"
ENV_PASSPHRASE_FILE = "EVALSYNC_KEYRING_PASSPHRASE_FILE"
CREDENTIAL_NAME = "evalsync-keyring-passphrase"
FILENAME = "keyring.cryptfile"
BACKEND_NAME = "evalsync_gui.core.auth.server_keyring.EncryptedFileKeyring"
_MAX_PASSPHRASE = 4096

#: The two ways to hold secrets, named by every "no keyring" error.
OPTIONS = ("use the desktop's keyring (GNOME Keyring or KWallet on Linux, Credential Manager on Windows, "
           "Keychain on macOS), or on a server set EVALSYNC_KEYRING=encrypted-file with a passphrase file "
           "($CREDENTIALS_DIRECTORY/evalsync-keyring-passphrase or the path in EVALSYNC_KEYRING_PASSPHRASE_FILE, "
           "mode 0600)")

_state = threading.Lock()
_data_dir: Path | None = None
_cache: dict[tuple[str, str], object] = {}


def selected() -> bool:
    """True when ``EVALSYNC_KEYRING=encrypted-file``; raises SecretStoreError for an unknown value."""
    value = os.environ.get(ENV_SELECT, "").strip()
    if value in ("", "os"):
        return False
    if value == ENCRYPTED_FILE:
        return True
    raise SecretStoreError(f"EVALSYNC_KEYRING must be '{ENCRYPTED_FILE}' or unset (the OS keyring), "
                           "not the value it has; fix it and try again.")


def configure(data_dir: Path) -> None:
    """Called once per data folder (AppContext.create): remember where the encrypted file lives.

    Costs nothing: no keyring is looked at until a secret is needed."""
    global _data_dir
    with _state:
        _data_dir = Path(data_dir)


_filtered: list[bool] = []


def os_keyring():
    """The OS keyring as the keyring library chose it, without keyrings.cryptfile's backends."""
    if not _filtered:
        _without_cryptfile_defaults()
        _filtered.append(True)
    return keyring.core.get_keyring()


def passphrase_path() -> Path:
    """Where the passphrase is read from (see the module docstring); SecretStoreError if nowhere."""
    explicit = os.environ.get(ENV_PASSPHRASE_FILE, "").strip()
    if explicit:
        return Path(explicit)
    creds = os.environ.get("CREDENTIALS_DIRECTORY", "").strip()
    if creds:
        return Path(creds) / CREDENTIAL_NAME
    raise SecretStoreError("EVALSYNC_KEYRING=encrypted-file needs a passphrase file: set "
                           f"{ENV_PASSPHRASE_FILE} to its path, or load it as the systemd credential "
                           f"'{CREDENTIAL_NAME}'.")


def read_passphrase(path: Path) -> str:
    """The passphrase in ``path`` (first line), after checking who owns it and who may read it."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError:
        raise SecretStoreError(f"The keyring passphrase file {path} does not exist; create it "
                               "(mode 0600) or fix the path.") from None
    except OSError as exc:
        raise SecretStoreError(f"The keyring passphrase file {path} could not be opened ({exc.strerror}); "
                               "it must be a regular file you own, mode 0600.") from None
    try:
        info = os.fstat(fd)
        _check_private(path, info)
        data = os.read(fd, _MAX_PASSPHRASE + 1)
    finally:
        os.close(fd)
    text = data.decode("utf-8", "replace").splitlines()[0].strip() if data.strip() else ""
    if not text or len(data) > _MAX_PASSPHRASE:
        raise SecretStoreError(f"The keyring passphrase file {path} must hold one line of 1 to "
                               f"{_MAX_PASSPHRASE} characters; write a long random passphrase into it.")
    return text


def _check_private(path: Path, info: os.stat_result) -> None:
    if not stat.S_ISREG(info.st_mode):
        raise SecretStoreError(f"The keyring passphrase file {path} is not a regular file; refused.")
    if os.name != "posix":
        return  # NTFS ACLs, not mode bits: the user's profile folder is private by default
    if info.st_uid != os.geteuid():
        raise SecretStoreError(f"The keyring passphrase file {path} belongs to another user; refused. "
                               "It must be owned by the user EvalSync runs as.")
    if info.st_mode & 0o077:
        raise SecretStoreError(f"The keyring passphrase file {path} can be read by others "
                               f"(mode {stat.S_IMODE(info.st_mode):04o}); refused. Run `chmod 600 {path}`.")


def active_backend():
    """The encrypted-file backend when selected (unlocked with the passphrase), else None.

    Raises SecretStoreError with a one-line fix when it is selected but unusable.
    """
    if not selected():
        return None
    with _state:
        data_dir = _data_dir
    if data_dir is None:
        raise SecretStoreError("EVALSYNC_KEYRING=encrypted-file needs a data folder; start EvalSync normally.")
    passphrase = read_passphrase(passphrase_path())
    key = (str(data_dir), passphrase)
    with _state:
        backend = _cache.get(key)
        if backend is None:
            backend = _cache[key] = _open(data_dir / FILENAME, passphrase)
    return backend


def _open(path: Path, passphrase: str):
    """An unlocked backend for ``path``; a wrong passphrase is one readable line."""
    backend = _backend_class()(path)
    try:
        backend.keyring_key = passphrase  # creates the file, or checks the passphrase against it
    except ValueError:
        raise SecretStoreError(f"The passphrase does not unlock {path}; use the passphrase it was "
                               "created with, or remove the file and connect again.") from None
    except (configparser.Error, KeyError, TypeError):
        raise SecretStoreError(f"{path} is not an EvalSync encrypted keyring (damaged?); move it away "
                               "and connect again.") from None
    return backend


_CLASS: list[type] = []


def _backend_class() -> type:
    """The backend class, built on first use so importing this module costs nothing."""
    if _CLASS:
        return _CLASS[0]
    from keyrings.cryptfile.cryptfile import CryptFileKeyring

    from evalsync_gui.core.auth.credentials import file_lock

    class EncryptedFileKeyring(CryptFileKeyring):
        """keyrings.cryptfile in the data folder, never prompting, with atomic locked writes."""

        # Fixed: the file records the cipher, not the KDF cost. Argon2id with 64 MiB and 3
        # passes costs ~0.3 s per entry here; the passphrase file should be random anyway.
        time_cost = 3
        priority = 0  # type: ignore[assignment]  # chosen only through EVALSYNC_KEYRING

        def __init__(self, path: Path | None = None) -> None:
            super().__init__()
            self._path = Path(path) if path is not None else Path(os.devnull)

        @property
        def file_path(self) -> str:  # type: ignore[override]
            return str(self._path)

        @property
        def name(self) -> str:  # shown on the status card
            return f"EvalSync encrypted file ({self._path.name})"

        def _get_new_password(self):  # never a getpass prompt
            raise SecretStoreError("The keyring passphrase is missing.")

        def _write_config_value(self, service, key, value):
            with file_lock(self._path.with_name(FILENAME + ".lock")):
                config = self._load()
                from keyrings.cryptfile.escape import escape

                section, option = escape(service), escape(key)
                if not config.has_section(section):
                    config.add_section(section)
                config.set(section, option, value)
                self._save(config)

        def delete_password(self, service, username):
            from keyring.errors import PasswordDeleteError
            from keyrings.cryptfile.escape import escape

            with file_lock(self._path.with_name(FILENAME + ".lock")):
                config = self._load()
                try:
                    removed = config.remove_option(escape(service), escape(username))
                except configparser.NoSectionError:
                    removed = False
                if not removed:
                    raise PasswordDeleteError("Password not found")
                self._save(config)

        def _load(self) -> configparser.RawConfigParser:
            config = configparser.RawConfigParser()
            if self._path.exists():
                config.read(self._path)
            return config

        def _save(self, config: configparser.RawConfigParser) -> None:
            fd, tmp = tempfile.mkstemp(prefix=".keyring-", dir=self._path.parent)  # created 0600
            try:
                with os.fdopen(fd, "w") as fh:
                    config.write(fh)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, self._path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise

    EncryptedFileKeyring.__module__ = __name__
    EncryptedFileKeyring.__qualname__ = "EncryptedFileKeyring"  # its allow-list name is BACKEND_NAME
    _CLASS.append(EncryptedFileKeyring)
    return EncryptedFileKeyring


def _without_cryptfile_defaults() -> None:
    """If the keyring library chose its backend itself and took in keyrings.cryptfile's
    backends (they prompt on a terminal, and one is plaintext), choose again without them."""
    if os.environ.get("PYTHON_KEYRING_BACKEND"):
        return  # an explicit choice is the user's (or the test suite's)
    current = keyring.core.get_keyring()
    members = list(getattr(current, "backends", None) or [current])
    if any(type(b).__module__.startswith("keyrings.cryptfile") for b in members):
        keyring.core.init_backend(limit=lambda b: not type(b).__module__.startswith("keyrings.cryptfile"))
