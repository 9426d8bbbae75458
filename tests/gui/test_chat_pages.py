"""Issue 17's Chat tab items, driven as a user does: honest header words, an agent list that
follows Process, Enter in the request form, one date format, human log rows, exports."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PySide6.QtCore import QStandardPaths, Qt
from PySide6.QtWidgets import QApplication, QFileDialog

from tests.gui.chat_fixtures import DOMAIN, LEFT, cell_texts, make_tab, run_job

DATE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d$")


@pytest.fixture
def tab(qtbot, ctx, sim):
    w = make_tab(qtbot, ctx, sim)
    yield w
    w.shutdown()


def _disabled_agent(sim) -> dict:
    agent = next(a for a in sorted(sim.chat_agents.values(), key=lambda a: a["id"]) if not a["roles"]["owner"])
    agent["enabled"] = False
    return agent


def _type_request(qtbot, tab, email: str) -> None:
    fields = tab.requests.form.fields
    qtbot.keyClicks(fields["requester"], f"lead@{DOMAIN}")
    qtbot.keyClicks(fields["email"], email)
    qtbot.keyClicks(fields["first_name"], "Ana")
    qtbot.keyClicks(fields["last_name"], "Lopez")


def _without_not(text: str) -> str:
    return text.replace("not detected", "").replace("Not detected", "")


def test_header_never_says_detected_without_a_connection(qtbot, ctx, sim):
    # An earlier connection left a detected kind behind, but no Chat API connection exists now.
    ctx.settings.set("chat.kind_detected", {"kind": "support", "how": "earlier", "at": "2026-11-01T10:00:00Z"})
    w = make_tab(qtbot, ctx, sim, chat=False, kind=None)
    try:
        qtbot.waitUntil(lambda: w.kind_label.text() != "", timeout=5000)
        assert "detected" not in _without_not(w.kind_label.text())
        assert "not connected" in w.kind_label.text()
        state = w.settings.chat.kind_state.text()
        assert state.startswith("Not detected") and "detected" not in _without_not(state)
    finally:
        w.shutdown()


def test_kind_says_detected_only_after_detection_and_offers_the_choice(qtbot, ctx, sim):
    w = make_tab(qtbot, ctx, sim, kind=None)
    try:
        qtbot.waitUntil(lambda: "connected" in w.kind_label.text(), timeout=5000)
        assert "kind not detected — choose" in w.kind_label.text()
        w.pages.setCurrentWidget(w.settings)
        run_job(qtbot, w, lambda: qtbot.mouseClick(w.settings.chat.detect_button, LEFT))
        assert w.kind_label.text().endswith("— detected"), w.kind_label.text()
        assert w.settings.chat.kind_state.text().startswith("Detected at ")
        # The admin's choice wins and says so.
        chooser = w.settings.chat.kind
        chooser.setCurrentIndex(chooser.findData("support"))
        with qtbot.waitSignal(w.refreshed, timeout=5000):
            qtbot.mouseClick(w.settings.chat.save_button, LEFT)
        assert w.kind_label.text().endswith("— chosen")
        assert ctx.settings.get("chat.kind") == "support"
    finally:
        w.shutdown()


def test_agent_list_follows_process_without_refresh(qtbot, tab, sim):
    off = _disabled_agent(sim)
    run_job(qtbot, tab, lambda: qtbot.mouseClick(tab.agents.refresh_button, LEFT))
    enabled = dict(zip(cell_texts(tab.agents.view, "E-mail"), cell_texts(tab.agents.view, "Enabled")))
    assert enabled[off["email"]] == "no"
    tab.pages.setCurrentWidget(tab.requests)
    _type_request(qtbot, tab, off["email"])
    run_job(qtbot, tab, lambda: qtbot.mouseClick(tab.requests.form.add_button, LEFT))
    tab.management.setChecked(True)
    run_job(qtbot, tab, lambda: qtbot.mouseClick(tab.requests.process_button, LEFT))
    enabled = dict(zip(cell_texts(tab.agents.view, "E-mail"), cell_texts(tab.agents.view, "Enabled")))
    assert enabled[off["email"]] == "yes"


def test_enter_adds_the_request_and_focus_stays_in_the_form(qtbot, tab):
    tab.show()
    qtbot.waitExposed(tab)
    # The first showing of a connected tab with no agents cached reads them once; let it finish.
    qtbot.waitUntil(lambda: tab.agents.model.rowCount() > 0 and not tab.jobs.is_running(), timeout=10_000)
    tab.pages.setCurrentWidget(tab.requests)
    tab.activateWindow()
    form = tab.requests.form
    _type_request(qtbot, tab, f"new.person@{DOMAIN}")
    with qtbot.waitSignal(tab.job_finished, timeout=10_000):
        qtbot.keyClick(form.fields["last_name"], Qt.Key_Return)
    qtbot.waitUntil(lambda: f"new.person@{DOMAIN}" in cell_texts(tab.requests.view, "E-mail"), timeout=5000)
    assert form.fields["email"].text() == ""
    assert QApplication.focusWidget() is form.first_field()
    # A click on Add (which greys while the job runs) also leaves the focus in the form.
    for key, text in (("email", f"second.person@{DOMAIN}"), ("first_name", "Bo"), ("last_name", "Berg")):
        qtbot.keyClicks(form.fields[key], text)
    with qtbot.waitSignal(tab.job_finished, timeout=10_000):
        qtbot.mouseClick(form.add_button, LEFT)
    qtbot.waitUntil(lambda: f"second.person@{DOMAIN}" in cell_texts(tab.requests.view, "E-mail"), timeout=5000)
    assert QApplication.focusWidget() is form.first_field()
    tab.hide()


def test_tables_show_the_app_date_format_and_the_log_in_words(qtbot, tab, sim):
    off = _disabled_agent(sim)
    tab.pages.setCurrentWidget(tab.requests)
    _type_request(qtbot, tab, off["email"])
    run_job(qtbot, tab, lambda: qtbot.mouseClick(tab.requests.form.add_button, LEFT))
    tab.management.setChecked(True)
    run_job(qtbot, tab, lambda: qtbot.mouseClick(tab.requests.process_button, LEFT))
    logins = [t for t in cell_texts(tab.agents.view, "Last login") if t != "never"]
    assert logins and all(DATE.match(t) for t in logins), logins
    assert all(DATE.match(t) for t in cell_texts(tab.requests.view, "Requested at"))
    whats = cell_texts(tab.log.view, "What happened")
    assert f"Enabled agent {off['email']}" in whats
    assert not any(w.startswith(("Enabling", "Creating", "Started")) or "{" in w for w in whats), whats
    assert all(re.match(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$", t) for t in cell_texts(tab.log.view, "When"))
    # The raw record is one click away: Details, then a row.
    tab.pages.setCurrentWidget(tab.log)
    qtbot.mouseClick(tab.log.details_button, LEFT)
    row = whats.index(f"Enabled agent {off['email']}")
    tab.log.view.selectRow(row)
    text = tab.log.details.toPlainText()
    assert "Action: Enabled" in text and '"enabled": true' in text, text
    qtbot.mouseClick(tab.log.details_button, LEFT)
    assert not tab.log.details.isVisibleTo(tab.log)


def test_export_starts_in_documents_and_says_where_and_how_many(qtbot, tab, sim, tmp_path, monkeypatch):
    off = _disabled_agent(sim)
    _type_request(qtbot, tab, off["email"])
    run_job(qtbot, tab, lambda: qtbot.mouseClick(tab.requests.form.add_button, LEFT))
    target = tmp_path / "log.csv"
    asked = {}

    def fake_dialog(parent, title, start, filters):  # the native dialog cannot be clicked offscreen
        asked["start"] = start
        return str(target), filters

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(fake_dialog))
    tab.pages.setCurrentWidget(tab.log)
    run_job(qtbot, tab, lambda: qtbot.mouseClick(tab.log.export_button, LEFT))
    documents = QStandardPaths.writableLocation(QStandardPaths.DocumentsLocation)
    assert Path(asked["start"]).parent == Path(documents)
    rows = target.read_text(encoding="utf-8").strip().splitlines()
    assert tab.status.text() == f"Exported {len(rows) - 1} action{'s' if len(rows) != 2 else ''} to {target}"
