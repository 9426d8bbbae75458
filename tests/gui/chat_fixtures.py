"""Helpers for the Chat tab tests: a tab wired to a loopback simulator, and waiting for a job."""

from __future__ import annotations

from PySide6.QtCore import Qt

from evalsync_gui.core.zendesk.http import ApiTokenAuth, RetryPolicy, ZendeskHttp
from evalsync_gui.gui.services import AppSignals, Services
from tests.chat_helpers import connect_both, connect_support

DOMAIN = "abc-energy.example.com"
LEFT = Qt.LeftButton


def make_tab(qtbot, ctx, sim, *, size=(1200, 700), chat: bool = True, kind: str | None = "writable"):
    """A ChatTab talking to ``sim`` over loopback, its first load done. The Support sign-in is
    stored; the Chat API connection too unless ``chat`` is False; ``kind`` is the admin's choice
    (None leaves it to detection)."""
    from evalsync_gui.core.chat import kind as chat_kind
    from evalsync_gui.gui.chat_tab import ChatTab

    def open_http():
        return ZendeskHttp(sim.base_url, ApiTokenAuth(sim.admin_email, sim.api_token),
                           retry=RetryPolicy(backoff_base=0.01))

    ctx.settings.set("chat.domains", [DOMAIN])
    ctx.settings.set("chat.oauth_base", sim.base_url)
    (connect_both if chat else connect_support)(ctx, sim)
    if kind:
        chat_kind.set_choice(ctx.settings, kind)
    services = Services(ctx=ctx, signals=AppSignals(), extras={"chat_http_factory": open_http})
    w = ChatTab(services)
    qtbot.addWidget(w)
    w.resize(*size)
    qtbot.waitUntil(lambda: not w.loader.is_running(), timeout=5000)
    return w


def run_job(qtbot, tab, start):
    """Start a job and wait until its outcome is drawn: a job's end always triggers a reload, so the
    next ``refreshed`` after ``job_finished`` shows the job's result (an earlier one may not)."""
    with qtbot.waitSignal(tab.job_finished, timeout=15000):
        start()
    with qtbot.waitSignal(tab.refreshed, timeout=15000):
        pass


def cell_texts(view, column_title: str) -> list[str]:
    """What the user reads in one column of a table view, top to bottom."""
    model = view.model()
    col = next(c for c in range(model.columnCount()) if model.headerData(c, Qt.Horizontal) == column_title)
    return [model.index(r, col).data() for r in range(model.rowCount())]
