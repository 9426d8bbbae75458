"""The Chat agents tab with pytest-qt: import a CSV, process it, see statuses and the log."""

from __future__ import annotations

import pytest

from evalsync_gui.core.zendesk.http import ApiTokenAuth, RetryPolicy, ZendeskHttp
from evalsync_gui.gui.services import AppSignals, Services
from tests.chat_helpers import connect_both

DOMAIN = "abc-energy.example.com"


@pytest.fixture
def tab(qtbot, ctx, sim):
    from evalsync_gui.gui.chat_tab import ChatTab

    def open_http():
        return ZendeskHttp(sim.base_url, ApiTokenAuth(sim.admin_email, sim.api_token),
                           retry=RetryPolicy(backoff_base=0.01))

    connect_both(ctx, sim)  # the Chat API connection comes from core, apart from the Support client
    ctx.settings.set("chat.domains", [DOMAIN])
    ctx.settings.set("chat.mode", "standalone")
    services = Services(ctx=ctx, signals=AppSignals(), extras={"chat_http_factory": open_http})
    w = ChatTab(services)
    qtbot.addWidget(w)
    w.resize(1200, 700)
    qtbot.waitUntil(lambda: not w.loader.is_running(), timeout=5000)
    yield w
    w.shutdown()


def run_job(qtbot, tab, start):
    with qtbot.waitSignal(tab.refreshed, timeout=15000):
        with qtbot.waitSignal(tab.job_finished, timeout=15000):
            start()


def statuses(tab) -> dict[str, str]:
    return {r["email"]: r["status"] for r in tab.requests_model.rows}


def test_import_process_statuses_and_log(qtbot, tab, sim, tmp_path):
    agents = sorted(sim.chat_agents.values(), key=lambda a: a["id"])
    on = next(a for a in agents if a["enabled"] and not a["roles"]["owner"])
    off = next(a for a in agents if not a["enabled"]) if any(not a["enabled"] for a in agents) else agents[-1]
    off["enabled"] = False
    csv = tmp_path / "responses.csv"
    csv.write_text(
        "Timestamp,Email Address,Email address of the user requiring chat access,First Name,Second Name\n"
        f"11/23/2026 10:00:00,lead@{DOMAIN},{on['email']},On,Agent\n"
        f"11/23/2026 10:01:00,lead@{DOMAIN},{off['email']},Off,Agent\n"
        f"11/23/2026 10:02:00,lead@{DOMAIN},brand.new@{DOMAIN},Brand,New\n"
        f"11/23/2026 10:03:00,lead@{DOMAIN},evil@{DOMAIN}.evil.io,Evil,Twin\n"
        f"11/23/2026 10:04:00,lead@{DOMAIN},broken-address,Bro,Ken\n", encoding="utf-8")
    from evalsync_gui.core.chat.requests import guess_mapping, preview_rows

    mapping = guess_mapping(preview_rows(csv)[0])
    run_job(qtbot, tab, lambda: tab.import_csv_file(str(csv), mapping))
    assert "line 6: e-mail needing access: the address has no @" in tab.import_report.toPlainText()
    assert statuses(tab)[f"evil@{DOMAIN}.evil.io"] == "rejected"
    tab.pages.setCurrentIndex(1)
    tab.grab().save("/tmp/chat_requests_queued.png")

    tab.management.setChecked(True)
    run_job(qtbot, tab, lambda: qtbot.mouseClick(tab.process_button, qtbot_left()))
    st = statuses(tab)
    assert st[on["email"]] == "already_enabled"
    assert st[off["email"]] == "enabled"
    assert st[f"brand.new@{DOMAIN}"] == "created"
    assert "1 created, 1 enabled, 1 already enabled" in tab.status.text()
    tab.grab().save("/tmp/chat_requests_processed.png")
    actions = [r["action"] for r in tab.log_model.rows]
    assert {"Created", "Enabled", "Already enabled", "Rejected"} <= set(actions)
    tab.pages.setCurrentIndex(3)
    tab.grab().save("/tmp/chat_log.png")
    # Re-importing the same file adds nothing.
    run_job(qtbot, tab, lambda: tab.import_csv_file(str(csv), mapping))
    assert tab.import_report.toPlainText().startswith("0 added, 4 already imported")


def test_agents_refresh_search_and_policy_preview(qtbot, tab, sim):
    run_job(qtbot, tab, tab.refresh_agents)
    assert tab.agents_model.rowCount() == len(sim.chat_agents)
    first = next(iter(sim.chat_agents.values()))
    proxy = tab.agents_view.model()
    proxy.setFilterFixedString(first["email"])
    assert proxy.rowCount() == 1
    tab.pages.setCurrentIndex(0)
    tab.grab().save("/tmp/chat_agents.png")
    tab.p_disable.setValue(30)
    tab.p_delete.setValue(60)
    run_job(qtbot, tab, tab.preview_policy)
    assert tab.policy_model.rowCount() == len(sim.chat_agents)
    assert "to disable" in tab.policy_summary.text()
    tab.pages.setCurrentIndex(2)
    tab.grab().save("/tmp/chat_policy.png")
    tab.pages.setCurrentIndex(4)
    tab.grab().save("/tmp/chat_settings.png")


def test_process_refused_without_management(qtbot, tab):
    tab.management.setChecked(False)
    tab.process(dry_run=False)
    assert "Turn on Chat management" in tab.status.text()


def qtbot_left():
    from PySide6.QtCore import Qt

    return Qt.LeftButton


def test_settings_and_template_preview(qtbot, tab):
    tab.s_domains.setText("not a domain")
    tab.save_chat_settings()
    assert "Not saved" in tab.status.text()
    tab.s_domains.setText("ACME.com, @acme.co.uk")
    tab.save_chat_settings()
    assert tab.ctx.settings.get("chat.domains") == ["acme.com", "acme.co.uk"]
    tab.m_subject.setText("Welcome {first_name} {nope}")
    tab.preview_template()
    text = tab.m_preview.toPlainText()
    assert "Unknown placeholders: nope" in text and "Subject: Welcome Zoë {nope}" in text
    tab.m_host.setText("127.0.0.1")
    tab.m_from.setText("evalsync@acme.com")
    tab.save_mail_settings()
    assert tab.ctx.settings.get("chat.smtp")["from"] == "evalsync@acme.com"
    assert tab.ctx.settings.get("chat.templates")["created"]["subject"] == "Welcome {first_name} {nope}"
