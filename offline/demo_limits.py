"""The demo's callers story: the approaching-limit alarm pages before the cap answers 429.

CloudWatch evaluates a one-minute alarm every minute; the demo replays an hour of traffic at once, so the
local evaluator steps the caller alarm through the replayed minutes (keeping its state, as CloudWatch
does) to find the minute it would have fired, and pages it with that time. The first `limit_exceeded`
answer's time comes from the EMF documents (LimitRejections = 1), the same lines CloudWatch Logs gets.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from offline.alarm_eval import AlarmEvaluator, AlarmResult
from shared import metric_catalogue as mc

CALLER_ALARM = "CallerLimitUsage-above-"


@dataclass(frozen=True, slots=True)
class LimitStory:
    alarm: AlarmResult | None  # the caller alarm's first ALARM evaluation, None if it never fired
    alarm_at: datetime | None
    first_rejection_at: datetime | None
    rejected_caller: str | None
    answered_after: int  # requests of other callers answered 200 after the first rejection

    def lines(self) -> list[str]:
        def hhmm(moment: datetime | None) -> str:
            return moment.strftime("%H:%M") if moment else "never"

        return [
            "Callers' limits:",
            f"  {CALLER_ALARM}... ALARM at {hhmm(self.alarm_at)} (paged through SNS)",
            f"  first 429 limit_exceeded at {hhmm(self.first_rejection_at)}: {self.rejected_caller}",
            f"  other callers answered 200 after it: {self.answered_after}",
        ]


def _value(document: dict[str, Any], name: str) -> float | None:
    raw = document.get(name)
    if isinstance(raw, list):
        raw = raw[0] if raw else None
    return float(raw) if isinstance(raw, int | float) else None


def _stamp(document: dict[str, Any]) -> datetime:
    return datetime.fromtimestamp(int(document["_aws"]["Timestamp"]) / 1000, tz=UTC)


def limit_story(cloudwatch: Any, alarm_props: dict[str, Any], documents: list[dict[str, Any]]) -> LimitStory:
    """Step the caller alarm minute by minute over the replayed traffic; find the first rejection."""
    ordered = sorted(documents, key=_stamp)
    rejections = [d for d in ordered if _value(d, mc.LIMIT_REJECTIONS.name) == 1]
    first = rejections[0] if rejections else None
    first_at = _stamp(first) if first else None
    caller = str(first.get(mc.PROP_CALLER)) if first else None
    answered_after = sum(
        1
        for d in ordered
        if first_at is not None
        and _stamp(d) > first_at
        and d.get(mc.PROP_CALLER) != caller
        and _value(d, mc.TOTAL_TOKENS.name) is not None
    )
    alarm, alarm_at = None, None
    if ordered:
        minute = _stamp(ordered[0]).replace(second=0, microsecond=0) + timedelta(minutes=1)
        end = _stamp(ordered[-1]) + timedelta(minutes=2)
        evaluator = AlarmEvaluator(cloudwatch, minute)
        while minute <= end:
            result = evaluator.at(minute).evaluate(alarm_props["AlarmName"], alarm_props)
            if result.state == "ALARM":
                alarm, alarm_at = result, minute
                break
            minute += timedelta(minutes=1)
    return LimitStory(alarm, alarm_at, first_at, caller, answered_after)
