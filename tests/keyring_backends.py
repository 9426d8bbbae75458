"""A TEST-ONLY keyring backend that keeps secrets in a JSON file (never used by the app).

Select it with ``PYTHON_KEYRING_BACKEND=tests.keyring_backends.FileKeyring`` and point
``EVALSYNC_TEST_KEYRING_FILE`` at the file. It is process-safe (a lock file around each
read-modify-write and an atomic replace), so CLI subprocesses and the test process can share it.
The :func:`file_keyring` fixture installs it for one test.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from pathlib import Path

import pytest
from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError

ENV_FILE = "EVALSYNC_TEST_KEYRING_FILE"
BACKEND_NAME = "tests.keyring_backends.FileKeyring"


class FileKeyring(KeyringBackend):
    """Plain JSON file keyring for tests."""

    priority = 0.1  # never chosen unless named by PYTHON_KEYRING_BACKEND

    @property
    def path(self) -> Path:
        return Path(os.environ[ENV_FILE])

    @contextlib.contextmanager
    def _locked(self):
        lock = self.path.with_suffix(".lock")
        with open(lock, "a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _read(self) -> dict:
        try:
            return json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}

    def _write(self, data: dict) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data))
        os.replace(tmp, self.path)

    def get_password(self, service: str, username: str) -> str | None:
        with self._locked():
            return self._read().get(service, {}).get(username)

    def set_password(self, service: str, username: str, password: str) -> None:
        with self._locked():
            data = self._read()
            data.setdefault(service, {})[username] = password
            self._write(data)

    def delete_password(self, service: str, username: str) -> None:
        with self._locked():
            data = self._read()
            if username not in data.get(service, {}):
                raise PasswordDeleteError("not found")
            del data[service][username]
            self._write(data)


@pytest.fixture
def file_keyring(tmp_path, monkeypatch):
    """Install :class:`FileKeyring` via PYTHON_KEYRING_BACKEND (also for subprocesses); yields the file."""
    import keyring.core

    path = tmp_path / "keyring.json"
    monkeypatch.setenv(ENV_FILE, str(path))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", BACKEND_NAME)
    previous = keyring.get_keyring()
    keyring.core.set_keyring(keyring.core.load_env())  # the library caches its first choice
    yield path
    keyring.core.set_keyring(previous)


@pytest.fixture
def no_keyring(monkeypatch):
    """Simulate a machine without a secure backend (keyring's fail backend)."""
    import keyring.core

    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    previous = keyring.get_keyring()
    keyring.core.set_keyring(keyring.core.load_env())
    yield
    keyring.core.set_keyring(previous)
