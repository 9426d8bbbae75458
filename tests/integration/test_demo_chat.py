"""`--demo` stays one command: both connections are made, and the flag shows the Support kind."""

from __future__ import annotations

import pytest

from evalsync_gui import app
from evalsync_gui.core.chat import service

ORG = dict(agents=12, admins=2, end_users=5, chat_agents=4, seed=3)


class Task:
    def report(self, _):
        pass

    def is_cancelled(self):
        return False


@pytest.mark.parametrize("chat_kind", ["writable", "support"])
def test_demo_connects_chat_and_detects_the_kind(ctx, chat_kind):
    assert app.build_parser().parse_args(["--demo", "--demo-chat-kind", chat_kind]).demo_chat_kind == chat_kind
    sim, error = app.demo_job(Task(), ctx, {**ORG, "chat_kind": chat_kind})
    try:
        assert error is None
        with service.open_clients(ctx) as clients:
            found = service.detect_kind(ctx.settings, clients)
        assert (found.kind, found.source) == (chat_kind, "detected")
        assert service.status(ctx)["connected"] is True
    finally:
        sim.stop()
