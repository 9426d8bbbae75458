"""``python -m bench [--quick] [--no-write] [--only N,...] [--rounds R]``.

Runs the scenarios of issue 6, prints the table and writes docs/BENCHMARKS.md (unless
``--no-write``; ``--quick`` writes nothing unless ``--write`` is given). Exit status: 0, or 1
when a request-count assertion failed (timings are reported, never asserted), or 2 when a
scenario crashed.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from bench.harness import (REPO, BenchContext, NotAvailable, Row, format_markdown, format_table, merge_markdown,
                           write_markdown)

FAMILIES: list[tuple[set[int], str, str]] = [
    # (scenarios, module, function); each function takes (ctx, only) or (ctx)
    ({1, 2, 3}, "bench.sync_scenarios", "run_sync_family"),
    ({4}, "bench.sync_scenarios", "run_rate_limited"),
    ({5}, "bench.table_scenario", "run"),
    ({6}, "bench.responsiveness", "run"),
    ({7}, "bench.cold_start", "run"),
    ({8}, "bench.chat_scenario", "run"),
    ({9}, "bench.selection_scenario", "run"),
]
TITLES = {1: "1. Initial sync", 2: "2. Scheduled sync", 3: "3. Sync with nothing changed", 4: "4. Rate-limited",
          5: "5. Users table", 6: "6. GUI responsiveness", 7: "7. Cold start", 8: "8. Chat batch",
          9: "9. Big selections"}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[1])
    p.add_argument("--quick", action="store_true", help="small sizes, 1 round (CI proves the suite works)")
    p.add_argument("--no-write", action="store_true", help="do not write docs/BENCHMARKS.md")
    p.add_argument("--write", action="store_true", help="write docs/BENCHMARKS.md even with --quick")
    p.add_argument("--only", metavar="N,...", help="run only these scenarios (1-9)")
    p.add_argument("--rounds", type=int, metavar="R", help="rounds per scenario (default 3; 1 with --quick)")
    p.add_argument("--output", metavar="FILE", default=str(REPO / "docs" / "BENCHMARKS.md"))
    p.add_argument("--keep", action="store_true", help="keep the scratch folder (data folders, databases)")
    p.add_argument("--merge", action="store_true",
                   help="keep the rows of the scenarios not run (with --only) from the existing output file")
    args = p.parse_args(argv)
    try:
        args.only_set = {int(x) for x in args.only.split(",")} if args.only else set(TITLES)
    except ValueError:
        p.error("--only takes scenario numbers, e.g. --only 1,3")
    if not args.only_set <= set(TITLES):
        p.error(f"scenarios are numbered 1 to {max(TITLES)}")
    args.rounds = args.rounds or (1 if args.quick else 3)
    return args


def _call(module: str, func: str, ctx: BenchContext, only: set[int]) -> list[Row]:
    import importlib
    import inspect

    fn: Callable = getattr(importlib.import_module(module), func)
    return fn(ctx, only) if len(inspect.signature(fn).parameters) == 2 else fn(ctx)


def run_family(ctx: BenchContext, scenarios: set[int], module: str, func: str) -> tuple[list[Row], bool]:
    """Rows of one family; a missing piece is a row, a crash is a row plus a failed run."""
    started = time.perf_counter()
    names = ", ".join(TITLES[n] for n in sorted(scenarios))
    print(f"… {names}", file=sys.stderr, flush=True)
    try:
        rows = _call(module, func, ctx, scenarios)
        crashed = False
    except (NotAvailable, ImportError) as exc:
        rows = [Row(TITLES[n], "—", note=f"not available yet: {exc}") for n in sorted(scenarios)]
        crashed = False
    except Exception as exc:  # noqa: BLE001 - one broken scenario must not hide the others
        traceback.print_exc()
        rows = [Row(TITLES[n], "—", note=f"crashed: {type(exc).__name__}: {str(exc)[:300]}") for n in sorted(scenarios)]
        crashed = True
    print(f"  done in {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    return rows, crashed


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="evalsync-bench-"))
    ctx = BenchContext(quick=args.quick, rounds=args.rounds, workdir=workdir)
    started = time.perf_counter()
    rows: list[Row] = []
    crashed = False
    try:
        for scenarios, module, func in FAMILIES:
            chosen = scenarios & args.only_set
            if chosen:
                got, bad = run_family(ctx, chosen, module, func)
                rows += got
                crashed |= bad
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    elapsed = time.perf_counter() - started
    print()
    print(format_table(rows))
    print()
    for failure in ctx.count_failures:
        print(f"REQUEST COUNT FAILED: {failure}")
    print(f"{len(rows)} rows in {elapsed:.0f} s; request-count assertions: "
          f"{'FAILED' if ctx.count_failures else 'all passed'}")
    if not args.no_write and (args.write or not args.quick):
        text = format_markdown(rows, quick=args.quick, rounds=args.rounds, elapsed=elapsed,
                               count_failures=ctx.count_failures)
        if args.merge and Path(args.output).exists():
            text = merge_markdown(Path(args.output).read_text(encoding="utf-8"), text, set(TITLES) - args.only_set)
        write_markdown(Path(args.output), text)
        print(f"wrote {args.output}")
    if ctx.count_failures:
        return 1
    return 2 if crashed else 0


if __name__ == "__main__":
    raise SystemExit(main())
