"""What the Chat tab's header says about the connection and the account kind.

The words follow one rule from issue 12/17: "detected" appears only when EvalSync read the
kind from Zendesk; a kind the admin picked says "chosen"; nothing known says so and points to
the Settings page. Pure functions over the loader's snapshot (no Qt, no I/O).
"""

from __future__ import annotations

KIND_NAMES = {
    "writable": "Chat API can change agents",
    "support": "Chat created in Support (agents are managed in Admin Center)",
    "unknown": "account kind not known",
}


def kind_line(snap: dict) -> str:
    """One line: whether a Chat connection exists, the kind, and how the kind was known."""
    if not snap.get("connected"):
        return "Chat: not connected — set up the Chat API in Settings"
    kind = snap.get("kind") or "unknown"
    source = snap.get("kind_source") or ""
    if kind == "unknown" or not source:
        return "Chat: connected · kind not detected — choose it in Settings"
    return f"Chat: {KIND_NAMES.get(kind, kind)} — {source}"


def kind_tooltip(snap: dict) -> str:
    """When and how the kind was known, for the header's tooltip."""
    if not snap.get("connected"):
        return "Connect the Chat API (Chat agents > Settings) before EvalSync reads or changes chat agents."
    at = snap.get("kind_at") or ""
    source = snap.get("kind_source") or ""
    if source == "detected":
        return f"EvalSync read this from Zendesk{' at ' + at if at else ''}; change it in Settings if it is wrong."
    if source == "chosen":
        return "You chose this in Settings."
    return "EvalSync could not tell which kind this account is; choose it in Settings."
