"""The composition root of the desktop app: parse flags, wire core to gui, run Qt.

``python main.py [--data-dir DIR] [--demo [--demo-chat-kind support]] [--base-url URL] [--self-test]``

* ``--demo`` starts the bundled Zendesk simulator in-process (off the GUI thread), uses a
  throwaway data folder and an in-memory keyring, and pre-connects with an API token and the
  Chat API client (writable Chat; ``--demo-chat-kind support`` for Chat created in Support).
* ``--self-test`` opens the window offscreen, checks keyring, SQLite and the simulator,
  prints a short report and exits 0 (or 1). The frozen build runs it in CI.
* A second launch on the same data folder brings the running window to the front.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from evalsync_gui import APP_AUTHOR, APP_ID, APP_NAME, __version__
from evalsync_gui.core.context import AppContext
from evalsync_gui.core.errors import Cancelled, EvalsyncError
from evalsync_gui.core.logsetup import resolve_log_dir, setup_logging
from evalsync_gui.core.paths import resolve_data_dir, resource_path

log = logging.getLogger("evalsync.app")

# A demo org big enough to feel real (a few thousand agents) yet seeded in a moment.
DEMO_ORG = dict(agents=3000, admins=10, end_users=2000, chat_agents=300, seed=7)
SELF_TEST_ORG = dict(agents=20, admins=2, end_users=20, chat_agents=5, seed=7)
DEMO_BANNER = "Demo: simulated Zendesk at {url} — nothing here touches a real Zendesk account."


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="evalsync-gui", description=f"{APP_NAME} desktop app.")
    parser.add_argument("--version", action="version", version=f"{APP_NAME} {__version__}")
    parser.add_argument("--data-dir", metavar="DIR", help="data folder (default: $EVALSYNC_DATA_DIR or the per-user folder)")
    parser.add_argument("--demo", action="store_true", help="run against a built-in simulated Zendesk")
    parser.add_argument("--demo-chat-kind", choices=("writable", "support"), default="writable",
                        help="with --demo: 'support' simulates Chat created in Support (admin steps in Admin Center)")
    parser.add_argument("--base-url", metavar="URL", help="Zendesk base URL override (e.g. a simulator on 127.0.0.1)")
    parser.add_argument("--self-test", action="store_true", help="check window, keyring, SQLite and simulator, then exit")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging, also on standard error")
    return parser


# -- icon and Qt application -----------------------------------------------------------------
def app_icon() -> Any:
    """The app icon: the SVG (sharp at any DPI) plus the rendered PNGs as fallbacks."""
    from PySide6.QtGui import QIcon

    icon = QIcon(str(resource_path("evalsync.svg")))
    for size in (16, 24, 32, 48, 64, 128, 256, 512):
        png = resource_path(f"icons/evalsync-{size}.png")
        if png.exists():
            icon.addFile(str(png))
    return icon


def make_qapp(argv: Sequence[str], *, icon: bool = True) -> Any:
    """The QApplication with EvalSync's names; ``icon=False`` leaves the icon to the window.

    ``main()`` passes ``icon=False``: the window sets the app icon right after its first
    paint, because reading the icon files would delay that paint by ~10 ms.
    """
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([sys.argv[0], *argv])
    app.setApplicationName(APP_NAME)
    app.setApplicationDisplayName(APP_NAME)
    app.setOrganizationName(APP_AUTHOR)
    app.setApplicationVersion(__version__)
    app.setDesktopFileName(APP_ID)
    if icon:
        app.setWindowIcon(app_icon())
    return app


# -- demo mode -------------------------------------------------------------------------------
def use_memory_keyring() -> None:
    """Demo tokens are throwaway: keep them in memory, never in the user's real keyring."""
    import keyring
    from keyring.backend import KeyringBackend

    class DemoMemoryKeyring(KeyringBackend):
        """In-memory keyring for --demo only (lost on exit, never written to disk)."""

        priority = 1  # type: ignore[assignment]

        def __init__(self) -> None:
            super().__init__()
            self._values: dict[tuple[str, str], str] = {}

        def get_password(self, service: str, username: str) -> str | None:
            return self._values.get((service, username))

        def set_password(self, service: str, username: str, password: str) -> None:
            self._values[(service, username)] = password

        def delete_password(self, service: str, username: str) -> None:
            self._values.pop((service, username), None)

    keyring.set_keyring(DemoMemoryKeyring())
    # The demo's memory keyring wins over a server's EVALSYNC_KEYRING=encrypted-file choice.
    os.environ.pop("EVALSYNC_KEYRING", None)


def start_simulator(org: dict[str, int]) -> Any:
    """Build and start an in-process simulator (blocking; run it off the GUI thread)."""
    from evalsync_gui.sim import SimConfig, Simulator

    sim = Simulator(SimConfig(**org))
    sim.start()
    return sim


def preconnect(ctx: AppContext, sim: Any) -> str | None:
    """Connect ``ctx`` to the simulator with its API token; returns an error line or None."""
    try:
        from evalsync_gui.core.auth.session import connect_api_token
    except ImportError:
        # TODO(auth): remove this guard once core.auth.session.connect_api_token has landed.
        log.warning("Demo pre-connect skipped: evalsync_gui.core.auth.session.connect_api_token is not available yet")
        return "Connect on the Authenticate tab with the simulator's API token (pre-connect is not available yet)."
    from evalsync_gui.core.chat import connection

    subdomain = getattr(sim, "subdomain", None) or getattr(getattr(sim, "config", None), "subdomain", "demo")
    try:
        connect_api_token(ctx, subdomain, sim.admin_email, sim.api_token, base_url=sim.base_url)
        # The Chat API connection too (its own client, as on a real account), by client credentials.
        connection.connect(ctx, sim.chat_client_id, sim.chat_client_secret, grant="client_credentials",
                           oauth_base=sim.base_url)
    except EvalsyncError as exc:
        log.warning("Demo pre-connect failed: %s", exc)
        return str(exc)
    return None


def demo_job(task: Any, ctx: AppContext, org: dict[str, int]) -> tuple[Any, str | None]:
    """Worker body for --demo: start the simulator, then pre-connect. Stops the simulator if cancelled."""
    task.report("Starting the simulated Zendesk…")
    sim = start_simulator(org)
    if task.is_cancelled():
        sim.stop()
        raise Cancelled("Demo start cancelled.")
    ctx.base_url = sim.base_url
    task.report("Connecting to the simulated Zendesk…")
    error = preconnect(ctx, sim)
    if task.is_cancelled():
        sim.stop()
        raise Cancelled("Demo start cancelled.")
    return sim, error


def preconfigure_demo(ctx: AppContext) -> None:
    """Demo only: tick Agents and Admins (User sync part 2) so a newcomer just presses Enable.

    The schedule itself stays off: enabling it is the newcomer's decision.
    """
    from evalsync_gui.core.sync.config import SyncConfig, load_config, save_config

    try:
        if not load_config(ctx).roles:
            save_config(ctx, SyncConfig(roles=["agent", "admin"], enabled=False))
    except EvalsyncError as exc:  # the demo still works; the tab just starts unticked
        log.warning("Demo pre-configuration skipped: %s", exc)


def start_demo(window: Any, services: Any, chat_kind: str = "writable") -> Any:
    """Run :func:`demo_job` off the GUI thread and wire its outcome into the window.

    ``chat_kind`` "support" simulates an account whose Chat was created in Support."""
    from evalsync_gui.gui.workers import TaskController

    controller = TaskController(window, name="demo")
    signals = services.signals
    window.set_banner("Demo: starting a simulated Zendesk…")

    def started(outcome: tuple[Any, str | None]) -> None:
        sim, error = outcome
        services.simulator = sim
        window.set_banner(DEMO_BANNER.format(url=sim.base_url))
        signals.connection_changed.emit()
        signals.status_message.emit(error or f"Connected to the simulated Zendesk as {sim.admin_email}.")
        log.info("Demo simulator ready at %s", sim.base_url)

    def failed(message: str) -> None:
        window.set_banner(f"Demo: the simulated Zendesk did not start ({message})")
        signals.status_message.emit(f"Demo could not start: {message}")

    controller.progress.connect(lambda text: signals.status_message.emit(str(text)))
    controller.finished.connect(started)
    controller.failed.connect(failed)
    window.shutdown_hooks.append(controller.shutdown)
    controller.start(demo_job, services.ctx, {**DEMO_ORG, "chat_kind": chat_kind})
    return controller


# -- self-test -------------------------------------------------------------------------------
def _check(report: list[tuple[bool, str, str]], name: str, fn: Any) -> None:
    try:
        detail = fn()
        report.append((True, name, str(detail)))
    except Exception as exc:  # the self-test reports every failure, then exits 1
        report.append((False, name, f"{type(exc).__name__}: {exc}"))


def _check_keyring() -> str:
    import keyring
    from keyring.backends import fail

    backend = keyring.get_keyring()
    if isinstance(backend, fail.Keyring):
        raise RuntimeError("no keyring backend found (keyring.backends.fail); start a Secret Service/KWallet")
    cls = type(backend)
    return f"{cls.__module__}.{cls.__qualname__} (priority {getattr(backend, 'priority', '?')})"


def _check_sqlite(folder: Path) -> str:
    import sqlite3

    from evalsync_gui.core.store.db import Database

    db = Database(folder / "selftest.db")
    try:
        with db.transaction() as conn:
            conn.execute("INSERT INTO settings (key, value) VALUES ('selftest', '1')")
        value = db.scalar("SELECT value FROM settings WHERE key = 'selftest'")
        version = db.scalar("PRAGMA user_version")
    finally:
        db.close()
    if value != "1":
        raise RuntimeError(f"read back {value!r}")
    return f"SQLite {sqlite3.sqlite_version}, schema v{version}"


def _check_simulator() -> str:
    import httpx

    sim = start_simulator(SELF_TEST_ORG)
    try:
        response = httpx.get(f"{sim.base_url}/api/v2/users/me.json", auth=(f"{sim.admin_email}/token", sim.api_token),
                             timeout=10)
        response.raise_for_status()
        email = response.json()["user"]["email"]
        if email != sim.admin_email:
            raise RuntimeError(f"users/me answered {email!r}")
        # The sync's typed page decoder is a compiled extension (msgspec) a bundle could lose.
        from evalsync_gui.core.sync.users import ZendeskUser, decode_page

        page = httpx.get(f"{sim.base_url}/api/v2/users.json", params=[("role[]", "agent"), ("page[size]", "100")],
                         auth=(f"{sim.admin_email}/token", sim.api_token), timeout=10)
        page.raise_for_status()
        users = decode_page(page.content).get("users") or []
        if not users or type(users[0]) is not ZendeskUser:
            raise RuntimeError("a users page did not decode into typed records")
        return f"{sim.base_url} answered users/me as {email}; a users page decoded ({len(users)} users)"
    finally:
        sim.stop()


def _check_window(folder: Path) -> str:
    from PySide6.QtWidgets import QApplication

    from evalsync_gui.gui.main_window import MainWindow
    from evalsync_gui.gui.services import AppSignals, Services

    ctx = AppContext.create(folder / "data")
    window = MainWindow(Services(ctx=ctx, signals=AppSignals()), icon=app_icon())
    window.show()
    QApplication.processEvents()
    window.ensure_tabs()  # normally built right after the first paint; the check needs them now
    titles = [window.tabs.tabText(i).replace("&", "") for i in range(window.tabs.count())]
    window.close()
    window.deleteLater()
    QApplication.processEvents()
    if "ctx" in vars(ctx) or "db" in vars(ctx):
        ctx.db.close()
    return f"'{window.windowTitle()}' with tabs {', '.join(titles)}"


def _quiet_qt_message(mode: Any, context: Any, message: str) -> None:
    # The offscreen platform warns about window size hints it cannot honour; expected here.
    if "propagateSizeHints" not in message and sys.__stderr__ is not None:
        print(message, file=sys.__stderr__)


def run_self_test() -> int:
    """Check the pieces a frozen build most often loses; print a report; 0 when all pass."""
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtCore import qInstallMessageHandler

    qInstallMessageHandler(_quiet_qt_message)
    make_qapp([])
    report: list[tuple[bool, str, str]] = []
    with tempfile.TemporaryDirectory(prefix="evalsync-selftest-") as tmp:
        folder = Path(tmp)
        _check(report, "window", lambda: _check_window(folder))
        _check(report, "keyring", _check_keyring)
        _check(report, "sqlite", lambda: _check_sqlite(folder))
        _check(report, "simulator", _check_simulator)
    passed = all(ok for ok, _, _ in report)
    lines = [f"{APP_NAME} {__version__} self-test ({'frozen' if getattr(sys, 'frozen', False) else 'source'})"]
    lines += [f"  {'ok  ' if ok else 'FAIL'} {name:<10} {detail}" for ok, name, detail in report]
    lines.append("self-test passed" if passed else "self-test FAILED")
    _print_report("\n".join(lines))
    return 0 if passed else 1


def _print_report(text: str) -> None:
    """Print to stdout; a windowed Windows build has none, so it writes selftest.txt in the log folder."""
    if sys.stdout is not None:
        print(text, flush=True)
        return
    folder = resolve_log_dir()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "selftest.txt").write_text(text + "\n", encoding="utf-8")


# -- normal start ----------------------------------------------------------------------------
NO_DISPLAY = ("EvalSync needs a display and none was found (DISPLAY and WAYLAND_DISPLAY are unset): run it in a "
              "desktop session, or try it headless with `xvfb-run -a make run`; the `evalsync` command "
              "needs no display.")


def no_display(environ: dict[str, str] | None = None, platform: str = sys.platform) -> bool:
    """True on Linux with no X11 or Wayland display and no Qt platform chosen.

    Checked before Qt starts: without a display Qt aborts the process after a misleading
    "xcb-cursor0 is needed" message, which sends a newcomer reinstalling libraries.
    """
    env = os.environ if environ is None else environ
    if not platform.startswith("linux"):
        return False
    return not any(env.get(name) for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"))


def main(argv: Sequence[str] | None = None) -> int:
    args, qt_args = build_parser().parse_known_args(argv)
    if args.self_test:
        return run_self_test()
    if no_display():
        print(NO_DISPLAY, file=sys.stderr)
        return 1

    demo_dir: Path | None = None
    if args.demo and not args.data_dir:
        demo_dir = Path(tempfile.mkdtemp(prefix="evalsync-demo-"))
    try:
        return _start(args, qt_args, resolve_data_dir(args.data_dir or demo_dir))
    finally:
        if demo_dir is not None:
            shutil.rmtree(demo_dir, ignore_errors=True)


def _start(args: argparse.Namespace, qt_args: Sequence[str], data_dir: Path) -> int:
    app = make_qapp(qt_args, icon=False)

    from evalsync_gui.gui.single_instance import notify_running, server_name_for

    instance_name = server_name_for(data_dir)
    if notify_running(instance_name):
        print(f"{APP_NAME} is already running on {data_dir}; brought its window to the front.")
        return 0
    try:
        log_file = setup_logging(logging.DEBUG if args.verbose else logging.INFO, console=args.verbose)
    except EvalsyncError as exc:  # an unwritable log folder must not stop the app
        print(f"{APP_NAME}: logging to a file is off: {exc}", file=sys.stderr)
        log_file = None
    log.info("%s %s starting (data folder %s%s)", APP_NAME, __version__, data_dir, ", demo" if args.demo else "")
    try:
        return _run(app, args, data_dir, instance_name, log_file)
    except EvalsyncError as exc:
        from PySide6.QtWidgets import QMessageBox

        QMessageBox.critical(None, APP_NAME, str(exc))
        return exc.exit_code


def create_window(data_dir: Path, *, base_url: str | None = None, demo: bool = False,
                  log_folder: Path | None = None, demo_chat_kind: str = "writable") -> Any:
    """Build context, services and the main window (also used by packaging/take_screenshots.py).

    In demo mode this switches to the in-memory keyring and starts the simulator off-thread.
    """
    from evalsync_gui.gui.main_window import MainWindow
    from evalsync_gui.gui.services import AppSignals, Services

    if demo:
        use_memory_keyring()
    ctx = AppContext.create(data_dir, base_url)
    if demo:
        preconfigure_demo(ctx)
    services = Services(ctx=ctx, signals=AppSignals(), demo=demo)
    window = MainWindow(services, icon=app_icon, log_folder=log_folder or resolve_log_dir())
    window.tabs_ready.connect(lambda: _set_app_icon(window.icon))  # dialogs and the tray use it too
    if demo:
        window.demo_controller = start_demo(window, services, demo_chat_kind)
    return window


def _set_app_icon(icon: Any) -> None:
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is not None and app.windowIcon().isNull():
        app.setWindowIcon(icon)


def _quit_on_signals(window: Any) -> None:
    """Ctrl+C in the terminal (``make run``) and SIGTERM close the window cleanly."""
    import signal

    from PySide6.QtCore import QTimer

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: window.quit())
    # Python runs signal handlers only between bytecodes; a cheap timer gives it the chance.
    timer = QTimer(window)
    timer.timeout.connect(lambda: None)
    timer.start(250)


def _run(app: Any, args: argparse.Namespace, data_dir: Path, instance_name: str, log_file: Path | None) -> int:
    from evalsync_gui.gui.single_instance import SingleInstance
    from evalsync_gui.gui.workers import wait_for_orphans

    window = create_window(data_dir, base_url=args.base_url, demo=args.demo,
                           log_folder=log_file.parent if log_file else None, demo_chat_kind=args.demo_chat_kind)
    instance = SingleInstance(instance_name, window)
    instance.activation_requested.connect(window.bring_to_front)
    instance.listen()
    window.shutdown_hooks.append(instance.close)
    window.show()
    _quit_on_signals(window)
    started = time.monotonic()
    code = app.exec()
    window.shutdown()  # no-op after a normal close; covers app.quit() from elsewhere
    wait_for_orphans(3000)
    ctx = window.services.ctx
    if "db" in vars(ctx):
        ctx.db.close()
    log.info("%s exited after %.0f s", APP_NAME, time.monotonic() - started)
    return int(code)
