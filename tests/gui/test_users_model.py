"""UsersModel: ids from SQL, lazy rows, SQL sorting; checked with qtmodeltester."""

from __future__ import annotations

import time

from PySide6.QtCore import Qt

from evalsync_gui.core import directory
from evalsync_gui.gui.users_model import COLUMNS, ID_ROLE, UsersModel
from tests.gui.users_fixtures import seed_users


def test_model_passes_qtmodeltester(qtmodeltester, ctx):
    seed_users(ctx.db, 300)
    model = UsersModel(ctx.db)
    model.set_view(directory.View(status=None))
    qtmodeltester.check(model, force_py=True)


def test_sort_and_filter_run_in_sql(ctx):
    seed_users(ctx.db, 500)
    model = UsersModel(ctx.db)
    model.set_view(directory.View(status="pending"))
    assert model.rowCount() == directory.counts(ctx.db)["pending"]
    email_col = [c[1] for c in COLUMNS].index("email")
    model.sort(email_col, Qt.SortOrder.DescendingOrder)
    first = model.data(model.index(0, email_col))
    second = model.data(model.index(1, email_col))
    assert first.lower() >= second.lower()
    model.set_view(directory.View(status=None, search="chloe"))
    assert model.rowCount() > 0
    assert all("chloe" in model.data(model.index(r, 0)).lower() for r in range(model.rowCount()))
    assert isinstance(model.data(model.index(0, 0), ID_ROLE), int)


def test_deactivated_rows_show_reason_in_tooltip(ctx):
    seed_users(ctx.db, 200)
    model = UsersModel(ctx.db)
    model.set_view(directory.View(status="deactivated"))
    tip = model.data(model.index(0, 0), Qt.ItemDataRole.ToolTipRole)
    assert "Deactivated by sync: suspended in Zendesk" in tip


def test_the_delegate_paints_what_data_answers(qtbot, ctx):
    """The text and colour the delegate puts in its style option (what gets painted) are the
    model's answers, for every column of a shown row."""
    from PySide6.QtWidgets import QStyleOptionViewItem, QTableView

    from evalsync_gui.gui import theme

    seed_users(ctx.db, 200)
    model = UsersModel(ctx.db)
    model.set_view(directory.View(status="deactivated"))
    view = QTableView()
    qtbot.addWidget(view)
    view.setModel(model)
    painted = []
    for column in range(len(COLUMNS)):
        index = model.index(0, column)
        option = QStyleOptionViewItem()
        view.itemDelegate().initStyleOption(option, index)
        painted.append(option.text)
        assert option.palette.color(option.palette.ColorRole.Text) == theme.colour("muted")
    assert painted == [model.data(model.index(0, c)) for c in range(len(COLUMNS))]
    assert painted[0] and "@" in painted[1] and painted[4] == "Deactivated"


def best_of(times: int, fn) -> float:
    """The fastest of ``times`` runs: budgets are about the code, not a busy CI neighbour."""
    out = []
    for _ in range(times):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return min(out)


def test_100k_users_stay_fast(ctx):
    seed_users(ctx.db, 100_000)
    model = UsersModel(ctx.db)

    def first_rows():
        model.set_view(directory.View(status=None))
        for r in range(40):
            model.data(model.index(r, 0))

    timings = {
        "first_rows": best_of(3, first_rows),
        "sort": best_of(3, lambda: model.sort(2, Qt.SortOrder.DescendingOrder)),
        "jump": best_of(3, lambda: (model.mark_stale(), model.data(model.index(model.rowCount() - 1, 0)))),
        "search": best_of(3, lambda: model.set_view(directory.View(status="pending", search="garcia 9"))),
    }
    assert model.rowCount() > 0
    # Targets: first rows 150 ms, sort 300 ms, jump 100 ms, search 150 ms, measured by bench/
    # (table scenario). Here only a 10x tripwire, so a machine shared by many processes cannot
    # trip it while loading all 100,000 rows (seconds) still does.
    budgets = {"first_rows": 0.15, "sort": 0.3, "jump": 0.1, "search": 0.15}
    assert all(timings[k] < 10 * budgets[k] for k in budgets), timings
