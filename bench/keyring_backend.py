"""A bench-only keyring backend: secrets in a JSON file named by ``BENCH_KEYRING_FILE``.

Selected with ``PYTHON_KEYRING_BACKEND=bench.keyring_backend.FileKeyring``; the benchmarks
must not depend on a desktop keyring daemon. Never used by the app.
"""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError

ENV_FILE = "BENCH_KEYRING_FILE"
BACKEND = "bench.keyring_backend.FileKeyring"
ALLOW = {"EVALSYNC_ALLOW_TEST_KEYRING": "1"}  # EvalSync refuses plaintext backends without this test-only switch


class FileKeyring(KeyringBackend):
    """Plain JSON file, locked around each read-modify-write (CLI children share it)."""

    priority = 0.1  # never chosen unless named

    @property
    def _path(self) -> Path:
        return Path(os.environ[ENV_FILE])

    def _update(self, change) -> dict:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        with open(self._path.with_suffix(".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            data = json.loads(self._path.read_text()) if self._path.exists() else {}
            if change is not None:
                change(data)
                tmp = self._path.with_suffix(".tmp")
                tmp.write_text(json.dumps(data))
                os.replace(tmp, self._path)
            return data

    def get_password(self, service: str, username: str) -> str | None:
        return self._update(None).get(service, {}).get(username)

    def set_password(self, service: str, username: str, password: str) -> None:
        self._update(lambda d: d.setdefault(service, {}).__setitem__(username, password))

    def delete_password(self, service: str, username: str) -> None:
        if self.get_password(service, username) is None:
            raise PasswordDeleteError("no such password")
        self._update(lambda d: d.get(service, {}).pop(username, None))
