"""The pieces every front end (GUI, CLI, tests) shares: the data folder, the database, settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from evalsync_gui.core.paths import DB_FILENAME, ensure_private_dir, resolve_data_dir
from evalsync_gui.core.store.db import Database
from evalsync_gui.core.store.settings import Settings


@dataclass
class AppContext:
    """Built once per process by ``cli.py`` or ``app.py``; threads share it, not connections.

    ``base_url`` overrides the Zendesk address (only a loopback simulator may be plain http).
    """

    data_dir: Path
    base_url: str | None = None
    extras: dict = field(default_factory=dict)

    @classmethod
    def create(cls, data_dir: str | Path | None = None, base_url: str | None = None) -> "AppContext":
        path = ensure_private_dir(resolve_data_dir(data_dir))
        from evalsync_gui.core.auth import server_keyring  # where the encrypted-file keyring lives

        server_keyring.configure(path)
        return cls(data_dir=path, base_url=base_url)

    @cached_property
    def db(self) -> Database:
        return Database(self.data_dir / DB_FILENAME)

    @cached_property
    def settings(self) -> Settings:
        return Settings(self.db)
