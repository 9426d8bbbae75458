"""The ``evalsync`` command: a contract used by admins' scripts and cron jobs.

Exit codes: 0 ok, 2 usage, 3 held by the deactivation guard, 4 authentication problem,
5 Zendesk or network failure after retries, 6 local database problem, 130 cancelled, and
141 (128 + SIGPIPE, what a shell reports for a tool killed by a closed pipe) when the reader
of standard output went away (``evalsync users list --json | head``): quietly, no traceback.
Errors print one line on standard error; ``--json`` output goes to standard output.
Each feature registers its sub-commands from ``evalsync_gui.commands``.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from evalsync_gui import __version__
from evalsync_gui.commands import auth, chat, licences, roles, simulator, sync, users
from evalsync_gui.core.context import AppContext
from evalsync_gui.core.errors import EvalsyncError
from evalsync_gui.core.logsetup import console_logging
from evalsync_gui.core.textsafe import guarded_streams

log = logging.getLogger("evalsync.cli")
CLOSED_PIPE = 141  # 128 + SIGPIPE (13)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="evalsync", description="EvalSync: Zendesk user sync and Chat agent automation.")
    parser.add_argument("--version", action="version", version=f"evalsync {__version__}")
    parser.add_argument("--data-dir", metavar="DIR", help="data folder (default: $EVALSYNC_DATA_DIR or the per-user data folder)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug details to standard error")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for module in (auth, sync, roles, users, licences, chat, simulator):
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    # Logs are redacted (unlike basicConfig's); text output is cleaned of terminal control
    # characters; --json output stays exact.
    with console_logging(logging.DEBUG if args.verbose else logging.WARNING), \
            guarded_streams(stdout=not getattr(args, "json", False)):
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    try:
        if getattr(args, "needs_context", True):
            ctx = AppContext.create(args.data_dir, getattr(args, "base_url", None))
        else:
            ctx = None
        code = int(args.func(ctx, args) or 0)
        sys.stdout.flush()  # a closed pipe shows up here, not in the interpreter's exit
        return code
    except BrokenPipeError:
        return _closed_pipe()
    except EvalsyncError as exc:
        print(f"evalsync: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("evalsync: interrupted; nothing was half-applied, run the command again to resume.", file=sys.stderr)
        return 130


def _closed_pipe() -> int:
    """The reader of standard output is gone: stop quietly, as a Unix tool does."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # the interpreter's final flush must not fail again
        os.close(devnull)
    except (OSError, ValueError):
        pass
    return CLOSED_PIPE


if __name__ == "__main__":
    raise SystemExit(main())
