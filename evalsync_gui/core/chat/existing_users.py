"""When a create is refused because the address already belongs to a Zendesk user.

In a Support-managed Chat account the batch's extract lists staff only (agents and admins),
so a request for someone who once filed a ticket (an *end-user*) looks new, and Zendesk
refuses the create with 422 ``DuplicateValue`` ("Email: … is already being used by another
user"). The same 422 answers a create that raced another admin or an earlier run. Either
way the batch looks the address up once and settles it with this decision table::

    no active user has the address as their main e-mail -> Rejected (deleted, or a secondary address)
    active end-user, suspended                          -> Rejected (someone suspended them on purpose)
    active end-user, shared from another account        -> Rejected (Zendesk refuses updates: 403)
    active end-user                                     -> Upgraded end-user (role agent + chat role), e-mail as for a create
    agent or admin without chat (suspended or not)      -> Enabled  (the usual enable path, which unsuspends)
    agent or admin with chat                            -> Already enabled (created meanwhile)

Suspension: the enable path lifts a suspension only on staff, where suspending is how
EvalSync itself turns a chat-only agent off. An end-user was suspended by a person for a
reason EvalSync cannot judge, so granting them agent access is left to an admin.

One lookup and at most one write per refused create; nothing here creates again, so a
second refusal can never start a loop.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from evalsync_gui.core.chat import audit
from evalsync_gui.core.chat.agents_api import Agent
from evalsync_gui.core.chat.domains import normalize_email

UPGRADE = "upgrade"
ENABLE = "enable"
ALREADY = "already"
REJECT = "reject"


@dataclass(frozen=True)
class Decision:
    """What to do with the user who owns a requested address (``user`` is None for a rejection)."""

    action: str
    user: dict | None = None
    reason: str = ""


def owner_of(email: str, users: list[dict]) -> dict | None:
    """The user whose main e-mail is ``email``, compared trimmed and case-insensitively."""
    key = normalize_email(email)
    return next((u for u in users if normalize_email(u.get("email") or "") == key), None)


def decide(email: str, users: list[dict], has_chat: Callable[[dict], bool]) -> Decision:
    """The decision table above, from the users a lookup of ``email`` returned."""
    email = email.strip()
    user = owner_of(email, users)
    if user is None or not user.get("active", True):
        return Decision(REJECT, reason=(
            f"{email} already belongs to a Zendesk user EvalSync cannot change: no active user has it as their "
            "main e-mail (the user was probably deleted, or it is another user's secondary address); restore "
            "or permanently delete that user in Zendesk, then submit the request again"))
    if user.get("role") == "end-user":
        if user.get("suspended"):
            return Decision(REJECT, user, (
                f"{email} is a suspended end-user in Zendesk; EvalSync does not lift a suspension someone else "
                "set: unsuspend them in Zendesk if they should have Chat access, then submit the request again"))
        if user.get("shared"):
            return Decision(REJECT, user, (
                f"{email} is an end-user shared from another Zendesk account, which Zendesk does not let "
                "EvalSync change; add them as an agent in their home account"))
        return Decision(UPGRADE, user)
    if has_chat(user):
        return Decision(ALREADY, user)
    return Decision(ENABLE, user)


@dataclass
class Adoption:
    """How a refused create was settled: the request's status, the log's action and Zendesk's answer."""

    status: str  # a chat_requests status: created | enabled | already_enabled | rejected
    action: str  # the action log's word (see audit)
    detail: str
    agent: Agent | None = None
    zendesk_status: int | None = None
    answer: Any = None


class Adopter(Protocol):
    """What a backend offers so a refused create can be settled (see :class:`SupportChat`)."""

    def lookup(self, email: str) -> list[dict]: ...

    def has_chat(self, user: dict) -> bool: ...

    def to_agent(self, user: dict) -> Agent: ...

    def upgrade(self, user: dict) -> tuple[int, Any]: ...

    def enable(self, agent: Agent) -> tuple[int, Any]: ...


def adopt(backend: Adopter, email: str) -> Adoption:
    """Settle a create Zendesk refused with 422: one lookup, then at most one write (never a create)."""
    decision = decide(email, backend.lookup(email), backend.has_chat)
    if decision.action == REJECT or decision.user is None:
        return Adoption("rejected", audit.REJECTED, decision.reason)
    agent = backend.to_agent(decision.user)
    if decision.action == ALREADY:
        return Adoption("already_enabled", audit.ALREADY_ENABLED,
                        "create refused (422): already an agent with chat in Zendesk", agent)
    if decision.action == ENABLE:
        zstatus, answer = backend.enable(agent)
        agent.enabled = True
        return Adoption("enabled", audit.ENABLED, "create refused (422): already an agent; chat enabled",
                        agent, zstatus, answer)
    zstatus, answer = backend.upgrade(decision.user)
    agent.enabled = True
    return Adoption("created", audit.UPGRADED, "was an end-user in Zendesk; upgraded to agent with the chat role",
                    agent, zstatus, answer)
