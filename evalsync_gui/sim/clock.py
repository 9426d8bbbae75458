"""A time source tests can move forward, so expiry and the incremental export's
"last minute is hidden" rule can be exercised without sleeping."""

from __future__ import annotations

import threading
import time


class Clock:
    """Real time plus an offset that only ever grows."""

    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        """Seconds since the epoch, as the simulated Zendesk sees them."""
        return time.time() + self._offset

    def advance(self, seconds: float) -> None:
        """Jump the simulated time forward (never back: Zendesk timestamps only grow)."""
        if seconds < 0:
            raise ValueError("the simulated clock only moves forward")
        with self._lock:
            self._offset += seconds


def iso(epoch: float) -> str:
    """Zendesk's timestamp format: ``YYYY-MM-DDTHH:MM:SSZ`` in UTC."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(epoch)))
