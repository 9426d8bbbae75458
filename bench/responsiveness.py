"""Scenario 6: the window stays responsive while it runs scenario 1's sync."""

from __future__ import annotations

from bench.evalsync_cli import cli_env, connected_data_dir
from bench.harness import BenchContext, Row, fmt_mb, fmt_ms, fmt_s, median, require_ok, run_measured
from bench.simproc import SimProcess
from bench.sync_scenarios import ROLES, _sim_config


def run(ctx: BenchContext) -> list[Row]:
    n = ctx.scale(100_000, 5_000)
    label = f"6. GUI responsiveness (sync of {n:,} agents from the window)"
    runs = []
    with SimProcess(**_sim_config(ctx, n, n)) as sim:
        for _ in range(ctx.rounds):
            data = connected_data_dir(ctx, sim, ROLES, prefix="s6-")
            res = require_ok("heartbeat probe", run_measured("bench.heartbeat_probe", [str(data)], env=cli_env(data),
                                                             timeout=3600))
            runs.append(res.json())
    worst = max(r["max_gap_ms"] for r in runs)
    p99 = median([r["p99_gap_ms"] for r in runs])
    outcomes = "; ".join(f"{r['widget']} sync {r['outcome']}/{r['status']} in {fmt_s(r['sync_s'])}"
                         f"{', ' + r['error'] if r['error'] else ''}, {r['over_50ms']} gaps > 50 ms" for r in runs)
    ok_runs = all(r["outcome"] == "finished" for r in runs)
    return [
        Row(label, "heartbeat max gap (worst round)", fmt_ms(worst), target="≤ 50 ms", met=ok_runs and worst <= 50,
            note=outcomes),
        Row(label, "heartbeat 99th percentile gap (median)", fmt_ms(p99), target="(reported)", met=None,
            note=f"GUI process peak RSS {fmt_mb(max(r['maxrss_mb'] for r in runs))}"),
    ]
