"""``evalsync chat …``: Chat agents, access requests, the inactivity policy and the action log.

Exit codes as everywhere: 0 ok, 2 usage, 4 authentication, 5 Zendesk or network failure,
6 database; errors are one line on standard error, ``--json`` output goes to standard output.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict

from evalsync_gui.core.errors import UsageError
from evalsync_gui.core.textsafe import clean

MANAGEMENT_KEY = "chat.management_enabled"


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``chat`` and its sub-commands to the `evalsync` parser."""
    chat = sub.add_parser("chat", help="Zendesk Chat agents: access requests, inactivity policy, action log")
    csub = chat.add_subparsers(dest="chat_command", metavar="ACTION")
    csub.required = True

    p = csub.add_parser("connect", help="connect the Chat API client (its own OAuth, apart from Support)")
    p.add_argument("--client-id", required=True, metavar="ID", help="the Chat API client's id (Chat dashboard > "
                   "Settings > Account > API)")
    p.add_argument("--client-secret-stdin", action="store_true", required=True,
                   help="read the client secret from standard input (never from the command line)")
    p.add_argument("--grant", choices=("code", "client_credentials"), default="code",
                   help="'code' (browser sign-in, the default) or 'client_credentials' (a confidential client)")
    p.add_argument("--no-browser", action="store_true", help="print the sign-in address instead of opening it")
    p.add_argument("--redirect-port", type=int, metavar="N",
                   help="loopback port of the redirect URL registered on the Chat client (default: the Support "
                        "redirect port, 47123)")
    p.add_argument("--base-url", dest="chat_oauth_base", metavar="URL",
                   help="Chat OAuth server: https://www.zopim.com (default, as Zendesk documents) or "
                        "https://SUBDOMAIN.zendesk.com (its /oauth2/chat endpoints)")
    p.set_defaults(func=cmd_connect)

    p = csub.add_parser("status", help="the Chat API connection and the account kind (never a secret)")
    p.add_argument("--detect", action="store_true", help="detect the account kind again (reads only)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_status)

    p = csub.add_parser("disconnect", help="forget the Chat API connection (the Support sign-in stays)")
    p.set_defaults(func=cmd_disconnect)

    p = csub.add_parser("config", help="show or change Chat settings")
    p.add_argument("--domains", help="comma list of allowed e-mail domains, e.g. acme.com,acme.co.uk")
    p.add_argument("--kind", choices=("auto", "writable", "support"),
                   help="the Chat account kind: auto (detect from reads), writable, or support (created in Support)")
    p.add_argument("--mode", choices=("auto", "standalone", "support"), help=argparse.SUPPRESS)  # deprecated
    p.add_argument("--default-role", type=int, metavar="ID",
                   help="Support kind: custom role for new agents (Enterprise; 0 = none, the default)")
    p.add_argument("--support-role", type=int, metavar="ID", help=argparse.SUPPRESS)  # deprecated
    p.add_argument("--upgrade-end-users", choices=("on", "off"),
                   help="Support kind: may EvalSync make an end-user holding a requested address an agent")
    p.add_argument("--oauth-base", metavar="URL", help="Chat OAuth server used by `chat connect` by default")
    p.add_argument("--management", choices=("on", "off"), help="allow EvalSync to change agents (needs write scope)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_config)

    p = csub.add_parser("todo", help="steps waiting for an admin in Zendesk Admin Center (Support kind)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--json", action="store_true")
    g.add_argument("--csv", metavar="FILE", help="export the list as CSV")
    p.set_defaults(func=cmd_todo)

    agents = csub.add_parser("agents", help="chat agents")
    asub = agents.add_subparsers(dest="agents_command", metavar="ACTION")
    asub.required = True
    p = asub.add_parser("list", help="fetch and list every chat agent")
    p.add_argument("--cached", action="store_true", help="list the last fetched copy without asking Zendesk")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_agents_list)

    reqs = csub.add_parser("requests", help="access requests")
    rsub = reqs.add_subparsers(dest="requests_command", metavar="ACTION")
    rsub.required = True
    p = rsub.add_parser("add", help="queue one request")
    p.add_argument("--requester", required=True, metavar="EMAIL", help="who asks (gets the confirmation)")
    p.add_argument("--email", required=True, metavar="EMAIL", help="who needs Chat access")
    p.add_argument("--first", required=True, metavar="NAME")
    p.add_argument("--last", required=True, metavar="NAME")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_requests_add)
    p = rsub.add_parser("import", help="import a Google Forms/Sheets CSV export")
    p.add_argument("file", metavar="FILE.csv")
    p.add_argument("--map", action="append", default=[], metavar="COLUMN=FIELD",
                   help="column for a field (requester, email, first_name, last_name, requested_at); remembered")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_requests_import)
    p = rsub.add_parser("list", help="list requests, newest first")
    p.add_argument("--status", action="append", metavar="STATUS")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_requests_list)
    p = rsub.add_parser("process", help="process queued, interrupted and failed requests")
    p.add_argument("--dry-run", action="store_true", help="show what would happen; change nothing")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_requests_process)

    p = csub.add_parser("inactivity", help="preview (or --apply) the inactivity policy")
    p.add_argument("--disable-after", type=int, metavar="DAYS")
    p.add_argument("--delete-after", type=int, metavar="DAYS")
    p.add_argument("--exempt", action="append", metavar="EMAIL|DOMAIN", help="add to the exemption list")
    p.add_argument("--apply", action="store_true", help="carry out the preview (writable kind only)")
    p.add_argument("--csv", metavar="FILE", help="export the agents the policy acts on (admin steps on the "
                   "Support kind) as CSV")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_inactivity)

    p = csub.add_parser("log", help="the action log")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--json", action="store_true")
    g.add_argument("--csv", metavar="FILE", help="export the whole log as CSV (with an Action column)")
    p.add_argument("--limit", type=int, default=200)
    p.set_defaults(func=cmd_log)

    from evalsync_gui.commands import chat_sources  # sources, run, runs, schedule, guards, requests retry

    chat_sources.register(csub, rsub)


def _clients(ctx):
    """Chat connection first: without one, exit 4 before any request (Support never reaches Chat)."""
    from evalsync_gui.core.chat.service import open_clients

    return open_clients(ctx)


def _need_management(ctx) -> None:
    if not ctx.settings.get(MANAGEMENT_KEY, False):
        raise UsageError("Chat management is off; run `evalsync chat config --management on`, then re-authenticate "
                         "so EvalSync gets write access.")


def _dump(value) -> None:
    print(json.dumps(value, indent=None, default=str))


# -- config ------------------------------------------------------------------------------
def cmd_connect(ctx, args) -> int:
    from evalsync_gui.core.chat import connection

    if sys.stdin.isatty():  # typed by hand: never echo the secret
        import getpass

        secret = getpass.getpass("Chat API client secret: ")
    else:
        secret = sys.stdin.readline().strip()

    def show(url: str) -> None:
        print(f"Open this address to let EvalSync use the Chat API:\n{url}", file=sys.stderr, flush=True)

    opener = show if args.no_browser else _browser_or_print(show)
    port = None
    if args.redirect_port is not None:
        from evalsync_gui.core.auth.session import check_redirect_port

        port = check_redirect_port(args.redirect_port)
    if args.grant == "code":
        print(f"Waiting for the browser sign-in (redirect URL {connection.redirect_uri(ctx, port)} must be "
              "registered on the Chat client)…", file=sys.stderr, flush=True)
    conn = connection.connect(ctx, args.client_id, secret, grant=args.grant, oauth_base=args.chat_oauth_base,
                              open_browser=opener, port=port)
    print(f"Chat API connected for {conn.account} ({conn.grant}, OAuth server {conn.oauth_base}); the secret and "
          "token are in the system keyring.")
    return 0


def _browser_or_print(show):
    import webbrowser

    def open_it(url: str) -> None:
        if not webbrowser.open(url):
            show(url)

    return open_it


def cmd_status(ctx, args) -> int:
    from evalsync_gui.core.chat import service

    if args.detect:
        with _clients(ctx) as clients:
            service.detect_kind(ctx.settings, clients)
    view = service.status(ctx)
    if args.json:
        _dump(view)
    else:
        print(f"Chat API: {'connected' if view['connected'] else 'not connected'}"
              + (f" (client {view['client_id']}, {view['grant']})" if view["connected"] else ""))
        print(f"Account kind: {view['kind']} ({view['kind_source']}{': ' + view['kind_how'] if view['kind_how'] else ''})")
        print(f"Inactivity measured by: {view['last_login_source']}")
    return 0


def cmd_disconnect(ctx, args) -> int:
    from evalsync_gui.core.chat import connection

    had = connection.disconnect(ctx)
    print("Chat API disconnected; the token stays valid in Zendesk until it expires or you delete the client in "
          "the Chat dashboard (Settings > Account > API)." if had else "No Chat API connection to remove.")
    return 0


def cmd_todo(ctx, args) -> int:
    from evalsync_gui.core.chat import service
    from evalsync_gui.core.csvsafe import write_csv

    steps = service.admin_steps(ctx.db)
    if args.csv:
        n = write_csv(args.csv, ("Request", "E-mail", "First name", "Last name", "Requested by", "What to do",
                                 "Admin Center"),
                      ((r["id"], r["email"], r["first_name"], r["last_name"], r["requester"], r["reason"] or "",
                        r["admin_url"] or "") for r in steps))
        print(f"{n} steps written to {args.csv}", file=sys.stderr)
    elif args.json:
        _dump(steps)
    else:
        for r in steps:
            print(f"{r['id']:>6} {clean(r['email']):<40} {clean(r['admin_url'] or '')}")
        print(f"{len(steps)} steps to do in Zendesk Admin Center; the next `chat requests process` completes "
              "each one once Chat access is on.", file=sys.stderr)
    return 0


def cmd_config(ctx, args) -> int:
    from evalsync_gui.core.chat import connection, kind
    from evalsync_gui.core.chat.domains import normalize_domains
    from evalsync_gui.core.chat.service import DEFAULT_ROLE_KEY, UPGRADE_KEY
    from evalsync_gui.core.zendesk.urls import checked_base_url

    s = ctx.settings
    if args.domains is not None:
        try:
            s.set("chat.domains", normalize_domains(args.domains.split(",")))
        except ValueError as exc:
            raise UsageError(f"{exc}.") from exc
    if args.mode:
        print("evalsync: --mode is deprecated; use --kind (standalone is now 'writable').", file=sys.stderr)
        kind.set_choice(s, args.mode)
    if args.kind:
        kind.set_choice(s, args.kind)
    role = args.default_role if args.default_role is not None else args.support_role
    if role is not None:
        if role < 0:
            raise UsageError("--default-role needs a custom role id, or 0 for none.")
        s.set(DEFAULT_ROLE_KEY, role or None)
    if args.upgrade_end_users:
        s.set(UPGRADE_KEY, args.upgrade_end_users == "on")
    if args.oauth_base:
        s.set(connection.OAUTH_BASE_KEY, checked_base_url(args.oauth_base))
    if args.management:
        s.set(MANAGEMENT_KEY, args.management == "on")
        if args.management == "on":
            print("Chat management is on: re-authenticate (Authenticate tab or `evalsync connect`) to get write "
                  "access.", file=sys.stderr)
    # What each setting is until someone sets it, so `chat config` alone never prints nothing.
    defaults = {"chat.domains": [], kind.CHOICE_KEY: kind.choice(s), DEFAULT_ROLE_KEY: None, UPGRADE_KEY: False,
                MANAGEMENT_KEY: False}
    view = {**defaults, **{k: v for k, v in s.all().items() if k.startswith("chat.")}}
    if args.json:
        _dump(view)
    else:
        for k, v in sorted(view.items()):
            print(f"{k} = {'(not set)' if v is None else json.dumps(v)}")
    return 0


# -- agents ------------------------------------------------------------------------------
def cmd_agents_list(ctx, args) -> int:
    from evalsync_gui.core.chat import service

    if not args.cached:
        with _clients(ctx) as clients:
            service.refresh_agents(ctx.db, ctx.settings, clients)
    rows = [dict(r) for r in ctx.db.query(
        "SELECT id, email, display_name, first_name, last_name, enabled, last_login, departments, is_admin, is_owner"
        " FROM chat_agents ORDER BY lower(email)")]
    for r in rows:
        r["enabled"], r["is_admin"], r["is_owner"] = bool(r["enabled"]), bool(r["is_admin"]), bool(r["is_owner"])
        r["departments"] = json.loads(r["departments"] or "[]")
    if args.json:
        _dump(rows)
    else:
        for r in rows:
            print(f"{clean(r['email']):<40} {'enabled ' if r['enabled'] else 'disabled'} "
                  f"{clean(r['last_login'] or 'never'):<21} {clean(r['display_name'])}")
        print(f"{len(rows)} chat agents ({service.current_mode(ctx.settings)} kind)", file=sys.stderr)
    return 0


# -- requests ----------------------------------------------------------------------------
def cmd_requests_add(ctx, args) -> int:
    from evalsync_gui.core.chat import requests as rq
    from evalsync_gui.core.chat import service

    rid, status, reason = rq.add_request(ctx.db, requester=args.requester, email=args.email, first_name=args.first,
                                         last_name=args.last, domains=service.domains(ctx.settings), source="cli")
    if args.json:
        _dump({"id": rid, "status": status, "reason": reason})
    else:
        print(f"Request {rid} {status}" + (f": {clean(reason)}" if reason else ""))
    return 0


def parse_map(items: list[str]) -> dict[str, str]:
    """``["Email of agent=email"]`` -> ``{"email": "email of agent"}`` (field -> column)."""
    from evalsync_gui.core.chat.requests import FIELDS

    return parse_map_fields(items, FIELDS)


def parse_map_fields(items: list[str], fields: tuple[str, ...]) -> dict[str, str]:
    """``--map COLUMN=FIELD`` items as field -> column, for the given field names."""
    out: dict[str, str] = {}
    for item in items:
        column, sep, fld = item.rpartition("=")
        fld = fld.strip().lower()
        if not sep or not column.strip():
            raise UsageError(f"--map needs COLUMN=FIELD, not {item!r}.")
        if fld not in fields:
            raise UsageError(f"Unknown field {fld!r} in --map; use one of {', '.join(fields)}.")
        out[fld] = column.strip().lower()
    return out


def cmd_requests_import(ctx, args) -> int:
    from evalsync_gui.core.chat import requests as rq
    from evalsync_gui.core.chat import service

    saved = ctx.settings.get("chat.csv_mapping") or {}
    mapping = {**saved, **parse_map(args.map)} if args.map else (saved or None)
    if mapping is None:
        columns, _ = rq.preview_rows(args.file)
        mapping = rq.guess_mapping(columns)
    report = rq.import_csv(ctx.db, args.file, mapping, domains=service.domains(ctx.settings), actor="cli import")
    ctx.settings.set("chat.csv_mapping", mapping)
    if args.json:
        _dump({**asdict(report), "problems": [{"line": n, "reason": r} for n, r in report.problems]})
    else:
        for line, reason in report.problems:
            print(f"line {line}: {clean(reason)}")
        print(report.summary())
    return 0


def cmd_requests_list(ctx, args) -> int:
    from evalsync_gui.core.chat import requests as rq

    rows = rq.list_requests(ctx.db, args.status)
    if args.json:
        _dump(rows)
    else:
        for r in rows:
            print(f"{r['id']:>6} {r['status']:<16} {clean(r['email']):<40} {clean(r['reason'] or '')}")
    return 0


def cmd_requests_process(ctx, args) -> int:
    from evalsync_gui.core.chat import service
    from evalsync_gui.core.chat.schedule import ChatLock

    if not args.dry_run:
        _need_management(ctx)
    with ChatLock(ctx.data_dir), _clients(ctx) as clients:  # never beside a scheduled chat run
        result, mail = service.run_process(ctx.db, ctx.settings, clients, dry_run=args.dry_run)
    if args.json:
        _dump({**result.to_json(), "mail": asdict(mail)})
    else:
        for o in result.outcomes:
            if o.status in ("rejected", "failed", "needs_admin_step"):
                print(f"{clean(o.email)}: {o.status}: {clean(o.reason)}"
                      + (f" ({clean(o.admin_url)})" if o.admin_url else ""))
        print(result.summary() + f" [{result.mode} kind]")
        if mail.sent or mail.failed or mail.error:
            print(f"Confirmations: {mail.sent} sent, {mail.failed} failed {mail.error}".rstrip())
    failed = result.counts().get("failed", 0)
    if failed and not args.json:
        print(f"evalsync: {failed} requests failed; each is tried again by a later process or chat run after a "
              "short wait, up to 5 attempts (then `evalsync chat requests retry`).",
              file=sys.stderr)
    return 5 if failed or result.stopped.startswith("Zendesk") else 0


# -- inactivity --------------------------------------------------------------------------
def cmd_inactivity(ctx, args) -> int:
    from evalsync_gui.core.chat import inactivity, service

    pol = service.policy(ctx.settings)
    if args.disable_after is not None:
        pol.disable_after = args.disable_after
    if args.delete_after is not None:
        pol.delete_after = args.delete_after
    if args.exempt:
        pol.exempt = sorted(set(pol.exempt) | {e.strip().lower() for e in args.exempt})
    pol.check()
    if args.apply:
        _need_management(ctx)
    with _clients(ctx) as clients:
        rows, agents, backend = service.policy_preview(ctx.db, ctx.settings, clients, pol)
        counts = inactivity.apply(ctx.db, backend, rows, agents, actor="cli inactivity") if args.apply else None
    acting = [r for r in rows if r.action != inactivity.KEEP]
    source = rows[0].last_login_source if rows else ctx.settings.get(service.LAST_LOGIN_SOURCE_KEY,
                                                                     inactivity.CHAT_LAST_LOGIN)
    if args.csv:
        n = inactivity.export_steps_csv(rows, args.csv)
        print(f"{n} agents written to {args.csv}", file=sys.stderr)
    if args.json:
        _dump({"policy": pol.to_settings(), "kind": backend.mode, "applied": bool(args.apply), "counts": counts,
               "last_login_source": source, "last_login_source_label": inactivity.SOURCE_LABELS.get(source, source),
               "agents": [asdict(r) for r in rows]})
    else:
        print(f"Measured by: {inactivity.SOURCE_LABELS.get(source, source)}", file=sys.stderr)
        for r in acting:
            print(f"{r.action:<10} {clean(r.email):<40} {clean(r.last_login or 'never'):<21} {clean(r.why)}")
        if counts is not None:
            print(f"{counts['disabled']} disabled, {counts['deleted']} deleted, {counts['failed']} failed")
        else:
            print(f"Preview: {len(acting)} of {len(rows)} agents would change; add --apply to do it.")
    return 5 if counts and counts["failed"] else 0


# -- log ---------------------------------------------------------------------------------
def cmd_log(ctx, args) -> int:
    from evalsync_gui.core.chat import audit

    if args.csv:
        n = audit.export_csv(ctx.db, args.csv)
        print(f"{n} actions written to {args.csv}", file=sys.stderr)
        return 0
    rows = audit.recent_actions(ctx.db, args.limit)
    if args.json:
        _dump(rows)
    else:
        for r in reversed(rows):
            print(f"{r['at']} {r['action']:<16} {clean(r['email'] or ''):<40} {clean(r['detail'] or '')}")
    return 0
