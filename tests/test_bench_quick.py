"""The benchmark harness: table, count assertions, exit codes (timings are never asserted).

CI proves the whole suite with ``python -m bench --quick --no-write``; these tests keep the
harness itself honest and run one cheap scenario end to end.
"""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pytest

from bench import __main__ as bench_main
from bench.harness import BenchContext, Row, alternate, format_markdown, format_table, median, p99, ratio

REPO = Path(__file__).resolve().parent.parent


def test_count_assertions_record_failures(tmp_path):
    ctx = BenchContext(quick=True, rounds=1, workdir=tmp_path)
    assert ctx.check_count("pages", 1005, 1005)
    assert not ctx.check_count("pages", 1006, 1005)
    assert not ctx.check_count("writes", 4, 5, exact=True)
    assert ctx.count_failures == ["pages: 1006 requests, expected <= 1005", "writes: 4 requests, expected == 5"]


def test_alternate_runs_each_step_once_per_round_in_turn():
    calls = []
    out = alternate(3, [("a", lambda r: calls.append(("a", r)) or 1.0), ("b", lambda r: calls.append(("b", r)) or 2.0)])
    assert calls == [("a", 0), ("b", 0), ("b", 1), ("a", 1), ("a", 2), ("b", 2)]
    assert out == {"a": [1.0, 1.0, 1.0], "b": [2.0, 2.0, 2.0]}


def test_statistics_and_ratio():
    assert median([3.0, 1.0, 2.0]) == 2.0
    assert math.isnan(median([]))
    assert p99(list(range(1, 101))) == 99
    assert ratio(2.0, 1.0) == "2.00×"
    assert ratio(1.0, 0.0) == "—"


def test_table_and_markdown_show_verdicts_and_failures():
    rows = [Row("1. Initial sync", "requests", "1001", target="≤ 1005", met=True),
            Row("7. Cold start", "spawn → first paint", "1.2 s", "0.4 s", "3.00×", "≤ 2.00×", False, note="slow | why")]
    text = format_table(rows)
    assert "NOT MET" in text and "met" in text and "slow | why" in text
    md = format_markdown(rows, quick=True, rounds=1, elapsed=12.0, count_failures=["x: 9 requests, expected <= 3"])
    assert "| 7. Cold start |" in md and "slow | why" in md
    assert "FAILED: x: 9 requests" in md and "## Machine" in md and "Commit:" in md


def test_missing_piece_is_a_row_not_a_crash(tmp_path, monkeypatch):
    ctx = BenchContext(quick=True, rounds=1, workdir=tmp_path)
    rows, crashed = bench_main.run_family(ctx, {7}, "bench.no_such_module", "run")
    assert not crashed
    assert rows[0].note.startswith("not available yet:")


def test_only_rejects_unknown_scenarios():
    with pytest.raises(SystemExit):
        bench_main.parse_args(["--only", "10"])
    assert bench_main.parse_args(["--quick"]).rounds == 1
    assert bench_main.parse_args([]).rounds == 3


@pytest.mark.slow
def test_quick_nothing_changed_scenario_runs_end_to_end():
    proc = subprocess.run([sys.executable, "-m", "bench", "--quick", "--no-write", "--only", "3"], cwd=REPO,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "request-count assertions: all passed" in proc.stdout


def test_merge_keeps_the_rows_of_scenarios_not_run():
    from bench.harness import merge_markdown

    old = format_markdown([Row("1. Initial sync", "requests", "1001", target="≤ 1005", met=True, note="per round"),
                           Row("9. Big selections", "select all", "99 ms", target="≤ 50 ms", met=False)],
                          quick=False, rounds=3, elapsed=60.0, count_failures=[])
    new = format_markdown([Row("9. Big selections", "select all", "12 ms", target="≤ 50 ms", met=True, note="fresh")],
                          quick=False, rounds=3, elapsed=30.0, count_failures=[])
    merged = merge_markdown(old, new, {1, 2, 3, 4, 5, 6, 7, 8})
    table = [ln for ln in merged.split("## Results", 1)[1].split("\n## ", 1)[0].splitlines() if ln.startswith("| ")]
    assert table[1:] == ["| 1. Initial sync | requests | 1001 | — | — | ≤ 1005 | met |",
                         "| 9. Big selections | select all | 12 ms | — | — | ≤ 50 ms | met |"]
    assert "- **1. Initial sync — requests**: per round" in merged and "fresh" in merged and "99 ms" not in merged
    assert "- Scenarios 1: carried over from the run on" in merged


def test_selection_scenario_runs_at_quick_size(tmp_path):
    ctx = BenchContext(quick=True, rounds=1, workdir=tmp_path)
    rows, crashed = bench_main.run_family(ctx, {9}, "bench.selection_scenario", "run")
    assert not crashed and [r.scenario.split(" (")[0] for r in rows] == ["9. Big selections"] * 4
    shown = rows[1].scenario.split(", ")[1].split(" pending")[0]  # the pending users the table showed
    assert rows[1].note.startswith(f"label per round: All {shown} selected; 1-minute load average")
    assert rows[2].note.startswith("click → dialog → Activate")
