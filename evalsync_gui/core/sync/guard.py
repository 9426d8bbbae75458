"""The deactivation guard: too many deactivations in one run are held for the admin.

Default limit: more than 10 users AND more than 20% of the synced users. A limit of ``N``
holds more than N; ``P%`` holds more than P% of the synced users. The arithmetic is exact
(integers and fractions, never floats): 29 of 100 is not "more than 29%".
"""

from __future__ import annotations

from fractions import Fraction

DEFAULT_MIN_COUNT = 10
DEFAULT_SHARE = Fraction(20, 100)


def exceeds(limit: str, planned: int, synced: int) -> bool:
    """True when ``planned`` deactivations out of ``synced`` Zendesk-linked users must be held."""
    limit = str(limit or "default").strip()
    if limit == "default":
        return planned > DEFAULT_MIN_COUNT and planned > DEFAULT_SHARE * synced
    if limit.endswith("%"):
        return planned > Fraction(limit[:-1]) / 100 * synced
    return planned > int(limit)


def describe(limit: str) -> str:
    """The limit in words, as the guard applies it."""
    limit = str(limit or "default").strip()
    if limit == "default":
        return "more than 10 users and more than 20% of the synced users"
    if limit.endswith("%"):
        return f"more than {limit} of the synced users"
    return f"more than {limit} users"
