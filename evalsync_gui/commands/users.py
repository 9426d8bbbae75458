"""``evalsync users ...``: list, activate, deactivate, add, import and export directory users."""

from __future__ import annotations

import argparse
import json
import sys

from evalsync_gui.core import directory
from evalsync_gui.core.context import AppContext
from evalsync_gui.core.errors import UsageError
from evalsync_gui.core.textsafe import clean


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``users`` and its sub-commands to the ``evalsync`` parser."""
    users = sub.add_parser("users", help="review, activate and manage EvalSync users")
    cmds = users.add_subparsers(dest="users_command", metavar="ACTION")
    cmds.required = True

    p = cmds.add_parser("list", help="list users")
    p.add_argument("--status", choices=directory.STATUSES, help="only users with this status")
    p.add_argument("--json", action="store_true", help="print a JSON array")
    p.set_defaults(func=cmd_list)

    p = cmds.add_parser("activate", help="activate users (uses licences)")
    p.add_argument("--all-pending", action="store_true", help="every pending user")
    p.add_argument("ids", nargs="*", type=int, default=[], metavar="ID", help="user ids from `users list`")
    p.add_argument("--role", help="EvalSync role: " + ", ".join(directory.ROLES))
    p.add_argument("--team", help="team for these users")
    p.set_defaults(func=cmd_activate)

    p = cmds.add_parser("deactivate", help="deactivate users (frees licences)")
    p.add_argument("ids", nargs="+", type=int, metavar="ID")
    p.set_defaults(func=cmd_deactivate)

    p = cmds.add_parser("add", help="add a user by hand")
    p.add_argument("--name", required=True)
    p.add_argument("--email", required=True)
    p.add_argument("--identifier")
    p.add_argument("--status", choices=("pending", "active"), default="pending")
    p.add_argument("--role", help="EvalSync role: " + ", ".join(directory.ROLES))
    p.add_argument("--team")
    p.set_defaults(func=cmd_add)

    p = cmds.add_parser("import", help="import existing EvalSync users from CSV (name, email, identifier)")
    p.add_argument("file", metavar="FILE.csv")
    p.set_defaults(func=cmd_import)

    p = cmds.add_parser("export", help="export users to CSV")
    p.add_argument("file", metavar="FILE.csv")
    p.add_argument("--status", choices=directory.STATUSES)
    p.set_defaults(func=cmd_export)


def cmd_list(ctx: AppContext, args: argparse.Namespace) -> int:
    users = directory.list_users(ctx.db, args.status)
    if args.json:
        json.dump(users, sys.stdout, indent=1, ensure_ascii=False)
        sys.stdout.write("\n")
        return 0
    for u in users:
        print(f"{u['id']:>7}  {u['status']:<11}  {clean(u['zendesk_role'] or '-'):<7}  {clean(u['name'])}  "
              f"<{clean(u['email'] or '')}>")
    counts = directory.counts(ctx.db)
    print(f"{counts['pending']} pending, {counts['active']} active, {counts['deactivated']} deactivated; "
          f"{directory.licences(ctx.db, ctx.settings)}", file=sys.stderr)
    return 0


def cmd_activate(ctx: AppContext, args: argparse.Namespace) -> int:
    if args.all_pending == bool(args.ids):
        raise UsageError("Name the users to activate (IDs) or pass --all-pending, not both.")
    n = directory.activate(ctx.db, ctx.settings, args.ids, all_pending=args.all_pending, role=args.role, team=args.team)
    print(f"Activated {n} user{'s' if n != 1 else ''}; {directory.licences(ctx.db, ctx.settings)}.")
    return 0


def cmd_deactivate(ctx: AppContext, args: argparse.Namespace) -> int:
    n = directory.deactivate(ctx.db, args.ids)
    print(f"Deactivated {n} user{'s' if n != 1 else ''}; {directory.licences(ctx.db, ctx.settings)}.")
    return 0


def cmd_add(ctx: AppContext, args: argparse.Namespace) -> int:
    uid = directory.add_user(ctx.db, ctx.settings, directory.NewUser(
        name=args.name, email=args.email, identifier=args.identifier, status=args.status, role=args.role, team=args.team))
    print(f"Added user {uid} ({args.status}).")
    return 0


def cmd_import(ctx: AppContext, args: argparse.Namespace) -> int:
    print(directory.import_csv(ctx.db, ctx.settings, args.file))
    return 0


def cmd_export(ctx: AppContext, args: argparse.Namespace) -> int:
    n = directory.export_csv(ctx.db, args.file, directory.View(status=args.status))
    print(f"Exported {n} users to {args.file}.")
    return 0
