"""Checking Zendesk user objects before the sync looks at them.

A page can hold anything: an e-mail that is a number, a missing ``id``, a list where an
object belongs. :func:`clean_users` turns each entry into a small dict with exactly the
keys the sync reads, each of the expected type, or drops it when it has no usable id
(a user the sync cannot name cannot be stored or linked). Doubtful values always fall
to the side that deactivates nobody: only ``active: false`` means deleted and only
``suspended: true`` means suspended.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

MAX_ID = 2**63 - 1  # SQLite INTEGER; larger ids cannot be stored


def clean_users(raw: Sequence[Any]) -> tuple[list[dict[str, Any]], int]:
    """The usable users of a page, and how many entries were dropped."""
    out = []
    for entry in raw:
        user = clean_user(entry)
        if user is not None:
            out.append(user)
    return out, len(raw) - len(out)


def clean_user(entry: Any) -> dict[str, Any] | None:
    """One user with well-typed fields, or None when ``entry`` has no positive integer id."""
    if type(entry) is not dict:
        return None
    uid = _id(entry.get("id"))
    if uid is None:
        return None
    fields = entry.get("user_fields")
    return {
        "id": uid,
        "name": _text(entry.get("name"), numbers=True) or "",
        "email": _text(entry.get("email")) or None,
        "role": _text(entry.get("role")) or None,
        "custom_role_id": _id(entry.get("custom_role_id")),
        "active": entry.get("active") is not False,
        "suspended": entry.get("suspended") is True,
        "updated_at": _text(entry.get("updated_at")) or None,
        "external_id": _text(entry.get("external_id"), numbers=True) or None,
        "user_fields": {k: _scalar(v) for k, v in fields.items() if type(k) is str} if type(fields) is dict else {},
    }


def _id(value: Any) -> int | None:
    if type(value) is int:
        return value if 0 < value <= MAX_ID else None
    if type(value) is str and value.isdigit() and value.isascii():
        return _id(int(value))
    return None


def _text(value: Any, *, numbers: bool = False) -> str | None:
    """A string SQLite and JSON can carry (no NUL, no lone surrogate); numbers only if asked."""
    if type(value) is str:
        if value.isascii():
            return value.replace("\x00", "") if "\x00" in value else value
        value = value.replace("\x00", "")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates from a \ud800 escape
            value = value.encode("utf-8", "replace").decode("utf-8")
        return value
    if numbers and type(value) in (int, float):
        return str(value)
    return None


def _scalar(value: Any) -> str | int | float | None:
    if type(value) in (int, float):
        return value
    return _text(value)
