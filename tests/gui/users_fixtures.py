"""Helpers for the users-tab tests: many directory rows written straight into SQLite."""

from __future__ import annotations

import random

FIRST = ("Ann", "Bob", "Chloe", "Dev", "Eva", "Farid", "Grace", "Hugo", "Ines", "Jon", "Kemi", "Liam", "Mia", "Noor")
LAST = ("Smith", "Okafor", "Nguyen", "Garcia", "Müller", "Rossi", "Khan", "Silva", "Kowalski", "Brown", "Sato")
CUSTOM = (None, None, (101, "Tier 1"), (102, "Tier 2"), (103, "Team lead"))


def seed_users(db, n: int, *, status_mix=(0.7, 0.25, 0.05), seed: int = 7) -> None:
    """Insert ``n`` Zendesk-like users with a mix of statuses, roles and times (one transaction)."""
    rnd = random.Random(seed)
    rows = []
    for i in range(n):
        first, last = rnd.choice(FIRST), rnd.choice(LAST)
        r = rnd.random()
        status = "pending" if r < status_mix[0] else "active" if r < status_mix[0] + status_mix[1] else "deactivated"
        custom = rnd.choice(CUSTOM)
        rows.append((
            900_000 + i, f"{first} {last} {i}", f"{first.lower()}.{last.lower()}{i}@abc-energy.com", status,
            "admin" if i % 17 == 0 else "agent", custom[0] if custom else None, custom[1] if custom else None,
            f"2026-{1 + i % 11:02d}-{1 + i % 27:02d}T{i % 24:02d}:00:00Z",
            f"2026-11-{1 + i % 22:02d}T{i % 24:02d}:{i % 60:02d}:00Z",
            "sync" if status == "deactivated" else None,
            "suspended in Zendesk" if status == "deactivated" else None,
        ))
    with db.transaction() as conn:
        conn.executemany(
            "INSERT INTO users (zendesk_id, name, email, status, zendesk_role, custom_role_id, custom_role_name, "
            "imported_at, updated_at, deactivated_by, deactivation_reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows)
