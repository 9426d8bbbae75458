"""Read `mutmut results --all true` on stdin; print the score per module and the survivors.

Usage: mutmut results --all true | python packaging/mutation_score.py sync.guard sync.fetch ...
Exit 1 when a module has a surviving mutant, so `make mutate` fails until each one is killed
or listed as equivalent in docs/RELIABILITY.md (and left out here by name: EQUIVALENT).

One kind of equivalent is recognised by its diff instead of its name (names change whenever a
function is edited): a change of letter case in SQL text only, with every single-quoted value,
``:name`` parameter, ``AS`` alias and function name unchanged. SQLite's keywords and table and
column names are case-insensitive, and a plain column is named in a result by its declared name
whatever its case in the query (an alias or ``count(*)`` is named as written, so those must not
change; see :func:`sql_case_only`).
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

PREFIX = "evalsync_gui.core."
# Survivors explained in docs/RELIABILITY.md ("Mutation testing"): they cannot change behaviour.
EQUIVALENT: set[str] = {
    # chat.domains address_problem: `if domain.endswith(".")` can never be reached, because
    # normalize_domain just before it refuses a trailing dot (its last label is empty), so the
    # condition and its message can be changed freely (mutants 49-51).
    "evalsync_gui.core.chat.domains.x_address_problem__mutmut_49",
    "evalsync_gui.core.chat.domains.x_address_problem__mutmut_50",
    "evalsync_gui.core.chat.domains.x_address_problem__mutmut_51",
    # chat.domains domain_problem: address_problem has already refused any address without
    # exactly one "@", so rsplit("@", 1), rsplit("@"), split("@", 1) and rsplit("@", 2) give the
    # same domain.
    "evalsync_gui.core.chat.domains.x_domain_problem__mutmut_14",
    "evalsync_gui.core.chat.domains.x_domain_problem__mutmut_15",
    "evalsync_gui.core.chat.domains.x_domain_problem__mutmut_17",
    # zendesk.urls origin_of: `parts.hostname or ""` -> `or "XXXX"` only changes the origin of an
    # address without a host, which no caller passes (checked_base_url refuses it first,
    # same_origin only calls origin_of when there is a host).
    "evalsync_gui.core.zendesk.urls.x_origin_of__mutmut_8",
    # zendesk.urls same_origin: the `if parts.scheme and parts.hostname else ""` guard only
    # decides whether a scheme- or host-less link is refused as "" or as an origin like
    # "://host" / "https://"; the base origin always has both, so the link is refused the same
    # way with the same message (mutants 5, 7, 8).
    "evalsync_gui.core.zendesk.urls.x_same_origin__mutmut_5",
    "evalsync_gui.core.zendesk.urls.x_same_origin__mutmut_7",
    "evalsync_gui.core.zendesk.urls.x_same_origin__mutmut_8",
    # chat.inactivity (docs/RELIABILITY.md): the rule is lower-cased, so "XX@XX" strips and
    # compares like "@", and a domain never contains "@"; on Python 3.11+ fromisoformat reads "Z"
    # itself (on 3.10 test_times_with_or_without_a_zone_are_read_as_utc kills 10 and 11); a
    # deletion is always idler than a disable, so their sort ranks may merge, and only the rank
    # order matters; a backend's missing mode read as None or "XXXX" is not "support" either;
    # SQL keywords and names are case-insensitive.
    "evalsync_gui.core.chat.inactivity.xǁPolicyǁexemption__mutmut_19",
    "evalsync_gui.core.chat.inactivity.xǁPolicyǁexemption__mutmut_22",
    "evalsync_gui.core.chat.inactivity.xǁPolicyǁexemption__mutmut_26",
    "evalsync_gui.core.chat.inactivity.xǁPolicyǁexemption__mutmut_30",
    "evalsync_gui.core.chat.inactivity.xǁPolicyǁexemption__mutmut_33",
    "evalsync_gui.core.chat.inactivity.x_parse_when__mutmut_10",
    "evalsync_gui.core.chat.inactivity.x_parse_when__mutmut_11",
    "evalsync_gui.core.chat.inactivity.x_preview__mutmut_40",
    "evalsync_gui.core.chat.inactivity.x_preview__mutmut_43",
    "evalsync_gui.core.chat.inactivity.x_apply__mutmut_5",
    "evalsync_gui.core.chat.inactivity.x_apply__mutmut_11",
    "evalsync_gui.core.chat.inactivity.x_apply__mutmut_110",
    "evalsync_gui.core.chat.inactivity.x_apply__mutmut_111",
    "evalsync_gui.core.chat.inactivity.x_apply__mutmut_117",
    "evalsync_gui.core.chat.inactivity.x_apply__mutmut_118",
    # sync.fetch and auth.listener (mut-edge): prefetched(depth=4 -> 5) is how far ahead pages are
    # read, a speed choice; iter_listing's `restarts = 1 -> 2`: the one restart sets it to 0, so
    # any start value >= 1 allows exactly one.
    "evalsync_gui.core.sync.fetch.x_prefetched__mutmut_1",
    "evalsync_gui.core.sync.fetch.x_iter_listing__mutmut_12",
    # auth.listener: HTTP header names are case-insensitive (the Host lookup, send_header) and so
    # is "UTF-8"; blocking=None is falsy like False; the client address is only used for logging
    # (off); the bind error's 'in use' fallback (Linux always gives strerror); _closed None is
    # falsy like False and server_close twice is harmless; >= vs > on a monotonic float clock;
    # SOCK_STREAM is socket()'s default.
    "evalsync_gui.core.auth.listener.xǁ_Handlerǁdo_GET__mutmut_7",
    "evalsync_gui.core.auth.listener.xǁ_Handlerǁdo_GET__mutmut_8",
    "evalsync_gui.core.auth.listener.xǁ_Handlerǁ_answer__mutmut_10",
    "evalsync_gui.core.auth.listener.xǁ_Handlerǁ_answer__mutmut_17",
    "evalsync_gui.core.auth.listener.xǁ_Handlerǁ_answer__mutmut_18",
    "evalsync_gui.core.auth.listener.xǁ_Handlerǁ_answer__mutmut_26",
    "evalsync_gui.core.auth.listener.xǁ_Handlerǁ_answer__mutmut_27",
    "evalsync_gui.core.auth.listener.xǁ_Handlerǁ_answer__mutmut_34",
    "evalsync_gui.core.auth.listener.xǁ_Handlerǁ_answer__mutmut_35",
    "evalsync_gui.core.auth.listener.xǁ_Handlerǁ_answer__mutmut_43",
    "evalsync_gui.core.auth.listener.xǁ_Handlerǁ_answer__mutmut_44",
    "evalsync_gui.core.auth.listener.xǁ_Serverǁprocess_request__mutmut_2",
    "evalsync_gui.core.auth.listener.xǁ_Serverǁprocess_request__mutmut_8",
    "evalsync_gui.core.auth.listener.xǁ_Serverǁprocess_request_thread__mutmut_9",
    "evalsync_gui.core.auth.listener.xǁRedirectListenerǁ__init____mutmut_16",
    "evalsync_gui.core.auth.listener.xǁRedirectListenerǁ__init____mutmut_17",
    "evalsync_gui.core.auth.listener.xǁRedirectListenerǁ__init____mutmut_25",
    "evalsync_gui.core.auth.listener.xǁRedirectListenerǁwait__mutmut_10",
    "evalsync_gui.core.auth.listener.xǁRedirectListenerǁclose__mutmut_2",
    "evalsync_gui.core.auth.listener.xǁRedirectListenerǁclose__mutmut_3",
    "evalsync_gui.core.auth.listener.x_port_is_free__mutmut_4",
    # sync.runs (tests/core/test_sync_runs_rules.py kills the rest): SQL keywords, table, column and
    # alias names are case-insensitive in SQLite, and each of these mutants only changes the case
    # of such words (no quoted value changes case); a plain column reference is reported under its
    # declared lower-case name, so dict keys stay the same, and undo unpacks rows by position.
    "evalsync_gui.core.sync.runs.x_start_run__mutmut_7",
    "evalsync_gui.core.sync.runs.x_start_run__mutmut_8",
    "evalsync_gui.core.sync.runs.x_start_run__mutmut_10",
    "evalsync_gui.core.sync.runs.x_update_counts__mutmut_6",
    "evalsync_gui.core.sync.runs.x_update_counts__mutmut_7",
    "evalsync_gui.core.sync.runs.x_set_outcome__mutmut_6",
    "evalsync_gui.core.sync.runs.x_set_outcome__mutmut_7",
    "evalsync_gui.core.sync.runs.x_finish_run__mutmut_6",
    "evalsync_gui.core.sync.runs.x_finish_run__mutmut_7",
    "evalsync_gui.core.sync.runs.x_mark_interrupted_runs__mutmut_7",
    "evalsync_gui.core.sync.runs.x_mark_interrupted_runs__mutmut_13",
    "evalsync_gui.core.sync.runs.x_get_run__mutmut_22",
    "evalsync_gui.core.sync.runs.x_get_run__mutmut_23",
    "evalsync_gui.core.sync.runs.x_get_run__mutmut_25",
    "evalsync_gui.core.sync.runs.x_get_run__mutmut_27",
    "evalsync_gui.core.sync.runs.x_get_run__mutmut_28",
    "evalsync_gui.core.sync.runs.x_export_runs_csv__mutmut_22",
    "evalsync_gui.core.sync.runs.x_export_runs_csv__mutmut_24",
    "evalsync_gui.core.sync.runs.x_export_runs_csv__mutmut_25",
    "evalsync_gui.core.sync.runs.x_held_deactivations__mutmut_3",
    "evalsync_gui.core.sync.runs.x_held_deactivations__mutmut_6",
    "evalsync_gui.core.sync.runs.x_held_deactivations__mutmut_13",
    "evalsync_gui.core.sync.runs.x_held_deactivations__mutmut_14",
    "evalsync_gui.core.sync.runs.x_held_deactivations__mutmut_23",
    "evalsync_gui.core.sync.runs.x_held_deactivations__mutmut_24",
    "evalsync_gui.core.sync.runs.x_allow_held__mutmut_21",
    "evalsync_gui.core.sync.runs.x_allow_held__mutmut_22",
    "evalsync_gui.core.sync.runs.x_discard_held__mutmut_7",
    "evalsync_gui.core.sync.runs.x_undo_run__mutmut_7",
    "evalsync_gui.core.sync.runs.x_undo_run__mutmut_8",
    "evalsync_gui.core.sync.runs.x_undo_run__mutmut_39",
    "evalsync_gui.core.sync.runs.x_undo_run__mutmut_40",
    "evalsync_gui.core.sync.runs.x_undo_run__mutmut_42",
    "evalsync_gui.core.sync.runs.x_undo_run__mutmut_57",
    "evalsync_gui.core.sync.runs.x_undo_run__mutmut_64",
    "evalsync_gui.core.sync.runs.x_undo_run__mutmut_71",
    "evalsync_gui.core.sync.runs.x_undo_run__mutmut_72",
    "evalsync_gui.core.sync.runs.x__undo_one__mutmut_10",
    "evalsync_gui.core.sync.runs.x__undo_one__mutmut_19",
    "evalsync_gui.core.sync.runs.x__undo_one__mutmut_22",
    "evalsync_gui.core.sync.runs.x__undo_one__mutmut_35",
    "evalsync_gui.core.sync.runs.x__undo_one__mutmut_36",
    "evalsync_gui.core.sync.runs.x__undo_one__mutmut_38",
    "evalsync_gui.core.sync.runs.x__undo_one__mutmut_56",
    # sync.runs export_runs_csv: "UTF-8" and "utf-8" name the same codec.
    "evalsync_gui.core.sync.runs.x_export_runs_csv__mutmut_36",
    # sync.apply: 53 equivalent mutants, each a change of letter case or of a constant with the same
    # result; every other mutant is killed (tests/core/test_sync_apply_rules.py and the sync tests).
    # The old builds' 999-parameter fallback (Python 3.10, no getlimit) -> 1000: (limit - 2) // 11
    # gives the same 90 rows per INSERT.
    "evalsync_gui.core.sync.apply.x__rows_per_insert__mutmut_11",
    # sqlite3.Row looks a column name up case-insensitively: row["ZENDESK_ID"] is row["zendesk_id"].
    "evalsync_gui.core.sync.apply.xǁUnlinkedRowsǁ__init____mutmut_8",
    "evalsync_gui.core.sync.apply.xǁUnlinkedRowsǁ__init____mutmut_11",
    "evalsync_gui.core.sync.apply.xǁUnlinkedRowsǁ__init____mutmut_14",
    "evalsync_gui.core.sync.apply.x_lookup_page__mutmut_14",
    # An SQL fragment in lower or upper case: SQLite keywords, functions, table, column and alias
    # names are case-insensitive. Lower-casing leaves the quoted values and :name parameters as
    # they are (all lower-case already); the upper-cased fragments listed hold none (the others,
    # 'PLANNED' or :ROLE_NAME, are killed).
    "evalsync_gui.core.sync.apply.x_has_linked__mutmut_3",
    "evalsync_gui.core.sync.apply.x_has_linked__mutmut_4",
    "evalsync_gui.core.sync.apply.x__update_users__mutmut_17",
    "evalsync_gui.core.sync.apply.x__update_users__mutmut_20",
    "evalsync_gui.core.sync.apply.x__update_users__mutmut_23",
    "evalsync_gui.core.sync.apply.x__update_users__mutmut_31",
    "evalsync_gui.core.sync.apply.x__update_users__mutmut_49",
    "evalsync_gui.core.sync.apply.x__update_users__mutmut_52",
    "evalsync_gui.core.sync.apply.x__update_users__mutmut_53",
    "evalsync_gui.core.sync.apply.x_absent_users__mutmut_7",
    "evalsync_gui.core.sync.apply.x_absent_users__mutmut_8",
    "evalsync_gui.core.sync.apply.x_absent_users__mutmut_10",
    "evalsync_gui.core.sync.apply.x_absent_users__mutmut_13",
    "evalsync_gui.core.sync.apply.x_absent_users__mutmut_14",
    "evalsync_gui.core.sync.apply.x_absent_users__mutmut_16",
    "evalsync_gui.core.sync.apply.x_plan_absent__mutmut_10",
    "evalsync_gui.core.sync.apply.x_plan_absent__mutmut_11",
    "evalsync_gui.core.sync.apply.x_plan_absent__mutmut_13",
    "evalsync_gui.core.sync.apply.x_plan_absent__mutmut_16",
    "evalsync_gui.core.sync.apply.x_plan_absent__mutmut_19",
    "evalsync_gui.core.sync.apply.x_plan_absent__mutmut_20",
    "evalsync_gui.core.sync.apply.x_plan_absent__mutmut_22",
    "evalsync_gui.core.sync.apply.x_has_held__mutmut_3",
    "evalsync_gui.core.sync.apply.x_supersede_held__mutmut_6",
    "evalsync_gui.core.sync.apply.x_supersede_held__mutmut_9",
    "evalsync_gui.core.sync.apply.x_supersede_held__mutmut_12",
    "evalsync_gui.core.sync.apply.x_refresh_held_runs__mutmut_6",
    "evalsync_gui.core.sync.apply.x_refresh_held_runs__mutmut_7",
    "evalsync_gui.core.sync.apply.x_refresh_held_runs__mutmut_9",
    "evalsync_gui.core.sync.apply.x_refresh_held_runs__mutmut_16",
    "evalsync_gui.core.sync.apply.x_absent_rows__mutmut_4",
    "evalsync_gui.core.sync.apply.x_absent_rows__mutmut_5",
    "evalsync_gui.core.sync.apply.x_absent_rows__mutmut_7",
    "evalsync_gui.core.sync.apply.x_planned_count__mutmut_6",
    "evalsync_gui.core.sync.apply.x_synced_count__mutmut_3",
    "evalsync_gui.core.sync.apply.x__apply_statements__mutmut_2",
    "evalsync_gui.core.sync.apply.x__apply_statements__mutmut_5",
    "evalsync_gui.core.sync.apply.x__apply_statements__mutmut_8",
    "evalsync_gui.core.sync.apply.x__apply_statements__mutmut_9",
    "evalsync_gui.core.sync.apply.x_hold_planned__mutmut_7",
    "evalsync_gui.core.sync.apply.x_adopt__mutmut_6",
    "evalsync_gui.core.sync.apply.x_adopt__mutmut_7",
    "evalsync_gui.core.sync.apply.x_adopt__mutmut_13",
    "evalsync_gui.core.sync.apply.x_discard_stale_planned__mutmut_6",
    # sync.runner (tests/core/test_sync_runner_rules.py kills the rest; the SQL-case-only mutant of
    # _restart_as_full is found by sql_case_only): a missing cancel check read as `lambda: None`
    # is falsy like `lambda: False` everywhere it is asked (runner, HTTP client, pacer);
    # "names read" set to None is falsy like False.
    "evalsync_gui.core.sync.runner.xǁ_Runǁ__init____mutmut_7",
    "evalsync_gui.core.sync.runner.xǁ_Runǁ_with_role_names__mutmut_5",
}


_SQL_WORD = re.compile(r"\b(select|update|insert|delete|from|where|set|values|order by|group by|join|count)\b",
                       re.IGNORECASE)
_QUOTED = re.compile(r"'[^']*'")
_PARAM = re.compile(r":\w+")
# Result names: an alias (AS n) and an unaliased expression (count(*)) are named as written,
# so a change of their case changes a dict(row)'s keys; only plain column names are not.
_NAMED_AS_WRITTEN = re.compile(r"\bas\s+\w+|\b(?!(?:in|values|exists|and|or|not|on|using)\b)\w+\s*\(", re.IGNORECASE)


def sql_case_only(diff: str) -> bool:
    """Whether a mutant's diff only changes the letter case of SQL text (see the module docstring)."""
    removed = [line[1:] for line in diff.splitlines() if line.startswith("-") and not line.startswith("---")]
    added = [line[1:] for line in diff.splitlines() if line.startswith("+") and not line.startswith("+++")]
    if not removed or len(removed) != len(added):
        return False
    for old, new in zip(removed, added):
        if old == new or old.lower() != new.lower() or not _SQL_WORD.search(old):
            return False
        if any(p.findall(old) != p.findall(new) for p in (_QUOTED, _PARAM, _NAMED_AS_WRITTEN)):
            return False
    return True


def _diff(name: str) -> str:
    mutmut = Path(sys.executable).with_name("mutmut")
    return subprocess.run([str(mutmut), "show", name], capture_output=True, text=True).stdout


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
        if status == "survived" and (name in EQUIVALENT or sql_case_only(_diff(name))):
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
