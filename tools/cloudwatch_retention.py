"""CloudWatch's retention rule for reading metrics, in one place: the reader obeys it, the local
stand-in enforces it.

CloudWatch keeps 1-minute data for 15 days, 5-minute data for 63 days and 1-hour data for 455 days
(GetMetricData / GetMetricStatistics reference). A query whose StartTime is older than 3 hours must use
a period that is a multiple of 60 s (start up to 15 days ago), 300 s (15 to 63 days) or 3600 s (beyond
63 days), or it gets no datapoints at all, without an error. Sub-minute periods (1, 5, 10, 20, 30 s)
exist only for high-resolution metrics and only within 3 hours.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

HIGH_RESOLUTION_PERIODS = (1, 5, 10, 20, 30)
_RULES = (  # (start older than, period must be a multiple of)
    (timedelta(days=63), 3600),
    (timedelta(days=15), 300),
    (timedelta(0), 60),
)
# A query is checked when CloudWatch receives it, a little later than we plan it, and aligning its start
# down moves it further back (at most an hour): plan as if the start were this much older.
PLANNING_MARGIN = timedelta(hours=1)


def period_multiple(start: datetime, now: datetime) -> int:
    """The multiple (s) every period must be of for a query starting at `start`, asked at `now`."""
    age = now - start
    return next(multiple for older_than, multiple in _RULES if age > older_than)


def allowed(period: int, start: datetime, now: datetime) -> bool:
    """Whether CloudWatch returns datapoints for this period and start (regular or high resolution)."""
    if now - start <= timedelta(hours=3) and period in HIGH_RESOLUTION_PERIODS:
        return True
    return period > 0 and period % period_multiple(start, now) == 0


def fit(start: datetime, end: datetime, period: int, now: datetime) -> tuple[datetime, datetime, int]:
    """The smallest allowed period >= `period`, with start aligned down and end aligned up to its
    multiple (CloudWatch rounds a start down the same way; aligned windows make aggregates exact)."""
    multiple = period_multiple(start, now + PLANNING_MARGIN)
    period = max(multiple, math.ceil(period / multiple) * multiple)
    return _floor(start, multiple), _ceil(end, multiple), period


def _floor(moment: datetime, seconds: int) -> datetime:
    epoch = int(moment.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, tz=moment.tzinfo or UTC)


def _ceil(moment: datetime, seconds: int) -> datetime:
    floored = _floor(moment, seconds)
    return floored if floored == moment else floored + timedelta(seconds=seconds)
