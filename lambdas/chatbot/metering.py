"""One request's metering: the caller's limits, the reservation before the model, the settle after it,
the read a cached answer needs, and LIMITS_FAIL_MODE when the usage table cannot be reached.

DynamoDB round trips per request (`make bench` measures them):
- live answer, caller with limits: reserve (one TransactWriteItems) and settle (one TransactWriteItems).
  The settle's transaction returns no values, so the `limits` block's `used` comes from one
  BatchGetItem sent in the background right after the reservation, while the model answers: `used` is
  what the caller was charged when that read ran plus this answer's own charge (an answer of the same
  caller settled during this one's model call may be missing from it, never counted twice);
- live answer, caller without limits: the settle only (metering still runs);
- cached answer: nothing is charged; one BatchGetItem of the limited windows fills the `limits` block,
  none when the caller has no limits;
- a failed model call releases its hold in the settle's write (nothing at all for a caller without
  limits: there is nothing to charge or release).

Fail modes (the usage table unreachable): `open` answers and counts LimitCheckErrors; `closed` answers
503 `limits_unavailable` before the model is called. A write that fails after the model answered never
withholds the answer (it is counted; its hold, if any, is swept after its `until`). A cached answer is
served in both modes (it costs nothing). While the table is unreachable in `open` mode limits are not
enforced: availability over the cap, by the operator's choice.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger

from chatbot.caller_limits import CallerLimits, CallerLimitsError, caller_limits_from_env
from chatbot.limits import (
    Charge,
    actual_charge,
    deciding,
    limits_block,
    output_cap,
    refusal_message,
    slots_for,
    usage_percent,
    worst_case,
)
from chatbot.request import ChatRequest
from chatbot.settings import FAIL_CLOSED, ChatbotSettings, ModelPrice
from chatbot.tokens import Usage
from chatbot.usage_store import LimitExceeded, MeteringUnavailable, UsageStore
from chatbot.windows import windows_at

logger = Logger(child=True)

# The background reads of the callers' usage (one per live answer with limits, while the model answers).
# Two workers: a Lambda container serves one request at a time; threads are started on first use only.
_READS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="usage-read")


@cache
def parsed_caller_limits(raw: str) -> CallerLimits:
    """CALLER_LIMITS parsed once per container (a malformed one raises CallerLimitsError every time)."""
    return caller_limits_from_env(raw)


class LimitsConfigurationError(Exception):
    """The limits cannot be applied as configured; the message names the variable and key."""


class LimitsUnavailable(Exception):
    """LIMITS_FAIL_MODE=closed and the usage table could not be reached: the request is not answered."""


class LimitRefused(Exception):
    """The reservation would cross a limit: the 429's message and Retry-After."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class Meter:
    """The container's metering: the usage store (None: no USAGE_TABLE_NAME, nothing metered)."""

    store: UsageStore | None
    caller_limits: Callable[[], CallerLimits]  # raises CallerLimitsError when CALLER_LIMITS is malformed
    fail_closed: bool = False
    default_max_output: int = 4096
    prices: Mapping[str, ModelPrice] | None = None
    wall: Callable[[], float] = time.time

    @classmethod
    def from_settings(cls, settings: ChatbotSettings, dynamodb: Callable[[], Any]) -> Meter:
        """The meter the settings describe; `dynamodb` builds the (shared) DynamoDB client on first use."""
        table = settings.usage_table_name
        return cls(
            UsageStore(table, dynamodb) if table else None,
            lambda: parsed_caller_limits(settings.caller_limits),
            fail_closed=settings.limits_fail_mode == FAIL_CLOSED,
            default_max_output=settings.default_max_output_tokens,
            prices=settings.model_prices,
        )

    def open(self, caller: str, request_id: str, hold_seconds: float) -> Tab:
        """The request's tab; LimitsConfigurationError when its limits cannot be applied."""
        try:
            limits = self.caller_limits()
        except CallerLimitsError as exc:
            raise LimitsConfigurationError(str(exc)) from exc
        if self.store is None and (limits.default or limits.callers):
            raise LimitsConfigurationError("USAGE_TABLE_NAME: required when CALLER_LIMITS sets limits")
        return Tab(self, caller, request_id, hold_seconds, limits)


NO_METER = Meter(store=None, caller_limits=CallerLimits)


class Tab:
    """What one request reserved, was charged and learned of its caller's usage."""

    def __init__(
        self, meter: Meter, caller: str, request_id: str, hold_seconds: float, limits: CallerLimits
    ) -> None:
        self._meter = meter
        self.caller = caller
        self._request_id = request_id
        self._hold_seconds = hold_seconds
        self.windows = windows_at(meter.wall())
        self.slots = slots_for(limits.for_caller(caller), self.windows)
        self.check_error = False  # LimitCheckErrors: metering failed at some step of this request
        self.used: dict[str, Charge] | None = None  # charged per limited window id, when known
        self._held: frozenset[str] = frozenset()
        self._hold = Charge()
        self._base: Future[dict[str, Charge]] | None = None

    def _failed(self, step: str, exc: Exception) -> None:
        self.check_error = True
        logger.warning("usage table unreachable", extra={"step": step, "error": str(exc)[:300]})

    def max_tokens(self, request: ChatRequest) -> int | None:
        """The model's output cap: a limited caller's request is capped at what it reserved."""
        return output_cap(request, self._meter.default_max_output) if self.slots else request.max_tokens

    def cached(self) -> None:
        """A cached answer charges nothing; read the limited windows for the `limits` block."""
        store = self._meter.store
        if not self.slots or store is None:
            return
        try:
            self.used = store.read(self.caller, [slot.window for slot in self.slots])
        except MeteringUnavailable as exc:
            self._failed("read", exc)

    def reserve(self, request: ChatRequest) -> None:
        """Hold the worst case in every limited window before the model is called.

        Raises LimitRefused (429), or LimitsUnavailable (503) when the table is unreachable in closed mode.
        """
        store = self._meter.store
        if not self.slots or store is None:
            return
        need = worst_case(request, self._meter.default_max_output, self._meter.prices or {})
        now = self._meter.wall()
        try:
            store.reserve(self.caller, self._request_id, self.slots, need, now + self._hold_seconds, now)
        except LimitExceeded as exc:
            self.used = {r.slot.window.id: r.used for r in exc.refusals if r.used is not None}
            refusal = deciding(exc.refusals)
            retry_after = refusal.slot.window.retry_after(self._meter.wall())
            raise LimitRefused(refusal_message(self.caller, refusal), retry_after) from None
        except MeteringUnavailable as exc:
            self._failed("reserve", exc)
            if self._meter.fail_closed:
                raise LimitsUnavailable(str(exc)) from exc
            return
        self._held, self._hold = frozenset(slot.window.id for slot in self.slots), need
        self._base = _READS.submit(store.read, self.caller, [slot.window for slot in self.slots])

    def settle(self, usage: Usage | None = None, cost_usd: float | None = None) -> None:
        """Charge what the answer really cost (nothing for a failure) and release the hold."""
        store = self._meter.store
        if store is None:
            return
        actual = actual_charge(usage, cost_usd)
        base: dict[str, Charge] | None = None
        pending, self._base = self._base, None
        if pending is not None:
            try:
                base = pending.result()
            except MeteringUnavailable as exc:
                self._failed("read", exc)
        try:
            store.settle(self.caller, self._request_id, self.windows, self._held, self._hold, actual)
        except MeteringUnavailable as exc:
            self._failed("settle", exc)
            return  # this answer's charge is not stored: no `used` that would claim it is
        finally:
            self._held = frozenset()
        if base is not None:
            self.used = {window_id: charged + actual for window_id, charged in base.items()}

    @property
    def block(self) -> dict[str, Any] | None:
        """The 200 answer's `limits` block (None: no limits, or the usage could not be read)."""
        return limits_block(self.slots, self.used) if self.slots and self.used is not None else None

    @property
    def usage_percent(self) -> float | None:
        """CallerLimitUsage after the request (None: no limits, or the usage is unknown)."""
        return usage_percent(self.slots, self.used) if self.slots and self.used else None
