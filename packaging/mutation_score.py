"""Read `mutmut results --all true` on stdin; print the score per module and the survivors.

Usage: mutmut results --all true | python packaging/mutation_score.py sync.guard sync.fetch ...
Exit 1 when a module has a surviving mutant, so `make mutate` fails until each one is killed
or listed as equivalent in docs/RELIABILITY.md (and left out here by name: EQUIVALENT).
"""

from __future__ import annotations

import sys
from collections import Counter

PREFIX = "evalsync_gui.core."
# Survivors explained in docs/RELIABILITY.md ("Mutation testing"): they cannot change behaviour.
EQUIVALENT: set[str] = {
    # prefetched(depth=4 -> 5): how far ahead pages are read is a speed choice, not behaviour.
    "evalsync_gui.core.sync.fetch.x_prefetched__mutmut_1",
}


def main(modules: list[str]) -> int:
    counts: dict[str, Counter] = {m: Counter() for m in modules}
    survivors: list[str] = []
    for line in sys.stdin:
        name, sep, status = line.strip().rpartition(": ")
        if not sep or not name.startswith(PREFIX):
            continue
        module = next((m for m in modules if name.startswith(f"{PREFIX}{m}.")), None)
        if module is None:
            continue
        if status == "survived" and name in EQUIVALENT:
            status = "equivalent"
        counts[module][status] += 1
        if status == "survived":
            survivors.append(name)
    print(f"{'module':28} {'mutants':>8} {'killed':>7} {'survived':>9} {'equivalent':>11} {'other':>6}  score")
    for module, c in counts.items():
        total = sum(c.values())
        killed = c["killed"] + c["timeout"]
        other = total - killed - c["survived"] - c["equivalent"]
        tested = killed + c["survived"]
        score = f"{100 * killed / tested:.1f}%" if tested else "-"
        print(f"{module:28} {total:8} {killed:7} {c['survived']:9} {c['equivalent']:11} {other:6}  {score}")
    for name in survivors:
        print("survived:", name)
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
