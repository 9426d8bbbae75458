"""Non-secret settings as JSON values in the ``settings`` table.

A token, password or API key must never be stored here: :func:`Settings.set` refuses keys
that look like secrets, as a last line of defence.
"""

from __future__ import annotations

import json
from typing import Any

from evalsync_gui.core.store.db import Database

_SECRET_WORDS = ("token", "password", "secret", "api_key")


class Settings:
    """Typed-ish access to the settings table."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def get(self, key: str, default: Any = None) -> Any:
        row = self.db.query("SELECT value FROM settings WHERE key = ?", (key,))
        return json.loads(row[0][0]) if row else default

    def set(self, key: str, value: Any) -> None:
        if any(word in key.lower() for word in _SECRET_WORDS):
            raise ValueError(f"refusing to store {key!r} in the database: secrets belong in the keyring")
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO settings (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, json.dumps(value)),
            )

    def delete(self, key: str) -> None:
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM settings WHERE key = ?", (key,))

    def all(self) -> dict[str, Any]:
        return {r["key"]: json.loads(r["value"]) for r in self.db.query("SELECT key, value FROM settings")}
