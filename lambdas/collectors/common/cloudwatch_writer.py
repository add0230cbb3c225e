"""PutMetricData, batched, validated, with explicit timestamps.

Rules (CloudWatch's PutMetricData limits):
- one namespace per call, at most `MAX_DATUMS_PER_CALL` (1000) datums and a request under 1 MB: the
  writer estimates each datum's size in the most verbose wire encoding botocore may use (the query
  protocol: every field name repeated per datum, URL-encoded) and closes a batch at `MAX_REQUEST_BYTES`
  (900,000, a 10 % margin under 1 MB);
- at most 30 dimensions per datum, non-empty names (<= 255 chars) and values (<= 1024 chars) of
  printable ASCII with a non-blank character, names not starting with `:` (one datum breaking these would
  make CloudWatch reject its whole call, every run: it is dropped instead, counted as `dimensions`);
- values: finite doubles within +/-2^360; NaN, infinities, booleans, non-numbers and out-of-range
  values are dropped (`invalid`), and so is a negative value of a metric that cannot be negative
  (`negative`; a `Datapoint` says `signed=True` when it can);
- timestamps: older than 14 days (CloudWatch rejects them; `too_old`) or more than 2 hours ahead
  (`future`) are dropped.
Every drop is counted by reason. Throttling, 5xx and failures before sending are retried by botocore's
standard retry mode (the client is built with an explicit attempt budget). A batch that still fails
raises `PublishError` carrying how many datums earlier batches got accepted: CloudWatch stored none of
it, so the caller does not advance its checkpoint. A call whose answer was lost after it was sent (read
timeout, connection closed) is never resent (`shared.aws_clients` vetoes that retry): it raises
`PublishOutcomeUnknown`, since CloudWatch may or may not have stored it.

Two ways in: `publish(points)` validates, batches and sends one list (the run's health); the runner's
shared batching uses `validate` (one point -> datum or drop reason), `pack` (many callers' pieces ->
`Batch`es, a piece never split unless it alone exceeds a call) and `put` (one `Batch`, one call).
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from botocore.exceptions import BotoCoreError, ClientError

from shared.aws_clients import outcome_unknown
from shared.metric_catalogue import MetricDef

MAX_DATUMS_PER_CALL = 1000
MAX_REQUEST_BYTES = 900_000
MAX_DIMENSIONS = 30
MAX_DIMENSION_VALUE = 1024
MAX_DIMENSION_NAME = 255
MAX_AGE_MS = 14 * 24 * 3600 * 1000
MAX_FUTURE_MS = 2 * 3600 * 1000
MAX_ABS_VALUE = 2.0**360
MIN_ABS_VALUE = 2.0**-360
_REQUEST_OVERHEAD = 200  # Action, Version, Namespace, signing leftovers


@dataclass(frozen=True, slots=True)
class Datapoint:
    metric: MetricDef
    value: Any
    timestamp_ms: int
    dimensions: tuple[tuple[str, str], ...] = ()
    signed: bool = False


@dataclass(slots=True)
class WriteResult:
    accepted: int = 0
    calls: int = 0
    dropped: Counter[str] = field(default_factory=Counter)

    def merge(self, other: WriteResult) -> None:
        self.accepted += other.accepted
        self.calls += other.calls
        self.dropped.update(other.dropped)


class PublishError(Exception):
    """A PutMetricData call failed after botocore's retries, and CloudWatch did not store it."""

    def __init__(self, message: str, accepted: int) -> None:
        super().__init__(message)
        self.accepted = accepted


class PublishOutcomeUnknown(PublishError):
    """The call was sent but its answer was lost: CloudWatch may have stored it. Never resend it blindly.

    A subclass of PublishError so that a caller unaware of it still stops; the runner catches it first."""


def _failed(namespace: str, datums: int, exc: Exception, accepted: int) -> PublishError:
    if outcome_unknown(exc):
        what = "outcome unknown (sent, answer lost: may be stored, not resent)"
        return PublishOutcomeUnknown(f"PutMetricData {namespace} ({datums} datums) {what}: {exc}", accepted)
    return PublishError(f"PutMetricData {namespace} ({datums} datums) failed: {exc}", accepted)


def check_value(value: Any, signed: bool) -> tuple[float | None, str]:
    """(the value as a float, "") or (None, the drop reason)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None, "invalid"
    try:
        number = float(value)
    except OverflowError:  # an int beyond a double's range
        return None, "invalid"
    if not math.isfinite(number) or abs(number) > MAX_ABS_VALUE:
        return None, "invalid"
    if number != 0 and abs(number) < MIN_ABS_VALUE:
        return None, "invalid"
    if number < 0 and not signed:
        return None, "negative"
    return number, ""


def _datum(point: Datapoint, value: float) -> dict[str, Any]:
    return {
        "MetricName": point.metric.name,
        "Dimensions": [{"Name": name, "Value": dim_value} for name, dim_value in point.dimensions],
        "Timestamp": datetime.fromtimestamp(point.timestamp_ms / 1000, tz=UTC),
        "Value": value,
        "Unit": str(point.metric.unit),
    }


def datum_size(datum: dict[str, Any], index: int = 1000) -> int:
    """Bytes this datum adds to a query-protocol request (an upper bound for CBOR and JSON too)."""
    prefix = f"MetricData.member.{max(index, 1000)}."

    def pair(key: str, value: str) -> int:
        return len(prefix) + len(key) + 1 + len(quote(value, safe="")) + 1

    size = pair("MetricName", datum["MetricName"])
    size += pair("Timestamp", datum["Timestamp"].strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
    size += pair("Value", repr(float(datum["Value"])))
    size += pair("Unit", datum["Unit"])
    for position, dimension in enumerate(datum["Dimensions"], start=1):
        size += pair(f"Dimensions.member.{position}.Name", dimension["Name"])
        size += pair(f"Dimensions.member.{position}.Value", dimension["Value"])
    return size


def _printable(text: str) -> bool:
    """CloudWatch's rule for dimension names and values: ASCII without control characters, and at least
    one character that is not whitespace (the API rejects the whole call otherwise)."""
    return text.isascii() and text.isprintable() and not text.isspace()


def _dimensions_ok(dimensions: tuple[tuple[str, str], ...]) -> bool:
    if len(dimensions) > MAX_DIMENSIONS:
        return False
    return all(
        isinstance(name, str)
        and isinstance(value, str)
        and 0 < len(name) <= MAX_DIMENSION_NAME
        and 0 < len(value) <= MAX_DIMENSION_VALUE
        and _printable(name)
        and not name.startswith(":")
        and _printable(value)
        for name, value in dimensions
    )


def plan_batches(
    datums: list[dict[str, Any]],
    *,
    max_datums: int = MAX_DATUMS_PER_CALL,
    max_bytes: int = MAX_REQUEST_BYTES,
    namespace: str = "",
) -> list[list[dict[str, Any]]]:
    """Split one namespace's datums into calls under the count and size limits."""
    batches: list[list[dict[str, Any]]] = []
    current: list[dict[str, Any]] = []
    size = _REQUEST_OVERHEAD + len(namespace)
    for datum in datums:
        extra = datum_size(datum)
        if current and (len(current) >= max_datums or size + extra > max_bytes):
            batches.append(current)
            current, size = [], _REQUEST_OVERHEAD + len(namespace)
        current.append(datum)
        size += extra
    if current:
        batches.append(current)
    return batches


@dataclass(slots=True)
class Batch:
    """One PutMetricData call: its datums and, per piece packed into it, the piece's tag and datum count."""

    namespace: str
    datums: list[dict[str, Any]] = field(default_factory=list)
    parts: list[tuple[Any, int]] = field(default_factory=list)  # (tag, datums of that piece in this call)
    size: int = 0


class CloudWatchWriter:
    """Validates, batches and publishes datapoints; `publish` returns what CloudWatch accepted."""

    def __init__(
        self,
        cloudwatch: Callable[[], Any],
        *,
        clock: Callable[[], float] = time.time,
        max_datums: int = MAX_DATUMS_PER_CALL,
        max_bytes: int = MAX_REQUEST_BYTES,
    ) -> None:
        self._cloudwatch = cloudwatch
        self._clock = clock
        self._max_datums = max_datums
        self._max_bytes = max_bytes

    def now_ms(self) -> int:
        """The writer's notion of now (the run's), against which timestamps are checked."""
        return int(self._clock() * 1000)

    def validate(self, point: Datapoint, now_ms: int | None = None) -> tuple[dict[str, Any] | None, str]:
        """(the datum to send, "") or (None, the drop reason)."""
        now_ms = self.now_ms() if now_ms is None else now_ms
        value, reason = check_value(point.value, point.signed)
        if value is None:
            return None, reason
        if point.timestamp_ms < now_ms - MAX_AGE_MS:
            return None, "too_old"
        if point.timestamp_ms > now_ms + MAX_FUTURE_MS:
            return None, "future"
        if not _dimensions_ok(point.dimensions):
            return None, "dimensions"
        return _datum(point, value), ""

    def pack(self, pieces: Iterable[tuple[Any, str, list[dict[str, Any]]]]) -> list[Batch]:
        """Pack ordered pieces (tag, namespace, datums) into as few calls as whole pieces allow.

        Per namespace, pieces go into the open call in order while it stays within the count and size
        limits; a piece that does not fit closes the call and opens the next (so a piece is never split
        between calls, and one tag's pieces land in calls in their order). A piece that alone exceeds a
        call gets consecutive calls of its own (the last one stays open for the pieces after it). Calls
        come back in the order they close, the still-open ones last (in namespace order of first use).
        """
        calls: list[Batch] = []
        open_calls: dict[str, Batch] = {}
        base = _REQUEST_OVERHEAD
        for tag, namespace, datums in pieces:
            if not datums:
                continue
            sizes = [datum_size(d) for d in datums]
            need = sum(sizes)
            call = open_calls.get(namespace) or Batch(namespace, size=base + len(namespace))
            if call.datums and (
                len(call.datums) + len(datums) > self._max_datums or call.size + need > self._max_bytes
            ):
                calls.append(call)
                call = Batch(namespace, size=base + len(namespace))
            if len(datums) > self._max_datums or call.size + need > self._max_bytes:
                # Only an oversize piece gets here (the call is empty): split it over calls of its own.
                count = 0
                for datum, size in zip(datums, sizes, strict=True):
                    if call.datums and (
                        len(call.datums) >= self._max_datums or call.size + size > self._max_bytes
                    ):
                        call.parts.append((tag, count))
                        calls.append(call)
                        call, count = Batch(namespace, size=base + len(namespace)), 0
                    call.datums.append(datum)
                    call.size += size
                    count += 1
                call.parts.append((tag, count))
            else:
                call.datums.extend(datums)
                call.size += need
                call.parts.append((tag, len(datums)))
            open_calls[namespace] = call
        calls.extend(call for call in open_calls.values() if call.datums)
        return calls

    def put(self, batch: Batch) -> None:
        """One PutMetricData call (botocore retries what was not stored); raises PublishError when it
        still fails, PublishOutcomeUnknown when its answer was lost."""
        try:
            self._cloudwatch().put_metric_data(Namespace=batch.namespace, MetricData=batch.datums)
        except (ClientError, BotoCoreError) as exc:
            raise _failed(batch.namespace, len(batch.datums), exc, 0) from exc

    def prepare(self, points: Iterable[Datapoint]) -> tuple[dict[str, list[dict[str, Any]]], Counter[str]]:
        """Valid datums grouped by namespace, and the drop counts."""
        now_ms = self.now_ms()
        by_namespace: dict[str, list[dict[str, Any]]] = {}
        dropped: Counter[str] = Counter()
        for point in points:
            datum, reason = self.validate(point, now_ms)
            if datum is None:
                dropped[reason] += 1
                continue
            by_namespace.setdefault(point.metric.namespace, []).append(datum)
        return by_namespace, dropped

    def publish(self, points: Iterable[Datapoint]) -> WriteResult:
        by_namespace, dropped = self.prepare(points)
        result = WriteResult(dropped=dropped)
        for namespace, datums in by_namespace.items():
            for batch in plan_batches(
                datums, max_datums=self._max_datums, max_bytes=self._max_bytes, namespace=namespace
            ):
                try:
                    self._cloudwatch().put_metric_data(Namespace=namespace, MetricData=batch)
                except (ClientError, BotoCoreError) as exc:
                    raise _failed(namespace, len(batch), exc, result.accepted) from exc
                result.calls += 1
                result.accepted += len(batch)
        return result
