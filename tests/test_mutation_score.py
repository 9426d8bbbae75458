"""packaging/mutation_score.py: which surviving mutants it may call equivalent by their diff."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

_SPEC = importlib.util.spec_from_file_location(
    "mutation_score", Path(__file__).resolve().parents[1] / "packaging" / "mutation_score.py")
mutation_score = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(mutation_score)


def diff(old: str, new: str) -> str:
    return f"--- a.py\n+++ a.py\n@@ -1 +1 @@\n ctx\n-{old}\n+{new}\n ctx\n"


@pytest.mark.parametrize("old, new", [
    ('conn.execute("SELECT user_id FROM user_changes WHERE run_id = ?")',
     'conn.execute("select user_id from user_changes where run_id = ?")'),
    ('conn.execute("UPDATE sync_runs SET undone_at = ? WHERE id = ?")',
     'conn.execute("UPDATE SYNC_RUNS SET UNDONE_AT = ? WHERE ID = ?")'),
    ("x(\"UPDATE t SET s = 'discarded' WHERE r = ? AND s IN ('held', 'planned')\")",
     "x(\"update t set s = 'discarded' where r = ? and s in ('held', 'planned')\")"),
])
def test_a_change_of_case_in_sql_names_and_keywords_is_equivalent(old, new):
    assert mutation_score.sql_case_only(diff(old, new))


@pytest.mark.parametrize("old, new", [
    ("x(\"SELECT id FROM t WHERE s = 'held'\")", "x(\"SELECT ID FROM T WHERE S = 'HELD'\")"),  # a quoted value
    ('x("SELECT id FROM t WHERE r = :role")', 'x("SELECT ID FROM T WHERE R = :ROLE")'),  # a parameter name
    ('x("SELECT count(*) AS n FROM t")', 'x("SELECT count(*) AS N FROM t")'),  # an alias: dict(row) keys
    ('x("SELECT count(*) FROM t")', 'x("SELECT COUNT(*) FROM T")'),  # an expression's result name
    ('say("held for review")', 'say("HELD FOR REVIEW")'),  # not SQL: words the admin reads
    ('x("SELECT id FROM t")', 'x("XXSELECT id FROM tXX")'),  # not a change of case
    ('x("SELECT id FROM t")', 'x("SELECT id FROM t")'),  # no change at all
])
def test_anything_else_is_not(old, new):
    assert not mutation_score.sql_case_only(diff(old, new))


def test_a_diff_with_unpaired_lines_is_not():
    assert not mutation_score.sql_case_only('--- a\n+++ a\n-x("SELECT id FROM t")\n')
