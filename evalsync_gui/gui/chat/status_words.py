"""What the Chat tab's header says about the connection and the account kind.

The words follow one rule from issue 12/17: "detected" appears only when EvalSync read the
kind from Zendesk; a kind the admin picked says "chosen"; nothing known says so and points to
the Settings page. Pure functions over the loader's snapshot (no Qt, no I/O).
"""

from __future__ import annotations

from evalsync_gui.gui.formats import format_datetime

KIND_NAMES = {
    "writable": "writable (Chat API changes agents)",
    "support": "created in Support",
    "unknown": "not known",
}


def kind_line(snap: dict) -> str:
    """One line: whether a Chat connection exists, the kind, and how the kind was known."""
    if not snap.get("connected"):
        return "Chat: not connected — set up the Chat API in Settings"
    kind = snap.get("kind") or "unknown"
    source = snap.get("kind_source") or ""
    if kind == "unknown" or not source:
        return "Chat: connected · kind not detected — choose it in Settings"
    return f"Chat kind: {KIND_NAMES.get(kind, kind)} — {source}"


def kind_tooltip(snap: dict) -> str:
    """When and how the kind was known, for the header's tooltip."""
    if not snap.get("connected"):
        return "Connect the Chat API (Chat agents > Settings) before EvalSync reads or changes chat agents."
    at = format_datetime(snap.get("kind_at")) if snap.get("kind_at") else ""
    source = snap.get("kind_source") or ""
    if snap.get("kind") == "support":
        where = ("Chat was created in Support: new people are created as agents; Chat access is switched on "
                 "in Admin Center.")
    else:
        where = "The Chat API enables, creates, disables and deletes Chat agents."
    if source == "detected" and snap.get("kind") != "unknown":
        when = f" at {at}" if at else ""
        return f"{where}\nEvalSync read this from Zendesk{when}; change it in Settings if it is wrong."
    if source == "chosen":
        return f"{where}\nYou chose this in Settings."
    return "EvalSync could not tell which kind this account is; choose it in Settings."
