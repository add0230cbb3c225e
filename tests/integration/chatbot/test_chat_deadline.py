"""Answers within the API's time (contract: "Answers within the API's time"): the real handler, botocore
and DynamoDB clients against moto and a slow loopback Bedrock.

A request's deadline runs from its arrival (`requestContext.timeEpoch`): an event stamped N seconds ago
leaves the default deadline (25 s) minus N, so each test crosses a real deadline in a few seconds
without changing the configuration. LEFT leaves the first attempt its 2 s minimum even when building the
clients and reading the cache take seconds on a loaded machine (the whole suite on a shared 2-core box).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from chatbot import chatbot_handler
from chatbot.platform_limits import ANSWER_DEADLINE_DEFAULT_SECONDS
from chatbot.settings import get_settings
from chatbot.tokens import estimate_tokens
from chatbot.usage_store import holds
from shared.aws_clients import reset_clients
from tests.fakes.bedrock_server import THROTTLE, Behavior, Call, FakeBedrock
from tests.integration.chatbot.limits_support import ALICE, HOUR, SONNET, Metered, emf_of
from tests.support import (
    FakeLambdaContext,
    cache_items,
    http_api_event,
    validated_emf,
)

LONG = "word " * 400  # 2,000 characters: 200 chunks of 10 at 0.1 s each, far longer than any deadline here
SLOW = Behavior(text=LONG, chunk_chars=10, chunk_delay=0.1)
MESSAGE = "Write a very long essay about deadlines"
LEFT = 6.0  # seconds between the request's handling and its deadline


def _at_the_deadline(elapsed: float) -> bool:
    return LEFT - 1.0 < elapsed < LEFT + 2.5


def _arrived(seconds_before_the_deadline: float) -> int:
    """A timeEpoch that leaves this much time before the default deadline."""
    return int((time.time() - ANSWER_DEADLINE_DEFAULT_SECONDS + seconds_before_the_deadline) * 1000)


def _call(body: dict[str, Any], left: float, caller: str | None = None) -> tuple[int, dict[str, Any], float]:
    event = http_api_event(body, time_epoch_ms=_arrived(left), caller=caller)
    started = time.perf_counter()
    response = chatbot_handler.handler(event, FakeLambdaContext())
    return response["statusCode"], json.loads(response["body"]), time.perf_counter() - started




def _closed_early(call: Call, wait: float = 3.0) -> bool:
    """The fake notices a closed connection at its next write: give it a few chunks' time."""
    until = time.monotonic() + wait
    while time.monotonic() < until and not (call.disconnected or call.finished):
        time.sleep(0.05)
    return call.disconnected and not call.finished


def test_given_a_model_still_streaming_at_the_deadline_when_chatting_then_200_with_the_text_so_far(
    stack: FakeBedrock, cache_table: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    stack.script(SONNET, SLOW)

    status, body, elapsed = _call({"message": MESSAGE}, left=LEFT)

    assert status == 200
    assert (body["truncated"], body["stop_reason"], body["cached"]) == (True, "deadline", False)
    assert body["answer"] and LONG.startswith(body["answer"]) and len(body["answer"]) < len(LONG) // 2
    assert _at_the_deadline(elapsed), "answered at the deadline, not at the end of the stream"
    # No metadata event came: the charge is the documented estimate (input from the prompt, output from
    # the text the caller got), flagged as an estimate.
    expected = (estimate_tokens(MESSAGE), estimate_tokens(body["answer"]))
    assert (body["usage"]["input_tokens"], body["usage"]["output_tokens"]) == expected
    assert body["usage"]["estimated"] is True
    assert cache_items(cache_table) == []
    (doc,) = validated_emf(capsys.readouterr().out)
    assert (doc["TruncatedAnswers"], doc["FilteredAnswers"], doc["StopReason"]) == ([1], [0], "deadline")
    assert (doc["InputTokens"], doc["OutputTokens"]) == ([expected[0]], [expected[1]])
    assert doc["EstimatedCost"] == [pytest.approx((expected[0] * 0.003 + expected[1] * 0.015) / 1000)]
    (call,) = stack.calls
    assert _closed_early(call), "the gateway closed the stream instead of reading it to its end"


def test_given_a_model_that_goes_quiet_mid_answer_when_the_deadline_comes_then_200_with_the_text_so_far(
    stack: FakeBedrock, cache_table: Any
) -> None:
    # 3 s of text, then silence: the wait for the next chunk ends at the deadline, not at botocore's read
    # timeout counted from the request (which would be 3 s later, outside the window).
    quiet = Behavior(text=LONG, chunk_chars=10, chunk_delay=0.1, stall_after_chunks=30, stall=12)
    stack.script(SONNET, quiet)

    status, body, elapsed = _call({"message": MESSAGE}, left=LEFT)

    assert (status, body["truncated"], body["stop_reason"]) == (200, True, "deadline")
    assert body["answer"] == LONG[: len(body["answer"])] and len(body["answer"]) >= 200
    assert _at_the_deadline(elapsed), "the stalled read ended at the deadline"


def test_given_a_model_that_finishes_before_the_deadline_when_chatting_then_not_truncated_and_cached(
    stack: FakeBedrock, cache_table: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    stack.script(SONNET, Behavior(text="short and sweet", chunk_chars=5, chunk_delay=0.1))

    status, body, _ = _call({"message": "a short one"}, left=LEFT)

    assert status == 200
    assert (body["truncated"], body["stop_reason"], body["answer"]) == (False, "end_turn", "short and sweet")
    assert body["usage"]["estimated"] is False
    assert len(cache_items(cache_table)) == 1
    (doc,) = validated_emf(capsys.readouterr().out)
    assert (doc["TruncatedAnswers"], doc["StopReason"]) == ([0], "end_turn")


def test_given_throttling_whose_retry_wait_would_cross_the_deadline_when_chatting_then_429_at_once(
    stack: FakeBedrock, cache_table: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    # Bedrock asks for 5 s (x-amz-retry-after): botocore would wait 5 s, and 2 s must remain after it
    # (at most LEFT = 6 s remain).
    stack.script(SONNET, Behavior(kind=THROTTLE, retry_after_ms=5000), Behavior())

    status, body, elapsed = _call({"message": "busy?"}, left=LEFT)

    assert (status, body["error"]) == (429, "throttled")
    assert len(stack.calls) == 1, "the retry was not started"
    assert elapsed < 4.0, "answered at once, without waiting the 5 s back-off"
    (doc,) = validated_emf(capsys.readouterr().out)
    assert (doc["ModelErrors"], doc["ErrorCode"]) == ([1], "ThrottlingException")


def test_given_throttling_whose_retry_wait_fits_when_chatting_then_botocore_waits_and_retries(
    stack: FakeBedrock, cache_table: Any
) -> None:
    stack.script(SONNET, Behavior(kind=THROTTLE, retry_after_ms=2000), Behavior())

    status, _, elapsed = _call({"message": "busy?"}, left=20.0)

    assert status == 200
    assert len(stack.calls) == 2
    assert elapsed >= 2.0, "botocore honoured Bedrock's retry-after"


def test_given_too_little_time_left_for_an_attempt_when_chatting_then_502_without_calling_the_model(
    stack: FakeBedrock, cache_table: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    status, body, _ = _call({"message": "too late"}, left=1.0)

    assert (status, body["error"]) == (502, "model_error")
    assert "deadline" in body["message"]
    assert stack.calls == []
    (doc,) = validated_emf(capsys.readouterr().out)
    assert (doc["ModelErrors"], doc["ErrorCode"]) == ([1], "DeadlineExceeded")


@pytest.mark.parametrize(
    "slow",
    [Behavior(response_delay=12.0), Behavior(first_token_delay=12.0)],
    ids=["no-response-yet", "no-token-yet"],
)
def test_given_no_text_before_the_deadline_when_chatting_then_502_at_the_deadline(
    stack: FakeBedrock, cache_table: Any, capsys: pytest.CaptureFixture[str], slow: Behavior
) -> None:
    stack.script(SONNET, slow, Behavior())

    status, body, elapsed = _call({"message": "anyone there?"}, left=LEFT)

    assert (status, body["error"]) == (502, "model_error")
    assert _at_the_deadline(elapsed), "the wait ended at the deadline (botocore's read timeout, the stream's)"
    assert len(stack.calls) == 1, "no retry started after the deadline"
    assert cache_items(cache_table) == []
    (doc,) = validated_emf(capsys.readouterr().out)
    assert (doc["ModelErrors"], doc["ErrorCode"]) == ([1], "DeadlineExceeded")


def test_given_a_caller_with_limits_when_truncated_by_the_deadline_then_its_hold_settles_to_the_estimate(
    metered: Callable[..., Metered], stack: FakeBedrock, capsys: pytest.CaptureFixture[str]
) -> None:
    state = metered({"default": {"hour_tokens": 100_000}})
    stack.script(SONNET, SLOW)

    status, body, _ = _call({"message": MESSAGE}, left=LEFT, caller=ALICE)

    assert (status, body["truncated"]) == (200, True)
    charged = body["usage"]["total_tokens"]
    assert holds(state.item(HOUR.id)) == {}, "the reservation is settled, not left to be swept"
    assert state.n(HOUR.id, "charged_tokens") == state.n(HOUR.id, "reserved_tokens") == charged
    assert body["limits"]["hour_tokens"]["used"] == charged
    (doc,) = emf_of(capsys)
    assert doc["TruncatedAnswers"] == [1]


def test_given_a_caller_with_limits_when_no_text_comes_before_the_deadline_then_its_hold_is_released(
    metered: Callable[..., Metered], stack: FakeBedrock
) -> None:
    state = metered({"default": {"hour_tokens": 100_000}})
    stack.script(SONNET, Behavior(first_token_delay=12.0))

    status, body, _ = _call({"message": MESSAGE}, left=LEFT, caller=ALICE)

    assert (status, body["error"]) == (502, "model_error")
    assert holds(state.item(HOUR.id)) == {}
    assert state.n(HOUR.id, "charged_tokens") == state.n(HOUR.id, "reserved_tokens") == 0


def test_given_a_read_timeout_shorter_than_the_time_left_when_the_model_pauses_then_502_at_the_read_timeout(
    stack: FakeBedrock, cache_table: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The deadline only ever shortens a wait: BEDROCK_READ_TIMEOUT_SECONDS still bounds every read.
    monkeypatch.setenv("BEDROCK_READ_TIMEOUT_SECONDS", "1")
    monkeypatch.setenv("BEDROCK_MAX_ATTEMPTS", "1")
    get_settings.cache_clear()
    chatbot_handler.dependencies.cache_clear()
    reset_clients()
    stack.script(SONNET, Behavior(text=LONG, chunk_chars=10, stall_after_chunks=3, stall=10.0))

    status, body, elapsed = _call({"message": MESSAGE}, left=20.0)

    assert (status, body["error"]) == (502, "model_error")
    assert elapsed < 6.0, "the read timed out after 1 s, not when the model went on (10 s) or at the deadline"
    (doc,) = validated_emf(capsys.readouterr().out)
    assert doc["ErrorCode"] == "ReadTimeoutError"
