"""Floor baseline: a bare httpx loop that downloads and JSON-parses the in-scope user pages.

It does nothing else (no database, no objects), so it is the least any client could spend on
the same pages from the same simulator. Configured by environment: BENCH_BASE_URL,
BENCH_EMAIL, BENCH_TOKEN, BENCH_ROLES (comma-separated). Prints ``{"users": n, "requests": r}``.
"""

from __future__ import annotations

import json
import os

import httpx


def main() -> int:
    base = os.environ["BENCH_BASE_URL"].rstrip("/")
    roles = os.environ.get("BENCH_ROLES", "agent,admin").split(",")
    auth = (f"{os.environ['BENCH_EMAIL']}/token", os.environ["BENCH_TOKEN"])
    params = [("role[]", r) for r in roles] + [("page[size]", "100")]
    users = requests = 0
    with httpx.Client(auth=auth, timeout=60) as client:
        url: str | None = f"{base}/api/v2/users.json"
        while url:
            resp = client.get(url, params=params if requests == 0 else None)
            requests += 1
            resp.raise_for_status()
            page = json.loads(resp.content)
            users += len(page["users"])
            url = page["links"]["next"] if page["meta"]["has_more"] and page["users"] else None
    print(json.dumps({"users": users, "requests": requests}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
