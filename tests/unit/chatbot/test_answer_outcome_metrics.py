"""TruncatedAnswers and FilteredAnswers (contract: "Bedrock's own view beside ours"): 0 or 1 on every live
answer, by its stop reason; never on a cached answer, a failure or a refusal."""

from __future__ import annotations

import pytest

from chatbot.token_metrics import AnswerRecord, publish_token_metrics
from chatbot.tokens import Usage
from shared import metric_catalogue as mc
from tests.support import emf_documents, validate_emf

# Every stop reason ConverseStream documents, plus the gateway's own `deadline`: (truncated, filtered).
STOP_REASONS = {
    "end_turn": (0, 0),
    "stop_sequence": (0, 0),
    "tool_use": (0, 0),
    "max_tokens": (1, 0),
    "model_context_window_exceeded": (1, 0),
    "deadline": (1, 0),
    "guardrail_intervened": (0, 1),
    "content_filtered": (0, 1),
}


def _publish(capsys: pytest.CaptureFixture[str], record: AnswerRecord) -> dict:
    publish_token_metrics(record)
    (doc,) = emf_documents(capsys.readouterr().out)
    validate_emf(doc)
    return doc


def _units(doc: dict) -> dict[str, str]:
    return {m["Name"]: m["Unit"] for m in doc["_aws"]["CloudWatchMetrics"][0]["Metrics"]}


@pytest.mark.parametrize(("stop_reason", "expected"), STOP_REASONS.items(), ids=list(STOP_REASONS))
def test_given_a_live_answer_when_published_then_truncated_and_filtered_are_0_or_1_by_its_stop_reason(
    capsys: pytest.CaptureFixture[str], stop_reason: str, expected: tuple[int, int]
) -> None:
    doc = _publish(capsys, AnswerRecord("m-1", "r", False, 10.0, Usage(5, 7), stop_reason=stop_reason))

    assert (doc[mc.TRUNCATED_ANSWERS.name], doc[mc.FILTERED_ANSWERS.name]) == ([expected[0]], [expected[1]])
    assert _units(doc)[mc.TRUNCATED_ANSWERS.name] == _units(doc)[mc.FILTERED_ANSWERS.name] == "Count"
    assert doc["StopReason"] == stop_reason
    assert doc["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [[mc.DIM_MODEL_ID]]


@pytest.mark.parametrize("stop_reason", ["max_tokens", "guardrail_intervened", "end_turn"])
def test_given_a_cached_answer_when_published_then_neither_is_emitted(
    capsys: pytest.CaptureFixture[str], stop_reason: str
) -> None:
    record = AnswerRecord("m-1", "r", True, 1.0, Usage(5, 7, estimated=True), stop_reason=stop_reason)

    doc = _publish(capsys, record)

    assert mc.TRUNCATED_ANSWERS.name not in doc
    assert mc.FILTERED_ANSWERS.name not in doc


def test_given_a_failed_or_refused_request_when_published_then_neither_is_emitted(
    capsys: pytest.CaptureFixture[str],
) -> None:
    failed = _publish(capsys, AnswerRecord("m-1", "r", False, 1.0, error_code="ThrottlingException"))
    refused = _publish(
        capsys, AnswerRecord("m-1", "r", False, 1.0, refused=True, limit_rejected=True, error_code="x")
    )

    for doc in (failed, refused):
        assert mc.TRUNCATED_ANSWERS.name not in doc
        assert mc.FILTERED_ANSWERS.name not in doc


def test_given_the_catalogue_when_read_then_both_metrics_are_token_usage_counts_by_model() -> None:
    for metric in (mc.TRUNCATED_ANSWERS, mc.FILTERED_ANSWERS):
        assert (metric.namespace, metric.unit, metric.dimensions) == (
            mc.NS_TOKEN_USAGE,
            mc.Unit.COUNT,
            (mc.DIM_MODEL_ID,),
        )
        assert metric in mc.TOKEN_USAGE_METRICS
        assert metric.otel_name  # the nearest OpenTelemetry GenAI attribute, as for the other metrics
