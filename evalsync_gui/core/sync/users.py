"""Checking Zendesk user objects before the sync looks at them.

A page can hold anything: an e-mail that is a number, a missing ``id``, a list where an
object belongs. :func:`clean_users` turns each entry into a small dict with exactly the
keys the sync reads, each of the expected type, or drops it when it has no usable id
(a user the sync cannot name cannot be stored or linked). Doubtful values always fall
to the side that deactivates nobody: only ``active: false`` means deleted and only
``suspended: true`` means suspended.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Annotated, Any

import msgspec

MAX_ID = 2**63 - 1  # SQLite INTEGER; larger ids cannot be stored
_UNSET = msgspec.UNSET
_Id = Annotated[int, msgspec.Meta(gt=0, le=MAX_ID)]
_Text = Annotated[str, msgspec.Meta(min_length=1)]  # "" is read as absent (None) by both paths


class ZendeskUser(msgspec.Struct, frozen=True, gc=False):
    """A Zendesk user as the sync reads it: twelve of its keys, each of the expected type.

    Pages are decoded straight into this (see :func:`decode_page`); entries that do not fit
    are checked one by one by :func:`clean_user`, which gives the same result a fitting
    entry would have: only ``active: false`` means deleted, only ``suspended: true`` means
    suspended, empty texts are None, and no text holds a NUL or a lone surrogate.
    """

    id: _Id
    name: str = ""
    email: _Text | None = None
    role: _Text | None = None
    custom_role_id: _Id | None = None
    #: Zendesk's kind of team member (see role_kinds); any other type is read as absent
    role_type: int | None = None
    #: absent from most recorded users; only ``true`` counts
    chat_only: bool = False
    active: bool = True
    suspended: bool = False
    updated_at: _Text | None = None
    external_id: _Text | None = None
    #: values are checked only when one is used as the identifier (decisions.identifier_value)
    user_fields: dict = {}


class _Page(msgspec.Struct):
    """A users page (cursor listing or incremental export); absent keys stay absent."""

    users: list[ZendeskUser] | msgspec.UnsetType = _UNSET
    meta: Any = _UNSET
    links: Any = _UNSET
    end_of_stream: Any = _UNSET
    after_url: Any = _UNSET


_PAGE_DECODER = msgspec.json.Decoder(_Page)
_PAGE_KEYS = _Page.__struct_fields__


def decode_page(content: bytes) -> dict[str, Any]:
    """Parse a users page into :class:`ZendeskUser` objects, reading only the keys the sync uses.

    Several times faster than ``json.loads`` plus a check per user. A page with anything
    unusual (an entry of the wrong type or shape, an empty text, a NUL, NaN, a lone
    surrogate escape) is parsed by ``json.loads`` instead and its entries are checked one by
    one (:func:`clean_users`), which gives the same users a fitting page would. Raises
    ValueError when the body is not JSON at all.
    """
    if b"\\u0000" not in content:  # a NUL can only arrive escaped; strip it on the slow path
        try:
            page = _PAGE_DECODER.decode(content)
        except (msgspec.DecodeError, msgspec.ValidationError):
            pass
        else:
            return {key: value for key in _PAGE_KEYS if (value := getattr(page, key)) is not _UNSET}
    return json.loads(content)


def clean_users(raw: Sequence[Any]) -> tuple[list[ZendeskUser], int]:
    """The usable users of a page, and how many entries were dropped."""
    out = []
    for entry in raw:
        user = clean_user(entry)
        if user is not None:
            out.append(user)
    return out, len(raw) - len(out)


def clean_user(entry: Any) -> ZendeskUser | None:
    """One user with well-typed fields, or None when ``entry`` has no positive integer id."""
    if type(entry) is ZendeskUser:
        return entry
    if type(entry) is not dict:
        return None
    get = entry.get
    uid = _id(get("id"))
    if uid is None:
        return None
    crid = get("custom_role_id")
    external = get("external_id")
    if external is not None and type(external) is not str:
        external = _text(external, numbers=True)
    fields = get("user_fields")
    role_type = get("role_type")
    return ZendeskUser(
        id=uid, name=_text(get("name"), numbers=True) or "", email=_text(get("email")) or None,
        role=_text(get("role")) or None, custom_role_id=None if crid is None else _id(crid),
        role_type=role_type if type(role_type) is int else None, chat_only=get("chat_only") is True,
        active=get("active") is not False, suspended=get("suspended") is True,
        updated_at=_text(get("updated_at")) or None, external_id=_text(external) if external else None,
        user_fields=fields if type(fields) is dict else {},
    )


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
