"""Render the User sync tab with a few thousand users offscreen and save a PNG.

    .venv/bin/python packaging/users_tab_screenshot.py /tmp/users_tab.png [N]
"""

from __future__ import annotations

import os
import sys
import tempfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QEventLoop, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from evalsync_gui.core.context import AppContext  # noqa: E402
from evalsync_gui.gui.services import AppSignals, Services  # noqa: E402
from evalsync_gui.gui.users_tab import UsersTab  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from tests.gui.users_fixtures import seed_users  # noqa: E402


def main() -> None:
    out = sys.argv[1] if len(sys.argv) > 1 else "/tmp/users_tab.png"
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 3000
    app = QApplication.instance() or QApplication([])
    ctx = AppContext.create(tempfile.mkdtemp())
    seed_users(ctx.db, n)
    ctx.settings.set("licences.limit", max(150, n // 3))
    tab = UsersTab(Services(ctx=ctx, signals=AppSignals()), start_schedule=False)
    tab.resize(1280, 800)
    tab.show()
    if not tab.rows_loaded:  # the ids are read on the loader thread; a running loop lets it work
        loop = QEventLoop()
        tab.model.modelReset.connect(loop.quit)
        QTimer.singleShot(30_000, loop.quit)
        loop.exec()
    tab.table.selectRow(2)
    app.processEvents()
    tab.grab().save(out)
    tab.shutdown()
    print(out)


if __name__ == "__main__":
    main()
