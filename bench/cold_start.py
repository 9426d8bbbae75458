"""Scenario 7: ``python main.py`` to the first painted window versus a bare PySide6 window."""

from __future__ import annotations

import subprocess
import tempfile
import time
from pathlib import Path

from bench.harness import PYTHON, REPO, BenchContext, Row, alternate, child_env, fmt_s, last_line, median, ratio
from bench.keyring_backend import ALLOW, BACKEND, ENV_FILE


def _first_paint(ctx: BenchContext, kind: str, data_dir: Path) -> float:
    stamp = Path(tempfile.mkstemp(prefix=f"paint-{kind}-", dir=ctx.workdir)[1])
    stamp.write_text("")
    env = child_env(EVALSYNC_DATA_DIR=str(data_dir), PYTHON_KEYRING_BACKEND=BACKEND,
                    **{ENV_FILE: str(data_dir.parent / "coldstart.keyring.json")}, **ALLOW)
    t0 = time.time()
    proc = subprocess.run([PYTHON, "-m", "bench.coldstart_probe", kind, str(stamp)], cwd=str(REPO), env=env,
                          capture_output=True, text=True, timeout=120)
    text = stamp.read_text().strip()
    if not text:
        raise RuntimeError(f"{kind} never painted a window (exit {proc.returncode}): {last_line(proc.stderr)}")
    return float(text) - t0


def run(ctx: BenchContext) -> list[Row]:
    data = ctx.tempdir("s7-") / "data"
    # A warm-up of each (not counted): the data folder exists and the OS file cache is warm, as
    # for an admin who opens EvalSync every day.
    _first_paint(ctx, "app", data)
    _first_paint(ctx, "bare", data)
    times = alternate(max(ctx.rounds, 3) if not ctx.quick else ctx.rounds,
                      [("bare", lambda r: _first_paint(ctx, "bare", data)),
                       ("app", lambda r: _first_paint(ctx, "app", data))])
    app, bare = median(times["app"]), median(times["bare"])
    return [Row("7. Cold start (python main.py → first painted window)", "spawn → first paint", fmt_s(app),
                fmt_s(bare), ratio(app, bare), "≤ 2.00×", app <= 2 * bare,
                note=f"app runs {', '.join(fmt_s(t) for t in times['app'])}; "
                     f"bare runs {', '.join(fmt_s(t) for t in times['bare'])}")]
