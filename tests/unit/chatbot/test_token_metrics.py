"""publish_token_metrics: one valid EMF document per request, exactly the ModelId dimension."""

from __future__ import annotations

import pytest

from chatbot.token_metrics import AnswerRecord, publish_token_metrics
from chatbot.tokens import Usage
from shared import metric_catalogue as mc
from tests.support import emf_documents, validate_emf


def _publish(capsys: pytest.CaptureFixture[str], record: AnswerRecord) -> dict:
    publish_token_metrics(record)
    docs = emf_documents(capsys.readouterr().out)
    assert len(docs) == 1
    validate_emf(docs[0])
    return docs[0]


def _names(doc: dict) -> set[str]:
    return {m["Name"] for m in doc["_aws"]["CloudWatchMetrics"][0]["Metrics"]}


def test_given_live_answer_when_published_then_every_live_metric_with_contract_units(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "chatbot")  # must not become a dimension
    usage = Usage(120, 30, cache_read_input_tokens=100, cache_write_input_tokens=5)
    doc = _publish(
        capsys,
        AnswerRecord(
            "m-1", "req-1", False, 812.5, usage, ttft_ms=95.0, cost_usd=0.0012, stop_reason="end_turn"
        ),
    )
    directive = doc["_aws"]["CloudWatchMetrics"][0]
    assert directive["Namespace"] == mc.NS_TOKEN_USAGE
    assert directive["Dimensions"] == [[mc.DIM_MODEL_ID]]
    assert "service" not in doc
    units = {m["Name"]: m["Unit"] for m in directive["Metrics"]}
    expected = [
        *(mc.INPUT_TOKENS, mc.OUTPUT_TOKENS, mc.TOTAL_TOKENS, mc.CACHED_RESPONSES, mc.RESPONSE_LATENCY),
        *(mc.TIME_TO_FIRST_TOKEN, mc.CACHE_READ_INPUT_TOKENS, mc.CACHE_WRITE_INPUT_TOKENS, mc.ESTIMATED_COST),
        *(mc.TRUNCATED_ANSWERS, mc.FILTERED_ANSWERS),
        *(mc.LIVE_INPUT_TOKENS, mc.LIVE_OUTPUT_TOKENS),
    ]
    assert units == {m.name: m.unit.value for m in expected}
    assert (doc["InputTokens"], doc["OutputTokens"], doc["TotalTokens"]) == ([120.0], [30.0], [150.0])
    assert doc["CachedResponses"] == [0.0]
    assert doc["EstimatedCost"] == [0.0012]
    assert (doc["ModelId"], doc["request_id"], doc["Cached"], doc["StopReason"]) == (
        "m-1",
        "req-1",
        False,
        "end_turn",
    )


def test_given_cached_answer_when_published_then_no_ttft_no_cost(capsys: pytest.CaptureFixture[str]) -> None:
    usage = Usage(10, 20, estimated=True)
    doc = _publish(capsys, AnswerRecord("m-1", "req-2", True, 3.2, usage, ttft_ms=1.0, cost_usd=9.9))
    assert _names(doc) == {"InputTokens", "OutputTokens", "TotalTokens", "CachedResponses", "ResponseLatency"}
    assert doc["CachedResponses"] == [1.0]
    assert doc["Cached"] is True


def test_given_live_and_cached_answers_when_published_then_only_live_ones_feed_the_live_series(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The gateway's side of the Bedrock comparison: Converse's usage as reported (prompt-cache tokens
    apart, as in Bedrock's InputTokenCount), and nothing from a cached answer's estimate."""
    live = _publish(capsys, AnswerRecord("m-1", "r", False, 9.0, Usage(40, 12, cache_read_input_tokens=512)))
    cached = _publish(capsys, AnswerRecord("m-1", "r", True, 1.0, Usage(40, 12, estimated=True)))

    assert (live[mc.LIVE_INPUT_TOKENS.name], live[mc.LIVE_OUTPUT_TOKENS.name]) == ([40.0], [12.0])
    assert live[mc.CACHE_READ_INPUT_TOKENS.name] == [512.0]
    assert {mc.LIVE_INPUT_TOKENS.name, mc.LIVE_OUTPUT_TOKENS.name}.isdisjoint(_names(cached))
    assert cached[mc.INPUT_TOKENS.name] == [40.0]  # the estimate still counts in the all-answers series


def test_given_failed_request_when_published_then_model_errors_only(
    capsys: pytest.CaptureFixture[str],
) -> None:
    doc = _publish(capsys, AnswerRecord("m-2", "req-3", False, 40.0, error_code="ThrottlingException"))
    assert _names(doc) == {"ModelErrors"}
    assert doc["ModelErrors"] == [1.0]
    assert doc["ErrorCode"] == "ThrottlingException"


def test_given_cache_failure_when_published_then_cache_errors_counted(
    capsys: pytest.CaptureFixture[str],
) -> None:
    doc = _publish(capsys, AnswerRecord("m-1", "req-4", False, 9.0, Usage(1, 1), cache_error=True))
    assert doc["CacheErrors"] == [1.0]


def test_given_two_requests_when_published_then_two_documents_no_leak(
    capsys: pytest.CaptureFixture[str],
) -> None:
    publish_token_metrics(AnswerRecord("m-1", "a", False, 1.0, error_code="X"))
    publish_token_metrics(AnswerRecord("m-2", "b", True, 1.0, Usage(1, 1, estimated=True)))
    first, second = emf_documents(capsys.readouterr().out)
    assert (first["ModelId"], second["ModelId"]) == ("m-1", "m-2")
    assert "ModelErrors" not in second
    assert "ErrorCode" not in second


ALICE = "arn:aws:iam::123456789012:user/alice"


def test_given_any_record_when_published_then_caller_is_a_property_never_a_dimension(
    capsys: pytest.CaptureFixture[str],
) -> None:
    for record in (
        AnswerRecord("m-1", "r", False, 1.0, Usage(1, 1), caller=ALICE),
        AnswerRecord("m-1", "r", False, 1.0, error_code="X", caller=ALICE),
    ):
        doc = _publish(capsys, record)
        assert doc[mc.PROP_CALLER] == ALICE
        assert doc["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [[mc.DIM_MODEL_ID]]
    assert _publish(capsys, AnswerRecord("m-1", "r", True, 1.0, Usage(1, 1)))[mc.PROP_CALLER] == "anonymous"


def test_given_answered_caller_with_limits_when_published_then_no_rejection_and_its_highest_share(
    capsys: pytest.CaptureFixture[str],
) -> None:
    record = AnswerRecord(
        "m-1", "r", False, 1.0, Usage(1, 1), caller=ALICE, limit_rejected=False, limit_usage_pct=81.25
    )
    doc = _publish(capsys, record)
    units = {m["Name"]: m["Unit"] for m in doc["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
    assert (doc[mc.LIMIT_REJECTIONS.name], doc[mc.CALLER_LIMIT_USAGE.name]) == ([0.0], [81.25])
    assert units[mc.CALLER_LIMIT_USAGE.name] == "Percent"
    assert mc.LIMIT_CHECK_ERRORS.name not in doc


def test_given_rejected_request_when_published_then_rejection_only_no_tokens_no_model_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    record = AnswerRecord(
        "m-1", "r", False, 1.0, caller=ALICE, refused=True, limit_rejected=True, limit_usage_pct=99.0,
        error_code="limit_exceeded",
    )  # fmt: skip
    doc = _publish(capsys, record)
    assert _names(doc) == {mc.LIMIT_REJECTIONS.name, mc.CALLER_LIMIT_USAGE.name}
    assert doc[mc.LIMIT_REJECTIONS.name] == [1.0]


def test_given_metering_failure_when_published_then_limit_check_error_counted(
    capsys: pytest.CaptureFixture[str],
) -> None:
    answered = _publish(capsys, AnswerRecord("m-1", "r", False, 1.0, Usage(1, 1), limit_check_error=True))
    assert answered[mc.LIMIT_CHECK_ERRORS.name] == [1.0]
    refused = _publish(capsys, AnswerRecord("m-1", "r", False, 1.0, refused=True, limit_check_error=True))
    assert _names(refused) == {mc.LIMIT_CHECK_ERRORS.name}
