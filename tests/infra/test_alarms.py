"""Every alarm: its metric, statistic, threshold, actions and a deliberate TreatMissingData."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from infra.config import DEFAULTS
from shared import metric_catalogue as mc
from tests.infra.conftest import ROOT, Synth, render
from tests.infra.test_service_alarms import service_alarm_names

P = "AIGatewayTokenMetrics-"
MODELS = DEFAULTS["models"]["allowed"]
SOURCES = ("launchdarkly", "perf", "flashback")


def _alarms(synth: Synth) -> dict[str, dict[str, Any]]:
    return {
        a["Properties"]["AlarmName"]: a["Properties"]
        for a in synth.resources("AWS::CloudWatch::Alarm").values()
    }


def _alarm(synth: Synth, name: str) -> dict[str, Any]:
    return _alarms(synth)[name]


def _stat(alarm: dict[str, Any], metric_id: str) -> dict[str, Any]:
    (query,) = [m for m in alarm["Metrics"] if m["Id"] == metric_id]
    return query["MetricStat"]


def _returned_expression(alarm: dict[str, Any]) -> dict[str, Any]:
    (query,) = [m for m in alarm["Metrics"] if m.get("ReturnData", True) and "Expression" in m]
    return query


def _dims(model: str) -> list[dict[str, str]]:
    return [{"Name": mc.DIM_MODEL_ID, "Value": model}]


def test_given_default_config_when_synthesized_then_exactly_the_expected_alarms_exist(default: Synth) -> None:
    expected = {
        f"{P}{kind}-{model}"
        for model in MODELS
        for kind in (
            "TotalTokens-anomaly",
            "EstimatedCost-anomaly",
            "ResponseLatency-p99-above-20000ms",
            "CacheHitRate-below-10pct",
            "ModelErrors-rate-above-5pct",
            "Bedrock-UntrackedTokens-above-10pct-and-10000-per-hour",
        )
    } | {
        f"{P}Bedrock-EstimatedTPMQuotaUsage-above-80pct-of-{DEFAULTS['bedrock']['tpm_quotas'][model]}-tpm-{model}"
        for model in MODELS
    } | {
        f"{P}TotalTokens-all-models-above-2000000-per-hour",
        f"{P}EstimatedCost-all-models-above-5USD-per-hour",
        f"{P}CallerLimitUsage-above-80pct",
        *(f"{P}CollectorErrors-{s}-in-2-runs" for s in SOURCES),
        *(f"{P}CollectorRuns-{s}-missing" for s in SOURCES),
        *(f"{P}PublishOutcomeUnknown-{s}-above-zero" for s in SOURCES),
        f"{P}Collector-dead-letter-queue-not-empty",
        f"{P}LaunchDarkly-GenerationErrorRate-above-5pct-default-production-all-configs",
        f"{P}LaunchDarkly-Cost-above-10USD-per-hour-default-production",
        f"{P}OldestUnpublishedWindowAge-launchdarkly-above-180min",
        f"{P}Perf-ProjectedMonthEndCost-above-budget-500USD",
        f"{P}Flashback-Blocks-above-zero",
        f"{P}Flashback-PolicyViolations-above-zero",
    }

    # ... and the alarms on the services under the product (test_service_alarms.py)
    assert set(_alarms(default)) == expected | service_alarm_names(default)


def test_given_default_config_when_synthesized_then_every_alarm_notifies_the_topic_on_alarm_and_ok(
    default: Synth,
) -> None:
    (topic,) = default.resources("AWS::SNS::Topic")

    for name, alarm in _alarms(default).items():
        assert alarm["AlarmActions"] == [{"Ref": topic}], name
        assert alarm["OKActions"] == [{"Ref": topic}], name
        assert alarm["TreatMissingData"] in {"notBreaching", "breaching", "ignore"}, name


def test_given_default_config_when_synthesized_then_every_description_says_where_to_look_and_what_to_check(
    default: Synth,
) -> None:
    for name, alarm in _alarms(default).items():
        description = render(alarm["AlarmDescription"])
        assert "#dashboards/dashboard/AIGatewayTokenMetrics" in description, name
        assert "widget '" in description, name
        assert "First check:" in description, name
        assert "Missing data:" in description, name
        assert len(description) <= 1024, name


def test_given_default_config_when_synthesized_then_no_alarm_uses_search(default: Synth) -> None:
    assert "SEARCH(" not in json.dumps(list(_alarms(default).values()))


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("metric", [mc.TOTAL_TOKENS, mc.ESTIMATED_COST])
def test_given_a_configured_model_when_synthesized_then_an_anomaly_band_watches_its_tokens_and_cost(
    default: Synth, model: str, metric: mc.MetricDef
) -> None:
    kind = "TotalTokens" if metric is mc.TOTAL_TOKENS else "EstimatedCost"
    alarm = _alarm(default, f"{P}{kind}-anomaly-{model}")

    assert alarm["ComparisonOperator"] == "GreaterThanUpperThreshold"
    assert alarm["TreatMissingData"] == "notBreaching"
    assert (alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == (3, 3)
    band = _returned_expression(alarm)
    assert band["Expression"] == "ANOMALY_DETECTION_BAND(m0, 3)"
    assert alarm["ThresholdMetricId"] == band["Id"]
    assert _stat(alarm, "m0") == {
        "Metric": {"Dimensions": _dims(model), "MetricName": metric.name, "Namespace": mc.NS_TOKEN_USAGE},
        "Period": 300,
        "Stat": "Sum",
    }


@pytest.mark.parametrize(
    ("name", "metric", "threshold"),
    [
        (f"{P}TotalTokens-all-models-above-2000000-per-hour", "TotalTokens", 2000000),
        (f"{P}EstimatedCost-all-models-above-5USD-per-hour", "EstimatedCost", 5),
    ],
)
def test_given_default_config_when_synthesized_then_an_hourly_ceiling_covers_all_models_via_metrics_insights(
    default: Synth, name: str, metric: str, threshold: int
) -> None:
    alarm = _alarm(default, name)

    assert alarm["Metrics"] == [
        {
            "Expression": f'SELECT SUM({metric}) FROM SCHEMA("{mc.NS_TOKEN_USAGE}", {mc.DIM_MODEL_ID})',  # noqa: S608
            "Id": "expr_1",
            "Period": 3600,
            "ReturnData": True,
        }
    ]
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (threshold, "GreaterThanThreshold")
    assert alarm["TreatMissingData"] == "notBreaching"


@pytest.mark.parametrize("model", MODELS)
def test_given_a_configured_model_when_synthesized_then_p99_latency_above_threshold_pages(
    default: Synth, model: str
) -> None:
    alarm = _alarm(default, f"{P}ResponseLatency-p99-above-20000ms-{model}")

    assert (alarm["Namespace"], alarm["MetricName"], alarm["Dimensions"]) == (
        mc.NS_TOKEN_USAGE,
        "ResponseLatency",
        _dims(model),
    )
    assert (alarm["ExtendedStatistic"], alarm["Period"]) == ("p99", 300)
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (20000, "GreaterThanThreshold")
    assert alarm["TreatMissingData"] == "notBreaching"
    assert alarm["EvaluateLowSampleCountPercentile"] == "ignore"


@pytest.mark.parametrize("model", MODELS)
def test_given_a_configured_model_when_synthesized_then_low_cache_hit_rate_needs_minimum_traffic(
    default: Synth, model: str
) -> None:
    alarm = _alarm(default, f"{P}CacheHitRate-below-10pct-{model}")
    metric = {"Dimensions": _dims(model), "MetricName": "CachedResponses", "Namespace": mc.NS_TOKEN_USAGE}

    assert _returned_expression(alarm)["Expression"] == "IF(answered >= 10, 100 * cached / answered)"
    assert _stat(alarm, "cached") == {"Metric": metric, "Period": 3600, "Stat": "Sum"}
    assert _stat(alarm, "answered") == {"Metric": metric, "Period": 3600, "Stat": "SampleCount"}
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (10, "LessThanThreshold")
    assert alarm["TreatMissingData"] == "notBreaching"


@pytest.mark.parametrize("model", MODELS)
def test_given_a_configured_model_when_synthesized_then_model_error_rate_counts_errors_over_all_requests(
    default: Synth, model: str
) -> None:
    alarm = _alarm(default, f"{P}ModelErrors-rate-above-5pct-{model}")

    assert _returned_expression(alarm)["Expression"] == (
        "IF(FILL(answers, 0) + FILL(errors, 0) >= 10, "
        "100 * FILL(errors, 0) / (FILL(answers, 0) + FILL(errors, 0)))"
    )
    assert _stat(alarm, "answers")["Stat"] == "SampleCount"
    assert _stat(alarm, "answers")["Metric"]["MetricName"] == "CachedResponses"
    assert _stat(alarm, "errors") == {
        "Metric": {"Dimensions": _dims(model), "MetricName": "ModelErrors", "Namespace": mc.NS_TOKEN_USAGE},
        "Period": 300,
        "Stat": "Sum",
    }
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (5, "GreaterThanThreshold")
    assert alarm["TreatMissingData"] == "notBreaching"


def test_given_the_default_budget_when_synthesized_then_launchdarkly_alarms_watch_the_aggregate_series(
    default: Synth,
) -> None:
    rate = _alarm(default, f"{P}LaunchDarkly-GenerationErrorRate-above-5pct-default-production-all-configs")
    cost = _alarm(default, f"{P}LaunchDarkly-Cost-above-10USD-per-hour-default-production")
    aggregate = [{"Name": "Environment", "Value": "production"}, {"Name": "ProjectKey", "Value": "default"}]

    assert _stat(rate, "generations")["Metric"]["Dimensions"] == aggregate
    assert _stat(rate, "failures")["Metric"]["Dimensions"] == aggregate
    assert _stat(cost, "input")["Metric"] == {
        "Dimensions": aggregate,
        "MetricName": mc.LD_AI_CONFIG_FIELDS["inputCost"].name,
        "Namespace": mc.NS_LAUNCHDARKLY,
    }
    assert _returned_expression(cost)["Expression"] == "FILL(input, 0) + FILL(output, 0)"
    assert (cost["Threshold"], cost["EvaluationPeriods"], cost["DatapointsToAlarm"]) == (10, 3, 1)
    assert mc.DIM_AI_CONFIG_KEY not in json.dumps(_alarms(default))


def test_given_the_default_budget_when_synthesized_then_a_freshness_alarm_watches_the_oldest_window(
    default: Synth,
) -> None:
    alarm = _alarm(default, f"{P}OldestUnpublishedWindowAge-launchdarkly-above-180min")

    assert alarm["MetricName"] == mc.OLDEST_UNPUBLISHED_WINDOW_AGE.name
    assert alarm["Dimensions"] == [{"Name": "Source", "Value": "launchdarkly"}]
    assert (alarm["Statistic"], alarm["Threshold"], alarm["EvaluationPeriods"]) == ("Maximum", 10800, 2)


@pytest.mark.parametrize("environment", ["production", "staging"])
def test_given_ai_config_keys_when_synthesized_then_each_config_and_environment_gets_an_error_rate_alarm(
    custom: Synth, environment: str
) -> None:
    alarm = _alarm(
        custom, f"AIGatewayCustom-LaunchDarkly-GenerationErrorRate-above-5pct-support-bot-{environment}"
    )
    dims = [  # CloudFormation lists dimensions sorted by name
        {"Name": "AIConfigKey", "Value": "support-bot"},
        {"Name": "Environment", "Value": environment},
        {"Name": "ProjectKey", "Value": "default"},
    ]

    assert (
        _returned_expression(alarm)["Expression"]
        == "IF(generations >= 20, 100 * FILL(failures, 0) / generations)"
    )
    assert _stat(alarm, "generations")["Metric"] == {
        "Dimensions": dims,
        "MetricName": mc.LD_GENERATION_COUNT.name,
        "Namespace": mc.NS_LAUNCHDARKLY,
    }
    assert _stat(alarm, "failures")["Metric"]["MetricName"] == mc.LD_GENERATION_ERROR_COUNT.name
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (5, "GreaterThanThreshold")
    assert not [n for n in _alarms(custom) if "GenerationErrorCount-above" in n]


def test_given_default_config_when_synthesized_then_perf_projection_above_budget_pages_and_keeps_state(
    default: Synth,
) -> None:
    alarm = _alarm(default, f"{P}Perf-ProjectedMonthEndCost-above-budget-500USD")

    assert (alarm["Namespace"], alarm["MetricName"]) == (mc.NS_PERF, "ProjectedMonthEndCost")
    assert (alarm["Statistic"], alarm["Period"]) == ("Maximum", 3600)
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (500, "GreaterThanThreshold")
    assert alarm["TreatMissingData"] == "ignore"


@pytest.mark.parametrize("metric", ["Blocks", "PolicyViolations"])
def test_given_default_config_when_synthesized_then_any_flashback_block_or_violation_pages(
    default: Synth, metric: str
) -> None:
    alarm = _alarm(default, f"{P}Flashback-{metric}-above-zero")

    # the aggregate series (no dimension: every id), which every metric budget publishes; a per-id
    # schema would see nothing unless ids are named
    assert (alarm["Namespace"], alarm["MetricName"]) == (mc.NS_FLASHBACK, metric)
    assert "Dimensions" not in alarm and "Metrics" not in alarm
    assert (alarm["Statistic"], alarm["Period"], alarm["EvaluationPeriods"]) == ("Sum", 3600, 3)
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (0, "GreaterThanThreshold")
    assert alarm["TreatMissingData"] == "notBreaching"


def test_given_default_config_when_synthesized_then_a_message_in_the_dlq_pages_until_the_queue_is_emptied(
    default: Synth,
) -> None:
    (queue,) = default.resources("AWS::SQS::Queue")
    alarm = _alarm(default, f"{P}Collector-dead-letter-queue-not-empty")
    description = render(alarm["AlarmDescription"])

    assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/SQS", "ApproximateNumberOfMessagesVisible")
    assert alarm["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue, "QueueName"]}}]
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (0, "GreaterThanThreshold")
    # SQS stops publishing for an idle queue: only `ignore` keeps ALARM while the message waits.
    assert alarm["TreatMissingData"] == "ignore"
    assert "aws sqs purge-queue --queue-url <CollectorDeadLetterQueueUrl>" in description
    assert "stays in ALARM until then and clears on the queue's next datapoint (0)" in description


def test_given_a_model_without_price_when_synthesized_then_it_has_no_cost_anomaly_alarm(
    custom: Synth,
) -> None:
    names = set(_alarms(custom))

    assert "AIGatewayCustom-EstimatedCost-anomaly-global.anthropic.claude-sonnet-4-5-20250929-v1:0" in names
    assert "AIGatewayCustom-EstimatedCost-anomaly-amazon.titan-text-lite-v1" not in names
    assert "AIGatewayCustom-TotalTokens-anomaly-amazon.titan-text-lite-v1" in names


def test_given_different_token_and_cost_widths_when_synthesized_then_each_band_reads_its_own_setting(
    custom: Synth,
) -> None:
    model = "global.anthropic.claude-sonnet-4-5-20250929-v1:0"
    tokens = _alarm(custom, f"AIGatewayCustom-TotalTokens-anomaly-{model}")
    cost = _alarm(custom, f"AIGatewayCustom-EstimatedCost-anomaly-{model}")

    assert _returned_expression(tokens)["Expression"] == "ANOMALY_DETECTION_BAND(m0, 2)"
    assert _returned_expression(cost)["Expression"] == "ANOMALY_DETECTION_BAND(m0, 4.5)"
    assert "band of 2 std devs" in render(tokens["AlarmDescription"])
    assert "band of 4.5 std devs" in render(cost["AlarmDescription"])


def _docs_alarm_table() -> list[tuple[re.Pattern[str], tuple[int, int], str]]:
    """(alarm name pattern, (datapoints, evaluation periods), missing data) per row of the alarm table
    in docs/runbooks/index.md, read from its words: "3 of 3", "in 1 of 3 hours", no "of" = 1 of 1."""
    text = (ROOT / "docs" / "runbooks" / "index.md").read_text()
    start = text.index("| alarm (per) | metric | condition | missing data |")
    rows = []
    for line in text[start:].splitlines()[2:]:
        if not line.startswith("|"):
            break
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        found = re.search(r"(\d+) of (\d+)", cells[2])
        datapoints = (int(found[1]), int(found[2])) if found else (1, 1)
        missing = re.match(r"\**(\w+)", cells[3])
        assert missing, line
        for name in re.findall(r"`([A-Z][^`]*)`", cells[0]):
            pattern = re.escape(name)
            pattern = re.sub(r"<[a-z]+>|\\<[a-z]+\\>", ".+", pattern)
            rows.append(
                (re.compile(rf"(AIGatewayTokenMetrics|AIGatewayCustom)-{pattern}$"), datapoints, missing[1])
            )
    return rows


@pytest.mark.parametrize("stack", ["default", "custom"])
def test_given_the_docs_alarm_table_when_synthesized_then_every_alarm_keeps_its_datapoints_and_missing_data(
    stack: str, request: pytest.FixtureRequest
) -> None:
    synth: Synth = request.getfixturevalue(stack)
    rows = _docs_alarm_table()

    for name, alarm in _alarms(synth).items():
        matches = [(points, missing) for pattern, points, missing in rows if pattern.match(name)]
        assert len(matches) == 1, f"{name}: {len(matches)} rows of the docs' alarm table describe it"
        (points, missing) = matches[0]
        assert (alarm["DatapointsToAlarm"], alarm["EvaluationPeriods"]) == points, name
        assert alarm["TreatMissingData"] == missing, name
