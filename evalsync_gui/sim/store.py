"""The simulated account's users: live objects, sorted indexes and cached JSON.

Every list endpoint is answered from sorted id lists with bisect (no per-request scan of
the whole account), and each user's JSON is serialised once and reused until it changes.
"""

from __future__ import annotations

import bisect
import heapq
import json
import threading
from collections.abc import Callable
from itertools import islice
from typing import Any

from evalsync_gui.sim.clock import iso
from evalsync_gui.sim.org import ADMIN_ROLE_ID, SeededOrg, apply_role, blank_user

ROLES = ("end-user", "agent", "admin")


def dumps(obj: Any) -> bytes:
    """Compact UTF-8 JSON, non-ASCII left as is (like Rails)."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


class UserStore:
    """Users plus the indexes the endpoints need; all access under ``lock``."""

    def __init__(self, org: SeededOrg, base_url: str, clock: Callable[[], float]) -> None:
        self.lock = threading.RLock()
        self.base_url = base_url
        self._now = clock
        self.users: dict[int, dict[str, Any]] = {u["id"]: u for u in org.users}
        self.updated: dict[int, int] = {u["id"]: t for u, t in zip(org.users, org.updated)}
        self.custom_roles = org.custom_roles
        self.user_fields = org.user_fields
        self.owner_id = org.owner_id
        self._next_id = org.next_id
        self._emails = {u["email"].lower(): u["id"] for u in org.users if u["email"]}
        self._frag: dict[int, bytes] = {}
        self._reindex()

    # ----- indexes -------------------------------------------------------------------------
    def _reindex(self) -> None:
        self.active: list[int] = []
        self.by_role: dict[str, list[int]] = {r: [] for r in ROLES}
        self.by_perm: dict[int, list[int]] = {r["id"]: [] for r in self.custom_roles}
        for uid in sorted(self.users):
            u = self.users[uid]
            if not u["active"]:
                continue
            self.active.append(uid)
            self.by_role[u["role"]].append(uid)
            if u["custom_role_id"] is not None:
                self.by_perm.setdefault(u["custom_role_id"], []).append(uid)
        self.timeline: list[tuple[int, int]] = sorted((t, uid) for uid, t in self.updated.items())

    def _lists_of(self, u: dict) -> list[list[int]]:
        if not u["active"]:
            return []
        lists = [self.active, self.by_role[u["role"]]]
        if u["custom_role_id"] is not None:
            lists.append(self.by_perm.setdefault(u["custom_role_id"], []))
        return lists

    def _unindex(self, uid: int) -> None:
        for lst in self._lists_of(self.users[uid]):
            i = bisect.bisect_left(lst, uid)
            if i < len(lst) and lst[i] == uid:
                del lst[i]
        t = self.updated.get(uid)
        if t is not None:
            i = bisect.bisect_left(self.timeline, (t, uid))
            if i < len(self.timeline) and self.timeline[i] == (t, uid):
                del self.timeline[i]

    def _index(self, uid: int) -> None:
        for lst in self._lists_of(self.users[uid]):
            bisect.insort(lst, uid)
        bisect.insort(self.timeline, (self.updated[uid], uid))

    def team_member_count(self, role_id: int) -> int:
        return len(self.by_perm.get(role_id, []))

    # ----- JSON ----------------------------------------------------------------------------
    def fragment(self, uid: int) -> bytes:
        frag = self._frag.get(uid)
        if frag is None:
            frag = self._frag[uid] = dumps(self.users[uid])
        return frag

    def export_fragment(self, uid: int) -> bytes:
        """Incremental-export form: deleted users carry ``permanently_deleted: false``."""
        frag = self.fragment(uid)
        return frag if self.users[uid]["active"] else frag[:-1] + b',"permanently_deleted":false}'

    # ----- queries -------------------------------------------------------------------------
    def filtered_lists(self, roles: list[str], permission_set: int | None) -> list[list[int]]:
        """Sorted id lists whose union is the filtered set (role, role[], permission_set)."""
        role_lists = []
        for r in dict.fromkeys(roles):
            if r in self.by_role:
                role_lists.append(self.by_role[r])
            else:  # 2026 docs: a custom role name is accepted too
                match = [c["id"] for c in self.custom_roles if c["name"].lower() == r.lower()]
                role_lists.extend(self.by_perm.get(m, []) for m in match)
        if permission_set is not None:
            perm = self.by_perm.get(permission_set, [])
            if roles:
                allowed = set(roles)
                perm = [uid for uid in perm if self.users[uid]["role"] in allowed]
            return [perm]
        return role_lists if roles else [self.active]

    @staticmethod
    def after(lists: list[list[int]], after_id: int | None, size: int) -> list[int]:
        parts = []
        for lst in lists:
            start = 0 if after_id is None else bisect.bisect_right(lst, after_id)
            parts.append(lst[start:start + size])
        return _unique(heapq.merge(*parts), size)

    @staticmethod
    def before(lists: list[list[int]], before_id: int, size: int) -> list[int]:
        parts = []
        for lst in lists:
            end = bisect.bisect_left(lst, before_id)
            parts.append(lst[max(0, end - size):end])
        merged = _unique(heapq.merge(*parts), None)
        return merged[-size:]

    def count(self, lists: list[list[int]]) -> int:
        # Role lists are disjoint, so are custom-role lists; only a mix of both can overlap.
        kinds = {any(lst is r for r in self.by_role.values()) for lst in lists}
        if len(lists) > 1 and len(kinds) > 1:
            return len(set().union(*lists))
        return sum(len(x) for x in lists)

    def export_after(self, key: tuple[int, int], cutoff: int, size: int) -> list[tuple[int, int]]:
        """(updated, id) pairs strictly after ``key`` and updated no later than ``cutoff``."""
        start = bisect.bisect_right(self.timeline, key)
        return [p for p in islice(self.timeline, start, start + size) if p[0] <= cutoff]

    def export_same_second(self, key: tuple[int, int]) -> list[tuple[int, int]]:
        """The pairs after ``key`` that share its second."""
        out = []
        for pair in islice(self.timeline, bisect.bisect_right(self.timeline, key), None):
            if pair[0] != key[0]:
                break
            out.append(pair)
        return out

    def find_email(self, email: str) -> int | None:
        return self._emails.get(email.lower())

    # ----- mutations -----------------------------------------------------------------------
    def _change(self, uid: int, apply: Callable[[dict], None]) -> dict:
        with self.lock:
            user = self.users[uid]
            self._unindex(uid)
            old_email = user["email"]
            apply(user)
            if old_email != user["email"]:
                if old_email:
                    self._emails.pop(old_email.lower(), None)
                if user["email"]:
                    self._emails[user["email"].lower()] = uid
            now = int(self._now())
            self.updated[uid] = now
            user["updated_at"] = iso(now)
            self._frag.pop(uid, None)
            self._index(uid)
            return user

    def add(self, name: str, email: str | None, role: str = "end-user", custom_role_id: int | None = None,
            external_id: str | None = None, user_fields: dict | None = None) -> dict:
        with self.lock:
            if email and email.lower() in self._emails:
                raise ValueError(f"Email: {email} is already being used by another user")
            uid = self._next_id
            self._next_id += 1
            now = int(self._now())
            user = blank_user(self.base_url, uid, name, email, now, self.user_fields)
            self.users[uid] = user
            self.updated[uid] = now
            if email:
                self._emails[email.lower()] = uid

            def setup(u: dict) -> None:
                apply_role(u, role, self._role_id(role, custom_role_id))
                u["external_id"] = external_id
                u["user_fields"].update(user_fields or {})
            self._index(uid)
            return self._change(uid, setup)

    def _role_id(self, role: str, custom_role_id: int | None) -> int | None:
        if role == "admin":
            return ADMIN_ROLE_ID
        if role == "agent" and custom_role_id is not None:
            if not any(r["id"] == custom_role_id and r["role_type"] in (0, 1, 3) for r in self.custom_roles):
                raise ValueError(f"custom role {custom_role_id} does not exist")
            return custom_role_id
        return None

    def rename(self, uid: int, name: str) -> dict:
        return self._change(uid, lambda u: u.update(name=name))

    def set_email(self, uid: int, email: str | None) -> dict:
        with self.lock:
            other = self._emails.get(email.lower()) if email else None
            if other is not None and other != uid:
                raise ValueError(f"Email: {email} is already being used by another user")
            return self._change(uid, lambda u: u.update(email=email))

    def change_role(self, uid: int, role: str, custom_role_id: int | None = None) -> dict:
        crid = self._role_id(role, custom_role_id)
        return self._change(uid, lambda u: apply_role(u, role, crid))

    def set_suspended(self, uid: int, suspended: bool) -> dict:
        return self._change(uid, lambda u: u.update(suspended=suspended))

    def set_active(self, uid: int, active: bool) -> dict:
        return self._change(uid, lambda u: u.update(active=active))

    def update_fields(self, uid: int, **values: Any) -> dict:
        return self._change(uid, lambda u: u.update(values))


def _unique(ids: Any, limit: int | None) -> list[int]:
    out: list[int] = []
    last = None
    for uid in ids:
        if uid != last:
            out.append(uid)
            last = uid
            if limit is not None and len(out) >= limit:
                break
    return out
