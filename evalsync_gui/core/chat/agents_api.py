"""Chat agents behind one small interface, for both kinds of Chat account.

* **standalone** Chat: the Chat Agents API (``/api/v2/chat/agents``) is writable.
* **support** (Chat created in Support, most accounts today): that API is read-only; a chat
  agent is a Support agent whose custom role has ``configuration.chat_access``. Enabling
  moves the agent to the chat role chosen in the tab (or lifts a chat-only agent's
  suspension); disabling moves them to a role without chat access (or suspends a chat-only
  agent); deleting is only offered for chat-only agents.

Both backends give the same :class:`Agent` records and the same five operations
(``extract``, ``enable``, ``create``, ``disable``, ``delete``). Each write returns
``(status, body)`` so the log can keep Zendesk's answer. The Support backend's ``create``
raises :class:`EmailTaken` on Zendesk's 422 (the address belongs to an end-user, or a
create raced); its ``lookup`` and ``upgrade`` let :mod:`.existing_users` settle that.

Mode detection (:func:`detect_mode`): the account settings when they say, else the first
refused (403) write on the Chat Agents API, which :class:`ChatModeMismatch` reports.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from evalsync_gui.core.errors import NotFound, PermissionDenied, ResponseError, UsageError, ZendeskError
from evalsync_gui.core.zendesk.http import ZendeskHttp

STANDALONE = "standalone"
SUPPORT = "support"
CHAT_PAGE = 100
USERS_PAGE = 100


class ChatModeMismatch(ZendeskError):
    """The Chat Agents API refused a write: this account's Chat lives in Support."""

    def __init__(self) -> None:
        super().__init__("The Chat Agents API is read-only on this account (Chat was created in Support); "
                         "EvalSync switches to the Support Users API.", status=403)


class EmailTaken(ZendeskError):
    """Zendesk refused a create with 422 because the address already belongs to a user.

    Raised when the 422 names ``DuplicateValue``, or names no code at all (an error body of
    another shape); the caller looks the address up (:mod:`evalsync_gui.core.chat.existing_users`)
    to be sure. A 422 for another reason (an invalid name, say) stays a plain ZendeskError.
    """

    def __init__(self, email: str, cause: ZendeskError) -> None:
        super().__init__(str(cause), status=cause.status, codes=cause.codes)
        self.email = email


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


# -- standalone: the Chat Agents API --------------------------------------------------------
def agent_from_chat(obj: dict) -> Agent:
    """Map a Chat Agents API object (``enabled`` may be 1/0 or a boolean)."""
    roles = obj.get("roles") or {}
    return Agent(
        id=int(obj["id"]), email=obj.get("email") or "", first_name=obj.get("first_name") or "",
        last_name=obj.get("last_name") or "", display_name=obj.get("display_name") or "",
        enabled=_as_bool(obj.get("enabled")), last_login=obj.get("last_login"),
        departments=list(obj.get("departments") or []), is_admin=bool(roles.get("administrator")),
        is_owner=bool(roles.get("owner")), chat_only=True, role_id=obj.get("role_id"),
        created=obj.get("create_date"),
    )


class StandaloneChat:
    """The writable Chat Agents API of a standalone Chat account."""

    mode = STANDALONE
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


# -- support: chat agents are Support users ---------------------------------------------------
def chat_roles(http: ZendeskHttp) -> list[dict]:
    """The account's custom roles as (id, name, chat_access) dicts, for the role picker."""
    body = http.get("/api/v2/custom_roles")
    roles = body.get("custom_roles", []) if isinstance(body, dict) else []
    return [{"id": r["id"], "name": r.get("name", ""), "role_type": r.get("role_type"),
             "chat_access": bool((r.get("configuration") or {}).get("chat_access"))} for r in roles]


def is_chat_only(user: dict) -> bool:
    return bool(user.get("chat_only")) or user.get("role_type") in (2, 3)


class SupportChat:
    """Chat agents as Support users, changed through the Users API."""

    mode = SUPPORT

    def __init__(self, http: ZendeskHttp, chat_role_id: int | None, no_chat_role_id: int | None = None) -> None:
        self.http = http
        self.chat_role_id = chat_role_id
        self.no_chat_role_id = no_chat_role_id
        self._chat_roles: set[int] | None = None
        self._roles: list[dict] = []

    def _load_roles(self) -> set[int]:
        if self._chat_roles is None:
            self._roles = chat_roles(self.http)
            self._chat_roles = {r["id"] for r in self._roles if r["chat_access"]}
            if self.no_chat_role_id is None:  # prefer a full agent role without chat over Light agent
                without = [r for r in self._roles if not r["chat_access"] and r["role_type"] in (0, 1)]
                without.sort(key=lambda r: r["role_type"])
                self.no_chat_role_id = without[0]["id"] if without else None
        return self._chat_roles

    def has_chat(self, user: dict) -> bool:
        """Whether this Support user can chat now (staff only; end-users never can)."""
        return user.get("role") != "end-user" and self._has_chat(user)

    def _has_chat(self, user: dict) -> bool:
        if user.get("suspended") or not user.get("active", True):
            return False
        if user.get("role") == "admin" or is_chat_only(user) or user.get("custom_role_id") is None:
            return True  # admins and the built-in Agent role include chat
        return user.get("custom_role_id") in self._load_roles()

    def to_agent(self, user: dict) -> Agent:
        first, _, last = (user.get("name") or "").partition(" ")
        return Agent(
            id=int(user["id"]), email=user.get("email") or "", first_name=first, last_name=last,
            display_name=user.get("alias") or user.get("name") or "", enabled=self._has_chat(user),
            last_login=user.get("last_login_at"), departments=[user["default_group_id"]] if user.get(
                "default_group_id") else [], is_admin=user.get("role") == "admin",
            is_owner=bool(user.get("is_owner")), chat_only=is_chat_only(user),
            suspended=bool(user.get("suspended")), role_id=user.get("custom_role_id"), created=user.get("created_at"),
        )

    def extract(self, on_page: Callable[[int], None] | None = None) -> list[Agent]:
        self._load_roles()
        agents: list[Agent] = []
        url: str | None = "/api/v2/users"
        params: Any = [("role[]", "agent"), ("role[]", "admin"), ("page[size]", USERS_PAGE)]
        while url:
            body = self.http.get(url, params=params)
            users = body.get("users", []) if isinstance(body, dict) else None
            if users is None:
                raise ResponseError("The Users API answered without a users list; try again later.")
            agents.extend(self.to_agent(u) for u in users if u.get("active", True))
            if on_page:
                on_page(len(agents))
            more = bool((body.get("meta") or {}).get("has_more")) and users
            nxt = (body.get("links") or {}).get("next")
            url, params = (self.http.check_same_origin(nxt), None) if more and nxt else (None, None)
        return agents

    def _require_chat_role(self) -> int:
        if not self.chat_role_id:
            raise UsageError("Choose the role that grants chat access (Chat settings → Chat role) before "
                             "creating or enabling agents in a Support-managed Chat account.")
        return int(self.chat_role_id)

    def enable(self, agent: Agent) -> tuple[int, Any]:
        if agent.chat_only and agent.suspended:
            change: dict[str, Any] = {"suspended": False}
        else:
            change = {"custom_role_id": self._require_chat_role(), "suspended": False}
        return 200, self.http.request("PUT", f"/api/v2/users/{agent.id}", json={"user": change})

    def disable(self, agent: Agent) -> tuple[int, Any]:
        if agent.chat_only:
            change: dict[str, Any] = {"suspended": True}
        else:
            self._load_roles()
            if not self.no_chat_role_id:
                raise UsageError("No role without chat access exists to move this agent to; create one in Zendesk.")
            change = {"custom_role_id": self.no_chat_role_id}
        return 200, self.http.request("PUT", f"/api/v2/users/{agent.id}", json={"user": change})

    def delete(self, agent: Agent) -> tuple[int, Any]:
        if not agent.chat_only:
            raise UsageError(f"{agent.email} is a Support agent, not chat-only; EvalSync only disables it.")
        return 200, self.http.request("DELETE", f"/api/v2/users/{agent.id}")

    def create(self, email: str, first_name: str, last_name: str) -> tuple[int, Any, Agent]:
        """Create a chat agent; raises :class:`EmailTaken` when Zendesk answers 422."""
        role = self._require_chat_role()
        user = {"name": f"{first_name} {last_name}".strip(), "alias": first_name, "email": email,
                "role": "agent", "custom_role_id": role, "verified": True}
        try:
            answer = self.http.request("POST", "/api/v2/users", json={"user": user})
        except ZendeskError as exc:
            # 422 RecordInvalid, e.g. details.email[0].error == "DuplicateValue" for an address
            # an end-user (or a racing create) already holds; the caller resolves it.
            if exc.status == 422 and ("DuplicateValue" in exc.codes or exc.codes <= {"RecordInvalid"}):
                raise EmailTaken(email, exc) from exc
            raise
        obj = answer.get("user") if isinstance(answer, dict) else None
        agent = self.to_agent(obj) if isinstance(obj, dict) and "id" in obj else Agent(0, email, enabled=True)
        return 201, answer, agent

    def lookup(self, email: str) -> list[dict]:
        """Active users matching ``email`` (one request; the caller compares addresses itself).

        Zendesk's users search, ``GET /api/v2/users/search?query=…`` with its search syntax
        (``email:``), Agents may call it, offset-paged, at most 100 a page
        (Zendesk's OpenAPI spec, "Search Users"; see docs/ZENDESK.md). Search returns
        no deleted users, which :func:`existing_users.decide` reads as "probably deleted".
        """
        body = self.http.get("/api/v2/users/search", params={"query": f'email:"{email.strip()}"'})
        users = body.get("users") if isinstance(body, dict) else None
        if not isinstance(users, list):
            raise ResponseError("The users search answered without a users list; try again later.")
        return [u for u in users if isinstance(u, dict) and "id" in u]

    def upgrade(self, user: dict) -> tuple[int, Any]:
        """Make an end-user an agent with the chat role, as a create would have set them."""
        change = {"role": "agent", "custom_role_id": self._require_chat_role()}
        return 200, self.http.request("PUT", f"/api/v2/users/{int(user['id'])}", json={"user": change})


# -- mode ---------------------------------------------------------------------------------
def detect_mode(http: ZendeskHttp) -> str | None:
    """``standalone`` / ``support`` when the account settings tell, else None (decide on first write)."""
    try:
        body = http.get("/api/v2/account/settings")
    except (NotFound, PermissionDenied):
        return None
    except ZendeskError:
        return None
    chat = ((body or {}).get("settings") or {}).get("chat") or {} if isinstance(body, dict) else {}
    if "enabled_in_support" in chat:
        return SUPPORT if chat["enabled_in_support"] else STANDALONE
    if "integrated" in chat:
        return SUPPORT if chat["integrated"] else STANDALONE
    return None


def make_backend(mode: str, http: ZendeskHttp, settings_get: Callable[[str, Any], Any],
                 chat_http: ZendeskHttp | None = None) -> ChatBackend:
    """The backend for ``mode``; ``chat_http`` (a Chat OAuth client) is used for standalone Chat."""
    if mode == SUPPORT:
        role = settings_get("chat.support_role", None)
        no_chat = settings_get("chat.support_nochat_role", None)
        return SupportChat(http, int(role) if role else None, int(no_chat) if no_chat else None)
    return StandaloneChat(chat_http or http)
