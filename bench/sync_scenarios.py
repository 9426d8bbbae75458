"""Scenarios 1 to 4: initial sync, scheduled sync after 6 hours of change, nothing changed,
and the rate-limited sync. All against a simulator in its own process on loopback."""

from __future__ import annotations

import math
import time
from pathlib import Path

import httpx

from bench.evalsync_cli import connected_data_dir, sync
from bench.harness import (BenchContext, Row, alternate, child_env, fmt_mb, fmt_s, median, ratio, require_ok,
                           run_measured)
from bench.simproc import SimProcess

ROLES = "agent,admin"
ADMINS, LIGHT = 5, 10


def _sim_config(ctx: BenchContext, agents: int, end_users: int, **limits: int | float) -> dict:
    """A big account, limits off unless given (benchmarks measure the client, not the throttle)."""
    cfg = dict(agents=agents - ADMINS - LIGHT, admins=ADMINS, light_agents=LIGHT, end_users=end_users,
               chat_agents=10, rate_limit_per_minute=0, incremental_per_minute=0, chat_per_minute=0, seed=6)
    cfg.update(limits)
    return cfg


def _baseline_env(sim: SimProcess, **extra: str) -> dict[str, str]:
    return child_env(BENCH_BASE_URL=sim.base_url, BENCH_EMAIL=sim.email, BENCH_TOKEN=sim.token, BENCH_ROLES=ROLES,
                     **extra)


# ----- scenarios 1, 2, 3 share one simulator -------------------------------------------------------

def run_sync_family(ctx: BenchContext, only: set[int]) -> list[Row]:
    n = ctx.scale(100_000, 5_000)
    rows: list[Row] = []
    with SimProcess(**_sim_config(ctx, n, n)) as sim:
        in_scope = sim.call("in_scope", roles=ROLES.split(","))
        data = None
        if only & {1, 2, 3}:
            rows += _initial_sync(ctx, sim, in_scope, measure_baselines=1 in only)
            data = ctx.shared.get("synced_dir")
        if data is not None and 2 in only:
            rows += _scheduled_sync(ctx, sim, data)
        if data is not None and 3 in only:
            rows += _nothing_changed(ctx, sim, data)
    return rows


def _initial_sync(ctx: BenchContext, sim: SimProcess, in_scope: int, measure_baselines: bool) -> list[Row]:
    label = f"1. Initial sync ({in_scope:,} agents + {ctx.scale(100_000, 5_000):,} end users)"
    limit = math.ceil(in_scope / 100) + 5
    rss: list[float] = []
    counts: list[int] = []
    fails: list[str] = []

    def evalsync_run(r: int) -> float:
        data = connected_data_dir(ctx, sim, ROLES, prefix="s1-")
        sim.clear_log()
        res, out = sync(data)
        count = sim.log()["count"]
        counts.append(count)
        ctx.check_count(f"scenario 1 round {r + 1}", count, limit)
        if res.peak_rss_mb is not None:
            rss.append(res.peak_rss_mb)
        if res.rc != 0 or out.get("status") not in (None, "completed", "ok", "success"):
            fails.append(f"round {r + 1}: exit {res.rc}, {out.get('status')} {out.get('error') or ''}".strip())
        ctx.shared["synced_dir"] = data          # the last round's folder feeds scenarios 2, 3 and 5
        return res.wall

    def floor_run(r: int) -> float:
        res = require_ok("floor baseline", run_measured("bench.floor", [], env=_baseline_env(sim)))
        got = res.json()
        if got["users"] != in_scope:
            fails.append(f"floor read {got['users']} users, simulator has {in_scope}")
        return res.wall

    def peer_run(r: int) -> float:
        db = ctx.tempdir("peer-") / "peer.sqlite3"
        res = require_ok("zenpy baseline", run_measured("bench.peer", [], env=_baseline_env(sim, BENCH_DB=str(db))))
        return res.wall

    steps = [("evalsync", evalsync_run)]
    if measure_baselines:
        steps = [("floor", floor_run), ("evalsync", evalsync_run), ("peer", peer_run)]
    times = alternate(ctx.rounds, steps)
    es = median(times["evalsync"])
    note = "; ".join(fails)
    rows = [Row(label, "requests", str(max(counts)), "—", "—", f"≤ {limit}", max(counts) <= limit,
                note=f"per round: {counts}")]
    if not measure_baselines:
        return rows
    fl, pe = median(times["floor"]), median(times["peer"])
    rows += [
        Row(label, "wall vs floor (bare httpx loop)", fmt_s(es), fmt_s(fl), ratio(es, fl), "≤ 1.30×",
            es <= 1.3 * fl, note=note),
        Row(label, "wall vs peer (zenpy + executemany)", fmt_s(es), fmt_s(pe), ratio(es, pe), "≤ 0.50× (2× faster)",
            es * 2 <= pe),
        Row(label, "peak RSS of the sync process", fmt_mb(max(rss) if rss else None), "—", "—", "≤ 200 MB",
            bool(rss) and max(rss) <= 200),
    ]
    return rows


def _replay_time(sim: SimProcess, entries: list[list]) -> float:
    """The simulator's own time for EvalSync's requests: the same GET URLs, bare httpx, no parsing."""
    auth = (f"{sim.email}/token", sim.token)
    gets = [e for e in entries if e[0] == "GET"]
    with httpx.Client(auth=auth, timeout=60) as client:
        t0 = time.perf_counter()
        for _method, path, query, _status in gets:
            client.get(f"{sim.base_url}{path}{'?' + query if query else ''}").read()
        return time.perf_counter() - t0


def _scheduled_sync(ctx: BenchContext, sim: SimProcess, data: Path) -> list[Row]:
    agents, end_users = ctx.scale(500, 25), ctx.scale(5_000, 250)
    label = f"2. Scheduled sync after 6 h of change ({agents:,} agent + {end_users:,} end-user changes)"
    limit = math.ceil((agents + end_users) / 1000) + 5
    walls, sims, counts, notes = [], [], [], []
    for r in range(ctx.rounds):
        sim.call("change", agents=agents, end_users=end_users, seed=100 + r)
        sim.call("advance", seconds=6 * 3600)
        sim.clear_log()
        res, out = sync(data)
        log = sim.log(entries=True)
        counts.append(log["count"])
        ctx.check_count(f"scenario 2 round {r + 1}", log["count"], limit)
        walls.append(res.wall)
        sims.append(_replay_time(sim, log["entries"]))
        if res.rc != 0:
            notes.append(f"round {r + 1}: exit {res.rc} ({out.get('status')})")
    es, st = median(walls), median(sims)
    note = "baseline = the simulator's own time for the same requests (replayed with bare httpx)"
    return [
        Row(label, "requests", str(max(counts)), "—", "—", f"≤ {limit}", max(counts) <= limit,
            note=f"per round: {counts}"),
        Row(label, "wall vs 1 s + simulator time", fmt_s(es), f"1 s + {fmt_s(st)}", ratio(es, 1.0 + st),
            "≤ 1.00×", es <= 1.0 + st, note="; ".join([note, *notes])),
    ]


def _nothing_changed(ctx: BenchContext, sim: SimProcess, data: Path) -> list[Row]:
    label = "3. Sync with nothing changed"
    sim.call("advance", seconds=120)
    counts, walls = [], []
    for r in range(ctx.rounds):
        sim.clear_log()
        res, _out = sync(data)
        counts.append(sim.log()["count"])
        walls.append(res.wall)
        ctx.check_count(f"scenario 3 round {r + 1}", counts[-1], 3)
    return [Row(label, "requests", str(max(counts)), "—", "—", "≤ 3", max(counts) <= 3,
                note=f"per round: {counts}; median wall {fmt_s(median(walls))}")]


# ----- scenario 4 -----------------------------------------------------------------------------------

def run_rate_limited(ctx: BenchContext) -> list[Row]:
    agents = ctx.scale(30_000, 5_000)
    per_minute = ctx.scale(120, 40)
    label = f"4. Rate-limited ({per_minute}/min, {agents:,} agents)"
    walls, least, n429, notes = [], [], [], []
    with SimProcess(**_sim_config(ctx, agents, ctx.scale(1_000, 200), rate_limit_per_minute=per_minute)) as sim:
        in_scope = sim.call("in_scope", roles=ROLES.split(","))
        limit = math.ceil(in_scope / 100) + 5
        for r in range(ctx.rounds):
            data = connected_data_dir(ctx, sim, ROLES, prefix="s4-")
            now = sim.call("now")
            boundary = math.floor(now / 60) * 60 + 60
            # Full: start a fresh window. Quick: 3 s before a fresh window ends, so the limit binds briefly.
            target = boundary + (57.0 if ctx.quick else 0.02)
            t0 = sim.call("advance", seconds=target - now)
            sim.clear_log()
            res, out = sync(data)
            log = sim.log()
            got429 = int(log["statuses"].get("429", 0))
            ok = log["count"] - got429
            ctx.check_count(f"scenario 4 round {r + 1} (successful requests)", ok, limit)
            windows = math.ceil(ok / per_minute) - 1
            window_start = math.floor(t0 / 60) * 60
            least.append(max(0.0, window_start + windows * 60 - t0) if windows > 0 else 0.0)
            walls.append(res.wall)
            n429.append((got429, res.wall))
            if res.rc != 0:
                notes.append(f"round {r + 1}: exit {res.rc} ({out.get('status')} {out.get('error') or ''})")
    es, lt = median(walls), median(least)
    worst = max(n / max(1, math.ceil(w / 60)) for n, w in n429)
    return [
        Row(label, "wall vs least time the limit allows", fmt_s(es), fmt_s(lt), ratio(es, lt), "≤ 1.10×",
            lt > 0 and es <= 1.1 * lt, note="; ".join(notes)),
        Row(label, "429 responses per minute", f"{worst:.1f}", "—", "—", "≤ 1 per minute", worst <= 1,
            note=f"(429s, wall) per round: {[(n, round(w, 1)) for n, w in n429]}"),
    ]
