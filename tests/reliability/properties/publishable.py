"""What would be published: CloudWatch's PutMetricData rules written independently of the writer, the
collectors' writer run against them, and a vendor body fetched through the real `HttpClient`."""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Any

PRINTABLE = re.compile(r"[\x20-\x7e]+")
UNITS = {
    *("Seconds", "Microseconds", "Milliseconds", "Percent", "Count", "Count/Second", "None"),
    *(
        f"{size}{suffix}"
        for size in ("Bytes", "Kilobytes", "Megabytes", "Gigabytes", "Terabytes")
        for suffix in ("", "/Second")
    ),
    *(
        f"{size}{suffix}"
        for size in ("Bits", "Kilobits", "Megabits", "Gigabits", "Terabits")
        for suffix in ("", "/Second")
    ),
}


def cloudwatch_accepts(datum: dict[str, Any], now_ms: int) -> None:
    """CloudWatch's PutMetricData rules for one datum (API reference: MetricDatum, Dimension)."""
    value = datum["Value"]
    assert isinstance(value, float) and math.isfinite(value), f"value {value!r}"
    assert value == 0 or 2.0**-360 <= abs(value) <= 2.0**360, f"value {value!r} out of range"
    stamp = int(datum["Timestamp"].timestamp() * 1000)
    assert now_ms - 14 * 86_400_000 <= stamp <= now_ms + 2 * 3_600_000, f"timestamp {stamp}"
    name = datum["MetricName"]
    assert isinstance(name, str) and 1 <= len(name) <= 255 and PRINTABLE.fullmatch(name), name
    assert datum["Unit"] in UNITS, datum["Unit"]
    dimensions = datum["Dimensions"]
    assert len(dimensions) <= 30
    assert len({d["Name"] for d in dimensions}) == len(dimensions), "duplicate dimension names"
    for dimension in dimensions:
        key, val = dimension["Name"], dimension["Value"]
        assert 1 <= len(key) <= 255 and PRINTABLE.fullmatch(key) and key.strip() and key[0] != ":", key
        assert 1 <= len(val) <= 1024 and PRINTABLE.fullmatch(val) and val.strip(), f"{key}={val!r}"


def publishable(points: list[Any], now_ms: int) -> tuple[list[dict[str, Any]], Counter[str]]:
    """What the collectors' writer would send for `points`, each datum checked against CloudWatch."""
    from collectors.common.cloudwatch_writer import CloudWatchWriter

    writer = CloudWatchWriter(lambda: None, clock=lambda: now_ms / 1000)
    by_namespace, dropped = writer.prepare(points)
    datums = [datum for group in by_namespace.values() for datum in group]
    assert len(datums) + sum(dropped.values()) == len(points), "a datapoint vanished without a count"
    for datum in datums:
        cloudwatch_accepts(datum, now_ms)
    return datums, dropped


class _Response:
    def __init__(self, body: bytes) -> None:
        self.status, self.data = 200, body
        self.headers: dict[str, str] = {}


class _Pool:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def request(self, *args: Any, **kwargs: Any) -> _Response:
        return _Response(self.body)


def fetch(text: str) -> Any:
    """The body through the real HttpClient (decoding, error typing); MalformedResponse when not JSON."""
    from collectors.common.http import HttpClient

    client = HttpClient("https://vendor.invalid", {}, pool=_Pool(text.encode("utf-8", "surrogatepass")))  # type: ignore[arg-type]
    return client.get_json("/stats")
