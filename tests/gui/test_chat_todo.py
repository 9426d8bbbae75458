"""Issue 12 on an account whose Chat was created in Support, driven through the Chat tab against
the simulator: the "To do in Zendesk" list (Open, Copy, completion after the Admin Center step)
and the inactivity page that names its measure and lists admin steps with a CSV export."""

from __future__ import annotations

import csv

import pytest
from PySide6.QtCore import QObject, QUrl, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QApplication, QFileDialog

from tests.gui.chat_fixtures import DOMAIN, LEFT, cell_texts, make_tab, run_job


class Browser(QObject):
    """Qt's own hook for opening URLs (QDesktopServices.setUrlHandler): records instead of opening."""

    def __init__(self) -> None:
        super().__init__()
        self.opened: list[str] = []

    @Slot(QUrl)
    def open(self, url: QUrl) -> None:
        self.opened.append(url.toString())


@pytest.fixture
def browser():
    b = Browser()
    for scheme in ("http", "https"):
        QDesktopServices.setUrlHandler(scheme, b, "open")
    yield b
    for scheme in ("http", "https"):
        QDesktopServices.unsetUrlHandler(scheme)


@pytest.fixture
def sim(sim_factory):
    return sim_factory(chat_kind="support")


@pytest.fixture
def tab(qtbot, ctx, sim):
    w = make_tab(qtbot, ctx, sim, kind="support")
    w.management.setChecked(True)
    yield w
    w.shutdown()


def _request(qtbot, tab, email: str) -> None:
    fields = tab.requests.form.fields
    for key, text in (("requester", f"lead@{DOMAIN}"), ("email", email), ("first_name", "Noor"),
                      ("last_name", "Khan")):
        fields[key].clear()
        qtbot.keyClicks(fields[key], text)
    run_job(qtbot, tab, lambda: qtbot.mouseClick(tab.requests.form.add_button, LEFT))


def _chat_writes(sim) -> list:
    return [e for e in sim.request_log if e[1].startswith("/api/v2/chat/") and e[0] != "GET"]


def test_a_new_person_waits_in_the_to_do_list_and_completes_after_the_admin_step(qtbot, tab, sim, browser):
    email = f"noor.khan@{DOMAIN}"
    _request(qtbot, tab, email)
    run_job(qtbot, tab, lambda: qtbot.mouseClick(tab.requests.process_button, LEFT))
    assert "1 need a step in Admin Center" in tab.status.text(), tab.status.text()
    todo = tab.todo
    tab.pages.setCurrentWidget(todo)
    assert cell_texts(todo.view, "E-mail") == [email]
    assert todo.count.text() == "1 waiting for a step in Admin Center"
    url = cell_texts(todo.view, "Admin Center link")[0]
    assert url.startswith(sim.base_url + "/admin/people/team/members/")
    todo.view.selectRow(0)
    qtbot.mouseClick(todo.open_button, LEFT)
    assert browser.opened == [url]
    qtbot.mouseClick(todo.copy_button, LEFT)
    assert QApplication.clipboard().text() == url
    # The admin switches Chat on in Admin Center; the next Process sees it.
    sim.set_chat_access(int(url.rsplit("/", 1)[1]))
    run_job(qtbot, tab, lambda: qtbot.mouseClick(tab.requests.process_button, LEFT))
    assert {r["email"]: r["status"] for r in tab.requests.model.rows}[email] == "completed_after_admin_step"
    assert cell_texts(todo.view, "E-mail") == []
    assert todo.count.text() == "Nothing to do in Zendesk."
    assert not todo.open_button.isEnabled()
    assert f"Chat on for {email} after the step in Admin Center" in cell_texts(tab.log.view, "What happened")
    assert _chat_writes(sim) == []


def test_inactivity_names_its_measure_and_lists_admin_steps_with_csv(qtbot, tab, sim, tmp_path, monkeypatch):
    page = tab.inactivity
    tab.pages.setCurrentWidget(page)
    page.disable_after.setValue(1)
    page.delete_after.setValue(2)
    run_job(qtbot, tab, lambda: qtbot.mouseClick(page.preview_button, LEFT))
    assert page.source_note.text().startswith("Idle days count from: ")
    assert "writes nothing for inactivity" in page.source_note.text()
    assert not page.apply_button.isVisibleTo(page)
    assert page.export_button.isVisibleTo(page) and page.export_button.isEnabled()
    steps = [a for a in cell_texts(page.view, "Action") if a == "Admin step"]
    assert steps and "admin steps" in page.summary.text()
    target = tmp_path / "steps.csv"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a: (str(target), "")))
    run_job(qtbot, tab, lambda: qtbot.mouseClick(page.export_button, LEFT))
    with open(target, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == len(steps)
    assert tab.status.text() == f"Exported {len(rows)} admin step{'s' if len(rows) != 1 else ''} to {target}"
    assert all(r["Last login source"] for r in rows)
    assert _chat_writes(sim) == []
    assert not [e for e in sim.request_log if e[0] in ("PUT", "DELETE") and e[1].startswith("/api/v2/users")]


def test_a_team_plan_hides_the_default_role_choice_with_a_note(qtbot, ctx, sim_factory):
    sim = sim_factory(chat_kind="support", plan="team")
    w = make_tab(qtbot, ctx, sim, kind="support")
    try:
        box = w.settings.chat
        w.pages.setCurrentWidget(w.settings)
        assert box.role_row.isVisibleTo(box) and not box.no_roles_note.isVisibleTo(box)
        run_job(qtbot, w, lambda: qtbot.mouseClick(box.roles_button, LEFT))
        assert not box.role_row.isVisibleTo(box)
        assert box.no_roles_note.isVisibleTo(box)
        assert "no custom roles" in w.status.text()
    finally:
        w.shutdown()
