"""How live answers end, in the stack: the dashboard panel of truncated and filtered rates per model, the
optional filtered-rate alarm (absent by default, one per model when enabled), and the answer deadline's
setting (its synth-time checks and the variable that carries it to the chatbot)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from infra.config import ConfigError, load_config
from offline.alarm_eval import AlarmEvaluator
from shared import metric_catalogue as mc
from tests.fakes.moto_server import MotoServer
from tests.infra.conftest import CUSTOM_CONTEXT, Synth, render

TOKEN_SCHEMA = "{AIGateway/TokenUsage,ModelId}"
PANEL = "Truncated and filtered answers (% of live answers)"
CUSTOM_MODELS = CUSTOM_CONTEXT["models"]["allowed"]
CUSTOM_RATE = CUSTOM_CONTEXT["alarms"]["filtered_answer_alarm"]["rate_percent"]


def _alarms(synth: Synth) -> dict[str, dict[str, Any]]:
    return {
        a["Properties"]["AlarmName"]: a["Properties"]
        for a in synth.resources("AWS::CloudWatch::Alarm").values()
    }


def _panel(synth: Synth) -> dict[str, Any]:
    body = json.loads(render(synth.one("AWS::CloudWatch::Dashboard")["DashboardBody"]))
    (widget,) = [w for w in body["widgets"] if w["properties"].get("title") == PANEL]
    return widget


# --- the panel -----------------------------------------------------------------------------------------


def test_given_default_config_when_synthesized_then_a_panel_shows_each_models_truncated_and_filtered_rate(
    default: Synth,
) -> None:
    widget = _panel(default)
    series = {m[0]["label"]: m[0]["expression"] for m in widget["properties"]["metrics"]}

    # Both metrics are 0 or 1 per live answer: 100 x their Average is the rate, one line per ModelId.
    assert series == {
        f"truncated % ${{PROP('Dim.{mc.DIM_MODEL_ID}')}}": (
            f"100 * SEARCH('{TOKEN_SCHEMA} MetricName=\"TruncatedAnswers\"', 'Average', 300)"
        ),
        f"filtered % ${{PROP('Dim.{mc.DIM_MODEL_ID}')}}": (
            f"100 * SEARCH('{TOKEN_SCHEMA} MetricName=\"FilteredAnswers\"', 'Average', 300)"
        ),
    }
    assert widget["properties"]["yAxis"]["left"]["min"] == 0
    assert "annotations" not in widget["properties"], "no alarm line while the alarm is off"


def test_given_the_panel_when_laid_out_then_it_sits_in_the_chatbot_rows_beside_the_gateways_graphs(
    default: Synth,
) -> None:
    body = json.loads(render(default.one("AWS::CloudWatch::Dashboard")["DashboardBody"]))
    titles = [w["properties"].get("title") for w in body["widgets"]]

    assert titles.index("Model and cache errors") < titles.index(PANEL)
    assert titles.index(PANEL) < titles.index("Top callers by tokens")


def test_given_the_filtered_alarm_enabled_when_synthesized_then_the_panel_draws_its_threshold(
    custom: Synth,
) -> None:
    annotations = _panel(custom)["properties"]["annotations"]["horizontal"]

    assert annotations == [{"label": "filtered-rate alarm", "value": CUSTOM_RATE, "yAxis": "left"}]


# --- the optional alarm --------------------------------------------------------------------------------


def test_given_default_config_when_synthesized_then_no_filtered_rate_alarm_exists(default: Synth) -> None:
    assert not [name for name in _alarms(default) if "FilteredAnswers" in name]


@pytest.mark.parametrize("model", CUSTOM_MODELS)
def test_given_the_filtered_alarm_enabled_when_synthesized_then_each_model_pages_on_its_hourly_rate(
    custom: Synth, model: str
) -> None:
    alarm = _alarms(custom)[f"AIGatewayCustom-FilteredAnswers-rate-above-{CUSTOM_RATE:g}pct-{model}"]
    metric = {
        "Dimensions": [{"Name": mc.DIM_MODEL_ID, "Value": model}],
        "MetricName": mc.FILTERED_ANSWERS.name,
        "Namespace": mc.NS_TOKEN_USAGE,
    }
    queries = {q["Id"]: q for q in alarm["Metrics"]}
    (rate,) = [q for q in alarm["Metrics"] if q.get("ReturnData", True) and "Expression" in q]

    # SampleCount of a 0-or-1 metric is the number of live answers; under the traffic floor, no point.
    assert rate["Expression"] == "IF(live >= 10, 100 * filtered / live)"
    assert queries["filtered"]["MetricStat"] == {"Metric": metric, "Period": 3600, "Stat": "Sum"}
    assert queries["live"]["MetricStat"] == {"Metric": metric, "Period": 3600, "Stat": "SampleCount"}
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (CUSTOM_RATE, "GreaterThanThreshold")
    assert (alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == (1, 1)
    assert alarm["TreatMissingData"] == "notBreaching"
    description = render(alarm["AlarmDescription"])
    assert "Runbook: docs/runbooks/filtered-answers.md." in description
    assert f"widget '{PANEL}'" in description


# --- the settings --------------------------------------------------------------------------------------


def test_given_no_context_when_loaded_then_the_alarm_is_off_and_the_deadline_is_25_seconds() -> None:
    alarm = load_config().alarms.filtered_answer_alarm

    assert (alarm.enabled, alarm.rate_percent) == (False, 5.0)
    assert load_config().chatbot.answer_deadline_seconds == 25


def test_given_a_deadline_when_synthesized_then_the_chatbot_gets_it_as_its_variable(default: Synth) -> None:
    (function,) = [
        f["Properties"]
        for f in default.resources("AWS::Lambda::Function").values()
        if f["Properties"]["Handler"] == "chatbot/chatbot_handler.handler"
    ]

    assert function["Environment"]["Variables"]["ANSWER_DEADLINE_SECONDS"] == "25"


@pytest.mark.parametrize(
    ("context", "key"),
    [
        ({"chatbot": {"answer_deadline_seconds": 29}}, "aigateway.chatbot.answer_deadline_seconds"),
        ({"chatbot": {"answer_deadline_seconds": 4}}, "aigateway.chatbot.answer_deadline_seconds"),
        ({"chatbot": {"answer_deadline_seconds": 20.5}}, "aigateway.chatbot.answer_deadline_seconds"),
        (
            {"alarms": {"filtered_answer_alarm": {"enabled": "yes"}}},
            "aigateway.alarms.filtered_answer_alarm.enabled",
        ),
        (
            {"alarms": {"filtered_answer_alarm": {"rate_percent": 0}}},
            "aigateway.alarms.filtered_answer_alarm.rate_percent",
        ),
        (
            {"alarms": {"filtered_answer_alarm": {"rate_percent": 101}}},
            "aigateway.alarms.filtered_answer_alarm.rate_percent",
        ),
        ({"alarms": {"filtered_answer_alarm": {"on": True}}}, "aigateway.alarms.filtered_answer_alarm.on"),
    ],
)
def test_given_a_bad_answer_setting_when_loaded_then_the_error_names_its_key(
    context: dict[str, Any], key: str
) -> None:
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        load_config(context)


def test_given_a_function_timeout_that_ends_with_the_deadline_when_loaded_then_rejected() -> None:
    # The function must outlive the deadline by 2 s to answer with the text so far; a short retry budget
    # (1 attempt, 5 s read) lets the timeout come that close.
    chatbot = {"bedrock_max_attempts": 1, "bedrock_read_timeout_seconds": 5, "answer_deadline_seconds": 20}
    with pytest.raises(ConfigError, match=r"chatbot\.answer_deadline_seconds must end at least 2 s before"):
        load_config({"chatbot": {**chatbot, "timeout_seconds": 21}})
    assert load_config({"chatbot": {**chatbot, "timeout_seconds": 22}}).chatbot.timeout_seconds == 22


# --- the alarm against data (the demo's evaluator, as CloudWatch decides) ------------------------------


@pytest.fixture
def cloudwatch(aws: MotoServer) -> Iterator[Any]:
    yield boto3.client("cloudwatch", endpoint_url=aws.endpoint)
    aws.reset()  # moto's backends are shared in-process: leave no datapoint to a later test


def _live_answers(cloudwatch: Any, at: datetime, model: str, filtered: int, other: int) -> None:
    """What the chatbot's EMF documents become: one FilteredAnswers datapoint (0 or 1) per live answer."""
    cloudwatch.put_metric_data(
        Namespace=mc.NS_TOKEN_USAGE,
        MetricData=[
            {
                "MetricName": mc.FILTERED_ANSWERS.name,
                "Dimensions": [{"Name": mc.DIM_MODEL_ID, "Value": model}],
                "Timestamp": at,
                "Value": value,
                "Unit": "Count",
            }
            for value in [1.0] * filtered + [0.0] * other
        ],
    )


@pytest.mark.parametrize(
    ("filtered", "other", "state"),
    [(2, 18, "ALARM"), (0, 20, "OK"), (9, 0, "OK")],
    ids=["10pct-of-20", "none-of-20", "all-of-9-under-the-floor"],
)
def test_given_an_hour_of_live_answers_when_evaluated_then_the_filtered_rate_decides(
    cloudwatch: Any, custom: Synth, filtered: int, other: int, state: str
) -> None:
    model = CUSTOM_MODELS[0]
    name = f"AIGatewayCustom-FilteredAnswers-rate-above-{CUSTOM_RATE:g}pct-{model}"
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    _live_answers(cloudwatch, now - timedelta(minutes=30), model, filtered, other)

    result = AlarmEvaluator(cloudwatch, now).evaluate(name, _alarms(custom)[name])

    assert result.state == state, result.reason
