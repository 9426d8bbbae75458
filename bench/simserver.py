"""The simulator in its own process, driven over a stdin/stdout JSON-lines control channel.

The measured process must not share a GIL with the simulator, so benchmarks start it here:
``python -m bench.simserver '<SimConfig JSON>'``. It prints one ``{"ready": {...}}`` line, then
answers one JSON line per command line::

    {"op": "info"} | {"op": "now"} | {"op": "advance", "seconds": S} | {"op": "clear_log"}
    {"op": "log", "entries": bool} | {"op": "change", "agents": N, "end_users": M, "seed": K}
    {"op": "chat_agents"} | {"op": "stop"}

Use :class:`bench.simproc.SimProcess` rather than talking to it by hand.
"""

from __future__ import annotations

import json
import random
import sys
import time
from collections import Counter
from typing import Any


def _store(sim: Any) -> Any:
    for name in ("store", "users", "_store"):
        obj = getattr(sim, name, None)
        if obj is not None and hasattr(obj, "users") and isinstance(getattr(obj, "users"), dict):
            return obj
    raise RuntimeError("the simulator exposes no user store (sim.store)")


def _chat_agents(sim: Any) -> list[dict]:
    agents = getattr(sim, "chat_agents", None)
    if isinstance(agents, dict):
        return list(agents.values())
    for name in ("chat", "chat_store", "store"):
        obj = getattr(sim, name, None)
        for attr in ("agents", "chat_agents"):
            agents = getattr(obj, attr, None) if obj is not None else None
            if isinstance(agents, dict):
                return list(agents.values())
            if isinstance(agents, list):
                return agents
    raise RuntimeError("the simulator exposes no chat agents (sim.chat.agents)")


class Controller:
    def __init__(self, config: dict[str, Any]) -> None:
        from evalsync_gui.sim import SimConfig, Simulator  # noqa: PLC0415 - reported if missing

        if "custom_roles" in config:
            config["custom_roles"] = tuple(config["custom_roles"])
        self.sim = Simulator(SimConfig(**config))
        self.sim.start()
        self.advanced = 0.0
        self._renames = 0

    def info(self) -> dict[str, Any]:
        s = self.sim
        return {"base_url": s.base_url, "admin_email": s.admin_email, "api_token": s.api_token,
                "chat_client_id": s.chat_client_id, "chat_client_secret": s.chat_client_secret,
                "subdomain": getattr(getattr(s, "config", None), "subdomain", "abc-energy"), "now": self.now()}

    def now(self) -> float:
        clock = getattr(self.sim, "clock", None)
        if clock is not None and hasattr(clock, "now"):
            return clock.now()
        return time.time() + self.advanced

    def advance(self, seconds: float) -> float:
        self.sim.advance(seconds)
        self.advanced += seconds
        return self.now()

    def clear_log(self) -> None:
        self.sim.clear_log()

    def log(self, entries: bool = False) -> dict[str, Any]:
        log = list(self.sim.request_log)
        statuses = Counter(str(e[3]) for e in log)
        out: dict[str, Any] = {"count": len(log), "statuses": dict(statuses),
                               "by_path": dict(Counter(f"{e[0]} {e[1]}" for e in log))}
        if entries:
            out["entries"] = [list(e) for e in log]
        return out

    def change(self, agents: int, end_users: int, seed: int) -> dict[str, int]:
        """Six hours of change: agent renames/suspensions/role changes/deletions, end-user edits."""
        store = _store(self.sim)
        rng = random.Random(seed)
        with store.lock:
            staff = [uid for uid, u in store.users.items() if u["active"] and u["role"] == "agent" and not u["suspended"]]
            customers = [uid for uid, u in store.users.items() if u["active"] and u["role"] == "end-user"]
        picked = rng.sample(staff, agents)
        kinds = Counter()
        for n, uid in enumerate(picked):
            kind = ("rename", "rename", "suspend", "role", "delete")[n % 5]
            kinds[kind] += 1
            if kind == "rename":
                self._renames += 1
                store.rename(uid, f"{store.users[uid]['name'].split(' #')[0]} #{self._renames}")
            elif kind == "suspend":
                store.set_suspended(uid, True)
            elif kind == "role":
                store.change_role(uid, "end-user")
            else:
                store.set_active(uid, False)
        for uid in rng.sample(customers, end_users):
            self._renames += 1
            store.rename(uid, f"{store.users[uid]['name'].split(' #')[0]} #{self._renames}")
        kinds["end_user_renames"] = end_users
        return dict(kinds)

    def chat_agents(self) -> list[dict[str, Any]]:
        return [{"email": a.get("email"), "enabled": bool(a.get("enabled"))} for a in _chat_agents(self.sim)]

    def in_scope(self, roles: list[str]) -> int:
        store = _store(self.sim)
        with store.lock:
            return sum(1 for u in store.users.values() if u["active"] and u["role"] in roles)


def main() -> int:
    config = json.loads(sys.argv[1])
    out = sys.stdout
    try:
        ctl = Controller(config)
    except Exception as exc:  # noqa: BLE001 - reported to the parent as "not available"
        out.write(json.dumps({"error": f"{type(exc).__name__}: {exc}"}) + "\n")
        out.flush()
        return 1
    out.write(json.dumps({"ready": ctl.info()}) + "\n")
    out.flush()
    for line in sys.stdin:
        cmd = json.loads(line)
        op = cmd.pop("op")
        if op == "stop":
            break
        try:
            result = getattr(ctl, op)(**cmd)
            out.write(json.dumps({"ok": result}) + "\n")
        except Exception as exc:  # noqa: BLE001 - the parent decides
            out.write(json.dumps({"error": f"{type(exc).__name__}: {exc}"}) + "\n")
        out.flush()
    stop = getattr(ctl.sim, "stop", None)
    if stop:
        stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
