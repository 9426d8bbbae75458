"""Zendesk's opaque cursors and absolute pagination links, byte-for-byte in the recorded style."""

from __future__ import annotations

import base64
import binascii
import json
from urllib.parse import urlencode


class BadCursor(ValueError):
    """A cursor the simulator did not issue."""


def encode_list_cursor(user_id: int) -> str:
    """Cursor of a list page: padded base64 of ``{"o":"id","v":"<base64 of the id>"}``."""
    inner = base64.b64encode(str(user_id).encode()).decode()
    return base64.b64encode(json.dumps({"o": "id", "v": inner}, separators=(",", ":")).encode()).decode()


def decode_list_cursor(cursor: str) -> int:
    try:
        data = json.loads(base64.b64decode(cursor, validate=True))
        return int(base64.b64decode(data["v"], validate=True))
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise BadCursor(cursor) from exc


def encode_export_cursor(updated: int, user_id: int) -> str:
    """Incremental-export cursor: base64 of ``"<updated_at epoch>.0||<id>|"`` with padding."""
    return base64.b64encode(f"{updated}.0||{user_id}|".encode()).decode()


def decode_export_cursor(cursor: str) -> tuple[int, int]:
    try:
        text = base64.b64decode(cursor, validate=True).decode()
        stamp, _, rest = text.partition("||")
        return int(float(stamp)), int(rest.rstrip("|"))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise BadCursor(cursor) from exc


def absolute_link(base_url: str, path: str, params: list[tuple[str, str]]) -> str:
    """Absolute URL with parameters sorted by name and fully encoded (``[`` -> ``%5B``, ``=`` -> ``%3D``)."""
    ordered = sorted(params, key=lambda kv: kv[0])
    query = urlencode(ordered)
    return f"{base_url}{path}?{query}" if query else f"{base_url}{path}"


def replace_params(params: list[tuple[str, str]], drop: set[str], add: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Keep the caller's other parameters (filters, includes), swap the pagination ones."""
    return [kv for kv in params if kv[0] not in drop] + add
