"""API-token timeline (docs/ZENDESK.md section 1): status --json and the warnings say how long the
token has gone unused, that new tokens can no longer be created, and point to OAuth."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from evalsync_gui.cli import main
from evalsync_gui.core.auth import session, token_timeline
from evalsync_gui.core.auth.connection import iso
from tests.keyring_backends import file_keyring  # noqa: F401 - fixture

import pytest

pytestmark = pytest.mark.usefixtures("file_keyring")


def _age_token(ctx, days: int) -> None:
    """The token's last accepted request happened ``days`` ago: one real request to the
    simulator, made while the data folder's clock reads that long ago."""
    then = (datetime.now(timezone.utc) - timedelta(days=days, hours=1)).timestamp()
    ctx.extras["clock"] = lambda: then
    try:
        session.open_client(ctx).get("/api/v2/users/me")
    finally:
        del ctx.extras["clock"]
    assert session.connection_info(ctx).token_last_used_at == iso(then)


def test_status_json_carries_token_unused_days_and_warns_at_20(ctx, sim, capsys):
    ctx.base_url = sim.base_url
    session.connect_api_token(ctx, "abc-energy", sim.admin_email, sim.api_token)
    d = ["--data-dir", str(ctx.data_dir)]
    assert main([*d, "status", "--json"]) == 0
    fresh = json.loads(capsys.readouterr().out)
    assert fresh["token_unused_days"] == 0 and fresh["token_warning"] is None

    _age_token(ctx, 19)
    assert main([*d, "status", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["token_warning"] is None

    _age_token(ctx, 21)
    assert main([*d, "status", "--json"]) == 0
    captured = capsys.readouterr()
    status = json.loads(captured.out)
    assert status["token_unused_days"] == 21
    for needle in ("21 days", "in 9 days", "can no longer be created", "OAuth"):
        assert needle in status["token_warning"], needle
    assert "21 days" in captured.err and "since 27 October 2026" in captured.err

    # A request Zendesk accepts is a use: the count starts again.
    with session.open_client(ctx) as client:
        client.get("/api/v2/users/me.json")
    assert main([*d, "status", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["token_unused_days"] == 0


def test_oauth_connections_have_no_token_days(ctx):
    from evalsync_gui.core.auth.connection import ConnectionInfo

    info = ConnectionInfo("abc", "https://abc.zendesk.com", "oauth", checked_at=iso(0))
    assert token_timeline.unused_days(info) is None and token_timeline.unused_warning(info) is None

