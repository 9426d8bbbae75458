"""Pacing one endpoint at its own rate limit, waiting in the open instead of spending 429s.

Zendesk limits the incremental exports to 10 requests a minute, separately from the
account-wide limit (docs/ZENDESK.md section 4). A catch-up of thousands of pages at that
pace takes minutes to hours; left to 429s and ``Retry-After`` it would spend the client's
rate-limit budget and fail half-way. :class:`EndpointPacer` keeps at most ``limit``
requests in any ``window`` seconds (a sliding window, so no fixed minute of Zendesk's can
see more), tells its ``on_wait`` callback how long it is waiting and why before each wait,
and learns from what Zendesk says: an endpoint header ``zendesk-ratelimit-<name>:
total=N; remaining=M; resets=S`` sets the limit and, at ``remaining=0``, the next start;
a 429 on the endpoint means the window is fuller than we counted (another client on the
account): the client waits its ``Retry-After`` and the pacer lowers its limit by one (not below 1).

Pacing waits are not rate-limit failures: they do not count against
``RetryPolicy.rate_limit_budget``, so a catch-up of any size finishes in one run.
"""

from __future__ import annotations

import re
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping

WaitCallback = Callable[[float, str], None]
_ENDPOINT_HEADER = re.compile(r"total=(\d+);\s*remaining=(\d+);\s*resets=(\d+)")


class EndpointPacer:
    """At most ``limit`` requests in any ``window`` seconds for the paths under ``prefix``."""

    def __init__(self, prefix: str, limit: int, *, window: float = 60.0, margin: float = 1.0,
                 label: str = "this endpoint", on_wait: WaitCallback | None = None,
                 is_cancelled: Callable[[], bool] | None = None,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> None:
        self.prefix = prefix
        self.limit = max(1, int(limit))
        self.window = window + margin  # the margin absorbs the time a request takes to arrive
        self.label = label
        self.on_wait = on_wait
        self._is_cancelled = is_cancelled or (lambda: False)
        self._clock, self._sleep = clock, sleep
        self._sent: deque[float] = deque()
        self._not_before = 0.0
        self._lock = threading.Lock()
        self.waited = 0.0  # seconds spent waiting, in total

    def covers(self, path: str) -> bool:
        return path.startswith(self.prefix)

    def before_request(self) -> None:
        """Wait (in steps, cancellable) until one more request fits, then count it."""
        while True:
            wait = self._wait_needed()
            if wait <= 0:
                return
            if self.on_wait is not None:
                self.on_wait(wait, f"{self.label} allows {self.limit} requests a minute; "
                                   f"waiting {wait:.0f}s before the next page")
            self._pause(wait)

    def observe(self, path: str, status: int, headers: Mapping[str, str]) -> None:
        """Learn from a response on this endpoint (see the module docstring)."""
        if not self.covers(path):
            return
        with self._lock:
            for name, value in headers.items():
                match = _ENDPOINT_HEADER.search(value) if name.lower().startswith("zendesk-ratelimit-") else None
                if match:
                    total, remaining, resets = (int(g) for g in match.groups())
                    self.limit = max(1, total)
                    if remaining == 0:
                        self._not_before = max(self._not_before, self._clock() + resets)
            if status == 429:
                self.limit = max(1, self.limit - 1)

    # -- internals ----------------------------------------------------------------------
    def _wait_needed(self) -> float:
        with self._lock:
            now = self._clock()
            while self._sent and now - self._sent[0] >= self.window:
                self._sent.popleft()
            wait = self._not_before - now
            if len(self._sent) >= self.limit:
                wait = max(wait, self._sent[len(self._sent) - self.limit] + self.window - now)
            if wait <= 0:
                self._sent.append(now)
            return wait

    def _pause(self, seconds: float) -> None:
        from evalsync_gui.core.errors import Cancelled

        left = seconds
        while left > 0:
            if self._is_cancelled():
                raise Cancelled()
            step = min(left, 0.25)
            self._sleep(step)
            left -= step
        self.waited += seconds
