"""Driving the real ``evalsync`` command for benchmarks: a connected, configured data folder."""

from __future__ import annotations

from pathlib import Path

from bench.harness import BenchContext, ProcResult, child_env, require_ok, run_measured
from bench.keyring_backend import ALLOW, BACKEND, ENV_FILE
from bench.simproc import SimProcess

CLI = "evalsync_gui.cli"


def cli_env(data_dir: Path) -> dict[str, str]:
    """Children use a file keyring next to the data folder (no desktop keyring daemon)."""
    return child_env(PYTHON_KEYRING_BACKEND=BACKEND, **{ENV_FILE: str(data_dir.parent / f"{data_dir.name}.keyring.json")},
                     EVALSYNC_DATA_DIR=str(data_dir), **ALLOW)


def evalsync(data_dir: Path, *args: str, stdin: str | None = None, timeout: float = 1800) -> ProcResult:
    """``evalsync --data-dir D args...``, timed from spawn to exit, with its peak RSS."""
    return run_measured(CLI, ["--data-dir", str(data_dir), *args], env=cli_env(data_dir), stdin=stdin, timeout=timeout)


def connected_data_dir(ctx: BenchContext, sim: SimProcess, roles: str = "agent,admin", prefix: str = "es-") -> Path:
    """A fresh data folder connected to ``sim`` with its API token and configured for ``roles``."""
    data = ctx.tempdir(prefix)
    require_ok("evalsync connect", evalsync(data, "connect", "--subdomain", sim.subdomain, "--base-url", sim.base_url,
                                            "--email", sim.email, "--api-token-stdin", stdin=sim.token + "\n"))
    require_ok("evalsync configure", evalsync(data, "configure", "--roles", roles))
    return data


def sync(data_dir: Path, *extra: str) -> tuple[ProcResult, dict]:
    """One timed ``evalsync sync --json``; exit 3 (deactivations held) still counts as a run."""
    res = evalsync(data_dir, "sync", "--json", *extra)
    if res.rc not in (0, 3):
        require_ok("evalsync sync", res)
    try:
        out = res.json()
    except ValueError:
        out = {}
    return res, out
