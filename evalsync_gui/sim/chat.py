"""Zendesk Chat agents, in two account kinds.

writable  a Chat account managed outside Support, with its own, writable agent list.
support   the Chat account was created in Support: the Agents API is read-only and its agents
          are the Support team members whose Chat entitlement is on (ids are Support user ids).
          The entitlement is a product setting of Admin Center (Team members > agent > Roles
          and access > Chat); :meth:`SupportChatView.set_access` plays that change, and
          ``GET /api/v2/users/{id}/entitlements/full`` reads it.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Callable
from typing import Any

from evalsync_gui.sim.org import chat_agent
from evalsync_gui.sim.store import UserStore


class ChatAgents:
    """A standalone Chat account's agents, sorted by id."""

    def __init__(self, agents: list[dict[str, Any]], clock: Callable[[], float]) -> None:
        self._now = clock
        self.lock = threading.RLock()
        self.agents: dict[int, dict[str, Any]] = {a["id"]: a for a in agents}
        self.ids = sorted(self.agents)
        self._next = (self.ids[-1] if self.ids else 361_000_000) + 1

    def page(self, since_id: int | None, max_id: int | None, limit: int) -> list[dict]:
        with self.lock:
            if max_id is not None:
                end = bisect.bisect_right(self.ids, max_id)
                ids = self.ids[max(0, end - limit):end]
            else:
                start = bisect.bisect_left(self.ids, since_id or 0)  # since_id is inclusive
                ids = self.ids[start:start + limit]
            return [self.agents[i] for i in ids]

    def by_email(self, email: str) -> dict | None:
        low = email.lower()
        return next((a for a in self.agents.values() if a["email"].lower() == low), None)

    def create(self, data: dict[str, Any]) -> dict:
        with self.lock:
            if self.by_email(data["email"]):
                raise ValueError("Email already exists")
            cid = self._next
            self._next += 1
            agent = chat_agent(cid, data["email"], data.get("first_name", ""), data.get("last_name", ""),
                               enabled=bool(data.get("enabled", True)), admin=data.get("role_id") == 1, owner=False,
                               created=self._now(), last_login=None, login_count=0,
                               departments=list(data.get("departments") or []))
            if data.get("display_name"):
                agent["display_name"] = data["display_name"]
            self.agents[cid] = agent
            bisect.insort(self.ids, cid)
            return agent

    def update(self, cid: int, data: dict[str, Any]) -> dict:
        with self.lock:
            agent = self.agents[cid]
            for key in ("email", "first_name", "last_name", "display_name", "role_id", "departments"):
                if key in data:
                    agent[key] = data[key]
            if "enabled" in data:
                agent["enabled"] = bool(data["enabled"])
            if "role_id" in data:
                agent["roles"]["administrator"] = data["role_id"] == 1
            if "departments" in data:
                agent["enabled_departments"] = list(data["departments"])
            return agent

    def delete(self, cid: int) -> None:
        with self.lock:
            del self.agents[cid]
            self.ids.remove(cid)


def seeded_chat_access(store: UserStore, user: dict) -> bool:
    """Who starts with Chat on in a seeded Support-kind account: active staff whose custom role
    (if any) has ``chat_access``; a deterministic stand-in for what admins set in Admin Center."""
    if not user["active"] or user["role"] == "end-user":
        return False
    if user["custom_role_id"] is None:
        return True
    role = next((r for r in store.custom_roles if r["id"] == user["custom_role_id"]), None)
    return bool(role and role["configuration"].get("chat_access"))


def support_agent(user: dict) -> dict:
    """A Support user seen through the Chat Agents API."""
    first, _, last = user["name"].partition(" ")
    agent = chat_agent(user["id"], user["email"] or "", first, last, enabled=not user["suspended"],
                       admin=user["role"] == "admin", owner=False, created=0, last_login=None, login_count=0)
    agent["create_date"] = user["created_at"]
    agent["last_login"] = user["last_login_at"]
    agent["display_name"] = user["name"]
    return agent


class SupportChatView:
    """Read-only Chat agents derived from Support staff (Chat created in Support)."""

    def __init__(self, store: UserStore, owner_id: int) -> None:
        self.store = store
        self.owner_id = owner_id
        with store.lock:
            self.access: set[int] = {uid for uid, u in store.users.items() if seeded_chat_access(store, u)}

    def set_access(self, uid: int, on: bool) -> None:
        """Admin Center's Chat switch for one team member."""
        if on:
            self.access.add(uid)
        else:
            self.access.discard(uid)

    def has_access(self, user: dict) -> bool:
        """Chat on: a live team member whose Chat entitlement is active."""
        return user["active"] and user["role"] != "end-user" and user["id"] in self.access

    def entitlements(self, user: dict) -> dict:
        """``entitlements/full`` for a user: chat for team members, as Zendesk's OAS example shows."""
        ent: dict = {"explore": {"name": "viewer" if user["role"] != "end-user" else None, "is_active": False},
                     "guide": {"name": "viewer", "is_active": False},
                     "talk": {"name": "agent" if user["role"] != "end-user" else None, "is_active": False}}
        if user["role"] != "end-user":
            ent["chat"] = {"name": "admin" if user["role"] == "admin" else "agent",
                           "is_active": self.has_access(user)}
        return ent

    def _ids(self) -> list[int]:
        s = self.store
        return s.after([s.by_role["admin"], s.by_role["agent"]], None, len(s.active))

    def page(self, since_id: int | None, max_id: int | None, limit: int) -> list[dict]:
        with self.store.lock:
            s = self.store
            lists = [s.by_role["admin"], s.by_role["agent"]]
            out: list[dict] = []
            if max_id is not None:
                eligible = [i for i in s.before(lists, max_id + 1, len(s.active)) if self.has_access(s.users[i])]
                return [self._agent(i) for i in eligible[-limit:]]
            cursor = (since_id or 0) - 1
            while len(out) < limit:
                ids = s.after(lists, cursor, limit)
                if not ids:
                    break
                out += [self._agent(i) for i in ids if self.has_access(s.users[i])]
                cursor = ids[-1]
            return out[:limit]

    def _agent(self, uid: int) -> dict:
        agent = support_agent(self.store.users[uid])
        agent["roles"]["owner"] = uid == self.owner_id
        return agent

    def get(self, uid: int) -> dict | None:
        user = self.store.users.get(uid)
        return self._agent(uid) if user and self.has_access(user) else None

    def by_email(self, email: str) -> dict | None:
        uid = self.store.find_email(email)
        return self.get(uid) if uid is not None else None

    def all(self) -> dict[int, dict]:
        with self.store.lock:
            return {i: self._agent(i) for i in self._ids() if self.has_access(self.store.users[i])}


