"""Which kind of Chat account this is, decided from reads only, and how EvalSync knows.

* ``writable``: a Chat account managed outside Support; the Chat Agents API accepts
  ``PUT``/``POST``/``DELETE`` (the seed's path).
* ``support``: Chat was created in Support (most accounts today); the Chat Agents API is
  read-only and per-agent Chat access is a product entitlement set in Admin Center, which
  the public API reads (``GET /api/v2/users/{id}/entitlements/full``) but cannot write.
* ``unknown``: the reads did not decide it; the admin chooses (``chat config --kind``).

Detection never writes (docs/ZENDESK.md section 6): the Chat token must read the agent list,
then the connected Support user's entitlements are read. A ``chat`` entitlement means Chat
access is managed in Support (``support``); an entitlements answer without ``chat`` while the
Chat API answers means the Chat agents are not Support team members (``writable``); a refused
or odd entitlements answer decides nothing (``unknown``). The outcome is stored with how it
was known and when (setting ``chat.kind_detected``); the admin's choice (``chat.kind``) wins.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from evalsync_gui.core.auth.connection import now_iso
from evalsync_gui.core.errors import AuthError, UsageError, ZendeskError
from evalsync_gui.core.store.settings import Settings
from evalsync_gui.core.zendesk.http import ZendeskHttp

WRITABLE, SUPPORT, UNKNOWN = "writable", "support", "unknown"
CHOICES = ("auto", WRITABLE, SUPPORT)
CHOICE_KEY = "chat.kind"
DETECTED_KEY = "chat.kind_detected"
LEGACY_MODE_KEY = "chat.mode"  # before issue 12: auto | standalone | support
_LEGACY = {"standalone": WRITABLE, "support": SUPPORT, "auto": "auto"}

UNDECIDED = ("EvalSync could not tell which kind of Chat account this is; choose it in Chat settings or with "
             "`evalsync chat config --kind writable` (Chat API can change agents) or `--kind support` "
             "(Chat created in Support).")


@dataclass
class KindInfo:
    """The kind in force, whether it was ``detected`` or ``chosen`` (None: neither yet), why, and when."""

    kind: str
    source: str | None
    how: str = ""
    at: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def choice(settings: Settings) -> str:
    """The admin's choice: ``auto`` (detect), ``writable`` or ``support``.

    Reads the old ``chat.mode`` setting when ``chat.kind`` was never set (standalone -> writable).
    """
    value = settings.get(CHOICE_KEY)
    if value in CHOICES:
        return str(value)
    legacy = str(settings.get(LEGACY_MODE_KEY, "auto"))
    return legacy if legacy in CHOICES else _LEGACY.get(legacy, "auto")


def set_choice(settings: Settings, value: str) -> str:
    """Store the admin's choice; accepts the deprecated ``standalone`` for ``writable``."""
    kind = _LEGACY.get(value, value)
    if kind not in CHOICES:
        raise UsageError(f"The Chat account kind must be one of {', '.join(CHOICES)}, not {value!r}.")
    settings.set(CHOICE_KEY, kind)
    settings.delete(LEGACY_MODE_KEY)
    return kind


def current(settings: Settings) -> KindInfo:
    """The kind in force now: the admin's choice, else the stored detection, else unknown."""
    chosen = choice(settings)
    if chosen != "auto":
        return KindInfo(chosen, "chosen", "chosen by the admin")
    found = settings.get(DETECTED_KEY)
    if isinstance(found, dict) and found.get("kind") in (WRITABLE, SUPPORT, UNKNOWN):
        return KindInfo(found["kind"], "detected", str(found.get("how") or ""), found.get("at"))
    return KindInfo(UNKNOWN, None, "not detected yet: EvalSync reads it on the first Chat job")


def require_known(settings: Settings) -> str:
    """The kind in force, or UsageError (one line naming the choice) when it is unknown."""
    info = current(settings)
    if info.kind == UNKNOWN:
        raise UsageError(UNDECIDED)
    return info.kind


def entitlements(support: ZendeskHttp, user_id: int) -> dict[str, Any]:
    """``GET /api/v2/users/{id}/entitlements/full`` -> the ``entitlements`` object (may lack ``chat``)."""
    body = support.get(f"/api/v2/users/{int(user_id)}/entitlements/full")
    ent = body.get("entitlements") if isinstance(body, dict) else None
    if not isinstance(ent, dict):
        raise ZendeskError("Zendesk's entitlements answer had no entitlements object; try again later.")
    return ent


def chat_active(ent: dict[str, Any]) -> bool:
    """True only when the ``chat`` entitlement exists and says ``is_active: true``."""
    chat = ent.get("chat")
    return isinstance(chat, dict) and chat.get("is_active") is True


def decide(ent: dict[str, Any] | None, problem: str = "") -> tuple[str, str]:
    """(kind, how) from the connected user's entitlements (None when they could not be read)."""
    if ent is None:
        return UNKNOWN, f"the Support user's entitlements could not be read ({problem or 'no answer'})"
    if "chat" in ent:
        return SUPPORT, ("the Chat token reads the agent list and Chat access is a Support entitlement "
                         "(entitlements/full lists chat): Chat was created in Support, its Agents API is read-only")
    return WRITABLE, ("the Chat token reads the agent list and no Support entitlement mentions Chat: the Chat "
                      "agents are managed outside Support, where the Agents API accepts writes")


def detect(settings: Settings, support: ZendeskHttp, chat: ZendeskHttp, user_id: int | None) -> KindInfo:
    """Decide the kind from two reads and store it; changes nothing in Zendesk.

    Raises AuthError when the Chat token is refused (the Chat connection must be fixed first).
    """
    chat.get("/api/v2/chat/agents", params={"limit": 1})
    ent: dict[str, Any] | None = None
    problem = "" if user_id else "the Support connection has no user id; check the connection"
    if user_id:
        try:
            ent = entitlements(support, user_id)
        except AuthError as exc:
            problem = str(exc)
        except ZendeskError as exc:
            if exc.status is None:
                raise  # the network failed: nothing was learnt, so nothing is stored
            problem = str(exc)
    kind, how = decide(ent, problem)
    found = KindInfo(kind, "detected", how, now_iso())
    settings.set(DETECTED_KEY, {"kind": kind, "how": how, "at": found.at})
    return current(settings) if choice(settings) != "auto" else found
