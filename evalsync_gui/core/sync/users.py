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
    get = entry.get
    uid = get("id")
    if type(uid) is not int or not 0 < uid <= MAX_ID:
        uid = _id(uid)
        if uid is None:
            return None
    name, email, role, updated = get("name"), get("email"), get("role"), get("updated_at")
    # Fast path first: a well-formed user costs a few type checks (100,000 per initial sync).
    if type(name) is not str or not name.isascii() or "\x00" in name:
        name = _text(name, numbers=True) or ""
    if email is not None and (type(email) is not str or not email.isascii() or "\x00" in email):
        email = _text(email)
    if role is not None and (type(role) is not str or not role.isascii()):
        role = _text(role)
    if updated is not None and (type(updated) is not str or not updated.isascii()):
        updated = _text(updated)
    crid = get("custom_role_id")
    if crid is not None and (type(crid) is not int or not 0 < crid <= MAX_ID):
        crid = _id(crid)
    external = get("external_id")
    if external is not None and type(external) is not str:
        external = _text(external, numbers=True)
    fields = get("user_fields")
    return {
        "id": uid, "name": name, "email": email or None, "role": role or None, "custom_role_id": crid,
        "active": get("active") is not False, "suspended": get("suspended") is True,
        "updated_at": updated or None, "external_id": _text(external) if external else None,
        # values are checked only when one is used as the identifier (decisions.identifier_value)
        "user_fields": fields if type(fields) is dict else {},
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


def safe_text(value: Any) -> str | None:
    """A scalar as text SQLite and JSON can carry (None for anything else)."""
    return _text(value, numbers=True)
