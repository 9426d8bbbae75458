"""The inactivity policy: disable chat agents idle for N days, delete those idle for M > N days.

The seed did this by hand from a periodic extract. Here :func:`preview` always comes first
and explains each agent (last login, what will happen, why); :func:`apply` acts only on the
rows of a preview the admin confirmed (or the CLI's ``--apply``). Never touched: the account
owner, admins, and the exemption list (exact e-mails or whole domains). In Support mode
only chat-only agents can be deleted; others are disabled instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone

from evalsync_gui.core.chat import audit
from evalsync_gui.core.chat.agents_api import SUPPORT, Agent, ChatBackend
from evalsync_gui.core.errors import AuthError, Cancelled, UsageError, ZendeskError
from evalsync_gui.core.store.db import Database

DISABLE, DELETE, KEEP = "disable", "delete", "keep"


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


def parse_when(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def _decide(agent: Agent, policy: Policy, now: datetime, mode: str) -> tuple[int | None, str, str]:
    if agent.is_owner:
        return None, KEEP, "account owner: never touched"
    if agent.is_admin:
        return None, KEEP, "admin: never touched"
    exempt = policy.exemption(agent.email)
    if exempt:
        return None, KEEP, exempt
    last = parse_when(agent.last_login)
    since = last or parse_when(agent.created)
    if since is None:
        return None, KEEP, "no last login or creation date known"
    days = max(0, (now - since).days)
    what = f"last login {days} days ago" if last else f"never logged in; created {days} days ago"
    if days >= policy.delete_after:
        if mode == SUPPORT and not agent.chat_only:
            if agent.enabled:
                return days, DISABLE, f"{what} (≥ {policy.delete_after}); a Support agent is disabled, not deleted"
            return days, KEEP, f"{what}; already without chat access (Support agents are not deleted)"
        return days, DELETE, f"{what} (≥ {policy.delete_after} days)"
    if days >= policy.disable_after:
        if agent.enabled:
            return days, DISABLE, f"{what} (≥ {policy.disable_after} days)"
        return days, KEEP, f"{what}; already disabled"
    return days, KEEP, f"{what} (< {policy.disable_after} days)"


def preview(agents: Iterable[Agent], policy: Policy, *, mode: str, now: datetime | None = None) -> list[PolicyRow]:
    """Every agent with its last login, the action the policy takes and why; changes nothing."""
    policy.check()
    now = now or datetime.now(timezone.utc)
    rows = []
    for a in agents:
        days, action, why = _decide(a, policy, now, mode)
        rows.append(PolicyRow(a.id, a.email, a.display_name or f"{a.first_name} {a.last_name}".strip(), a.enabled,
                              a.last_login, days, action, why))
    order = {DELETE: 0, DISABLE: 1, KEEP: 2}
    rows.sort(key=lambda r: (order[r.action], -(r.idle_days or 0), r.email.lower()))
    return rows


def apply(db: Database, backend: ChatBackend, rows: Iterable[PolicyRow], agents: dict[int, Agent], *,
          actor: str = "inactivity policy", progress: Callable[[int, int, str], None] | None = None,
          is_cancelled: Callable[[], bool] | None = None) -> dict[str, int]:
    """Carry out the confirmed preview rows; each action and its answer is logged."""
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
