"""Callers through the real handler: attribution, metering, limits and fail modes, against moto's DynamoDB
(the usage table) and the loopback Bedrock, with HTTP API 2.0 events signed by IAM callers."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

import pytest

from chatbot import chatbot_handler, service
from chatbot.usage_store import holds
from shared import metric_catalogue as mc
from tests.fakes.bedrock_server import THROTTLE, Behavior, FakeBedrock
from tests.integration.chatbot.limits_support import (
    AGENT,
    ALICE,
    BOB,
    DAY,
    ESTIMATE,
    HOUR,
    MESSAGE,
    MONTH,
    NOW,
    SONNET,
    Metered,
    answers,
    call,
    cost_of,
    emf_of,
)
from tests.reliability.lab import captured_output
from tests.support import FakeLambdaContext, http_api_event

# --- attribution ---------------------------------------------------------------------------------------


def test_given_signed_requests_when_answered_then_caller_on_emf_and_log_lines_and_never_carried_over(
    metered: Callable[..., Metered], stack: FakeBedrock
) -> None:
    metered()
    chatbot_handler.logger.setLevel("INFO")
    try:
        with captured_output() as out:
            assert call({"message": MESSAGE, "use_cache": False}, caller=AGENT)[0] == 200
            assert call({"message": MESSAGE, "use_cache": False}, caller=None)[0] == 200
            stack.set_default(SONNET, Behavior(kind=THROTTLE))  # the service's own warning line too
            assert call({"message": MESSAGE, "use_cache": False}, caller=BOB)[0] == 429
    finally:
        chatbot_handler.logger.setLevel("WARNING")
    lines = [json.loads(line) for line in out.getvalue().splitlines() if line.startswith("{")]
    docs, logs = [d for d in lines if "_aws" in d], [d for d in lines if "_aws" not in d]
    assert [d[mc.PROP_CALLER] for d in docs] == [AGENT, mc.ANONYMOUS_CALLER, BOB]
    assert [d["_aws"]["CloudWatchMetrics"][0]["Dimensions"] for d in docs] == [[[mc.DIM_MODEL_ID]]] * 3
    answered = [log for log in logs if log.get("message") == "answered"]
    assert [log["caller"] for log in answered] == [AGENT, mc.ANONYMOUS_CALLER]
    failed = [log for log in logs if log.get("message") in ("model call failed", "request failed")]
    assert len(failed) == 2 and {log["caller"] for log in failed} == {BOB}


def test_given_caller_claimed_in_a_header_when_answered_then_only_the_signature_counts(
    metered: Callable[..., Metered], capsys: pytest.CaptureFixture[str]
) -> None:
    metered()
    event = http_api_event({"message": MESSAGE, "use_cache": False}, caller=BOB)
    event["headers"]["x-caller"] = ALICE
    assert chatbot_handler.handler(event, FakeLambdaContext())["statusCode"] == 200
    (doc,) = emf_of(capsys)
    assert doc[mc.PROP_CALLER] == BOB


def test_given_unexpected_error_when_answered_then_its_emf_document_names_the_caller(
    metered: Callable[..., Metered], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    state = metered({"default": {"hour_tokens": 10_000}})

    def broken(*_: Any) -> float:
        raise RuntimeError("a bug")

    monkeypatch.setattr(service, "estimated_cost", broken)
    status, body, _ = call({"message": MESSAGE, "use_cache": False, "max_tokens": 50})
    assert (status, body["error"]) == (502, "internal_error")
    (doc,) = emf_of(capsys)
    assert (doc[mc.PROP_CALLER], doc["ModelErrors"]) == (ALICE, [1])
    assert holds(state.item(HOUR.id)) == {}, "the hold of a request that failed unexpectedly is released"
    assert state.n(HOUR.id, "reserved_tokens") == state.n(HOUR.id, "charged_tokens") == 0


# --- metering and the limits block ----------------------------------------------------------------------


def test_given_caller_with_limits_when_live_answer_then_limits_block_metrics_and_two_writes_one_read(
    metered: Callable[..., Metered], stack: FakeBedrock, capsys: pytest.CaptureFixture[str]
) -> None:
    state = metered({"default": {"hour_tokens": 1000, "day_usd": 2.5}})
    answers(stack, output_tokens=40)
    status, body, _ = call({"message": MESSAGE, "use_cache": False, "max_tokens": 100})
    assert status == 200
    cost = cost_of(ESTIMATE, 40)
    assert body["limits"] == {
        "hour_tokens": {"limit": 1000, "used": ESTIMATE + 40, "resets_at": "2026-12-07T18:00:00Z"},
        "day_usd": {"limit": 2.5, "used": float(cost), "resets_at": "2026-12-08T00:00:00Z"},
    }
    assert state.calls() == ["BatchGetItem", "TransactWriteItems", "TransactWriteItems"]
    (doc,) = emf_of(capsys)
    assert doc[mc.LIMIT_REJECTIONS.name] == [0]
    assert doc[mc.CALLER_LIMIT_USAGE.name] == [pytest.approx((ESTIMATE + 40) / 10)]
    assert mc.LIMIT_CHECK_ERRORS.name not in doc
    for window in (HOUR, DAY, MONTH):  # every window charged; reserved back to what was charged
        assert state.n(window.id, "charged_tokens") == state.n(window.id, "reserved_tokens") == ESTIMATE + 40
        assert state.n(window.id, "charged_usd") == state.n(window.id, "reserved_usd") == cost
        assert holds(state.item(window.id)) == {}


def test_given_caller_without_limits_when_answered_then_metered_in_one_write_and_no_block(
    metered: Callable[..., Metered], stack: FakeBedrock, capsys: pytest.CaptureFixture[str]
) -> None:
    state = metered({"callers": {BOB: {"day_tokens": 5}}})
    answers(stack, output_tokens=7)
    status, body, _ = call({"message": MESSAGE, "use_cache": False})
    assert status == 200 and "limits" not in body
    assert state.calls() == ["TransactWriteItems"]
    assert "inferenceConfig" not in stack.calls[-1].body, "no cap added for a caller without limits"
    (doc,) = emf_of(capsys)
    assert doc[mc.LIMIT_REJECTIONS.name] == [0] and mc.CALLER_LIMIT_USAGE.name not in doc
    assert [state.n(w.id, "charged_tokens") for w in (HOUR, DAY, MONTH)] == [ESTIMATE + 7] * 3


def test_given_no_max_tokens_when_caller_has_limits_then_the_model_is_capped_at_the_default_max_output(
    metered: Callable[..., Metered], stack: FakeBedrock
) -> None:
    metered({"default": {"day_tokens": 100_000}}, DEFAULT_MAX_OUTPUT_TOKENS="500")
    assert call({"message": MESSAGE, "use_cache": False})[0] == 200
    assert stack.calls[-1].body["inferenceConfig"] == {"maxTokens": 500}


# --- refusals -------------------------------------------------------------------------------------------


def test_given_caller_at_its_limit_when_asking_then_429_with_retry_after_and_the_model_never_called(
    metered: Callable[..., Metered], stack: FakeBedrock, capsys: pytest.CaptureFixture[str]
) -> None:
    state = metered({"default": {"hour_tokens": 2 * (ESTIMATE + 100)}})
    answers(stack, output_tokens=100)
    for _ in range(2):
        assert call({"message": MESSAGE, "use_cache": False, "max_tokens": 100})[0] == 200
    emf_of(capsys)
    state.clock.now = NOW + 0.25  # 2,399.75 s before the hour resets
    status, body, headers = call({"message": MESSAGE, "use_cache": False, "max_tokens": 100})
    assert (status, body["error"]) == (429, "limit_exceeded")
    assert headers["Retry-After"] == "2400"
    assert body["message"] == (
        f"{ALICE} has used {2 * (ESTIMATE + 100)} tokens of its hour_tokens limit of {2 * (ESTIMATE + 100)} "
        f"tokens (this request needs up to {ESTIMATE + 100} tokens); the hour window resets at "
        "2026-12-07T18:00:00Z"
    )
    assert len(stack.calls) == 2, "a refused request never reaches the model"
    (doc,) = emf_of(capsys)
    assert (doc[mc.LIMIT_REJECTIONS.name], doc[mc.CALLER_LIMIT_USAGE.name]) == ([1], [100])
    assert not {"InputTokens", "TotalTokens", "ModelErrors"} & set(doc)
    assert (doc[mc.PROP_CALLER], doc["ErrorCode"]) == (ALICE, "limit_exceeded")
    assert holds(state.item(HOUR.id)) == {}


def test_given_other_callers_when_one_is_refused_then_they_keep_gettinganswers(
    metered: Callable[..., Metered], stack: FakeBedrock
) -> None:
    metered({"default": {"day_tokens": ESTIMATE + 100}})
    answers(stack, output_tokens=100)
    statuses = [call({"message": MESSAGE, "use_cache": False, "max_tokens": 100}, caller=c)[0]
                for c in (AGENT, AGENT, ALICE, BOB, AGENT)]  # fmt: skip
    assert statuses == [200, 429, 200, 200, 429]


def test_given_request_larger_than_the_limit_when_asking_then_429_saying_so(
    metered: Callable[..., Metered], stack: FakeBedrock
) -> None:
    state = metered({"default": {"month_tokens": 50}})
    status, body, headers = call({"message": MESSAGE, "max_tokens": 100})
    assert (status, body["error"]) == (429, "limit_exceeded")
    assert "more than its month_tokens limit of 50 tokens by itself" in body["message"]
    assert int(headers["Retry-After"]) == math.ceil(MONTH.end - NOW)
    assert stack.calls == [] and state.item(MONTH.id) == {}


def test_given_caller_over_its_limit_when_cached_answer_then_served_with_the_block_and_charged_nothing(
    metered: Callable[..., Metered], stack: FakeBedrock, capsys: pytest.CaptureFixture[str]
) -> None:
    state = metered({"default": {"hour_tokens": ESTIMATE + 100}})
    answers(stack, output_tokens=100)
    assert call({"message": MESSAGE, "max_tokens": 100})[0] == 200  # cached (complete answer)
    assert call({"message": MESSAGE, "max_tokens": 100, "use_cache": False})[0] == 429
    state.calls()
    status, body, _ = call({"message": MESSAGE, "max_tokens": 100})
    assert (status, body["cached"]) == (200, True)
    assert body["limits"]["hour_tokens"]["used"] == ESTIMATE + 100
    assert state.calls() == ["BatchGetItem", "GetItem"], "the cache read and one read of the usage"
    assert state.n(HOUR.id, "charged_tokens") == ESTIMATE + 100
    assert emf_of(capsys)[-1][mc.LIMIT_REJECTIONS.name] == [0]


def test_given_cached_answer_when_caller_has_no_limits_then_no_usage_read(
    metered: Callable[..., Metered],
) -> None:
    state = metered()
    call({"message": MESSAGE})
    state.calls()
    status, body, _ = call({"message": MESSAGE})
    assert (status, body["cached"], "limits" in body) == (200, True, False)
    assert state.calls() == ["GetItem"]


def test_given_throttled_model_when_caller_has_limits_then_hold_released_and_not_a_rejection(
    metered: Callable[..., Metered], stack: FakeBedrock, capsys: pytest.CaptureFixture[str]
) -> None:
    state = metered({"default": {"hour_tokens": 1000}})
    stack.set_default(SONNET, Behavior(kind=THROTTLE))
    status, body, _ = call({"message": MESSAGE, "use_cache": False, "max_tokens": 100})
    assert (status, body["error"]) == (429, "throttled")
    (doc,) = emf_of(capsys)
    assert (doc["ModelErrors"], doc[mc.LIMIT_REJECTIONS.name]) == ([1], [0])
    assert state.n(HOUR.id, "reserved_tokens") == state.n(HOUR.id, "charged_tokens") == 0
    assert holds(state.item(HOUR.id)) == {}


# --- configuration and fail modes ---------------------------------------------------------------------
