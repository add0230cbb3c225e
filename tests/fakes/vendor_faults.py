"""Fault injection for the vendor fakes: the next matching requests (or every one until cleared) get a
status, a malformed body or a delay, each optionally limited to a path prefix."""

from __future__ import annotations

import threading
from dataclasses import dataclass


@dataclass
class Fault:
    kind: str  # "status" | "malformed" | "delay"
    remaining: int | None  # None: every matching request until cleared
    path_prefix: str | None
    status: int = 200
    retry_after: float | None = None
    body: bytes | None = None
    seconds: float = 0.0

    def matches(self, path: str) -> bool:
        return self.path_prefix is None or path.startswith(self.path_prefix)


class FaultInjection:
    """The fault methods of `FakeVendorServer`; its `_handle` takes the faults in order."""

    _lock: threading.RLock
    _faults: list[Fault]
    _delays: list[Fault]

    def fail_next(
        self,
        status: int,
        times: int = 1,
        *,
        retry_after: float | None = None,
        body: bytes | None = None,
        path_prefix: str | None = None,
    ) -> None:
        """The next `times` matching requests get `status` with the vendor's error body (or `body`),
        plus `Retry-After` when `retry_after` is given."""
        self._add_fault(
            Fault("status", times, path_prefix, status=status, retry_after=retry_after, body=body)
        )

    def fail_always(
        self,
        status: int,
        *,
        retry_after: float | None = None,
        body: bytes | None = None,
        path_prefix: str | None = None,
    ) -> None:
        """Every matching request gets `status` until `clear_faults()` (or `reset()`)."""
        self._add_fault(
            Fault("status", None, path_prefix, status=status, retry_after=retry_after, body=body)
        )

    def malformed_next(self, times: int = 1, path_prefix: str | None = None) -> None:
        """The next `times` matching requests get a 200 whose JSON body is cut in half (invalid JSON)."""
        self._add_fault(Fault("malformed", times, path_prefix))

    def delay_next(self, seconds: float, times: int = 1, path_prefix: str | None = None) -> None:
        """The next `times` matching requests wait `seconds` before being answered (normally, unless
        another fault applies). Delays are cut short by `stop()`."""
        with self._lock:
            self._delays.append(Fault("delay", times, path_prefix, seconds=seconds))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()
            self._delays.clear()

    def _add_fault(self, fault: Fault) -> None:
        if fault.remaining is not None and fault.remaining < 1:
            raise ValueError("times must be >= 1")
        with self._lock:
            self._faults.append(fault)

    @staticmethod
    def _take(faults: list[Fault], path: str) -> Fault | None:
        for fault in faults:
            if fault.matches(path):
                if fault.remaining is not None:
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        faults.remove(fault)
                return fault
        return None
