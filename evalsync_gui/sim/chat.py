"""Zendesk Chat agents, in two account modes.

standalone  a legacy Chat account with its own, writable agent list.
support     the Chat account was created in Support: the Agents API is read-only and its
            agents are the Support staff whose role has chat access (ids are Support user ids).
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


def has_chat_access(store: UserStore, user: dict) -> bool:
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

    def _ids(self) -> list[int]:
        s = self.store
        return s.after([s.by_role["admin"], s.by_role["agent"]], None, len(s.active))

    def page(self, since_id: int | None, max_id: int | None, limit: int) -> list[dict]:
        with self.store.lock:
            s = self.store
            lists = [s.by_role["admin"], s.by_role["agent"]]
            out: list[dict] = []
            if max_id is not None:
                eligible = [i for i in s.before(lists, max_id + 1, len(s.active)) if has_chat_access(s, s.users[i])]
                return [self._agent(i) for i in eligible[-limit:]]
            cursor = (since_id or 0) - 1
            while len(out) < limit:
                ids = s.after(lists, cursor, limit)
                if not ids:
                    break
                out += [self._agent(i) for i in ids if has_chat_access(s, s.users[i])]
                cursor = ids[-1]
            return out[:limit]

    def _agent(self, uid: int) -> dict:
        agent = support_agent(self.store.users[uid])
        agent["roles"]["owner"] = uid == self.owner_id
        return agent

    def get(self, uid: int) -> dict | None:
        user = self.store.users.get(uid)
        return self._agent(uid) if user and has_chat_access(self.store, user) else None

    def by_email(self, email: str) -> dict | None:
        uid = self.store.find_email(email)
        return self.get(uid) if uid is not None else None

    def all(self) -> dict[int, dict]:
        with self.store.lock:
            return {i: self._agent(i) for i in self._ids() if has_chat_access(self.store, self.store.users[i])}


