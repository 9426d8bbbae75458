"""``evalsync licences show [--json]`` and ``evalsync licences set N``: the licence limit.

The limit is how many active users the EvalSync plan allows; activation is refused past it.
JSON keys of ``show --json``: ``used``, ``limit``, ``free`` (integers).
"""

from __future__ import annotations

import argparse
import json
import sys

from evalsync_gui.core import directory, user_selection
from evalsync_gui.core.context import AppContext


def _limit(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``licences`` and its sub-commands to the ``evalsync`` parser."""
    lic = sub.add_parser("licences", help="show or change the licence limit (active users allowed)")
    cmds = lic.add_subparsers(dest="licences_command", metavar="ACTION")
    cmds.required = True

    p = cmds.add_parser("show", help="licences used, the limit and how many are free")
    p.add_argument("--json", action="store_true", help='print {"used", "limit", "free"}')
    p.set_defaults(func=cmd_show)

    p = cmds.add_parser("set", help="set the licence limit")
    p.add_argument("limit", type=_limit, metavar="N", help=f"active users allowed (1 to {directory.MAX_LICENCES:,})")
    p.set_defaults(func=cmd_set)


def cmd_show(ctx: AppContext, args: argparse.Namespace) -> int:
    lic = directory.licences(ctx.db, ctx.settings)
    if args.json:
        json.dump({"used": lic.used, "limit": lic.limit, "free": lic.free}, sys.stdout)
        sys.stdout.write("\n")
    else:
        print(f"{lic}; {lic.free:,} free.")
    return 0


def cmd_set(ctx: AppContext, args: argparse.Namespace) -> int:
    user_selection.set_licence_limit(ctx.settings, args.limit)
    lic = directory.licences(ctx.db, ctx.settings)
    print(f"Licence limit set to {lic.limit:,}; {lic}.")
    if lic.used > lic.limit:
        print(f"{lic.used - lic.limit:,} more users are active than the limit allows; no one can be activated "
              "until some are deactivated.", file=sys.stderr)
    return 0
