"""A tiny in-memory Zendesk for sync unit tests (httpx.MockTransport): cursor listing with
role[]/permission_set, the cursor incremental export, show_many (ids, include_deleted), and a
fault hook for partial reads. ``forget(uid)`` is a permanent deletion (gone from every answer)."""

from __future__ import annotations

import json
import time
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx

BASE = "https://acme.zendesk.com"


class FakeZendesk:
    def __init__(self) -> None:
        self.users: dict[int, dict] = {}
        self.clock = int(time.time()) - 7200  # seeded users are hours old
        self.seeding = True
        self.next_id = 1000
        self.requests: list[tuple[str, str]] = []
        self.fail_after: int | None = None  # fail every request after this many
        self.link_tag: str | None = None  # added to every next link: cursors issued later differ

    def add(self, name: str, email: str | None, role: str = "agent", custom_role_id: int | None = None, **kw) -> int:
        self.next_id += 1
        self.users[self.next_id] = {"id": self.next_id, "name": name, "email": email, "role": role,
                                    "custom_role_id": custom_role_id, "active": True, "suspended": False,
                                    "external_id": kw.get("external_id"), "user_fields": kw.get("user_fields", {}),
                                    "updated_at": ""}
        self.touch(self.next_id)
        return self.next_id

    def touch(self, uid: int, **fields) -> None:
        # Seeded users get old stamps; later changes get "now" (after any sync's start).
        self.clock = self.clock + 1 if self.seeding else max(self.clock + 1, int(time.time()))
        self.users[uid].update(fields, updated_at=_iso(self.clock), _t=self.clock)

    def forget(self, uid: int) -> None:
        del self.users[uid]

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append((request.method, request.url.path))
        if self.fail_after is not None and len(self.requests) > self.fail_after:
            return httpx.Response(500, json={"error": "boom"})
        q = parse_qsl(urlsplit(str(request.url)).query)
        if request.url.path == "/api/v2/users.json":
            return self._listing(q)
        if request.url.path == "/api/v2/incremental/users/cursor.json":
            return self._export(q)
        if request.url.path == "/api/v2/users/show_many.json":
            return self._show_many(q)
        return httpx.Response(404, json={"error": "RecordNotFound"})

    def _visible(self, u: dict) -> dict:
        return {k: v for k, v in u.items() if not k.startswith("_")}

    def _listing(self, q) -> httpx.Response:
        roles = [v for k, v in q if k == "role[]"]
        perm = dict(q).get("permission_set")
        size = int(dict(q).get("page[size]", 100))
        after = int(dict(q).get("page[after]", 0))
        ids = sorted(uid for uid, u in self.users.items() if u["active"] and uid > after
                     and (u["role"] in roles if roles else True)
                     and (u["custom_role_id"] == int(perm) if perm else True))
        page = ids[:size]
        more = len(ids) > size
        keep = [(k, v) for k, v in q if k not in ("page[after]", "tag")] + ([("tag", self.link_tag)] if self.link_tag else [])
        nxt = f"{BASE}/api/v2/users.json?" + urlencode(sorted(keep + [("page[after]", str(page[-1] if page else 0))]))
        return httpx.Response(200, json={"users": [self._visible(self.users[i]) for i in page],
                                         "meta": {"has_more": more}, "links": {"next": nxt if page else None}})

    def _show_many(self, q) -> httpx.Response:
        d = dict(q)
        wanted = sorted(int(x) for x in d["ids"].split(",") if x)
        if len(wanted) > 100:
            return httpx.Response(400, json={"error": "TooManyValues"})
        deleted = d.get("include_deleted") == "true"
        found = [self._visible(self.users[i]) for i in wanted if i in self.users
                 and (deleted or self.users[i]["active"])]
        return httpx.Response(200, json={"users": found, "next_page": None, "previous_page": None, "count": len(found)})

    def _export(self, q) -> httpx.Response:
        d = dict(q)
        size = int(d.get("per_page", 1000))
        key = tuple(json.loads(d["cursor"])) if "cursor" in d else (int(d["start_time"]), 0)
        rows = sorted((u["_t"], uid) for uid, u in self.users.items() if (u["_t"], uid) > tuple(key))
        page = rows[:size]
        last = list(page[-1]) if page else list(key)
        after = f"{BASE}/api/v2/incremental/users/cursor.json?" + urlencode(
            {"cursor": json.dumps(last), "per_page": size, **({"tag": self.link_tag} if self.link_tag else {})})
        return httpx.Response(200, json={"users": [self._visible(self.users[uid]) for _, uid in page],
                                         "after_url": after, "end_of_stream": len(rows) <= size})


def _iso(t: int) -> str:
    import time

    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def client_for(fake: FakeZendesk):
    from evalsync_gui.core.zendesk.http import ApiTokenAuth, RetryPolicy, ZendeskHttp

    return ZendeskHttp(BASE, ApiTokenAuth("admin@acme.test", "x"), transport=fake.transport(),
                       retry=RetryPolicy(max_attempts=2, backoff_base=0.0, backoff_max=0.0), sleep=lambda s: None)
