"""The Chat agents tab with pytest-qt: import a CSV, process it, see statuses and the log."""

from __future__ import annotations

import pytest

from tests.gui.chat_fixtures import DOMAIN, make_tab, run_job


@pytest.fixture
def tab(qtbot, ctx, sim):
    w = make_tab(qtbot, ctx, sim)
    yield w
    w.shutdown()


def statuses(tab) -> dict[str, str]:
    return {r["email"]: r["status"] for r in tab.requests.model.rows}


def import_through_the_dialogs(qtbot, tab, path, monkeypatch) -> None:
    """Import CSV…: the file dialog (answered with ``path``), then the column mapping, accepted as guessed."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QFileDialog

    from evalsync_gui.gui.chat_dialogs import MappingDialog

    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a: (str(path), "")))

    def accept_mapping() -> None:
        dialog = QApplication.activeModalWidget()
        if isinstance(dialog, MappingDialog):
            dialog.accept()
        else:
            QTimer.singleShot(20, accept_mapping)

    QTimer.singleShot(20, accept_mapping)
    run_job(qtbot, tab, lambda: qtbot.mouseClick(tab.requests.import_button, qtbot_left()))


def test_import_process_statuses_and_log(qtbot, tab, sim, tmp_path, monkeypatch):
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
    import_through_the_dialogs(qtbot, tab, csv, monkeypatch)
    assert "line 6: e-mail needing access: the address has no @" in tab.requests.import_report.toPlainText()
    assert statuses(tab)[f"evil@{DOMAIN}.evil.io"] == "rejected"
    tab.pages.setCurrentWidget(tab.requests)
    tab.grab().save("/tmp/chat_requests_queued.png")

    tab.management.setChecked(True)
    run_job(qtbot, tab, lambda: qtbot.mouseClick(tab.requests.process_button, qtbot_left()))
    st = statuses(tab)
    assert st[on["email"]] == "already_enabled"
    assert st[off["email"]] == "enabled"
    assert st[f"brand.new@{DOMAIN}"] == "created"
    assert "1 created, 1 enabled, 1 already enabled" in tab.status.text()
    tab.grab().save("/tmp/chat_requests_processed.png")
    actions = [r["action"] for r in tab.log.model.rows]
    assert {"Created", "Enabled", "Already enabled", "Rejected"} <= set(actions)
    tab.pages.setCurrentWidget(tab.log)
    tab.grab().save("/tmp/chat_log.png")
    # Re-importing the same file adds nothing.
    import_through_the_dialogs(qtbot, tab, csv, monkeypatch)
    assert tab.requests.import_report.toPlainText().startswith("0 added, 4 already imported")


def test_agents_refresh_search_and_policy_preview(qtbot, tab, sim):
    run_job(qtbot, tab, lambda: qtbot.mouseClick(tab.agents.refresh_button, qtbot_left()))
    assert tab.agents.model.rowCount() == len(sim.chat_agents)
    first = next(iter(sim.chat_agents.values()))
    qtbot.keyClicks(tab.agents.search, first["email"])
    proxy = tab.agents.view.model()
    assert proxy.rowCount() == 1
    tab.pages.setCurrentWidget(tab.agents)
    tab.grab().save("/tmp/chat_agents.png")
    tab.inactivity.disable_after.setValue(30)
    tab.inactivity.delete_after.setValue(60)
    run_job(qtbot, tab, lambda: qtbot.mouseClick(tab.inactivity.preview_button, qtbot_left()))
    assert tab.inactivity.model.rowCount() == len(sim.chat_agents)
    assert "to disable" in tab.inactivity.summary.text()
    tab.pages.setCurrentWidget(tab.inactivity)
    tab.grab().save("/tmp/chat_policy.png")
    tab.pages.setCurrentWidget(tab.settings)
    tab.grab().save("/tmp/chat_settings.png")


def test_process_refused_without_management(qtbot, tab):
    tab.management.setChecked(False)
    qtbot.mouseClick(tab.requests.process_button, qtbot_left())
    assert "Turn on Chat management" in tab.status.text()


def qtbot_left():
    from PySide6.QtCore import Qt

    return Qt.LeftButton


def test_settings_and_template_preview(qtbot, tab):
    chat, mail = tab.settings.chat, tab.settings.mail
    chat.domains.setText("not a domain")
    qtbot.mouseClick(chat.save_button, qtbot_left())
    assert "Not saved" in tab.status.text()
    chat.domains.setText("ACME.com, @acme.co.uk")
    qtbot.mouseClick(chat.save_button, qtbot_left())
    assert tab.ctx.settings.get("chat.domains") == ["acme.com", "acme.co.uk"]
    mail.subject.setText("Welcome {first_name} {nope}")
    click_button(qtbot, mail, "Preview")
    text = mail.preview.toPlainText()
    assert "Unknown placeholders: nope" in text and "Subject: Welcome Zoë {nope}" in text
    mail.host.setText("127.0.0.1")
    mail.sender.setText("evalsync@acme.com")
    click_button(qtbot, mail, "Save e-mail settings")
    assert tab.ctx.settings.get("chat.smtp")["from"] == "evalsync@acme.com"
    assert tab.ctx.settings.get("chat.templates")["created"]["subject"] == "Welcome {first_name} {nope}"


def click_button(qtbot, parent, text: str) -> None:
    from PySide6.QtWidgets import QPushButton

    button = next(b for b in parent.findChildren(QPushButton) if b.text() == text)
    qtbot.mouseClick(button, qtbot_left())
