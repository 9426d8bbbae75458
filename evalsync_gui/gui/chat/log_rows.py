"""The action log in words: one human sentence per row, crash-safety markers folded away.

``chat_actions`` keeps a "Creating"/"Enabling" marker before each write (so a crash can be
resumed without a second write) and Zendesk's raw JSON answer. An admin wants "Enabled agent
ana@x.com"; the markers and the JSON stay available behind the log page's details toggle.
"""

from __future__ import annotations

import json

from evalsync_gui.core.chat import audit

_MARKERS = {audit.CREATING: "creating", audit.ENABLING: "enabling"}
_SENTENCES = {
    audit.CREATED: "Created agent {email}",
    audit.ENABLED: "Enabled agent {email}",
    audit.UPGRADED: "Made end-user {email} an agent",
    audit.ALREADY_ENABLED: "{email} already had chat",
    audit.REJECTED: "Rejected {email}",
    audit.FAILED: "Could not change {email}",
    audit.DISABLED: "Disabled agent {email}",
    audit.DELETED: "Deleted agent {email}",
    audit.MAIL_SENT: "Confirmation e-mail sent to {email}",
    audit.MAIL_FAILED: "Confirmation e-mail to {email} failed",
    audit.NEEDS_ADMIN_STEP: "{email} needs Chat switched on in Admin Center",
    audit.COMPLETED: "Chat on for {email} after the step in Admin Center",
}


# Where the reason is the news (a refusal, a failure), the row's detail follows the sentence;
# elsewhere it only repeats it and stays behind the Details toggle.
_WITH_DETAIL = {audit.REJECTED, audit.FAILED, audit.MAIL_FAILED}


def sentence(row: dict) -> str:
    """"Enabled agent ana@x.com" for a log row; "Rejected x: why" where the reason matters."""
    action, email, detail = row.get("action") or "", row.get("email") or "(no e-mail)", row.get("detail") or ""
    if action in _MARKERS:
        return f"Started {_MARKERS[action]} agent {email}; Zendesk's answer was not recorded"
    template = _SENTENCES.get(action)
    if template is None:
        text = f"{action.replace('_', ' ').capitalize()}: {email}"
        return f"{text} ({detail})" if detail else text
    text = template.format(email=email)
    return f"{text}: {detail}" if detail and action in _WITH_DETAIL else text


def human_rows(rows: list[dict]) -> list[dict]:
    """The log newest first, each row with a ``what`` sentence; a marker is dropped once its
    request has a later outcome (it only matters while that outcome is missing)."""
    settled: set[int] = set()
    out: list[dict] = []
    for row in rows:  # newest first: an outcome is seen before the marker it settles
        rid = row.get("request_id")
        if row.get("action") in _MARKERS:
            if rid is not None and rid in settled:
                continue
        elif rid is not None:
            settled.add(rid)
        out.append({**row, "what": sentence(row)})
    return out


def details(row: dict) -> str:
    """Everything the log keeps about one row, with Zendesk's answer pretty-printed."""
    answer = row.get("zendesk_answer") or ""
    try:
        answer = json.dumps(json.loads(answer), indent=2, ensure_ascii=False) if answer else ""
    except ValueError:
        pass  # a truncated or non-JSON answer is shown as kept
    lines = [f"Action: {row.get('action') or ''}", f"E-mail: {row.get('email') or ''}",
             f"Request: {row.get('request_id') or ''}", f"By: {row.get('actor') or ''}",
             f"Detail: {row.get('detail') or ''}", f"Zendesk status: {row.get('zendesk_status') or ''}",
             "Zendesk answer:", answer or "(none)"]
    return "\n".join(lines)
