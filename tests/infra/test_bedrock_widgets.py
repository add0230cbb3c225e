"""The dashboard's Bedrock rows: per configured model, AWS/Bedrock beside the gateway's own numbers."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.config import DEFAULTS
from infra.constructs.bedrock_view import untracked_expression
from shared import metric_catalogue as mc
from tests.infra.conftest import CUSTOM_CONTEXT, Synth, render

MODELS = DEFAULTS["models"]["allowed"]


def _body(synth: Synth) -> dict[str, Any]:
    return json.loads(render(synth.one("AWS::CloudWatch::Dashboard")["DashboardBody"]))


@pytest.fixture(scope="module")
def body(default: Synth) -> dict[str, Any]:
    return _body(default)


def _widget(body: dict[str, Any], title: str) -> dict[str, Any]:
    (widget,) = [w["properties"] for w in body["widgets"] if w["properties"].get("title") == title]
    return widget


def _plain(widget: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """(namespace, metric name) -> options (label, stat, period...) of the widget's plain metrics."""
    out = {}
    for entry in widget["metrics"]:
        if isinstance(entry[0], str):
            options = entry[-1] if isinstance(entry[-1], dict) else {}
            out[(entry[0], entry[1])] = {"dims": entry[2:4], **options}
    return out


def test_given_default_config_when_synthesized_then_each_model_has_a_bedrock_row_with_four_graphs(
    body: dict[str, Any],
) -> None:
    headers = [w["properties"]["markdown"] for w in body["widgets"] if w["type"] == "text"]

    for model in MODELS:
        assert any(model in h and mc.NS_BEDROCK in h for h in headers), model
        for title in ("Invocations and errors", "Latency and time to first token",
                      "Tokens: Bedrock vs gateway live answers", "Tokens-per-minute quota"):  # fmt: skip
            assert _widget(body, f"{title} ({model})")["region"]


def test_given_default_config_when_synthesized_then_invocations_and_errors_sit_beside_the_live_answers(
    body: dict[str, Any],
) -> None:
    model = MODELS[0]
    metrics = _plain(_widget(body, f"Invocations and errors ({model})"))

    for metric in (mc.BEDROCK_INVOCATIONS, mc.BEDROCK_INVOCATION_THROTTLES,
                   mc.BEDROCK_INVOCATION_CLIENT_ERRORS, mc.BEDROCK_INVOCATION_SERVER_ERRORS):  # fmt: skip
        options = metrics[(mc.NS_BEDROCK, metric.name)]
        assert options["dims"] == [mc.DIM_MODEL_ID, model]
        assert options["stat"] == "Sum"
    assert metrics[(mc.NS_TOKEN_USAGE, mc.LIVE_INPUT_TOKENS.name)]["stat"] == "SampleCount"


def test_given_default_config_when_synthesized_then_latency_shows_bedrocks_and_the_gateways_ttft(
    body: dict[str, Any],
) -> None:
    metrics = _plain(_widget(body, f"Latency and time to first token ({MODELS[1]})"))

    assert (mc.NS_BEDROCK, mc.BEDROCK_INVOCATION_LATENCY.name) in metrics
    assert (mc.NS_BEDROCK, mc.BEDROCK_TIME_TO_FIRST_TOKEN.name) in metrics
    assert (mc.NS_TOKEN_USAGE, mc.TIME_TO_FIRST_TOKEN.name) in metrics


def test_given_default_config_when_synthesized_then_token_counts_pair_up_with_the_alarms_math_and_floor(
    body: dict[str, Any],
) -> None:
    widget = _widget(body, f"Tokens: Bedrock vs gateway live answers ({MODELS[2]})")
    metrics = _plain(widget)
    (expression,) = [m[0] for m in widget["metrics"] if isinstance(m[0], dict)]

    for bedrock, gateway in mc.TOKEN_PAIRS:
        for metric in (bedrock, gateway):
            options = metrics[(metric.namespace, metric.name)]
            assert (options["stat"], options["period"]) == ("Sum", 3600)
            assert options["dims"] == [mc.DIM_MODEL_ID, MODELS[2]]
    assert expression["expression"] == untracked_expression(10)
    assert expression["yAxis"] == "right"
    assert widget["annotations"]["horizontal"] == [
        {"value": 10000, "label": "untracked-usage alarm floor", "yAxis": "right"}
    ]


def test_given_a_quota_when_synthesized_then_the_quota_graph_draws_the_quota_and_the_alarm_lines(
    body: dict[str, Any],
) -> None:
    model = MODELS[0]
    widget = _widget(body, f"Tokens-per-minute quota ({model})")
    options = _plain(widget)[(mc.NS_BEDROCK, mc.BEDROCK_ESTIMATED_TPM_QUOTA_USAGE.name)]
    quota = DEFAULTS["bedrock"]["tpm_quotas"][model]

    assert (options["stat"], options["period"]) == ("Sum", 60)
    assert [(a["value"], a["label"]) for a in widget["annotations"]["horizontal"]] == [
        (quota, f"quota {quota:,} tokens/min"),
        (quota * 0.8, "quota alarm (80%)"),
    ]


def test_given_a_model_without_a_quota_when_synthesized_then_its_quota_graph_says_so_and_draws_no_line(
    custom: Synth,
) -> None:
    body = _body(custom)
    without = CUSTOM_CONTEXT["models"]["allowed"][1]

    widget = _widget(body, f"Tokens-per-minute quota ({without}): no quota configured")

    assert "annotations" not in widget
