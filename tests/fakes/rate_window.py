"""The vendor fakes' rate limiter: a sliding 60 s window of admitted requests on an injectable monotonic
clock; a refused request is told when a slot frees (`Retry-After`, whole seconds)."""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Callable

WINDOW_SECONDS = 60.0


def retry_after_header(seconds: float) -> str:
    """RFC 9110 delay-seconds: a non-negative integer, rounded up."""
    return str(max(0, math.ceil(seconds)))


class RateWindow:
    """The rate-limit methods of `FakeVendorServer` (`rate_limit_per_minute` None: no limit)."""

    _lock: threading.RLock
    _window: deque[tuple[float, str]]  # (clock, path) of admitted requests
    _rate_limited: int
    clock: Callable[[], float]
    rate_limit_per_minute: int | None

    def _prune_window(self, now: float) -> None:
        while self._window and self._window[0][0] <= now - WINDOW_SECONDS:
            self._window.popleft()

    def window_usage(self, path: str | None = None) -> int:
        """Admitted requests in the current 60 s window (all, or those to exactly `path`)."""
        with self._lock:
            self._prune_window(self.clock())
            return sum(1 for _, p in self._window if path is None or p == path)

    def window_reset_in(self) -> float:
        """Seconds until the oldest admitted request leaves the window (60 if the window is empty)."""
        with self._lock:
            now = self.clock()
            self._prune_window(now)
            if not self._window:
                return WINDOW_SECONDS
            return self._window[0][0] + WINDOW_SECONDS - now

    def _admit(self, path: str) -> float | None:
        """None if admitted, else the seconds to wait. Rejected requests do not fill the window."""
        now = self.clock()
        self._prune_window(now)
        limit = self.rate_limit_per_minute
        if limit is not None and len(self._window) >= limit:
            self._rate_limited += 1
            index = len(self._window) - limit  # the slot that must expire before one more fits
            return max(0.001, self._window[index][0] + WINDOW_SECONDS - now)
        self._window.append((now, path))
        return None
