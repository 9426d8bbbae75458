"""CLI sub-commands for user sync: ``configure``, ``sync`` and ``runs``.

Exit codes: 0 ok, 2 usage, 3 held by the deactivation guard, 4 authentication, 5 Zendesk or
network failure after retries, 6 local database (or another sync running), 130 cancelled.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict

from evalsync_gui.core.errors import UsageError
from evalsync_gui.core.textsafe import clean, write_control


def register(sub: argparse._SubParsersAction) -> None:
    """Add this feature's sub-commands to the `evalsync` parser."""
    p = sub.add_parser("configure", help="choose which Zendesk users sync imports and how")
    p.add_argument("--roles", help="comma list of agent, admin, light_agent, contributor, chat_only, custom:<id>")
    p.add_argument("--identifier", help="default | external_id | user_fields.<key>")
    p.add_argument("--interval-hours", type=float, metavar="H")
    p.add_argument("--deactivation-limit", metavar="N|P%")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--enable", action="store_true", help="run on the schedule")
    group.add_argument("--disable", action="store_true", help="stop the schedule")
    p.add_argument("--json", action="store_true", help="print the configuration as JSON")
    p.set_defaults(func=cmd_configure)

    p = sub.add_parser("sync", help="sync Zendesk users into EvalSync now")
    p.add_argument("--dry-run", action="store_true", help="show what would change; write nothing")
    p.add_argument("--full", action="store_true", help="full listing instead of the incremental export")
    p.add_argument("--allow-deactivations", action="store_true", help="apply deactivations beyond the guard's limit")
    p.add_argument("--json", action="store_true", help="print the result as JSON on standard output")
    p.set_defaults(func=cmd_sync)

    p = sub.add_parser("runs", help="sync history: list, show, undo, allow or discard held deactivations")
    rsub = p.add_subparsers(dest="runs_command", metavar="ACTION")
    rsub.required = True
    q = rsub.add_parser("list", help="recent runs, newest first")
    q.add_argument("--limit", type=int, default=50)
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=cmd_runs_list)
    for name, func, text in (("show", cmd_runs_show, "one run with its changes"),
                             ("undo", cmd_runs_undo, "reverse a whole run"),
                             ("allow", cmd_runs_allow, "apply a run's held deactivations"),
                             ("discard", cmd_runs_discard, "drop a run's held deactivations")):
        q = rsub.add_parser(name, help=text)
        q.add_argument("id", type=int, metavar="ID")
        q.add_argument("--json", action="store_true")
        q.set_defaults(func=func)
    q = rsub.add_parser("export", help="write the history as CSV")
    q.add_argument("path", metavar="FILE")
    q.set_defaults(func=cmd_runs_export)


# -- configure ---------------------------------------------------------------------------
def cmd_configure(ctx, args) -> int:
    from evalsync_gui.core.sync.config import describe_scope, load_config, save_config

    cfg = load_config(ctx)
    changed = False
    if args.roles is not None:
        cfg.roles = [r.strip() for r in args.roles.split(",") if r.strip()]
        changed = True
    for attr in ("identifier", "interval_hours", "deactivation_limit"):
        value = getattr(args, attr)
        if value is not None:
            setattr(cfg, attr, value)
            changed = True
    if args.enable or args.disable:
        cfg.enabled = bool(args.enable)
        changed = True
    if changed:
        save_config(ctx, cfg)
    elif not cfg.roles:
        raise UsageError("User sync is not configured yet; give --roles agent,admin,custom:<id>.")
    if args.json:
        print(json.dumps(asdict(cfg)))
        return 0
    from evalsync_gui.core.sync import guard
    from evalsync_gui.core.sync.roles import cached_names

    print(f"User sync imports {describe_scope(cfg, cached_names(ctx.db))}; identifier: {cfg.identifier}; "
          f"every {cfg.interval_hours:g} hours ({'enabled' if cfg.enabled else 'disabled'}); "
          f"deactivations held above {guard.describe(cfg.deactivation_limit)}.")
    return 0


# -- sync --------------------------------------------------------------------------------
def cmd_sync(ctx, args) -> int:
    from evalsync_gui.core.sync.runner import run_sync

    progress = _progress_line if sys.stderr.isatty() else None
    result = run_sync(ctx, trigger="cli", dry_run=args.dry_run, full=args.full,
                      allow_deactivations=args.allow_deactivations, progress=progress)
    if progress:
        write_control(sys.stderr, "\r\033[K")
    if args.json:
        print(json.dumps(asdict(result)))
    else:
        label = "Dry run" if result.dry_run else "Sync"
        run = f"run {result.run_id}" if result.run_id is not None else "not started"
        print(f"{label} {result.status} ({run}, {result.mode}): {result.new} new, "
              f"{result.updated} updated, {result.deactivated} deactivated, {result.held} held; "
              f"{result.requests} requests.")
        if result.dry_run:
            for item in result.planned:
                print(f"  {item['action']:<10} {clean(item['name'])} <{clean(item['email'] or '')}>: "
                      f"{clean(item['reason'])}")
    if result.status == "held":
        print(f"evalsync: {result.held} deactivations held by the deactivation guard; review them with "
              f"`evalsync runs show {result.run_id}`, then `evalsync runs allow {result.run_id}` or "
              f"`evalsync runs discard {result.run_id}`.", file=sys.stderr)
    elif result.error:
        print(f"evalsync: {result.error}", file=sys.stderr)
    return result.exit_code


def _progress_line(p) -> None:
    write_control(sys.stderr, "\r\033[K")
    if p.waiting_seconds > 0:
        sys.stderr.write(f"{p.users} users so far; {p.wait_reason}")
        sys.stderr.flush()
        return
    wait = f", waited {p.rate_wait:.0f}s for rate limits" if p.rate_wait >= 1 else ""
    sys.stderr.write(f"{p.phase}: {p.users} users, {p.pages} pages, {p.requests} requests{wait}")
    sys.stderr.flush()


# -- runs --------------------------------------------------------------------------------
def cmd_runs_list(ctx, args) -> int:
    from evalsync_gui.core.sync.runs import list_runs

    rows = list_runs(ctx, limit=args.limit)
    if args.json:
        print(json.dumps(rows))
        return 0
    if not rows:
        print("No sync runs yet.")
    for r in rows:
        dry = " (dry run)" if r["dry_run"] else ""
        undone = f" undone {r['undone_at']}" if r["undone_at"] else ""
        print(f"{r['id']:>5}  {r['started_at']}  {r['trigger']:<8} {r['mode']:<11} {r['status']:<11} "
              f"new {r['n_new']}, updated {r['n_updated']}, deactivated {r['n_deactivated']}, held {r['n_held']}, "
              f"{r['requests']} requests{dry}{undone}" + (f"  error: {clean(r['error'])}" if r["error"] else ""))
    return 0


def cmd_runs_show(ctx, args) -> int:
    from evalsync_gui.core.sync.runs import get_run

    run = get_run(ctx, args.id)
    if args.json:
        print(json.dumps(run))
        return 0
    print(f"Run {run['id']}: {run['status']} ({run['mode']}, {run['trigger']}) started {run['started_at']}, "
          f"finished {run['finished_at'] or '-'}; {run['n_new']} new, {run['n_updated']} updated, "
          f"{run['n_deactivated']} deactivated, {run['n_held']} held; {run['requests']} requests."
          + (f" Error: {clean(run['error'])}" if run["error"] else ""))
    for c in run["changes"]:
        field = (f" {clean(c['field'])}: {clean(_shown(c['old_value']))} -> {clean(_shown(c['new_value']))}"
                 if c["field"] else "")
        print(f"  [{c['state']}] {c['action']} {clean(c['name'] or '#' + str(c['user_id']))} "
              f"<{clean(c['email'] or '')}>{field} ({clean(c['reason'])})")
    return 0


def _shown(value) -> str:
    """A recorded value as text; an absent one as "(empty)", never "None"."""
    return "(empty)" if value is None or value == "" else str(value)


def cmd_runs_undo(ctx, args) -> int:
    from evalsync_gui.core.sync.lock import SyncLock
    from evalsync_gui.core.sync.runs import undo_run

    with SyncLock(ctx.data_dir):
        counts = undo_run(ctx, args.id)
    if args.json:
        print(json.dumps(counts))
    else:
        print(f"Undid run {args.id}: {counts['removed']} imported users removed, {counts['reverted']} values put back, "
              f"{counts['reactivated']} users reactivated, {counts['kept']} changes kept (changed since).")
    return 0


def cmd_runs_allow(ctx, args) -> int:
    from evalsync_gui.core.sync.runs import allow_held

    n = allow_held(ctx, args.id)
    print(json.dumps({"deactivated": n}) if args.json else f"Run {args.id}: {n} held deactivations applied.")
    return 0


def cmd_runs_discard(ctx, args) -> int:
    from evalsync_gui.core.sync.runs import discard_held

    n = discard_held(ctx, args.id)
    print(json.dumps({"discarded": n}) if args.json else f"Run {args.id}: {n} held deactivations discarded; those users stay.")
    return 0


def cmd_runs_export(ctx, args) -> int:
    from evalsync_gui.core.sync.runs import export_runs_csv

    export_runs_csv(ctx, args.path)
    print(f"Sync history written to {args.path}.")
    return 0
