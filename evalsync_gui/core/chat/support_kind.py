"""Chat created in Support: honest automation, with the one step the API cannot do left to the admin.

On these accounts the Chat Agents API is read-only and per-agent Chat access is a product
entitlement set in Admin Center (Team members > the agent > Roles and access > Chat); the
public API reads it (``entitlements/full``) but documents no write (docs/ZENDESK.md
sections 6 and 7). So for each request EvalSync does what the Users API allows and reads
the rest::

    no Zendesk user has the address  -> create a Support agent (role agent; custom_role_id only
                                        when the admin chose a default role), read entitlements:
                                        chat on -> created, else needs_admin_step
    an agent or admin                -> read entitlements: chat on -> already_enabled, else
                                        needs_admin_step (role, custom_role_id, suspended untouched)
    an end-user                      -> upgrade to agent only when the admin allowed it (setting
                                        chat.upgrade_end_users), then as a new agent; else needs_admin_step
    suspended, deleted or shared     -> rejected: EvalSync never lifts a suspension (issue 15 item 3)

A request left at ``needs_admin_step`` carries the agent's Admin Center page; every later
batch re-reads that agent's entitlements and completes it (log, confirmation e-mail) as
``completed_after_admin_step`` once Chat is on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from evalsync_gui.core.chat import audit, kind
from evalsync_gui.core.chat.agents_api import Agent, StandaloneChat
from evalsync_gui.core.chat.existing_users import Adoption, owner_of
from evalsync_gui.core.errors import ResponseError, ZendeskError
from evalsync_gui.core.zendesk.http import ZendeskHttp

NEEDS_ADMIN_STEP = "needs_admin_step"
COMPLETED = "completed_after_admin_step"


def admin_url(base_url: str, user_id: int) -> str:
    """The agent's page in Admin Center (Team members > the agent), where Chat access is switched on."""
    return f"{base_url}/admin/people/team/members/{int(user_id)}"


def end_user_url(base_url: str, user_id: int) -> str:
    """An end-user's profile in the Support agent interface (Admin Center lists team members only)."""
    return f"{base_url}/agent/users/{int(user_id)}"


class SupportKindChat:
    """The batch's backend on a Support-kind account: Chat list read with the Chat token,
    people created or read through the Support Users API, Chat access read from entitlements."""

    mode = kind.SUPPORT

    def __init__(self, chat: ZendeskHttp, support: ZendeskHttp, *, default_role_id: int | None = None,
                 upgrade_end_users: bool = False) -> None:
        self.chat, self.support = chat, support
        self.default_role_id = default_role_id
        self.upgrade_end_users = upgrade_end_users

    # -- reads -----------------------------------------------------------------------------
    def extract(self, on_page: Callable[[int], None] | None = None) -> list[Agent]:
        """The Chat agents as the (read-only) Chat Agents API lists them."""
        return StandaloneChat(self.chat).extract(on_page)

    def lookup(self, email: str) -> list[dict]:
        """Users matching ``email`` through the users search (``email:"…"``); one request."""
        body = self.support.get("/api/v2/users/search", params={"query": f'email:"{email.strip()}"'})
        users = body.get("users") if isinstance(body, dict) else None
        if not isinstance(users, list):
            raise ResponseError("The users search answered without a users list; try again later.")
        return [u for u in users if isinstance(u, dict) and "id" in u]

    def has_chat(self, user_id: int) -> bool:
        return kind.chat_active(kind.entitlements(self.support, user_id))

    # -- the request ---------------------------------------------------------------------
    def grant(self, email: str, first_name: str, last_name: str) -> Adoption:
        """Settle one request (see the module's table): at most one create or one upgrade."""
        user = owner_of(email, self.lookup(email))
        if user is None:
            return self._create(email, first_name, last_name)
        return self._settle_existing(email, user)

    def recheck(self, agent_id: int, email: str, first_name: str, last_name: str) -> Adoption:
        """A request waiting for the admin: complete it once entitlements say Chat is on.

        An end-user has no Chat entitlement at all; once the admin allows upgrades the request
        is settled again from the start (an upgrade, then as a new agent).
        """
        ent = kind.entitlements(self.support, agent_id)
        if kind.chat_active(ent):
            return Adoption(COMPLETED, audit.COMPLETED, "Chat access was switched on in Admin Center",
                            Agent(int(agent_id), email, enabled=True))
        if "chat" not in ent and self.upgrade_end_users:
            return self.grant(email, first_name, last_name)
        return Adoption(NEEDS_ADMIN_STEP, "", "", Agent(int(agent_id), email))

    def _create(self, email: str, first_name: str, last_name: str) -> Adoption:
        user: dict[str, Any] = {"name": f"{first_name} {last_name}".strip(), "email": email, "role": "agent",
                                "verified": True}
        if self.default_role_id:
            user["custom_role_id"] = int(self.default_role_id)
        try:
            answer = self.support.request("POST", "/api/v2/users", json={"user": user})
        except ZendeskError as exc:
            if exc.status != 422:
                raise
            # 422 DuplicateValue: the address appeared meanwhile (another admin, an earlier run).
            found = owner_of(email, self.lookup(email))
            if found is None:
                raise
            return self._settle_existing(email, found)
        created = answer.get("user") if isinstance(answer, dict) else None
        if not isinstance(created, dict) or "id" not in created:
            raise ResponseError("Zendesk created the user but its answer had no user id; check Team members.")
        return self._after_write(int(created["id"]), email, 201, answer, "created as a Support agent")

    def _settle_existing(self, email: str, user: dict) -> Adoption:
        uid = int(user["id"])
        problem = _refusal(email, user)
        if problem:
            return Adoption("rejected", audit.REJECTED, problem)
        if user.get("role") == "end-user":
            if not self.upgrade_end_users:
                return Adoption(NEEDS_ADMIN_STEP, audit.NEEDS_ADMIN_STEP, (
                    f"{email} is an end-user in Zendesk; make them an agent with Chat access in Admin Center, or "
                    "allow EvalSync to upgrade end-users in Chat settings"), Agent(uid, email),
                    admin_url=end_user_url(self.support.base_url, uid))
            change: dict[str, Any] = {"role": "agent"}
            if self.default_role_id:
                change["custom_role_id"] = int(self.default_role_id)
            answer = self.support.request("PUT", f"/api/v2/users/{uid}", json={"user": change})
            return self._after_write(uid, email, 200, answer, "was an end-user; upgraded to agent",
                                     action=audit.UPGRADED)
        if self.has_chat(uid):
            return Adoption("already_enabled", audit.ALREADY_ENABLED, "already has Chat access in Zendesk",
                            Agent(uid, email, enabled=True))
        return self._needs_step(uid, email, "is a Support agent without Chat access")

    def _after_write(self, uid: int, email: str, status: int, answer: Any, what: str,
                     action: str = audit.CREATED) -> Adoption:
        if self.has_chat(uid):
            return Adoption("created", action, what + "; Chat access is on", Agent(uid, email, enabled=True),
                            status, answer)
        step = self._needs_step(uid, email, what + "; Chat access is off")
        step.zendesk_status, step.answer = status, answer
        return step

    def _needs_step(self, uid: int, email: str, what: str) -> Adoption:
        url = admin_url(self.support.base_url, uid)
        return Adoption(NEEDS_ADMIN_STEP, audit.NEEDS_ADMIN_STEP,
                        f"{email} {what}: switch Chat on in Admin Center (Roles and access > Chat)",
                        Agent(uid, email), admin_url=url)


def _refusal(email: str, user: dict) -> str:
    """Why EvalSync must leave this user alone, or "" when it may go on."""
    if not user.get("active", True):
        return (f"{email} belongs to a deleted Zendesk user; restore or permanently delete them in Zendesk, then "
                "submit the request again")
    if user.get("suspended"):
        return (f"{email} is suspended in Zendesk; EvalSync never lifts a suspension someone set: unsuspend them "
                "in Zendesk if they should chat, then submit the request again")
    if user.get("shared"):
        return f"{email} is shared from another Zendesk account, which Zendesk does not let EvalSync change"
    return ""
