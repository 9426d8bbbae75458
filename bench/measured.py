"""Run a module as ``__main__`` and write this process's peak RSS to a file at exit.

``python -m bench.measured STATS_FILE MODULE [ARGS...]``. The wall time is taken by the parent
from spawn to exit; this wrapper only adds the peak resident set size of the measured process
itself (``getrusage(RUSAGE_SELF).ru_maxrss``, kilobytes on Linux).
"""

from __future__ import annotations

import json
import resource
import runpy
import sys


def _write(stats: str) -> None:
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with open(stats, "w") as fh:
        json.dump({"maxrss_kb": kb}, fh)


def main() -> int:
    stats, module, *args = sys.argv[1:]
    sys.argv = [module, *args]
    code: object = 0
    try:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    except SystemExit as exc:
        code = exc.code
    finally:
        sys.stdout.flush()
        _write(stats)
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
