"""Take docs/screenshots/*.png from the real app in --demo mode, offscreen, at 1280x800.

    QT_QPA_PLATFORM=offscreen .venv/bin/python packaging/take_screenshots.py [--out DIR] [--size 1280x800]

Runs the real app code (``app.create_window`` with ``demo=True``) against the in-process
simulator in a throwaway data folder and drives it through the widgets' public attributes,
the way a newcomer would: a real sync (Pending users appear), a few users activated with a
role and team through the Activate dialog (answered here), a sync that waits out Zendesk's
rate limit, the Chat agents loaded, a few access requests processed, a request source polled;
then a second demo whose Chat was created in Support, for the "To do in Zendesk" list.
Every wait is on a Qt signal or a polled condition, each with a timeout; never a fixed sleep.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QEventLoop, Qt, QTimer, qInstallMessageHandler  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication, QDialog, QWidget  # noqa: E402

from evalsync_gui.app import create_window, make_qapp  # noqa: E402
from evalsync_gui.gui.users_model import COLUMNS  # noqa: E402

COLUMN = {label: n for n, (label, _key, _sort) in enumerate(COLUMNS)}

# The simulator's normal limits (evalsync_gui.sim.config.SimConfig), restored after the wait shot.
SIM_LIMITS = dict(per_minute=700, incremental=10, chat=200)


class Timeout(RuntimeError):
    """A step of the script did not happen in time."""


def wait_signal(signal, start: Callable[[], object] | None = None, timeout: float = 60.0, what: str = "") -> list:
    """Connect to ``signal``, run ``start()``, spin the event loop until it fires; return its args."""
    loop = QEventLoop()
    got: list = []

    def fired(*args: object) -> None:
        got.append(args)
        loop.quit()

    signal.connect(fired)
    timer = QTimer()
    timer.setSingleShot(True)
    timer.timeout.connect(loop.quit)
    try:
        if start is not None:
            start()
        if not got:
            timer.start(int(timeout * 1000))
            loop.exec()
    finally:
        signal.disconnect(fired)
    if not got:
        raise Timeout(f"timed out after {timeout:.0f} s waiting for {what or signal}")
    return list(got[0])


def wait_until(condition: Callable[[], object], timeout: float = 60.0, what: str = "", every_ms: int = 50) -> object:
    """Spin the event loop, checking ``condition()`` every ``every_ms``, until it is true; return it."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise Timeout(f"timed out after {timeout:.0f} s waiting for {what or condition}")
        loop = QEventLoop()
        QTimer.singleShot(every_ms, loop.quit)
        loop.exec()


def quiet_status(window, text: str, timeout: float = 30.0) -> None:
    """Wait until the status bar no longer shows ``text`` (its messages time out after 15 s), so a
    grab does not show a line about something that is over."""
    wait_until(lambda: text not in window.statusBar().currentMessage(), timeout, f"the status bar to drop {text!r}")


def flush() -> None:
    """Deliver queued events (layout, repaint) before a grab."""
    for _ in range(3):
        QApplication.processEvents()


def shoot(widget: QWidget, out: Path, name: str) -> None:
    flush()
    path = out / f"{name}.png"
    widget.grab().save(str(path))
    print(f"wrote {path}")


def wait_rows(users, what: str) -> None:
    """The users tab reads its ids on a loader thread: wait until the rows it should show are there."""
    wait_until(lambda: users.rows_loaded and users.model.rowCount() > 0
               and users.selection_label.text() != "Reading the rows…", 60, what)


def answer_modal(fill: Callable[[QDialog], None], timeout: float = 30.0) -> Callable[[], None]:
    """Arm a poll that answers the next modal dialog (``fill`` sets it and clicks OK); returns a
    check that raises Timeout if no dialog came."""
    answered: list[QDialog] = []
    deadline = time.monotonic() + timeout
    timer = QTimer()
    timer.setInterval(50)

    def poll() -> None:
        dialog = QApplication.activeModalWidget()
        if isinstance(dialog, QDialog) and dialog.isVisible():
            timer.stop()
            answered.append(dialog)
            fill(dialog)
        elif time.monotonic() > deadline:
            timer.stop()

    timer.timeout.connect(poll)
    timer.start()

    def check() -> None:
        timer.stop()
        if not answered:
            raise Timeout(f"no dialog opened within {timeout:.0f} s")

    check.timer = timer  # keep the timer alive as long as the check
    return check


# -- User sync ------------------------------------------------------------------------------------
def users_tab(window):
    users = window.tab_pages[1]
    window.tabs.setCurrentWidget(users)
    return users


def user_sync(window, out: Path) -> None:
    """Part 2 is pre-ticked in demo mode; press Sync now and wait for the engine to finish."""
    users = users_tab(window)
    panel = users.config_panel
    if users.controller.is_running():  # a scheduled sync may already be on its way
        wait_signal(window.services.signals.sync_finished, timeout=120, what="the running sync")
    if not panel.current_roles():
        panel.roles.item(0).setCheckState(Qt.CheckState.Checked)
    result = wait_signal(window.services.signals.sync_finished, panel.sync_btn.click, 180, "sync_finished")[0]
    if getattr(result, "status", "") not in ("completed", "held"):
        raise Timeout(f"the demo sync ended as {getattr(result, 'status', '?')}: {getattr(result, 'error', '')}")
    users.reload()  # the tab reloads on a short timer; do it now so the grab shows the rows
    wait_rows(users, "the Pending users")
    shoot(window, out, "user-sync")


def activate(window, users, rows: range, role: str, team: str) -> None:
    """Select ``rows``, click Activate…, answer the dialog with ``role`` and ``team``."""
    table = users.table
    table.clearSelection()
    for row in rows:
        table.selectionModel().select(users.model.index(row, 0),
                                      table.selectionModel().SelectionFlag.Select
                                      | table.selectionModel().SelectionFlag.Rows)
    flush()

    def fill(dialog: QDialog) -> None:
        dialog.role.setCurrentIndex(dialog.role.findData(role))
        dialog.team.setText(team)
        dialog.ok_button.click()

    answered = answer_modal(fill)
    wait_signal(window.services.signals.users_changed, users.activate_btn.click, 60, f"activating as {role}")
    answered()


def fit_columns(table, squeeze: int) -> None:
    """Size the shown columns to their text; if they overflow the table, narrow ``squeeze``."""
    shown = [c for c in range(table.model().columnCount()) if not table.isColumnHidden(c)]
    for c in shown:
        table.resizeColumnToContents(c)
    overflow = sum(table.columnWidth(c) for c in shown) - table.viewport().width()
    if overflow > 0:
        table.setColumnWidth(squeeze, max(120, table.columnWidth(squeeze) - overflow))


def users_activated(window, out: Path) -> None:
    """Activate two small batches with a role and team, show All users and open one user's details."""
    users = users_tab(window)
    users.pages.setCurrentIndex(0)
    activate(window, users, range(0, 4), "evaluator", "Billing QA")
    users.reload()
    wait_rows(users, "the Pending users after the first activation")
    activate(window, users, range(0, 3), "team_leader", "Support EMEA")
    users.status_buttons[None].click()  # All: the active users (first by name) above the Pending ones
    users.reload()
    wait_rows(users, "all users")
    wait_until(lambda: users.model.index(0, 6).data(), 30, "the Team column filled")
    table = users.table
    # At 1280 px not every column fits: hide Last change (the header's column menu does the same),
    # fit the others to their text and let E-mail give way, so role and team read in full.
    table.show_column(COLUMN["Last change"], False)
    fit_columns(table, squeeze=COLUMN["E-mail"])
    table.setFocus()
    table.selectRow(1)  # also the current row; Enter opens it, as a double-click does
    wait_signal(users.details.loader.finished, lambda: QTest.keyClick(table, Qt.Key.Key_Return),
                30, "the details pane")
    wait_until(lambda: users.details.history_note.text(), 30, "the user's sync history")
    shoot(window, out, "users-activated")


def rate_limit_wait(window, out: Path) -> None:
    """Lower the simulator's limit to one request a minute, press Sync now, grab during the wait."""
    users = users_tab(window)
    sim = window.services.simulator
    note = users.wait_note
    sim.set_rate_limit(1, incremental=1)
    try:
        finished: list = []
        window.services.signals.sync_finished.connect(finished.append)
        users.config_panel.sync_btn.click()
        # The first wait may be the tail of the current minute; grab one with a few seconds left.
        wait_until(lambda: finished or (note.isVisible() and "resumes in" in note.text()
                                        and int(note.text().rsplit(" ", 2)[-2].replace(",", "")) >= 5),
                   150, "the wait line saying 'resumes in'")
        if finished:
            raise Timeout("the sync ended before it had to wait for Zendesk's limit")
        shoot(window, out, "user-sync-rate-limit")
    finally:
        sim.set_rate_limit(SIM_LIMITS["per_minute"], incremental=SIM_LIMITS["incremental"])
    # The client sleeps out the window it was told (at most a minute), then the sync completes.
    wait_until(lambda: finished, 150, "the rate-limited sync to finish")
    window.services.signals.sync_finished.disconnect(finished.append)
    quiet_status(window, "resumes in")


def user_sync_runs(window, out: Path) -> None:
    users = users_tab(window)
    users.history.reload()
    wait_until(lambda: not users.history.loader.is_running())
    users.pages.setCurrentWidget(users.history)
    shoot(window, out, "user-sync-runs")
    users.pages.setCurrentIndex(0)


# -- Chat agents ----------------------------------------------------------------------------------
def chat(window, out: Path, work: Path) -> None:
    """The tab reads the agents on first show; then requests are added and processed."""
    tab = window.tab_pages[2]
    agents_page = tab.agents
    if agents_page.model.rowCount() == 0:
        wait_signal(tab.refreshed, lambda: window.tabs.setCurrentWidget(tab), 60, "chat agents")
        wait_until(lambda: agents_page.model.rowCount() and not tab.jobs.is_running(), 60, "the chat agents")
    window.tabs.setCurrentWidget(tab)
    tab.pages.setCurrentWidget(agents_page)
    shoot(window, out, "chat-agents")

    agents = agents_page.model.rows
    domain = agents[0]["email"].split("@", 1)[1]
    settings = tab.settings
    tab.pages.setCurrentWidget(settings)
    tab.management.setChecked(True)  # lets Process change agents
    settings.chat.domains.setText(domain)
    wait_signal(tab.refreshed, settings.chat.save_button.click, 30, "saving the Chat settings")

    page = tab.requests
    tab.pages.setCurrentWidget(page)
    disabled = next((a for a in agents if not a["enabled"]), agents[-1])
    enabled = next(a for a in agents if a["enabled"] and not a.get("is_owner"))
    requests = ((disabled["email"], "Returning", "Agent"), (enabled["email"], "Already", "Enabled"),
                (f"new.starter@{domain}", "New", "Starter"), ("someone@outside.example.org", "Wrong", "Domain"))
    fields = page.form.fields
    fields["requester"].setText(f"team.lead@{domain}")
    for email, first, last in requests:
        fields["email"].setText(email)
        fields["first_name"].setText(first)
        fields["last_name"].setText(last)
        wait_signal(tab.refreshed, page.form.add_button.click, 30, f"request for {email}")
    wait_signal(tab.refreshed, page.process_button.click, 60, "processing the requests")
    wait_until(lambda: not tab.jobs.is_running(), 30, "the Process job to end")
    page.view.resizeColumnsToContents()
    shoot(window, out, "chat-requests")

    sources(window, tab, out, work, domain, agents)
    tab.pages.setCurrentWidget(settings)  # the Chat API connection, the domain saved above
    shoot(window, out, "chat-settings")
    tab.pages.setCurrentWidget(agents_page)


def sources(window, tab, out: Path, work: Path, domain: str, agents: list[dict]) -> None:
    """A form's response CSV as a source: its old row is skipped, two new ones are taken by Run now."""
    page = tab.sources
    tab.pages.setCurrentWidget(page)
    csv = work / "access-form-responses.csv"
    head = "Timestamp,Requester email address,Email of the user requiring access,First name,Last name\n"
    csv.write_text(head + f"2026-11-20 09:12:00,team.lead@{domain},old.request@{domain},Old,Request\n",
                   encoding="utf-8")
    page.name_edit.setText("Access form")
    page.where_edit.setText(str(csv))
    answered = answer_modal(lambda dialog: dialog.accept())  # the columns dialog: the guess is right
    page.add_button.click()
    wait_until(lambda: page.model.rowCount() and not tab.jobs.is_running(), 30, "the source in the table")
    answered()
    disabled = [a for a in agents if not a["enabled"]]
    returning = disabled[1]["email"] if len(disabled) > 1 else f"second.starter@{domain}"
    with csv.open("a", encoding="utf-8") as f:
        f.write(f"2026-11-27 08:40:00,team.lead@{domain},form.starter@{domain},Form,Starter\n")
        f.write(f"2026-11-27 08:55:00,team.lead@{domain},{returning},Back,Again\n")
    wait_signal(tab.refreshed, page.run_button.click, 60, "the chat run")
    wait_until(lambda: not tab.jobs.is_running() and page.last_label.text() != "Last run: none yet.", 30,
               "the chat run's report")
    shoot(window, out, "chat-sources")


def chat_todo(out: Path, size: tuple[int, int]) -> None:
    """A second demo whose Chat was created in Support: a new person's request waits in
    "To do in Zendesk" for the Admin Center step no public API can take."""
    data_dir = Path(tempfile.mkdtemp(prefix="evalsync-shots-support-"))
    window = open_demo(data_dir, size, chat_kind="support")
    try:
        tab = window.tab_pages[2]
        wait_signal(tab.refreshed, lambda: window.tabs.setCurrentWidget(tab), 60, "chat agents (Support kind)")
        wait_until(lambda: tab.agents.model.rowCount() and not tab.jobs.is_running(), 60, "the chat agents")
        domain = tab.agents.model.rows[0]["email"].split("@", 1)[1]
        tab.pages.setCurrentWidget(tab.settings)
        tab.management.setChecked(True)
        tab.settings.chat.domains.setText(domain)
        wait_signal(tab.refreshed, tab.settings.chat.save_button.click, 30, "saving the Chat settings")
        page = tab.requests
        fields = page.form.fields
        fields["requester"].setText(f"team.lead@{domain}")
        for email, first, last in ((f"noor.khan@{domain}", "Noor", "Khan"), (f"li.wei@{domain}", "Li", "Wei")):
            fields["email"].setText(email)
            fields["first_name"].setText(first)
            fields["last_name"].setText(last)
            wait_signal(tab.refreshed, page.form.add_button.click, 30, f"request for {email}")
        wait_signal(tab.refreshed, page.process_button.click, 60, "processing the requests")
        wait_until(lambda: not tab.jobs.is_running() and tab.todo.model.rowCount(), 30, "the to-do list")
        tab.pages.setCurrentWidget(tab.todo)
        tab.todo.view.resizeColumnsToContents()
        shoot(window, out, "chat-todo")
    finally:
        window.quit()
        shutil.rmtree(data_dir, ignore_errors=True)


def open_demo(data_dir: Path, size: tuple[int, int], chat_kind: str = "writable"):
    """The real window in demo mode, shown, once its simulator is connected."""
    window = create_window(data_dir, demo=True, log_folder=data_dir / "logs", demo_chat_kind=chat_kind)
    window.resize(*size)
    window.show()
    if window.services.simulator is None:
        wait_signal(window.services.signals.connection_changed, None, 120, "the demo simulator")
    return window


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    parser.add_argument("--size", default="1280x800", help="window size WIDTHxHEIGHT")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    width, height = (int(v) for v in args.size.lower().split("x"))

    qInstallMessageHandler(lambda *a: None if "propagateSizeHints" in a[2] else print(a[2], file=sys.stderr))
    make_qapp([])  # Qt keeps the QApplication as its singleton
    data_dir = Path(tempfile.mkdtemp(prefix="evalsync-shots-"))
    window = None
    try:
        window = open_demo(data_dir, (width, height))
        window.tabs.setCurrentIndex(0)
        quiet_status(window, "Reading custom roles")  # said while the roles load; they have by now
        shoot(window, out, "authenticate")
        user_sync(window, out)
        users_activated(window, out)
        rate_limit_wait(window, out)
        user_sync_runs(window, out)
        chat(window, out, data_dir)
        dialog = window.show_about()
        shoot(dialog, out, "about")
        dialog.close()
        window.quit()
        window = None
        chat_todo(out, (width, height))
        return 0
    except Timeout as exc:
        print(f"take_screenshots: {exc}", file=sys.stderr)
        return 1
    finally:
        if window is not None:
            window.quit()
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
