"""SQLite store: one connection per thread, explicit transactions, numbered migrations."""

from evalsync_gui.core.store.db import Database, translate_sqlite_error

__all__ = ["Database", "translate_sqlite_error"]
