"""The inactivity policy: only ever removes *Chat* access, and says what it measured.

Writable kind: disable Chat agents idle for N days, delete those idle for M > N days, through
the Chat Agents API. Support kind (Chat created in Support): EvalSync writes nothing; the rows
that would change become admin steps (switch Chat off in Admin Center) with a CSV export. A
Support user is never suspended or deleted, and no Support role is changed, for chat inactivity.

The measure is named everywhere (``last_login_source``): the Chat API agent's ``last_login``
(``chat_agent_last_login``), or, when the Chat API gives none, the Support user's
``last_login_at`` (``support_last_login_at``), which API-token requests also move, so it can
only understate idleness. A value that cannot be read is *unknown*: never "never logged in",
and never a reason to act (issue 15 item 7).

:func:`preview` always comes first and explains each agent; :func:`apply` acts only on the rows
of a preview the admin confirmed (or the CLI's ``--apply``). Never touched: the account owner,
admins, and the exemption list (exact e-mails or whole domains).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone

from pathlib import Path

from evalsync_gui.core.chat import audit
from evalsync_gui.core.chat.agents_api import SUPPORT, Agent, ChatBackend
from evalsync_gui.core.csvsafe import write_csv
from evalsync_gui.core.errors import AuthError, Cancelled, UsageError, ZendeskError
from evalsync_gui.core.store.db import Database

DISABLE, DELETE, KEEP, ADMIN_STEP = "disable", "delete", "keep", "admin_step"
CHAT_LAST_LOGIN = "chat_agent_last_login"
SUPPORT_LAST_LOGIN = "support_last_login_at"
SOURCE_LABELS = {
    CHAT_LAST_LOGIN: "Chat agent last login (Chat API)",
    SUPPORT_LAST_LOGIN: "last Zendesk sign-in (Support; API-token requests also move it)",
}
CSV_HEADER = ("E-mail", "Name", "Last login", "Last login source", "Idle days", "Step", "Why", "Admin Center")


@dataclass
class Policy:
    disable_after: int = 90
    delete_after: int = 180
    exempt: list[str] = field(default_factory=list)

    @classmethod
    def from_settings(cls, value: dict | None) -> "Policy":
        v = value or {}
        return cls(int(v.get("disable_after", 90)), int(v.get("delete_after", 180)), list(v.get("exempt", [])))

    def to_settings(self) -> dict:
        return asdict(self)

    def check(self) -> None:
        if self.disable_after < 1:
            raise UsageError("The disable period must be at least 1 day.")
        if self.delete_after <= self.disable_after:
            raise UsageError(f"The delete period ({self.delete_after} days) must be longer than the disable "
                             f"period ({self.disable_after} days).")

    def exemption(self, email: str) -> str | None:
        e = (email or "").strip().lower()
        domain = e.rpartition("@")[2]
        for rule in self.exempt:
            r = rule.strip().lower()
            if not r:
                continue
            if "@" in r.lstrip("@") and e == r:
                return f"exempt ({r})"
            if "@" not in r.lstrip("@") and domain == r.lstrip("@"):
                return f"exempt (domain {r.lstrip('@')})"
        return None


@dataclass
class PolicyRow:
    agent_id: int
    email: str
    name: str
    enabled: bool
    last_login: str | None
    idle_days: int | None
    action: str
    why: str
    last_login_source: str = CHAT_LAST_LOGIN
    admin_url: str | None = None


def parse_when(text: object) -> datetime | None:
    """An ISO 8601 time (``Z`` allowed) as an aware datetime; None when absent or unreadable."""
    if not text or not isinstance(text, str):
        return None
    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def _idle(agent: Agent, now: datetime) -> tuple[int | None, str]:
    """Days idle and how that was read; (None, why) when it is unknown."""
    if agent.last_login not in (None, ""):
        last = parse_when(agent.last_login)
        if last is None:
            return None, f"last login unreadable ({str(agent.last_login)[:40]!r}): unknown, nothing is done"
        return max(0, (now - last).days), f"last login {max(0, (now - last).days)} days ago"
    created = parse_when(agent.created)
    if created is None:
        return None, "no last login or creation date known"
    days = max(0, (now - created).days)
    return days, f"never logged in; created {days} days ago"


def _decide(agent: Agent, policy: Policy, now: datetime, mode: str) -> tuple[int | None, str, str]:
    if agent.is_owner:
        return None, KEEP, "account owner: never touched"
    if agent.is_admin:
        return None, KEEP, "admin: never touched"
    exempt = policy.exemption(agent.email)
    if exempt:
        return None, KEEP, exempt
    days, what = _idle(agent, now)
    if days is None:
        return None, KEEP, what
    if days >= policy.delete_after:
        action, why = DELETE, f"{what} (≥ {policy.delete_after} days)"
    elif days >= policy.disable_after and agent.enabled:
        action, why = DISABLE, f"{what} (≥ {policy.disable_after} days)"
    elif days >= policy.disable_after:
        return days, KEEP, f"{what}; already disabled"
    else:
        return days, KEEP, f"{what} (< {policy.disable_after} days)"
    if mode == SUPPORT:
        if not agent.enabled:
            return days, KEEP, f"{what}; Chat access already off"
        return days, ADMIN_STEP, f"{why}: switch Chat off in Admin Center (no public API does it)"
    return days, action, why


def preview(agents: Iterable[Agent], policy: Policy, *, mode: str, now: datetime | None = None,
            source: str = CHAT_LAST_LOGIN, admin_url: str | None = None) -> list[PolicyRow]:
    """Every agent with its last login, the action the policy takes and why; changes nothing.

    ``source`` names where ``last_login`` came from; on the Support kind the actions are
    ``admin_step`` rows pointing at ``admin_url`` (Admin Center's Team members page).
    """
    policy.check()
    now = now or datetime.now(timezone.utc)
    rows = []
    for a in agents:
        days, action, why = _decide(a, policy, now, mode)
        rows.append(PolicyRow(a.id, a.email, a.display_name or f"{a.first_name} {a.last_name}".strip(), a.enabled,
                              a.last_login, days, action, why, source,
                              admin_url if action == ADMIN_STEP else None))
    order = {DELETE: 0, DISABLE: 1, ADMIN_STEP: 1, KEEP: 2}
    rows.sort(key=lambda r: (order[r.action], -(r.idle_days or 0), r.email.lower()))
    return rows


def export_steps_csv(rows: Iterable[PolicyRow], path: str | Path) -> int:
    """Write the rows that need a change (admin steps, or writes to come) as CSV; returns the count."""
    acting = [r for r in rows if r.action != KEEP]
    return write_csv(path, CSV_HEADER, ((r.email, r.name, r.last_login or "", SOURCE_LABELS.get(r.last_login_source,
                                         r.last_login_source), r.idle_days, r.action, r.why, r.admin_url or "")
                                        for r in acting))


def apply(db: Database, backend: ChatBackend, rows: Iterable[PolicyRow], agents: dict[int, Agent], *,
          actor: str = "inactivity policy", progress: Callable[[int, int, str], None] | None = None,
          is_cancelled: Callable[[], bool] | None = None) -> dict[str, int]:
    """Carry out the confirmed preview rows through the Chat Agents API; each action and its answer
    is logged. Refused on the Support kind, where EvalSync writes nothing (the rows are admin steps)."""
    if getattr(backend, "mode", "") == SUPPORT:
        raise UsageError("On an account whose Chat was created in Support, EvalSync does not change agents for "
                         "inactivity; export the list (CSV) and switch Chat off in Admin Center.")
    todo = [r for r in rows if r.action in (DISABLE, DELETE)]
    counts = {"disabled": 0, "deleted": 0, "failed": 0}
    for n, row in enumerate(todo, start=1):
        if is_cancelled and is_cancelled():
            raise Cancelled(f"Cancelled after {n - 1} of {len(todo)} policy actions; run the policy again to go on.")
        agent = agents.get(row.agent_id)
        if agent is None:
            continue
        try:
            status, answer = backend.delete(agent) if row.action == DELETE else backend.disable(agent)
        except AuthError:
            raise
        except (ZendeskError, UsageError) as exc:
            counts["failed"] += 1
            with db.transaction() as conn:
                audit.log_action(conn, audit.FAILED, email=row.email, actor=actor,
                                 detail=f"could not {row.action}: {exc}", zendesk_status=getattr(exc, "status", None))
            continue
        key = "deleted" if row.action == DELETE else "disabled"
        counts[key] += 1
        with db.transaction() as conn:
            audit.log_action(conn, audit.DELETED if row.action == DELETE else audit.DISABLED, email=row.email,
                             actor=actor, detail=row.why, zendesk_status=status, zendesk_answer=answer)
            if row.action == DELETE:
                conn.execute("DELETE FROM chat_agents WHERE id = ?", (row.agent_id,))
            else:
                conn.execute("UPDATE chat_agents SET enabled = 0 WHERE id = ?", (row.agent_id,))
        if progress:
            progress(n, len(todo), f"{n} of {len(todo)} policy actions")
    return counts
