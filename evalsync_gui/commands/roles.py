"""CLI sub-command ``roles``: the kinds of Zendesk team members, which take a paid seat, how many.

``evalsync roles [--count] [--json]`` lists agents, admins, light agents, contributors and
chat-only agents (see ``core.sync.role_kinds``), whether the sync scope imports each, and
the counts of the last count; ``--count`` reads the account's agents and admins now.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timezone
from typing import Any


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``roles`` sub-command to the `evalsync` parser."""
    p = sub.add_parser("roles", help="kinds of Zendesk team members: paid seats, counts, what sync imports")
    p.add_argument("--count", action="store_true", help="count them in Zendesk now (reads every agent and admin)")
    p.add_argument("--json", action="store_true", help="print the result as JSON on standard output")
    p.set_defaults(func=cmd_roles)


def roles_report(ctx, counted: dict[str, Any] | None) -> dict[str, Any]:
    """The ``roles --json`` document: one entry per kind, in display order."""
    from evalsync_gui.core.sync.config import load_config
    from evalsync_gui.core.sync.role_kinds import KINDS
    from evalsync_gui.core.sync.scope import Scope

    roles = load_config(ctx).roles
    scope = Scope.from_roles(roles) if roles else Scope()
    chosen = {"agent": scope.agents, "admin": scope.admins, **dict.fromkeys(scope.extra_kinds, True)}
    counts = (counted or {}).get("counts") or {}
    stamp = (counted or {}).get("counted_at")
    return {
        "kinds": [{"name": kind.key, "label": kind.label, "paid_seat": kind.paid_seat, "seat": kind.seat_note,
                   "in_scope": bool(chosen.get(kind.key)), "count": counts.get(kind.key)} for kind in KINDS.values()],
        "paid_seats": (counted or {}).get("paid_seats"),
        "counted_at": datetime.fromtimestamp(stamp, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        if isinstance(stamp, (int, float)) else None,
    }


def cmd_roles(ctx, args) -> int:
    from evalsync_gui.core.sync import role_kinds

    if args.count:
        from evalsync_gui.core.auth.session import open_client

        with open_client(ctx) as client:
            counted = role_kinds.tally_listing(ctx, client)
    else:
        counted = role_kinds.last_counts(ctx)
    report = roles_report(ctx, counted)
    if args.json:
        print(json.dumps(report))
        return 0
    for kind in report["kinds"]:
        count = "?" if kind["count"] is None else str(kind["count"])
        mark = "imported" if kind["in_scope"] else "not imported"
        print(f"{kind['label']:<17} {count:>7}  {mark:<12}  {kind['seat']}")
    if report["counted_at"] is None:
        print("Not counted yet: run `evalsync roles --count`.", file=sys.stderr)
    else:
        print(f"{report['paid_seats']} paid seats, counted {report['counted_at']}.")
    return 0
