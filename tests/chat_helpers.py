"""Connect a test context to a simulator the way an admin would: Support (API token) and the
Chat API client (client credentials), then open the two clients a Chat job uses."""

from __future__ import annotations

from evalsync_gui.core.auth.session import connect_api_token
from evalsync_gui.core.chat import connection, service
from evalsync_gui.core.zendesk.http import RetryPolicy

FAST = RetryPolicy(backoff_base=0.01, backoff_max=0.05)


def connect_support(ctx, sim) -> None:
    connect_api_token(ctx, sim.subdomain, sim.admin_email, sim.api_token, base_url=sim.base_url)


def connect_both(ctx, sim) -> None:
    """Support sign-in plus the Chat connection; the simulator's log is cleared afterwards."""
    connect_support(ctx, sim)
    connection.connect(ctx, sim.chat_client_id, sim.chat_client_secret, grant="client_credentials",
                       oauth_base=sim.base_url)
    sim.clear_log()


def clients(ctx, sim, **http_kwargs) -> service.ChatClients:
    """Both clients (connecting first when this context is not connected yet)."""
    if connection.chat_connection(ctx) is None:
        log = list(sim.request_log)
        connect_both(ctx, sim)
        sim.request_log.extend(log)  # keep what the test made before; drop only the connecting
    http_kwargs.setdefault("retry", FAST)
    return service.open_clients(ctx, **http_kwargs)
