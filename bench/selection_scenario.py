"""Scenario 9: big selections (Ctrl+A, the log panel, activate) with 100,000 users in the window."""

from __future__ import annotations

import os
import shutil

from bench.harness import BenchContext, Row, child_env, fmt_mb, fmt_ms, fmt_s, require_ok, run_measured
from bench.table_scenario import populate

TARGET_MS = 50


def run(ctx: BenchContext) -> list[Row]:
    n = ctx.scale(100_000, 5_000)
    source = ctx.tempdir("s9-src-")
    populate(source, n)
    runs = []
    loads = []
    for _ in range(ctx.rounds):
        data = ctx.tempdir("s9-")
        shutil.copytree(source, data, dirs_exist_ok=True)  # activation changes the folder: a fresh copy each round
        runs.append(require_ok("selection probe", run_measured("bench.selection_probe", [str(data)],
                                                               env=child_env(), timeout=900)).json())
        loads.append(os.getloadavg()[0])  # a shared machine's load shows in every gap
    label = f"9. Big selections ({n:,} users, {runs[0]['rows']:,} pending shown)"
    idle = max(r["idle"]["max_gap_ms"] for r in runs)
    rows = [Row(label, "idle window: heartbeat max gap (worst round)", fmt_ms(idle), target="(reported)",
                note="1.5 s with nothing happening, before the steps below: what the machine itself adds")]
    sel = max(r["select_all"]["max_gap_ms"] for r in runs)
    rows.append(Row(label, "select all (Ctrl+A): heartbeat max gap (worst round)", fmt_ms(sel), target=f"≤ {TARGET_MS} ms",
                    met=sel <= TARGET_MS and all(r["select_all"]["ok"] for r in runs),
                    note="label per round: " + "; ".join(r["select_all"]["label"] for r in runs)
                         + f"; 1-minute load average after each round: {', '.join(f'{x:.1f}' for x in loads)}"
                         + f" on {os.cpu_count()} cores"))
    act = max(r["activate"]["max_gap_ms"] for r in runs)
    rows.append(Row(label, "activate all selected: heartbeat max gap (worst round)", fmt_ms(act),
                    target=f"≤ {TARGET_MS} ms", met=act <= TARGET_MS and all(r["activate"]["ok"] for r in runs),
                    note="click → dialog → Activate → table re-read; per round "
                         + ", ".join(f"{r['activate']['activated']:,} activated in {fmt_s(r['activate']['wall_s'])}"
                                     for r in runs)))
    if all("log_toggle" in r for r in runs):
        log = max(r["log_toggle"]["max_gap_ms"] for r in runs)
        wall = max(r["log_toggle"]["wall_ms"] for r in runs)
        rows.append(Row(label, "toggle the log panel with all selected: heartbeat max gap", fmt_ms(log),
                        target=f"≤ {TARGET_MS} ms", met=log <= TARGET_MS,
                        note=f"worst toggle (trigger → processed) {wall:.0f} ms; selection kept: "
                             f"{all(r['log_toggle']['still_all'] for r in runs)}; GUI process peak RSS "
                             f"{fmt_mb(max(r['maxrss_mb'] for r in runs))}"))
    return rows
