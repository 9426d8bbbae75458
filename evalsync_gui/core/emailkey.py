"""One way to compare e-mail addresses, in Python and in SQL alike.

SQLite's ``lower()`` folds ASCII only (``É`` stays ``É``) while Python folds every script,
so matching with one on each side made ``ÉMILE@X.TEST`` and ``émile@x.test`` two people.
:func:`email_key` is the only fold: Python calls it directly, and every connection of
:class:`~evalsync_gui.core.store.db.Database` registers it as the SQL function
``email_key(text)`` (deterministic). It is used in queries only, never in an index or a
trigger, so a plain sqlite3 connection can still read and write the database.
"""

from __future__ import annotations

import unicodedata

SQL_NAME = "email_key"


def email_key(email: object) -> str | None:
    """The comparison key of an e-mail: NFC-normalised and case-folded; None for no e-mail."""
    if not isinstance(email, str) or not email:
        return None
    return unicodedata.normalize("NFC", email).casefold()
