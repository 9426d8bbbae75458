"""The Chat tab's Sources page: the schedule runs with no one at the keyboard, Run now, a held
burst with Allow, and the tray saying a run needs review (loopback sheet and simulator)."""

from __future__ import annotations

import os

from PySide6.QtGui import QColor, QIcon, QPixmap

from evalsync_gui.core.chat import guards, sources
from tests.gui.chat_fixtures import DOMAIN, LEFT, cell_texts, make_tab, run_job
from tests.gui.modal import ModalAnswerer
from tests.integration.test_chat_intake import sheet, smtp  # noqa: F401 - fixtures

LEAD = f"lead@{DOMAIN}"


def test_schedule_takes_new_rows_then_a_burst_waits_for_allow(qtbot, ctx, sim, sheet, smtp):  # noqa: F811
    from evalsync_gui.gui.tray import TrayIcon

    ctx.settings.set("chat.management_enabled", True)
    ctx.settings.set("chat.smtp", {"host": "127.0.0.1", "port": smtp.port, "security": "none", "user": "",
                                   "from": f"evalsync@{DOMAIN}"})
    tab = make_tab(qtbot, ctx, sim)
    pixmap = QPixmap(32, 32)
    pixmap.fill(QColor("gray"))
    tray = TrayIcon(QIcon(pixmap), tab.services.signals, tab)
    tab.show()
    qtbot.waitExposed(tab)
    qtbot.waitUntil(lambda: not tab.jobs.is_running() and not tab.loader.is_running(), timeout=15000)
    page = tab.sources
    tab.pages.setCurrentWidget(page)
    page.timer.setInterval(100)
    # The admin adds the published sheet: its columns, guessed from the form's headings, are shown
    # in a dialog; the admin accepts the guess.
    qtbot.keyClicks(page.name_edit, "Form")
    qtbot.keyClicks(page.where_edit, sheet.url)
    answer = ModalAnswerer("Add source")
    run_job(qtbot, tab, lambda: qtbot.mouseClick(page.add_button, LEFT))  # the read, then the dialog
    qtbot.waitUntil(lambda: "Source Form added" in tab.runner.last_message, timeout=15000)
    assert answer.seen == ["Columns of Form"] and page.where_edit.text() == ""
    qtbot.waitUntil(lambda: cell_texts(page.view, "Name") == ["Form"], timeout=15000)
    assert "off" in page.next_label.text()
    assert sources.get_source(ctx.db, "Form").mapping["requester"] == "email address"

    # The admin switches the schedule on; a form row arrives and is acted on by the timer alone.
    sheet.row("11/27/2026 10:00:00", f"sched.one@{DOMAIN}", "Sched")
    qtbot.mouseClick(page.enabled, LEFT)
    run_job(qtbot, tab, lambda: qtbot.mouseClick(page.save_button, LEFT))
    qtbot.waitUntil(lambda: any(a["email"] == f"sched.one@{DOMAIN}" for a in sim.chat_agents.values()),
                    timeout=15000)
    qtbot.waitUntil(lambda: len(smtp.messages) == 1, timeout=15000)
    qtbot.waitUntil(lambda: "1 new rows, 1 created" in page.last_label.text(), timeout=15000)
    assert "Next run:" in page.next_label.text() and cell_texts(page.view, "Rows taken") == ["1"]

    # A burst over the limit: Run now holds it, the tray says so, Allow creates them.
    guards.Guards(max_creations=1).save(ctx.settings)
    sheet.row("11/27/2026 10:05:00", f"burst.a@{DOMAIN}", "A")
    sheet.row("11/27/2026 10:06:00", f"burst.b@{DOMAIN}", "B")
    run_job(qtbot, tab, lambda: qtbot.mouseClick(page.run_button, LEFT))
    assert page.review.isVisible() and "would create 2 new agents" in page.review_label.text()
    assert tray.chat_review == 2 and "2 chat requests need review" in tray.tray.toolTip()
    assert not any(a["email"].startswith("burst") for a in sim.chat_agents.values())
    if os.environ.get("EVALSYNC_SHOTS"):
        tab.resize(1100, 520)
        tab.grab().save(os.path.join(os.environ["EVALSYNC_SHOTS"], "chat-sources.png"))
    run_job(qtbot, tab, lambda: qtbot.mouseClick(page.allow_button, LEFT))
    assert sum(a["email"].startswith("burst") for a in sim.chat_agents.values()) == 2
    assert not page.review.isVisible() and tray.chat_review == 0 and "need review" not in tray.tray.toolTip()
    tray.hide()
    page.view.selectRow(0)
    run_job(qtbot, tab, lambda: qtbot.mouseClick(page.remove_button, LEFT))
    assert cell_texts(page.view, "Name") == [] and sources.list_sources(ctx.db) == []
    tab.shutdown()


def test_retry_failed_button_queues_failed_requests_again(qtbot, ctx, sim):
    """Issue 15.12 in the app: a request out of attempts waits for the admin's Retry failed."""
    from evalsync_gui.core.chat import requests as rq

    rid = rq.add_request(ctx.db, requester=LEAD, email=f"x@{DOMAIN}", first_name="X", last_name="Y")[0]
    with ctx.db.transaction() as conn:
        conn.execute("UPDATE chat_requests SET status = 'failed', attempts = 5, reason = 'gave up' WHERE id = ?",
                     (rid,))
    tab = make_tab(qtbot, ctx, sim)
    page = tab.requests
    run_job(qtbot, tab, lambda: qtbot.mouseClick(page.retry_button, LEFT))
    assert "1 failed request queued again" in tab.runner.last_message
    assert rq.status_counts(ctx.db) == {"queued": 1}
    run_job(qtbot, tab, lambda: qtbot.mouseClick(page.retry_button, LEFT))
    assert tab.runner.last_message == "No failed request to retry."
    tab.shutdown()


def test_adding_a_source_shows_its_columns_and_the_admins_choice_is_kept(qtbot, ctx, sim, tmp_path):
    """A file whose headings the guess cannot read: the admin picks the columns in the dialog,
    and the source takes its rows with that mapping (no `--map` in a terminal needed)."""
    from PySide6.QtWidgets import QComboBox, QDialogButtonBox

    from evalsync_gui.gui.chat_dialogs import NONE

    csv_path = tmp_path / "responses.csv"
    csv_path.write_text("Ref,When,Asked by,Agent,Given,Family\n"
                        f"r1,11/27/2026 09:00:00,{LEAD},old.one@{DOMAIN},Old,One\n")
    tab = make_tab(qtbot, ctx, sim)
    tab.show()
    qtbot.waitUntil(lambda: not tab.jobs.is_running() and not tab.loader.is_running(), timeout=15000)
    page = tab.sources
    tab.pages.setCurrentWidget(page)
    # the columns as the feed reads them (lower-cased: a source's columns match case-insensitively)
    chosen = {"requester": "asked by", "email": "agent", "first_name": "given", "last_name": "family",
              "requested_at": "when", "row_id": "ref"}
    seen: dict[str, list[str]] = {}

    def pick(dialog) -> None:
        combos = {c.accessibleName(): c for c in dialog.findChildren(QComboBox)}
        seen["fields"] = sorted(combos)
        seen["items"] = [combos["Row id"].itemText(i) for i in range(combos["Row id"].count())]
        for combo in combos.values():
            combo.setCurrentIndex(0)
        for fld, column in chosen.items():
            label = {"requester": "Requester's e-mail", "email": "E-mail needing access", "first_name": "First name",
                     "last_name": "Last name", "requested_at": "Requested at", "row_id": "Row id"}[fld]
            combos[label].setCurrentIndex(combos[label].findText(column))
        dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok).click()

    answer = ModalAnswerer(handle=pick)
    qtbot.keyClicks(page.name_edit, "Desk form")
    qtbot.keyClicks(page.where_edit, str(csv_path))
    run_job(qtbot, tab, lambda: qtbot.mouseClick(page.add_button, LEFT))
    qtbot.waitUntil(lambda: "Source Desk form added" in tab.runner.last_message, timeout=15000)
    assert answer.seen == ["Columns of Desk form"]
    assert seen["items"] == [NONE, "ref", "when", "asked by", "agent", "given", "family"]
    assert len(seen["fields"]) == len(sources.FIELDS)
    assert sources.get_source(ctx.db, "Desk form").mapping == chosen
    assert "1 row already there skipped" in tab.runner.last_message
    # A new row of that file is read with the admin's columns.
    with csv_path.open("a") as fh:
        fh.write(f"r2,11/27/2026 10:00:00,{LEAD},new.one@{DOMAIN},New,One\n")
    report = sources.poll(ctx.db, sources.get_source(ctx.db, "Desk form"), [DOMAIN])
    assert report.taken == 1
    from evalsync_gui.core.chat import requests as rq
    new = [r for r in rq.list_requests(ctx.db) if r["email"] == f"new.one@{DOMAIN}"]
    assert [(r["first_name"], r["last_name"], r["requester"]) for r in new] == [("New", "One", LEAD)]
    tab.shutdown()


def test_cancelling_the_columns_dialog_adds_nothing(qtbot, ctx, sim, tmp_path):
    csv_path = tmp_path / "responses.csv"
    csv_path.write_text("Timestamp,Email Address,Email of the user requiring chat access,First Name,Second Name\n")
    tab = make_tab(qtbot, ctx, sim)
    qtbot.waitUntil(lambda: not tab.jobs.is_running() and not tab.loader.is_running(), timeout=15000)
    page = tab.sources
    answer = ModalAnswerer("Cancel")
    qtbot.keyClicks(page.name_edit, "Form")
    qtbot.keyClicks(page.where_edit, str(csv_path))
    run_job(qtbot, tab, lambda: qtbot.mouseClick(page.add_button, LEFT))
    qtbot.waitUntil(lambda: tab.runner.last_message == "Form was not added.", timeout=15000)
    assert answer.seen == ["Columns of Form"] and sources.list_sources(ctx.db) == []
    tab.shutdown()
