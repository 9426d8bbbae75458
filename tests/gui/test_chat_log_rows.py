"""The action log in words: markers folded once settled, kept (and said) while an outcome is missing."""

from __future__ import annotations

from evalsync_gui.core.chat import audit
from evalsync_gui.gui.chat.log_rows import details, human_rows


def test_markers_fold_into_their_outcome_and_unsettled_ones_say_so():
    rows = [  # newest first, as recent_actions returns them
        {"id": 4, "action": audit.ENABLED, "email": "ana@x.com", "request_id": 1, "detail": ""},
        {"id": 3, "action": audit.REJECTED, "email": "bad@y.com", "request_id": 3, "detail": "domain not allowed"},
        {"id": 2, "action": audit.CREATING, "email": "bo@x.com", "request_id": 2, "detail": ""},
        {"id": 1, "action": audit.ENABLING, "email": "ana@x.com", "request_id": 1, "detail": ""},
    ]
    assert [r["what"] for r in human_rows(rows)] == [
        "Enabled agent ana@x.com",
        "Rejected bad@y.com: domain not allowed",
        "Started creating agent bo@x.com; Zendesk's answer was not recorded",
    ]


def test_details_pretty_print_the_answer_and_keep_a_truncated_one():
    row = {"action": audit.ENABLED, "email": "ana@x.com", "zendesk_status": 200,
           "zendesk_answer": '{"id":5,"enabled":true}'}
    assert '"enabled": true' in details(row)
    assert details({**row, "zendesk_answer": '{"id":5,"ena…'}).endswith('{"id":5,"ena…')
