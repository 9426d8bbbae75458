"""``evalsync chat sources|run|runs|schedule|guards`` and ``chat requests retry``: unattended intake.

Registered by :mod:`evalsync_gui.commands.chat` under its ``chat`` parser. Exit codes as
everywhere; ``chat run`` exits 3 when the run held creations for review, 5 when a source
could not be read or a request failed (the run's other work is still done).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict

from evalsync_gui.core.errors import UsageError


def register(csub: argparse._SubParsersAction, rsub: argparse._SubParsersAction) -> None:
    """Add the unattended-intake commands to ``chat`` (``csub``) and ``chat requests`` (``rsub``)."""
    srcs = csub.add_parser("sources", help="request sources: a published Google Sheet or a growing CSV file")
    ssub = srcs.add_subparsers(dest="sources_command", metavar="ACTION")
    ssub.required = True
    p = ssub.add_parser("add", help="add a source (read once now; rows already there are skipped)")
    p.add_argument("--name", required=True)
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--url", help="the sheet's Publish to web CSV link (https)")
    g.add_argument("--file", metavar="PATH", help="a local CSV file another tool appends to")
    p.add_argument("--map", action="append", default=[], metavar="COLUMN=FIELD",
                   help="column for a field (requester, email, first_name, last_name, requested_at, row_id)")
    p.add_argument("--include-existing", action="store_true", help="also take the rows already in the source")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_sources_add)
    p = ssub.add_parser("list", help="sources with their last poll, rows taken and last error")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_sources_list)
    p = ssub.add_parser("remove", help="forget a source (its requests and log stay)")
    p.add_argument("name", metavar="NAME")
    p.set_defaults(func=cmd_sources_remove)

    p = csub.add_parser("run", help="one unattended chat run: poll sources, process, policy, e-mails (for cron)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_run)

    runs = csub.add_parser("runs", help="chat runs and the creations they held for review")
    usub = runs.add_subparsers(dest="runs_command", metavar="ACTION")
    usub.required = True
    p = usub.add_parser("list", help="recent chat runs, newest first")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_runs_list)
    p = usub.add_parser("allow", help="let a held run's creations go ahead (processed now)")
    p.add_argument("run_id", type=int, metavar="ID")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_runs_allow)
    p = usub.add_parser("discard", help="reject a held run's creations")
    p.add_argument("run_id", type=int, metavar="ID")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_runs_discard)

    p = csub.add_parser("schedule", help="show or change the chat schedule")
    p.add_argument("--on", dest="enabled", action="store_const", const=True)
    p.add_argument("--off", dest="enabled", action="store_const", const=False)
    p.add_argument("--every", type=int, metavar="MINUTES", help="run every N minutes (default 5)")
    p.add_argument("--inactivity-every", type=int, metavar="HOURS", help="apply the inactivity policy (0 = never)")
    p.add_argument("--summary-to", metavar="EMAIL", help="daily summary e-mail to this admin ('' = none)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_schedule)

    p = csub.add_parser("guards", help="show or change the unattended-run guards")
    p.add_argument("--requesters", metavar="EMAILS", help="comma list of the only people who may ask ('' = anyone "
                                                         "in the allowed domains)")
    p.add_argument("--max-creations", type=int, metavar="N", help="hold a run creating more than N agents (20)")
    p.add_argument("--daily-mail-cap", type=int, metavar="N", help="confirmation e-mails per day at most (200)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_guards)

    p = rsub.add_parser("retry", help="queue failed requests again (all, or the ids given)")
    p.add_argument("ids", nargs="*", type=int, metavar="ID")
    p.set_defaults(func=cmd_requests_retry)


def _dump(value) -> None:
    print(json.dumps(value, default=str))


def _open_clients(ctx):
    from evalsync_gui.core.chat.service import open_clients

    return lambda: open_clients(ctx)


def _plain(text: object) -> str:
    """Text from a sheet or a user, safe on a terminal (no control characters)."""
    return "".join(ch if ch.isprintable() else "?" for ch in str(text))


# -- sources -------------------------------------------------------------------------------
def cmd_sources_add(ctx, args) -> int:
    from evalsync_gui.commands.chat import parse_map_fields
    from evalsync_gui.core.chat import sources

    mapping = parse_map_fields(args.map, sources.FIELDS)
    src, skipped = sources.add_source(ctx.db, args.name, url=args.url, path=args.file, mapping=mapping,
                                      include_existing=args.include_existing)
    if args.json:
        _dump({**src.to_json(), "skipped": skipped})
    else:
        print(f"Source {_plain(src.name)} added ({src.kind}); {skipped} rows already there were skipped.")
    return 0


def cmd_sources_list(ctx, args) -> int:
    from evalsync_gui.core.chat import sources

    rows = [s.to_json() for s in sources.list_sources(ctx.db)]
    if args.json:
        _dump(rows)
    else:
        for r in rows:
            print(_plain(f"{r['name']:<20} {r['kind']:<6} {r['last_poll'] or 'never':<21} {r['rows_taken']:>6} "
                         f"{r['last_error'] or ''}"))
    return 0


def cmd_sources_remove(ctx, args) -> int:
    from evalsync_gui.core.chat import sources

    sources.remove_source(ctx.db, args.name)
    print(f"Source {_plain(args.name)} removed.", file=sys.stderr)
    return 0


# -- runs ----------------------------------------------------------------------------------
def _report_exit(report, as_json: bool) -> int:
    if as_json:
        _dump(report.to_json())
    else:
        for p in report.sources:
            if p.error:
                print(_plain(f"source {p.source}: {p.error}"))
        print(_plain(report.summary()))
    if report.status == "held":
        if not as_json:
            print(f"evalsync: run {report.run_id} held {report.held} creations for review; "
                  f"`evalsync chat runs allow {report.run_id}` or `discard {report.run_id}`.", file=sys.stderr)
        return 3
    failed = report.batch.counts().get("failed", 0) if report.batch else 0
    if failed or any(p.error for p in report.sources) or (report.batch and report.batch.stopped.startswith("Zendesk")):
        return 5
    return 0


def cmd_run(ctx, args) -> int:
    from evalsync_gui.core.chat import schedule

    report = schedule.run_chat(ctx.db, ctx.settings, ctx.data_dir, _open_clients(ctx), trigger="cli")
    return _report_exit(report, args.json)


def cmd_runs_list(ctx, args) -> int:
    from evalsync_gui.core.chat import schedule

    rows = schedule.list_runs(ctx.db)
    if args.json:
        _dump(rows)
    else:
        for r in rows:
            wait = f" {r['waiting']} waiting for review" if r["waiting"] else ""
            print(f"{r['id']:>6} {r['started_at']} {r['trigger']:<10} {r['status']:<9} {json.dumps(r['counts'])}{wait}")
    return 0


def cmd_runs_allow(ctx, args) -> int:
    from evalsync_gui.core.chat import schedule

    report = schedule.allow_run(ctx.db, ctx.settings, ctx.data_dir, _open_clients(ctx), args.run_id, actor="cli")
    return _report_exit(report, args.json)


def cmd_runs_discard(ctx, args) -> int:
    from evalsync_gui.core.chat import schedule

    ids = schedule.discard_run(ctx.db, args.run_id, actor="cli")
    if args.json:
        _dump({"run_id": args.run_id, "discarded": ids})
    else:
        print(f"{len(ids)} held requests of run {args.run_id} discarded (rejected).")
    return 0


# -- settings ------------------------------------------------------------------------------
def cmd_schedule(ctx, args) -> int:
    from evalsync_gui.core.chat import schedule

    cfg = schedule.ScheduleConfig.load(ctx.settings)
    if args.enabled is not None:
        cfg.enabled = args.enabled
    if args.every is not None:
        cfg.every_minutes = args.every
    if args.inactivity_every is not None:
        cfg.inactivity_every_hours = args.inactivity_every
    if args.summary_to is not None:
        cfg.summary_to = args.summary_to.strip()
    cfg.save(ctx.settings)
    due = schedule.next_due(ctx.settings)
    view = {**asdict(cfg), "next_run": due.strftime("%Y-%m-%dT%H:%M:%SZ") if due else None}
    if args.json:
        _dump(view)
    else:
        for k, v in view.items():
            print(f"{k} = {json.dumps(v)}")
    return 0


def cmd_guards(ctx, args) -> int:
    from evalsync_gui.core.chat import guards

    g = guards.Guards.load(ctx.settings)
    if args.requesters is not None:
        g.requesters = [r.strip().lower() for r in args.requesters.split(",") if r.strip()]
    if args.max_creations is not None:
        g.max_creations = args.max_creations
    if args.daily_mail_cap is not None:
        g.daily_mail_cap = args.daily_mail_cap
    g.save(ctx.settings)
    if args.json:
        _dump(asdict(g))
    else:
        for k, v in asdict(g).items():
            print(f"{k} = {json.dumps(v)}")
    return 0


def cmd_requests_retry(ctx, args) -> int:
    from evalsync_gui.core.chat import retries

    n = retries.retry(ctx.db, args.ids or None)
    if not n:
        raise UsageError("No failed request to retry; see `evalsync chat requests list --status failed`.")
    print(f"{n} failed requests queued again; they are processed by the next run.", file=sys.stderr)
    return 0
