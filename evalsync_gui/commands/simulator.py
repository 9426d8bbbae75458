"""``evalsync simulator``: run the Zendesk simulator standalone until Ctrl-C."""

from __future__ import annotations

import argparse
import shlex
import threading

from evalsync_gui.core.context import AppContext


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``evalsync simulator`` to the ``evalsync`` parser."""
    p = sub.add_parser("simulator", help="serve a simulated Zendesk account on 127.0.0.1 (for tests and demos)",
                       description="Serve a seeded, simulated Zendesk account over HTTP on 127.0.0.1 until Ctrl-C.")
    p.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (0 = any free port; default 8765)")
    p.add_argument("--users", type=int, default=200, metavar="N", help="Support agents to seed (default 200)")
    p.add_argument("--admins", type=int, default=5, metavar="N", help="admins, the owner included (default 5)")
    p.add_argument("--end-users", type=int, default=500, metavar="N", help="end users (default 500)")
    p.add_argument("--light-agents", type=int, default=10, metavar="N", help="light agents (default 10)")
    p.add_argument("--contributors", type=int, default=4, metavar="N", help="contributors (default 4)")
    p.add_argument("--chat-only-agents", type=int, default=6, metavar="N", help="chat-only agents (default 6)")
    p.add_argument("--suspended", type=int, default=5, metavar="N", help="suspended people (default 5)")
    p.add_argument("--deleted", type=int, default=5, metavar="N", help="deleted people (default 5)")
    p.add_argument("--chat-agents", type=int, default=100, metavar="N", help="standalone Chat agents (default 100)")
    p.add_argument("--chat-kind", choices=("writable", "support"), default=None,
                   help="'support': Chat created in Support (Chat Agents API read-only, Chat access set in "
                        "Admin Center); default 'writable'")
    p.add_argument("--chat-mode", choices=("standalone", "support"), default=None, help=argparse.SUPPRESS)
    p.add_argument("--plan", choices=("team", "professional", "enterprise"), default="enterprise",
                   help="Zendesk plan: custom roles exist on enterprise only (default enterprise)")
    p.add_argument("--rate-limit", type=int, default=700, metavar="N",
                   help="account-wide requests per minute (0 = unlimited; default 700)")
    p.add_argument("--latency", type=float, default=0.0, metavar="MS", help="added latency per request, in ms")
    p.add_argument("--seed", type=int, default=1, help="random seed for the organisation (default 1)")
    p.add_argument("--subdomain", default="abc-energy", help="account subdomain shown in messages")
    p.add_argument("--approve", choices=("auto", "page"), default="page",
                   help="OAuth: approve at once ('auto') or show an Allow/Deny page ('page', default)")
    p.set_defaults(func=run, needs_context=False)


def connect_line(subdomain: str, base_url: str, email: str, token: str) -> str:
    """A ready-to-paste ``evalsync connect`` for the simulator (its throwaway token on stdin)."""
    return (f"printf '%s\\n' {shlex.quote(token)} | evalsync connect --subdomain {shlex.quote(subdomain)} "
            f"--base-url {shlex.quote(base_url)} --email {shlex.quote(email)} --api-token-stdin")


def run(ctx: AppContext | None, args: argparse.Namespace) -> int:
    """Seed, serve, print how to connect, and block until interrupted."""
    from evalsync_gui.sim import SimConfig, Simulator

    chat_kind = args.chat_kind or {"support": "support", "standalone": "writable"}.get(args.chat_mode, "writable")
    cfg = SimConfig(agents=args.users, admins=args.admins, end_users=args.end_users, light_agents=args.light_agents,
                    contributors=args.contributors, chat_only_agents=args.chat_only_agents,
                    suspended=args.suspended, deleted=args.deleted, chat_agents=args.chat_agents,
                    chat_kind=chat_kind, plan=args.plan, rate_limit_per_minute=args.rate_limit,
                    latency=args.latency / 1000.0, seed=args.seed, subdomain=args.subdomain,
                    auto_approve=args.approve == "auto", port=args.port)
    sim = Simulator(cfg)
    sim.start()
    print(f"Zendesk simulator ({len(sim.users)} users, chat kind {cfg.chat_kind}, plan {cfg.plan}) "
          f"serving at {sim.base_url}")
    print(f"  account:         {cfg.subdomain}")
    print(f"  admin email:     {sim.admin_email}")
    print(f"  API token:       {sim.api_token}")
    print(f"  OAuth client id: {sim.oauth_client_id}")
    print(f"  Chat client id:  {sim.chat_client_id}")
    print(f"  Chat secret:     {sim.chat_client_secret}")
    print(f"  Chat redirect:   {', '.join(cfg.chat_redirect_uris)} (Chat OAuth server: --base-url {sim.base_url})")
    print("Connect the CLI to it (in another terminal):")
    print(f"  {connect_line(cfg.subdomain, sim.base_url, sim.admin_email, sim.api_token)}")
    print("Press Ctrl-C to stop.", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop()
    print("Simulator stopped.")
    return 0
