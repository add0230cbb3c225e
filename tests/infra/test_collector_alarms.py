"""The collectors' own health alarms: vendor errors in two runs, a missed run (silence pages), and a
PutMetricData call whose answer was lost (never resent: a possible gap only a person can confirm)."""

from __future__ import annotations

from typing import Any

import pytest

from shared import metric_catalogue as mc
from tests.infra.conftest import Synth

P = "AIGatewayTokenMetrics-"
SOURCES = mc.SOURCES


def _alarm(synth: Synth, name: str) -> dict[str, Any]:
    (found,) = [
        a["Properties"]
        for a in synth.resources("AWS::CloudWatch::Alarm").values()
        if a["Properties"]["AlarmName"] == name
    ]
    return found


@pytest.mark.parametrize("source", SOURCES)
def test_given_a_collector_when_synthesized_then_errors_page_after_two_runs_and_silence_pages_as_breaching(
    default: Synth, source: str
) -> None:
    errors = _alarm(default, f"{P}CollectorErrors-{source}-in-2-runs")
    runs = _alarm(default, f"{P}CollectorRuns-{source}-missing")
    dims = [{"Name": mc.DIM_SOURCE, "Value": source}]

    assert (errors["Namespace"], errors["MetricName"], errors["Dimensions"]) == (
        mc.NS_COLLECTORS,
        "CollectorErrors",
        dims,
    )
    assert (errors["Statistic"], errors["Period"], errors["Threshold"]) == ("Sum", 900, 1)
    assert (errors["EvaluationPeriods"], errors["DatapointsToAlarm"]) == (2, 2)
    assert errors["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert errors["TreatMissingData"] == "notBreaching"
    assert (runs["Namespace"], runs["MetricName"], runs["Dimensions"]) == (
        mc.NS_COLLECTORS,
        "CollectorRuns",
        dims,
    )
    assert (runs["Statistic"], runs["Period"], runs["Threshold"]) == ("Sum", 1800, 1)
    assert runs["ComparisonOperator"] == "LessThanThreshold"
    assert runs["TreatMissingData"] == "breaching"


@pytest.mark.parametrize("source", SOURCES)
def test_given_a_collector_when_a_publish_outcome_is_lost_then_its_alarm_pages_on_the_first_one(
    default: Synth, source: str
) -> None:
    lost = _alarm(default, f"{P}PublishOutcomeUnknown-{source}-above-zero")

    assert (lost["Namespace"], lost["MetricName"], lost["Dimensions"]) == (
        mc.NS_COLLECTORS,
        mc.PUBLISH_OUTCOME_UNKNOWN.name,
        [{"Name": mc.DIM_SOURCE, "Value": source}],
    )
    assert (lost["Statistic"], lost["Period"], lost["Threshold"]) == ("Sum", 900, 0)
    assert lost["ComparisonOperator"] == "GreaterThanThreshold"
    assert (lost["EvaluationPeriods"], lost["TreatMissingData"]) == (1, "notBreaching")


def test_given_a_slower_schedule_when_synthesized_then_collector_alarm_periods_follow_it(
    custom: Synth,
) -> None:
    errors = _alarm(custom, "AIGatewayCustom-CollectorErrors-flashback-in-2-runs")
    runs = _alarm(custom, "AIGatewayCustom-CollectorRuns-flashback-missing")

    assert (errors["Period"], runs["Period"]) == (1800, 3600)
