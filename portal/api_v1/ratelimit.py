"""How often one API user may call: a fixed one-minute window, kept in process memory.

Each server process counts on its own, so with N worker processes a user gets up to N times
the limit; a shared store (Redis) would make it exact.
"""

import threading
import time

REQUESTS_PER_MINUTE = 300
WINDOW_SECONDS = 60


class RateLimit:
    """Counts requests per key in the current window."""

    def __init__(self, per_window: int = REQUESTS_PER_MINUTE, window: int = WINDOW_SECONDS):
        self.per_window, self.window = per_window, window
        self._counts: dict[object, tuple[int, int]] = {}
        self._lock = threading.Lock()

    def hit(self, key, now: float | None = None) -> int | None:
        """Count one request; None if allowed, else the seconds until the next window."""
        now = time.time() if now is None else now
        current = int(now // self.window)
        with self._lock:
            if len(self._counts) > 10_000:  # forget the keys of windows gone by
                self._counts = {k: v for k, v in self._counts.items() if v[0] == current}
            window, count = self._counts.get(key, (current, 0))
            count = count + 1 if window == current else 1
            self._counts[key] = (current, count)
        if count <= self.per_window:
            return None
        return max(1, int((current + 1) * self.window - now))
