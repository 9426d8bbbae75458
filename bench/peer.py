"""Peer baseline: zenpy lists the same users (cursor pagination) into SQLite with executemany.

This is what a competent script would do with the best-known third-party Zendesk client.
zenpy is GPL-3.0: benchmark use only, never shipped. Same environment as :mod:`bench.floor`
plus BENCH_DB (the SQLite file to write). Prints ``{"users": n}``.
"""

from __future__ import annotations

import json
import os
import sqlite3
from urllib.parse import urlsplit

COLUMNS = ("id", "name", "email", "role", "role_type", "custom_role_id", "active", "suspended",
           "external_id", "updated_at")


def main() -> int:
    base = urlsplit(os.environ["BENCH_BASE_URL"])
    os.environ["ZENPY_FORCE_SCHEME"] = base.scheme
    os.environ["ZENPY_FORCE_NETLOC"] = base.netloc
    from zenpy import Zenpy  # noqa: PLC0415 - after the environment it reads

    client = Zenpy(subdomain="bench", email=os.environ["BENCH_EMAIL"], token=os.environ["BENCH_TOKEN"])
    roles = os.environ.get("BENCH_ROLES", "agent,admin").split(",")
    db = sqlite3.connect(os.environ["BENCH_DB"])
    db.execute(f"CREATE TABLE IF NOT EXISTS users ({', '.join(COLUMNS)}, PRIMARY KEY (id))")
    rows = [tuple(getattr(u, c) for c in COLUMNS) for u in client.users(role=roles)]
    with db:
        db.executemany(f"INSERT OR REPLACE INTO users VALUES ({', '.join('?' * len(COLUMNS))})", rows)
    db.close()
    print(json.dumps({"users": len(rows)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
