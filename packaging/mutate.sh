#!/usr/bin/env bash
# `make mutate`: mutation testing of the safety modules, one module at a time, at low priority.
#
# mutmut (configured in pyproject.toml, [tool.mutmut]) mutates each module in a copy under
# ./mutants and runs, for every mutant, only the fast tests that reach the mutated function.
# A surviving mutant is a change to safety code that no test notices: kill it with a test, or
# explain in docs/RELIABILITY.md why it is equivalent. MODULES= picks modules, e.g.
#   make mutate MODULES="sync.guard sync.fetch"
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
MODULES=${MODULES:-"sync.decisions sync.guard sync.fetch sync.absence sync.runner sync.apply sync.runs chat.domains chat.inactivity auth.listener zendesk.urls"}
for module in $MODULES; do
  echo "== evalsync_gui.core.$module"
  nice -n 10 .venv/bin/mutmut run "evalsync_gui.core.${module}.*" > "mutants-${module}.log" 2>&1 || true
done
nice -n 10 .venv/bin/mutmut results --all true 2>/dev/null | "$PY" packaging/mutation_score.py $MODULES
