"""Chat agents as the Chat Agents API shows them, and its writable path.

* ``writable`` accounts (Chat managed outside Support): the Chat Agents API
  (``/api/v2/chat/agents``) accepts ``PUT``/``POST``/``DELETE``; :class:`StandaloneChat` is the
  seed's path (enable, create, disable, delete) with the Chat OAuth token.
* ``support`` accounts (Chat created in Support): the same API is read-only; the batch uses
  :class:`~evalsync_gui.core.chat.support_kind.SupportKindChat`, which reads this list and
  leaves Chat access itself to Admin Center.

Every client here is the Chat connection's (:func:`evalsync_gui.core.chat.connection.chat_http`);
Support credentials never reach ``/api/v2/chat/*``. Each write returns ``(status, body)`` so the
log can keep Zendesk's answer. A 403 on a write raises :class:`ChatModeMismatch`: the batch
stops and says to choose the Support kind; it never switches by itself.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from evalsync_gui.core.errors import NotFound, PermissionDenied, ResponseError, ZendeskError
from evalsync_gui.core.zendesk.http import ZendeskHttp

WRITABLE = "writable"
SUPPORT = "support"
STANDALONE = WRITABLE  # the pre-issue-12 name of the writable kind
CHAT_PAGE = 100
USERS_PAGE = 100


class ChatModeMismatch(ZendeskError):
    """The Chat Agents API refused a write: this account's Chat lives in Support."""

    def __init__(self) -> None:
        super().__init__("The Chat Agents API refused a write (403): on this account Chat was probably created in "
                         "Support, where that API is read-only; choose the Support kind (Chat settings or "
                         "`evalsync chat config --kind support`).", status=403)


@dataclass
class Agent:
    """A chat agent as both modes see it; ``key`` is the lower-cased e-mail used for matching."""

    id: int
    email: str
    first_name: str = ""
    last_name: str = ""
    display_name: str = ""
    enabled: bool = False
    last_login: str | None = None
    departments: list = field(default_factory=list)
    is_admin: bool = False
    is_owner: bool = False
    chat_only: bool = False
    suspended: bool = False
    role_id: int | None = None
    created: str | None = None

    @property
    def key(self) -> str:
        return (self.email or "").strip().lower()


def strong_password(length: int = 24) -> str:
    """A random password for a new Chat agent: sent once, never stored, logged or shown."""
    alphabet = string.ascii_letters + string.digits + "!#%+-=?@^_"
    while True:
        pw = "".join(secrets.choice(alphabet) for _ in range(length))
        if (any(c.islower() for c in pw) and any(c.isupper() for c in pw) and any(c.isdigit() for c in pw)
                and any(not c.isalnum() for c in pw)):
            return pw


class ChatBackend(Protocol):
    """The five operations the processor and the inactivity policy need."""

    mode: str

    def extract(self, on_page: Callable[[int], None] | None = None) -> list[Agent]: ...

    def enable(self, agent: Agent) -> tuple[int, Any]: ...

    def create(self, email: str, first_name: str, last_name: str) -> tuple[int, Any, Agent]: ...

    def disable(self, agent: Agent) -> tuple[int, Any]: ...

    def delete(self, agent: Agent) -> tuple[int, Any]: ...


def _as_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes")
    return bool(value)


def _text(value: Any) -> str:
    """A text field of an API object; null, a number or a list reads as "" (never crashes a sort)."""
    return value if isinstance(value, str) else ""


# -- standalone: the Chat Agents API --------------------------------------------------------
def agent_from_chat(obj: dict) -> Agent:
    """Map a Chat Agents API object (``enabled`` may be 1/0 or a boolean)."""
    roles = obj.get("roles") or {}
    return Agent(
        id=int(obj["id"]), email=_text(obj.get("email")), first_name=_text(obj.get("first_name")),
        last_name=_text(obj.get("last_name")), display_name=_text(obj.get("display_name")),
        enabled=_as_bool(obj.get("enabled")), last_login=obj.get("last_login"),
        departments=list(obj.get("departments") or []), is_admin=bool(roles.get("administrator")),
        is_owner=bool(roles.get("owner")), chat_only=True, role_id=obj.get("role_id"),
        created=obj.get("create_date"),
    )


class StandaloneChat:
    """The writable Chat Agents API of a standalone Chat account."""

    mode = WRITABLE
    base = "/api/v2/chat/agents"

    def __init__(self, http: ZendeskHttp) -> None:
        self.http = http

    def iter_agents(self) -> Iterator[list[dict]]:
        """Pages of raw agent objects by ``since_id``, ids ascending.

        Whether ``since_id`` is inclusive is not documented, so the next page starts at the
        last id seen and repeats are dropped; the walk ends on an empty or short page, or a
        page with nothing new.
        """
        since, seen_max = 0, -1
        while True:
            page = self.http.get(self.base, params={"since_id": since, "limit": CHAT_PAGE})
            if not isinstance(page, list):
                raise ResponseError("The Chat Agents API answered with something other than a list; try again later.")
            fresh = [a for a in page if int(a["id"]) > seen_max]
            if not fresh:
                return
            yield fresh
            seen_max = max(int(a["id"]) for a in fresh)
            since = seen_max
            if len(page) < CHAT_PAGE:
                return

    def extract(self, on_page: Callable[[int], None] | None = None) -> list[Agent]:
        agents: list[Agent] = []
        for page in self.iter_agents():
            agents.extend(agent_from_chat(a) for a in page)
            if on_page:
                on_page(len(agents))
        return agents

    def _write(self, method: str, path: str, body: Any = None) -> Any:
        try:
            return self.http.request(method, path, json=body)
        except PermissionDenied as exc:
            raise ChatModeMismatch() from exc

    def enable(self, agent: Agent) -> tuple[int, Any]:
        return 200, self._write("PUT", f"{self.base}/{agent.id}", {"enabled": True})

    def disable(self, agent: Agent) -> tuple[int, Any]:
        return 200, self._write("PUT", f"{self.base}/{agent.id}", {"enabled": False})

    def delete(self, agent: Agent) -> tuple[int, Any]:
        return 204, self._write("DELETE", f"{self.base}/{agent.id}")

    def create(self, email: str, first_name: str, last_name: str) -> tuple[int, Any, Agent]:
        body = {"email": email, "password": strong_password(), "first_name": first_name,
                "last_name": last_name, "display_name": first_name, "enabled": True}
        answer = self._write("POST", self.base, body)
        del body  # the password leaves with the request and nowhere else
        obj = answer.get("agent", answer) if isinstance(answer, dict) else {}
        agent = agent_from_chat(obj) if isinstance(obj, dict) and "id" in obj else Agent(0, email, enabled=True)
        return 201, answer, agent


# -- custom roles (Enterprise only) -----------------------------------------------------------
def chat_roles(http: ZendeskHttp) -> list[dict] | None:
    """The account's custom roles as (id, name, role_type, chat_access) dicts, for the optional
    "default role for new agents" picker; None when the plan has no custom roles.

    ``GET /api/v2/custom_roles`` exists on Enterprise plans only; Zendesk documents no refusal
    body, so a 403 or 404 is read as "this plan has no custom roles" (docs/ZENDESK.md section 3).
    """
    try:
        body = http.get("/api/v2/custom_roles")
    except (PermissionDenied, NotFound):
        return None
    roles = body.get("custom_roles", []) if isinstance(body, dict) else []
    return [{"id": r["id"], "name": r.get("name", ""), "role_type": r.get("role_type"),
             "chat_access": bool((r.get("configuration") or {}).get("chat_access"))}
            for r in roles if isinstance(r, dict) and "id" in r]
