"""The two alarms that join Bedrock's view to the gateway's: untracked usage (one per configured model)
and quota headroom (one per model with a configured tokens-per-minute quota), as synthesized."""

from __future__ import annotations

from typing import Any

import pytest

from infra.config import DEFAULTS
from shared import metric_catalogue as mc
from tests.infra.conftest import CUSTOM_CONTEXT, Synth

P = "AIGatewayTokenMetrics-"
C = "AIGatewayCustom-"
MODELS = DEFAULTS["models"]["allowed"]
CUSTOM_MODELS = CUSTOM_CONTEXT["models"]["allowed"]
B = "(FILL(b1, 0) + FILL(b2, 0) + FILL(b3, 0) + FILL(b4, 0))"
G = "(FILL(g1, 0) + FILL(g2, 0) + FILL(g3, 0) + FILL(g4, 0))"


def _alarms(synth: Synth, kind: str) -> dict[str, dict[str, Any]]:
    return {
        a["Properties"]["AlarmName"]: a["Properties"]
        for a in synth.resources("AWS::CloudWatch::Alarm").values()
        if kind in a["Properties"]["AlarmName"]
    }


def _untracked(synth: Synth) -> dict[str, dict[str, Any]]:
    return _alarms(synth, "Bedrock-UntrackedTokens-")


def _quota(synth: Synth) -> dict[str, dict[str, Any]]:
    return _alarms(synth, "Bedrock-EstimatedTPMQuotaUsage-")


def _model_of(alarm: dict[str, Any]) -> str:
    """The one ModelId every metric of a math alarm reads."""
    metrics = [q["MetricStat"]["Metric"] for q in alarm["Metrics"] if "MetricStat" in q]
    (model,) = {d["Value"] for metric in metrics for d in metric["Dimensions"]}
    return model


def test_given_default_config_when_synthesized_then_one_untracked_alarm_per_model_with_config_thresholds(
    default: Synth,
) -> None:
    alarms = _untracked(default)

    assert sorted(alarms) == sorted(
        f"{P}Bedrock-UntrackedTokens-above-10pct-and-10000-per-hour-{model}" for model in MODELS
    )
    for model in MODELS:
        alarm = alarms[f"{P}Bedrock-UntrackedTokens-above-10pct-and-10000-per-hour-{model}"]
        assert _model_of(alarm) == model
        assert alarm["Threshold"] == 10000
        assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
        assert alarm["TreatMissingData"] == "notBreaching"
        assert (alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == (1, 1)


def test_given_the_untracked_alarm_when_read_then_its_math_compares_bedrocks_counts_with_live_answers_only(
    default: Synth,
) -> None:
    alarm = next(iter(_untracked(default).values()))
    queries = {q["Id"]: q for q in alarm["Metrics"]}
    (returned,) = [q for q in alarm["Metrics"] if q.get("ReturnData", True)]

    assert returned["Expression"] == f"IF({B} - {G} > 0.1 * {G}, {B} - {G}, 0)"
    assert len(alarm["Metrics"]) <= 10  # CloudWatch: a metric math alarm holds up to 10 metrics
    for index, (bedrock, gateway) in enumerate(mc.TOKEN_PAIRS, start=1):
        for query_id, metric in ((f"b{index}", bedrock), (f"g{index}", gateway)):
            stat = queries[query_id]["MetricStat"]
            assert (stat["Metric"]["Namespace"], stat["Metric"]["MetricName"]) == (
                metric.namespace,
                metric.name,
            )
            assert (stat["Stat"], stat["Period"]) == ("Sum", 3600)
            assert queries[query_id]["ReturnData"] is False
    gateway_names = {queries[f"g{i}"]["MetricStat"]["Metric"]["MetricName"] for i in range(1, 5)}
    assert mc.INPUT_TOKENS.name not in gateway_names  # cached answers' estimates never enter
    assert mc.LIVE_INPUT_TOKENS.name in gateway_names


def test_given_custom_margin_and_floor_when_synthesized_then_the_alarms_read_them(custom: Synth) -> None:
    alarms = _untracked(custom)

    assert sorted(alarms) == sorted(
        f"{C}Bedrock-UntrackedTokens-above-25pct-and-50000-per-hour-{model}" for model in CUSTOM_MODELS
    )
    for alarm in alarms.values():
        (returned,) = [q for q in alarm["Metrics"] if q.get("ReturnData", True)]
        assert f" > 0.25 * {G}," in returned["Expression"]
        assert alarm["Threshold"] == 50000


def test_given_default_quotas_when_synthesized_then_one_quota_alarm_per_model_at_80pct_of_its_quota(
    default: Synth,
) -> None:
    alarms = _quota(default)
    quotas = DEFAULTS["bedrock"]["tpm_quotas"]

    assert sorted(alarms) == sorted(
        f"{P}Bedrock-EstimatedTPMQuotaUsage-above-80pct-of-{quotas[model]}-tpm-{model}" for model in MODELS
    )
    for model in MODELS:
        alarm = alarms[f"{P}Bedrock-EstimatedTPMQuotaUsage-above-80pct-of-{quotas[model]}-tpm-{model}"]
        assert (alarm["Namespace"], alarm["MetricName"]) == (
            mc.NS_BEDROCK,
            mc.BEDROCK_ESTIMATED_TPM_QUOTA_USAGE.name,
        )
        assert alarm["Dimensions"] == [{"Name": mc.DIM_MODEL_ID, "Value": model}]
        assert (alarm["Statistic"], alarm["Period"]) == ("Sum", 60)
        assert alarm["Threshold"] == pytest.approx(quotas[model] * 0.8)
        assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
        assert (alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == (3, 2)
        assert alarm["TreatMissingData"] == "notBreaching"


def test_given_a_model_without_a_quota_when_synthesized_then_it_has_no_quota_alarm(custom: Synth) -> None:
    alarms = _quota(custom)
    with_quota, without = CUSTOM_MODELS

    assert list(alarms) == [f"{C}Bedrock-EstimatedTPMQuotaUsage-above-90pct-of-150000-tpm-{with_quota}"]
    assert next(iter(alarms.values()))["Threshold"] == pytest.approx(135000)
    assert not any(without in name for name in alarms)
    assert any(without in name for name in _untracked(custom))  # it keeps its untracked-usage alarm
