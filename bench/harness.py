"""Rounds, medians, peak RSS, the results table and docs/BENCHMARKS.md.

A scenario is a function ``run(ctx: BenchContext) -> list[Row]``. It measures EvalSync and its
baseline alternately for ``ctx.rounds`` rounds and reports medians. Timings are never asserted;
request counts are (:meth:`BenchContext.check_count`), because they are exact and CI runs
``python -m bench --quick --no-write`` to prove the suite still works.
"""

from __future__ import annotations

import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


class NotAvailable(Exception):
    """A piece the scenario measures does not exist yet (reported as a row, never a crash)."""


@dataclass
class Row:
    """One line of the results table."""

    scenario: str
    measure: str
    evalsync: str = "—"
    baseline: str = "—"
    ratio: str = "—"
    target: str = ""
    met: bool | None = None      # None: informational / not measured
    note: str = ""

    @property
    def verdict(self) -> str:
        return {True: "met", False: "NOT MET", None: "—"}[self.met]


@dataclass
class BenchContext:
    """What every scenario gets: sizes, rounds, scratch space and the count checks."""

    quick: bool
    rounds: int
    workdir: Path
    count_failures: list[str] = field(default_factory=list)
    shared: dict[str, Any] = field(default_factory=dict)   # e.g. scenario 1's synced data folder

    def scale(self, full: int, quick: int) -> int:
        return quick if self.quick else full

    def tempdir(self, prefix: str) -> Path:
        return Path(tempfile.mkdtemp(prefix=prefix, dir=self.workdir))

    def check_count(self, what: str, actual: int, limit: int, *, exact: bool = False) -> bool:
        """Record a request-count assertion; a failure makes the whole run exit non-zero."""
        ok = actual == limit if exact else actual <= limit
        if not ok:
            rel = "==" if exact else "<="
            self.count_failures.append(f"{what}: {actual} requests, expected {rel} {limit}")
        return ok


# ----- measuring child processes -----------------------------------------------------------------

def child_env(**extra: str) -> dict[str, str]:
    """Environment for measured children: repo importable, Qt offscreen, quiet keyring."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    env.pop("PYTHONTRACEMALLOC", None)
    env.update(extra)
    return env


@dataclass
class ProcResult:
    wall: float
    rc: int
    stdout: str
    stderr: str
    peak_rss_mb: float | None

    def json(self) -> Any:
        """The last JSON document the child printed on standard output."""
        text = self.stdout.strip()
        try:
            return json.loads(text)
        except ValueError:
            for line in reversed(text.splitlines()):
                try:
                    return json.loads(line)
                except ValueError:
                    continue
        raise ValueError(f"no JSON in output: {text[-300:]!r}")


def run_measured(module: str, args: Sequence[str], *, env: dict[str, str] | None = None,
                 stdin: str | None = None, timeout: float = 1800) -> ProcResult:
    """Run ``python -m module args`` under :mod:`bench.measured`; wall time from spawn to exit.

    The wrapper reports the child's own peak RSS (``ru_maxrss`` of RUSAGE_SELF), which
    RUSAGE_CHILDREN cannot give per process.
    """
    fd, stats = tempfile.mkstemp(prefix="bench-rss-", suffix=".json")
    os.close(fd)
    cmd = [PYTHON, "-m", "bench.measured", stats, module, *args]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, input=stdin, capture_output=True, text=True, env=env or child_env(),
                          timeout=timeout, cwd=str(REPO))
    wall = time.perf_counter() - t0
    peak = None
    try:
        with open(stats) as fh:
            peak = json.load(fh)["maxrss_kb"] / 1024.0
    except (OSError, ValueError, KeyError):
        pass
    finally:
        os.unlink(stats)
    return ProcResult(wall, proc.returncode, proc.stdout, proc.stderr, peak)


def last_line(text: str) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1][:300] if lines else ""


def require_ok(what: str, res: ProcResult) -> ProcResult:
    if res.rc != 0:
        msg = last_line(res.stderr) or last_line(res.stdout)
        if "invalid choice" in msg or "No module named" in msg or "unrecognized arguments" in msg:
            raise NotAvailable(f"{what}: {msg}")
        raise RuntimeError(f"{what} exited {res.rc}: {msg}")
    return res


def alternate(rounds: int, steps: Sequence[tuple[str, Callable[[int], float]]]) -> dict[str, list[float]]:
    """Run each step once per round, in turn (A B A B ...), so drift hits both alike."""
    out: dict[str, list[float]] = {name: [] for name, _ in steps}
    for r in range(rounds):
        order = steps if r % 2 == 0 else list(reversed(steps))
        for name, fn in order:
            out[name].append(fn(r))
    return out


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else math.nan


def p99(values: Sequence[float]) -> float:
    if not values:
        return math.nan
    s = sorted(values)
    return s[min(len(s) - 1, math.ceil(0.99 * len(s)) - 1)]


def fmt_s(seconds: float) -> str:
    if math.isnan(seconds):
        return "—"
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def fmt_ms(ms: float) -> str:
    return "—" if math.isnan(ms) else f"{ms:.1f} ms"


def fmt_mb(mb: float | None) -> str:
    return "—" if mb is None else f"{mb:.0f} MB"


def ratio(a: float, b: float) -> str:
    return "—" if not b or math.isnan(a) or math.isnan(b) else f"{a / b:.2f}×"


# ----- machine, commit, table, document ----------------------------------------------------------

def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _ram() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def _version(dist: str) -> str:
    from importlib import metadata
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def machine_description() -> dict[str, str]:
    os_name = platform.platform()
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                os_name = f"{line.split('=', 1)[1].strip(chr(34))} ({platform.release()})"
    except OSError:
        pass
    return {
        "CPU": _cpu_model(),
        "Cores": str(os.cpu_count()),
        "RAM": _ram(),
        "OS": os_name,
        "Python": platform.python_version(),
        "PySide6": _version("PySide6-Essentials") if _version("PySide6") == "not installed" else _version("PySide6"),
        "httpx": _version("httpx"),
        "zenpy": _version("zenpy"),
        "SQLite": __import__("sqlite3").sqlite_version,
    }


def commit_hash() -> str:
    if not shutil.which("git"):
        return "unknown"
    try:
        head = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=REPO, capture_output=True,
                              text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO,
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{head}{' (plus uncommitted changes)' if dirty else ''}" if head else "unknown"


HEADERS = ("Scenario", "Measure", "EvalSync", "Baseline", "Ratio", "Target", "Met")


def _cells(row: Row) -> list[str]:
    return [row.scenario, row.measure, row.evalsync, row.baseline, row.ratio, row.target, row.verdict]


def format_table(rows: Sequence[Row]) -> str:
    """A plain-text table for the terminal."""
    cells = [list(HEADERS)] + [_cells(r) for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(HEADERS))]
    lines = []
    for n, c in enumerate(cells):
        lines.append("  ".join(v.ljust(w) for v, w in zip(c, widths)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    notes = [f"  [{r.scenario}] {r.measure}: {r.note}" for r in rows if r.note]
    return "\n".join(lines + (["", "Notes:"] + notes if notes else []))


def format_markdown(rows: Sequence[Row], *, quick: bool, rounds: int, elapsed: float,
                    count_failures: Sequence[str]) -> str:
    machine = machine_description()

    def esc(v: str) -> str:
        return v.replace("|", "\\|")

    out = [
        "# Benchmarks",
        "",
        "Written by `python -m bench` (`make bench`); do not edit by hand. Each timing is the median of "
        f"{rounds} round(s) of whole runs, EvalSync and its baseline alternating in the same run; memory is "
        "the peak RSS of the measured process. The simulator runs in its own process on loopback.",
        "",
        f"- Commit: `{commit_hash()}`",
        f"- Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
        f"- Mode: {'quick (small sizes)' if quick else 'full'}; rounds: {rounds}; suite wall time {elapsed / 60:.1f} min",
        "",
        "## Machine",
        "",
    ]
    out += [f"- {k}: {v}" for k, v in machine.items()]
    out += ["", "## Results", "", "| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
    out += ["| " + " | ".join(esc(c) for c in _cells(r)) + " |" for r in rows]
    notes = [r for r in rows if r.note]
    if notes:
        out += ["", "## Notes", ""]
        out += [f"- **{r.scenario} — {r.measure}**: {r.note}" for r in notes]
    out += ["", "## Request-count assertions", ""]
    out += [f"- FAILED: {f}" for f in count_failures] or ["- all passed"]
    out += ["", "## How each number is taken", "", METHODS]
    return "\n".join(out) + "\n"


METHODS = """\
1. **Initial sync**: a fresh data folder is connected (API token) and configured for agents and admins
   (not timed); then `evalsync sync --json` is timed from process spawn to exit. Floor: a bare httpx
   loop (`bench/floor.py`) that downloads and JSON-parses the same cursor pages and does nothing else.
   Peer: zenpy `users(role=[...])` with cursor pagination, inserted into SQLite with `executemany`
   (`bench/peer.py`). Requests are counted by the simulator. Peak RSS is the sync process's own
   `ru_maxrss`, reported by `bench/measured.py` at exit.
2. **Scheduled sync after 6 hours of change**: the simulator applies 500 agent changes (renames,
   suspensions, role changes, deletions) and 5,000 end-user changes, and its clock moves 6 hours; then
   `evalsync sync --json` is timed. The simulator's own time is measured by replaying the exact URLs
   EvalSync requested with a bare httpx client, timed in the same round.
3. **Nothing changed**: `evalsync sync --json` right after scenario 2; the simulator counts requests.
4. **Rate-limited**: a separate simulator at 120 requests per minute with 30,000 agents. Its clock is
   moved to the start of a fixed one-minute window before each timed sync, so the least time the limit
   allows for N requests is (ceil(N / 120) - 1) minutes; 429 responses are counted by the simulator.
   (Quick mode starts 3 s before a window ends with a lower limit, so the limit binds for a few seconds.)
5. **Users table**: a data folder holding 100,000 users; a child process (offscreen Qt) builds
   `UsersTab`, shows it and waits for the table viewport's first paint with rows; then sorts by every
   column (worst reported), types a search keystroke, and presses Ctrl+End, each timed to the next
   viewport paint after the model changed. Peak RSS of that process.
6. **GUI responsiveness**: the users tab's own sync (the window's Sync now) runs scenario 1 against
   the simulator process while a 10 ms QTimer records the gaps between its ticks.
7. **Cold start**: `python main.py` versus a bare PySide6 `QMainWindow` script, both started the same
   way (`bench/coldstart_probe.py`, which hooks the first Paint event of the main window), alternating.
8. **Chat batch**: 1,500 access requests (already enabled, disabled, missing, bad domain) against
   1,500 chat agents with 20 ms simulator latency; `evalsync chat requests process --json` is timed and
   its requests counted: the agent extract pages plus one write per changed agent.
9. **Big selections**: scenario 5's 100,000 users in the whole window (offscreen, `bench/selection_probe.py`),
   a 10 ms heartbeat recording the GUI thread's longest block during each step: Ctrl+A in the users
   table (until "All … selected" plus 500 ms); the Log action shown then hidden with all selected;
   Activate… → the dialog's Activate button → every pending user activated on the worker and the
   table re-read (plus 500 ms). The licence limit is raised first so the activation is not refused.

Profiles (pyinstrument) of the targets not met, and how to re-take them: `bench/profiles/`.
"""


def _scenario_of(line: str) -> int | None:
    """The scenario number of a results row ("| 5. Users …") or a note ("- **5. Users …")."""
    head = line.removeprefix("| ").removeprefix("- **")
    number = head.split(".", 1)[0]
    return int(number) if number.isdigit() and head != line else None


def merge_markdown(old: str, new: str, kept: set[int]) -> str:
    """``new`` plus the result rows and notes of the ``kept`` scenarios from ``old`` (``--merge``):
    a run of some scenarios adds its rows without dropping the others' last measurements."""
    def carried(section: str, prefix: str) -> list[str]:
        body = old.split(section, 1)[1].split("\n## ", 1)[0] if section in old else ""
        return [ln for ln in body.splitlines() if ln.startswith(prefix) and _scenario_of(ln) in kept]

    out = new
    for section, prefix in (("## Results", "| "), ("## Notes", "- **")):
        lines = carried(section, prefix)
        if not lines or section not in out:
            continue
        head, rest = out.split(section, 1)
        body, sep, tail = rest.partition("\n## ")
        body_lines = body.splitlines()
        own = [ln for ln in body_lines if ln.startswith(prefix) and _scenario_of(ln) is not None]
        merged = sorted(own + lines, key=lambda ln: _scenario_of(ln) or 0)
        first = next((i for i, ln in enumerate(body_lines) if ln in own), len(body_lines))
        others = [ln for ln in body_lines if ln not in own]
        body_lines = others[:first] + merged + others[first:]
        out = head + section + "\n".join(body_lines) + ("\n" if body.endswith("\n") else "") + sep + tail
    scenarios = ", ".join(str(n) for n in sorted({_scenario_of(ln) for ln in carried("## Results", "| ")} - {None}))
    if scenarios:
        commit = old.split("- Commit: ", 1)[1].split("\n", 1)[0] if "- Commit: " in old else "an earlier commit"
        cpu = old.split("- CPU: ", 1)[1].split("\n", 1)[0] if "- CPU: " in old else ""
        then = f" (CPU then: {cpu})" if cpu and f"- CPU: {cpu}\n" not in out else ""
        out = out.replace("\n## Machine", f"- Scenarios {scenarios}: carried over from the run on {commit}{then}\n\n"
                          "## Machine", 1)
    return out


def write_markdown(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
