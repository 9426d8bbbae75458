"""EvalSync's benchmark suite: ``python -m bench [--quick] [--no-write] [--only N,...] [--rounds R]``.

Each scenario of issue 6 lives in one module per family (:mod:`bench.sync_scenarios`,
:mod:`bench.table_scenario`, :mod:`bench.responsiveness`, :mod:`bench.cold_start`,
:mod:`bench.chat_scenario`); :mod:`bench.harness` holds rounds, medians, peak RSS and the table.
"""
