"""CLI sub-commands for authentication: ``connect``, ``status``, ``disconnect``.

The API token is read from standard input (``--api-token-stdin``), never from an argument,
so it does not end up in shell history or the process list. Nothing here prints a token.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from typing import Any

from evalsync_gui.core.account import resolve_account
from evalsync_gui.core.auth import session, token_timeline
from evalsync_gui.core.auth.connection import API_TOKEN_RETIREMENT, ConnectionInfo
from evalsync_gui.core.auth.listener import redirect_uri_for
from evalsync_gui.core.context import AppContext
from evalsync_gui.core.errors import AuthError, UsageError


def register(sub: argparse._SubParsersAction) -> None:
    """Add this feature's sub-commands to the `evalsync` parser."""
    p = sub.add_parser("connect", help="authenticate to Zendesk (OAuth, or a legacy API token)",
                       description="Authenticate EvalSync to a Zendesk account. OAuth is recommended: "
                                   "Zendesk no longer issues API tokens and deactivates them all on 2027-04-30.")
    p.add_argument("--subdomain", required=True, metavar="NAME",
                   help="account name: abc-energy, abc-energy.zendesk.com or https://abc-energy.zendesk.com")
    p.add_argument("--base-url", metavar="URL", help="override the Zendesk address (https, or http on loopback for the simulator)")
    p.add_argument("--email", help="API token method: the e-mail of the Zendesk user the token belongs to")
    p.add_argument("--api-token-stdin", action="store_true", help="API token method: read the token from standard input")
    p.add_argument("--oauth", action="store_true", help="OAuth method (recommended)")
    p.add_argument("--client-id", metavar="ID", help="OAuth: identifier of the public OAuth client created in Admin Center")
    p.add_argument("--no-browser", action="store_true", help="OAuth: print the address to open instead of opening a browser")
    p.add_argument("--redirect-port", type=int, metavar="PORT",
                   help=f"OAuth: port of the 127.0.0.1 redirect listener, {session.MIN_REDIRECT_PORT}-{session.MAX_REDIRECT_PORT}; "
                        f"saved for next time (default: saved setting or {session.DEFAULT_REDIRECT_PORT})")
    p.add_argument("--timeout", type=float, default=session.DEFAULT_OAUTH_TIMEOUT, metavar="SECONDS",
                   help="OAuth: how long to wait for the browser (default 300)")
    p.add_argument("--json", action="store_true", help="print the connection as JSON")
    p.set_defaults(func=cmd_connect)

    s = sub.add_parser("status", help="show the Zendesk connection (never the token)")
    s.add_argument("--json", action="store_true", help="machine-readable output")
    s.add_argument("--check", action="store_true", help="call Zendesk (users/me) to confirm the connection works")
    s.set_defaults(func=cmd_status)

    d = sub.add_parser("disconnect", help="sign out: revoke the OAuth token and remove every secret from the keyring")
    d.set_defaults(func=cmd_disconnect)


def _public(info: ConnectionInfo | None) -> dict[str, Any]:
    if info is None:
        return {"connected": False}
    data = {"connected": True, "account": info.subdomain, "address": info.base_url, "method": info.method,
            "user": {"id": info.user_id, "name": info.user_name, "email": info.user_email},
            "role": info.role, "is_admin": info.is_admin, "token_expires_at": info.token_expires_at,
            "scopes": info.scopes, "checked_at": info.checked_at}
    if info.method == "oauth":
        data["client_id"] = info.client_id
    return data


def _describe(info: ConnectionInfo) -> list[str]:
    lines = [info.summary(), f"Method: {info.method_label}"]
    if info.token_expires_at:
        lines.append(f"Access token expires: {info.token_expires_at} (renewed automatically)")
    if info.scopes:
        lines.append(f"Scopes: {' '.join(info.scopes)}")
    return lines


def _token_facts(info: ConnectionInfo) -> dict[str, Any]:
    """API-token connections: days since the token was last used, and the warning (or null)."""
    if info.method != "api_token":
        return {}
    return {"token_unused_days": token_timeline.unused_days(info),
            "token_warning": token_timeline.unused_warning(info)}


def _warnings(info: ConnectionInfo) -> None:
    warning = info.admin_warning()
    if warning:
        print(f"evalsync: warning: {warning}", file=sys.stderr)
    unused = token_timeline.unused_warning(info)
    if unused:
        print(f"evalsync: warning: {unused}", file=sys.stderr)
    if info.method == "api_token":
        print(f"evalsync: notice: {API_TOKEN_RETIREMENT}", file=sys.stderr)


def _print_url(url: str) -> None:
    print("Open this address in a browser signed in to Zendesk as an admin, then choose Allow:", file=sys.stderr)
    print(url, flush=True)


def _open_or_print(url: str) -> None:
    import webbrowser

    try:
        opened = webbrowser.open(url)
    except Exception:  # noqa: BLE001 - no browser is not an error: print the address
        opened = False
    if not opened:
        _print_url(url)
    else:
        print("Waiting for you to allow EvalSync in the browser (Ctrl+C to cancel)...", file=sys.stderr)


def cmd_connect(ctx: AppContext, args: argparse.Namespace) -> int:
    if args.oauth == bool(args.email or args.api_token_stdin):
        raise UsageError("Choose one method: --oauth --client-id ID, or --email EMAIL --api-token-stdin.")
    resolve_account(args.subdomain, args.base_url or ctx.base_url)  # refuse a bad name before anything else
    if args.oauth:
        if not args.client_id:
            raise UsageError("--oauth needs --client-id ID (the OAuth client's identifier from Zendesk Admin Center).")
        if args.redirect_port is not None:
            port = session.set_redirect_port(ctx, args.redirect_port)  # same range as the GUI's box
        else:
            port = session.check_redirect_port(session.redirect_port(ctx))
        print(f"Redirect URI (must be registered in the OAuth client): {redirect_uri_for(port)}", file=sys.stderr)
        try:
            info = session.start_oauth(ctx, args.subdomain, args.client_id, base_url=args.base_url, port=port,
                                       open_browser=_print_url if args.no_browser else _open_or_print,
                                       timeout=args.timeout)
        except session.RedirectPortBusy as exc:
            raise AuthError(f"Port {exc.port} on 127.0.0.1 is in use, so EvalSync cannot receive Zendesk's answer; "
                            "close the program using it, or run connect again with --redirect-port PORT "
                            "(and register that redirect URI in the Zendesk OAuth client).") from None
    else:
        if not (args.email and args.api_token_stdin):
            raise UsageError("The API token method needs --email EMAIL and --api-token-stdin (token on standard input).")
        if sys.stdin.isatty():  # typed by hand: do not echo it
            token = getpass.getpass("Zendesk API token: ").strip()
        else:
            token = sys.stdin.readline().strip()
        if not token:
            raise UsageError("No API token on standard input; pipe it in, e.g. `evalsync connect ... --api-token-stdin < token.txt`.")
        info = session.connect_api_token(ctx, args.subdomain, args.email, token, base_url=args.base_url)
    if args.json:
        print(json.dumps(_public(info), indent=2))
    else:
        print("\n".join(_describe(info)))
    _warnings(info)
    return 0


def cmd_status(ctx: AppContext, args: argparse.Namespace) -> int:
    info = session.check_connection(ctx) if args.check and session.connection_info(ctx) else session.connection_info(ctx)
    if args.json:
        from evalsync_gui.core.auth.secrets import backend_description

        print(json.dumps({**_public(info), **_token_facts(info), "keyring": backend_description()} if info
                         else _public(info), indent=2))
    if info is None:
        raise AuthError(session.NOT_CONNECTED)
    if not args.json:
        print("\n".join(_describe(info)))
    _warnings(info)
    return 0


def cmd_disconnect(ctx: AppContext, args: argparse.Namespace) -> int:
    was = session.connection_info(ctx)
    note = session.disconnect(ctx)
    if was is None:
        print("Not connected; removed any EvalSync secrets left in the keyring.")
    else:
        print(f"Signed out of {was.host}; EvalSync's secrets were removed from the keyring.")
    if note:
        print(f"evalsync: {note}", file=sys.stderr)
    return 0
