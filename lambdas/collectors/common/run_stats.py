"""The counts of one collector run (`runner.Run.stats`), logged at its end."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class RunStats:
    vendor_errors: int = 0
    published: int = 0
    publish_calls: int = 0
    publish_unknown: int = 0  # PutMetricData calls whose answer was lost
    dropped: Counter[str] = field(default_factory=Counter)
    invalid_values: int = 0
    series: Counter[str] = field(default_factory=Counter)  # ok, partial, failed, noop, claims_lost, deferred

    def as_log(self) -> dict[str, Any]:
        return {
            "vendor_errors": self.vendor_errors,
            "datapoints_published": self.published,
            "put_metric_data_calls": self.publish_calls,
            "put_metric_data_outcome_unknown": self.publish_unknown,
            "datapoints_dropped": dict(self.dropped),
            "invalid_values": self.invalid_values,
            "series": dict(self.series),
        }
