"""Scenario 8: a batch of Chat access requests against as many agents, 20 ms per request."""

from __future__ import annotations

import csv
import math
import random
import re
from collections import Counter
from pathlib import Path

from bench.evalsync_cli import evalsync
from bench.harness import BenchContext, Row, fmt_s, median, ratio, require_ok
from bench.simproc import SimProcess

LATENCY = 0.02
MAP = ["--map", "requester=requester", "--map", "email=email", "--map", "first_name=first_name",
       "--map", "last_name=last_name"]


def _requests(agents: list[dict], n: int, seed: int) -> tuple[list[tuple[str, str, str, str]], list[str], int]:
    """``n`` requests: existing agents (enabled or not), new people, lookalike domains.

    Returns the rows, the allowed domains and how many agents the batch must change.
    """
    rng = random.Random(seed)
    domains = sorted({a["email"].rsplit("@", 1)[1].lower() for a in agents if a["email"]})
    home = domains[0]
    n_existing, n_new = int(n * 0.6), int(n * 0.25)
    n_bad = n - n_existing - n_new
    existing = rng.sample(agents, min(n_existing, len(agents)))
    rows, changes = [], 0
    for a in existing:
        local = a["email"].split("@")[0]
        rows.append((f"lead@{home}", a["email"], local.split(".")[0].title() or "Agent", "Existing"))
        changes += 0 if a["enabled"] else 1
    for i in range(n_new):
        rows.append((f"lead@{home}", f"new.person{i}@{home}", f"New{i}", "Person"))
        changes += 1
    for i in range(n_bad):
        rows.append((f"lead@{home}", f"intruder{i}@{home}.evil.io", f"Bad{i}", "Actor"))
    rng.shuffle(rows)
    return rows, domains, changes


def _one_round(ctx: BenchContext, n: int, r: int) -> dict:
    with SimProcess(agents=60, admins=2, light_agents=2, end_users=60, chat_agents=n, chat_kind="writable",
                    rate_limit_per_minute=0, incremental_per_minute=0, chat_per_minute=0, latency=LATENCY,
                    seed=80 + r) as sim:
        agents = sim.call("chat_agents")
        rows, domains, changes = _requests(agents, n, seed=r)
        data = ctx.tempdir("s8-")
        require_ok("evalsync connect", evalsync(data, "connect", "--subdomain", sim.subdomain, "--base-url",
                                                sim.base_url, "--email", sim.email, "--api-token-stdin",
                                                stdin=sim.token + "\n"))
        chat_id, chat_secret = sim.chat_client
        require_ok("evalsync chat connect", evalsync(data, "chat", "connect", "--client-id", chat_id,
                                                     "--client-secret-stdin", "--grant", "client_credentials",
                                                     "--base-url", sim.base_url, stdin=chat_secret + "\n"))
        require_ok("evalsync chat config", evalsync(data, "chat", "config", "--domains", ",".join(domains),
                                                    "--kind", "writable", "--management", "on"))
        csv_path = data / "requests.csv"
        with open(csv_path, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["requester", "email", "first_name", "last_name"])
            w.writerows(rows)
        require_ok("evalsync chat requests import", evalsync(data, "chat", "requests", "import", str(csv_path), *MAP))
        sim.clear_log()
        res = evalsync(data, "chat", "requests", "process", "--json", timeout=3600)
        require_ok("evalsync chat requests process", res)
        log = sim.log(entries=True)
    entries = log["entries"]
    extract = sum(1 for e in entries if e[0] == "GET" and e[1].rstrip("/").split(".json")[0] == "/api/v2/chat/agents")
    writes = sum(1 for e in entries if e[0] in ("POST", "PUT", "DELETE"))
    return {"wall": res.wall, "count": log["count"], "extract": extract, "writes": writes, "changes": changes,
            "agents": len(agents), "other": log["count"] - extract - writes,
            "by_path": dict(Counter(f"{e[0]} {re.sub(r'/[0-9]+', '/{id}', e[1])}" for e in entries))}


def run(ctx: BenchContext) -> list[Row]:
    n = ctx.scale(1_500, 150)
    label = f"8. Chat batch ({n:,} requests, {n:,} agents, 20 ms latency)"
    runs = []
    for r in range(ctx.rounds):
        got = _one_round(ctx, n, r)
        runs.append(got)
        pages_max = math.ceil(got["agents"] / 100) + 1
        ctx.check_count(f"scenario 8 round {r + 1}: extract pages", got["extract"], pages_max)
        ctx.check_count(f"scenario 8 round {r + 1}: writes = changed agents", got["writes"], got["changes"], exact=True)
        ctx.check_count(f"scenario 8 round {r + 1}: total = extract pages + writes", got["count"],
                        got["extract"] + got["changes"], exact=True)
    wall = median([g["wall"] for g in runs])
    budget = median([g["count"] * LATENCY for g in runs])
    last = runs[-1]
    counts_ok = all(g["count"] == g["extract"] + g["changes"] and g["writes"] == g["changes"] for g in runs)
    return [
        Row(label, "requests", str(last["count"]), "—", "—", f"= {last['extract']} pages + {last['changes']} writes",
            counts_ok, note=f"per round (total, extract, writes, other): "
                            f"{[(g['count'], g['extract'], g['writes'], g['other']) for g in runs]}; paths {last['by_path']}"),
        Row(label, "wall vs requests × 20 ms", fmt_s(wall), fmt_s(budget), ratio(wall, budget), "≤ 1.20×",
            wall <= 1.2 * budget),
    ]
