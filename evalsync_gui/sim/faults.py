"""Faults injected on chosen requests: throttling, server errors, broken bodies, dead sockets."""

from __future__ import annotations

import threading
from dataclasses import dataclass

KINDS = ("429", "500", "502", "503", "504", "malformed", "truncated", "cut", "html200", "drop", "timeout")


@dataclass
class Fault:
    """One planned fault: skip ``after`` matching requests, then fire ``times`` times.

    ``path_prefix`` matches the request path (without the query string); ``method`` limits
    it to one HTTP method when set. ``delay`` is how long a ``timeout`` fault stalls before
    dropping the connection. ``retry_after`` is sent with 429 and 503.
    """

    path_prefix: str
    kind: str
    times: int = 1
    after: int = 0
    retry_after: int = 1
    method: str | None = None
    delay: float = 30.0
    seen: int = 0
    fired: int = 0

    @property
    def spent(self) -> bool:
        return self.fired >= self.times


class FaultPlan:
    """The list tests add faults to (``sim.faults.add(...)``); thread-safe."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, path_prefix: str = "/api/v2/users", kind: str = "500", times: int = 1, after: int = 0,
            retry_after: int = 1, method: str | None = None, delay: float = 30.0) -> Fault:
        """Plan a fault; ``kind`` is one of :data:`KINDS`."""
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; choose one of {', '.join(KINDS)}")
        fault = Fault(path_prefix, kind, times, after, retry_after, method.upper() if method else None, delay)
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def pending(self) -> list[Fault]:
        with self._lock:
            return [f for f in self._faults if not f.spent]

    def take(self, method: str, path: str) -> Fault | None:
        """The fault to apply to this request, if any (first matching, in the order added)."""
        with self._lock:
            for f in self._faults:
                if f.spent or not path.startswith(f.path_prefix) or (f.method and f.method != method):
                    continue
                f.seen += 1
                if f.seen <= f.after:
                    continue
                f.fired += 1
                return f
        return None
