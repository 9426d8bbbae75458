"""The Zendesk user who already holds a requested address, and how a request was settled.

On a Support-kind account a request may name someone Zendesk already knows (an agent
without Chat, an end-user who once filed a ticket, someone suspended or deleted);
:mod:`.support_kind` looks the address up first and settles it with its decision table.
This module holds the two pieces that table shares with the batch: :func:`owner_of` (whose
*main* address it is, compared trimmed and case-insensitively; search also matches secondary
addresses, which EvalSync never adopts) and :class:`Adoption` (the outcome the batch commits).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from evalsync_gui.core.chat.agents_api import Agent
from evalsync_gui.core.chat.domains import normalize_email


def owner_of(email: str, users: list[dict]) -> dict | None:
    """The user whose main e-mail is ``email``, compared trimmed and case-insensitively."""
    key = normalize_email(email)
    return next((u for u in users if normalize_email(u.get("email") or "") == key), None)


@dataclass
class Adoption:
    """How a request was settled: the request's status, the log's action and Zendesk's answer."""

    status: str  # a chat_requests status: created | already_enabled | rejected | needs_admin_step …
    action: str  # the action log's word (see audit); "" when nothing changed and nothing is logged
    detail: str
    agent: Agent | None = None
    zendesk_status: int | None = None
    answer: Any = None
    admin_url: str | None = None  # the Admin Center page of a step left to the admin
