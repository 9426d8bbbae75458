"""Per-minute rate limits in fixed windows, as Zendesk reports them in its headers."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Verdict:
    """Outcome of counting one request: headers to send and, if refused, the wait."""

    headers: list[tuple[str, str]]
    retry_after: int | None = None


class _Window:
    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self.start = -1.0
        self.used = 0

    def roll(self, now: float) -> None:
        start = math.floor(now / 60.0) * 60.0
        if start != self.start:
            self.start, self.used = start, 0

    def left(self) -> int:
        return max(0, (self.limit or 0) - self.used)


class RateLimiter:
    """Account-wide, incremental-export and Chat windows (``None``/``0`` limit = off).

    Incremental requests also count against the account-wide window (recordings show the
    account-wide remaining dropping on export calls); Chat has its own 200/min window.
    Refused requests are not counted.
    """

    def __init__(self, clock: Callable[[], float], account: int | None, incremental: int | None, chat: int | None) -> None:
        self._now = clock
        self._lock = threading.Lock()
        self.account = _Window(account or None)
        self.incremental = _Window(incremental or None)
        self.chat = _Window(chat or None)

    def set_limits(self, account: int | None = None, incremental: int | None = None, chat: int | None = None) -> None:
        with self._lock:
            if account is not None:
                self.account.limit = account or None
            if incremental is not None:
                self.incremental.limit = incremental or None
            if chat is not None:
                self.chat.limit = chat or None

    def check(self, category: str) -> Verdict:
        """Count a request of ``category`` ("account", "incremental", "chat")."""
        with self._lock:
            now = self._now()
            windows = [self.chat] if category == "chat" else [self.account]
            if category == "incremental":
                windows.append(self.incremental)
            for w in windows:
                w.roll(now)
            reset = max(1, math.ceil(windows[0].start + 60.0 - now))
            refused = [w for w in windows if w.limit is not None and w.used >= w.limit]
            if not refused:
                for w in windows:
                    w.used += 1
            shown = windows[0]
            headers = self._headers(shown, reset)
            if refused:
                wait = max(1, math.ceil(refused[0].start + 60.0 - now))
                return Verdict(headers, retry_after=wait)
            return Verdict(headers)

    @staticmethod
    def _headers(w: _Window, reset: int) -> list[tuple[str, str]]:
        if w.limit is None:
            return []
        left = str(w.left())
        return [("X-Rate-Limit", str(w.limit)), ("X-Rate-Limit-Remaining", left),
                ("ratelimit-limit", str(w.limit)), ("ratelimit-remaining", left), ("ratelimit-reset", str(reset))]
