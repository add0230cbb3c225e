"""The request's deadline: its arithmetic, the answer at the deadline (answer_chat with in-memory fakes on a
manual clock), the setting's bounds, and the Bedrock client it guards."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from chatbot import chatbot_handler
from chatbot import platform_limits as limits
from chatbot.deadline import Deadline, deadline_after, guard
from chatbot.request import ChatError, ChatRequest
from chatbot.service import Dependencies, answer_chat
from chatbot.settings import ConfigurationError, ModelPrice, get_settings, settings_from_env
from chatbot.token_metrics import AnswerRecord
from chatbot.tokens import estimate_tokens
from shared.aws_clients import reset_clients
from tests.fakes.chat_fakes import ManualClock, MemoryCache

REQUEST = ChatRequest(message="tell me everything", model_id="m", system="be long", max_tokens=None,
                      use_cache=True)  # fmt: skip
PRICES = {"m": ModelPrice(input_per_1k=1.0, output_per_1k=2.0)}


# --- arithmetic ----------------------------------------------------------------------------------------


def test_given_a_deadline_when_time_passes_then_remaining_passed_and_attempts_follow_the_clock() -> None:
    clock = ManualClock(100.0)
    deadline = deadline_after(100.0, 25, clock)

    assert (deadline.remaining(), deadline.passed) == (25.0, False)
    clock.now = 122.5
    assert deadline.allows_attempt()  # 2.5 s left: an attempt has its 2 s
    assert not deadline.allows_attempt(wait=1.0)  # but not after a 1 s back-off
    clock.now = 125.0
    assert deadline.passed


def test_given_the_platform_limits_when_read_then_the_deadline_bounds_leave_room_on_both_sides() -> None:
    assert limits.ANSWER_DEADLINE_MIN_SECONDS == limits.BEDROCK_CONNECT_TIMEOUT_SECONDS + 2
    assert limits.ANSWER_DEADLINE_MAX_SECONDS == limits.HTTP_API_TIMEOUT_SECONDS - 2 == 28
    assert limits.ANSWER_DEADLINE_MIN_SECONDS <= limits.ANSWER_DEADLINE_DEFAULT_SECONDS
    assert limits.ANSWER_DEADLINE_DEFAULT_SECONDS <= limits.ANSWER_DEADLINE_MAX_SECONDS


# --- the setting ---------------------------------------------------------------------------------------

BASE = {"MODEL_ID": "a", "CACHE_TABLE_NAME": "t"}


def test_given_no_deadline_setting_when_read_then_25_seconds() -> None:
    assert settings_from_env(BASE).answer_deadline_seconds == 25
    assert settings_from_env({**BASE, "ANSWER_DEADLINE_SECONDS": "28"}).answer_deadline_seconds == 28


@pytest.mark.parametrize("value", ["4", "29", "30", "soon"])
def test_given_a_deadline_the_api_cannot_honour_when_read_then_the_error_names_the_variable(
    value: str,
) -> None:
    with pytest.raises(ConfigurationError, match="ANSWER_DEADLINE_SECONDS"):
        settings_from_env({**BASE, "ANSWER_DEADLINE_SECONDS": value})


# --- the answer at the deadline ------------------------------------------------------------------------


DEADLINE_AT = 105.5


class SlowBedrock:
    """A converse_stream whose words arrive one second apart on the manual clock; with `silent_after`, the
    model goes quiet after that many words and the read times out at the deadline (as the socket bounded
    by chatbot.deadline does)."""

    def __init__(self, clock: ManualClock, words: int, silent_after: int | None = None) -> None:
        self.clock, self.words, self.silent_after = clock, words, silent_after
        self.closed, self.calls = False, 0

    def converse_stream(self, **request: Any) -> dict[str, Any]:
        self.calls += 1
        return {"stream": _Stream(self)}


class _Stream:
    def __init__(self, model: SlowBedrock) -> None:
        self._model, self._events = model, self._generate()

    def _generate(self) -> Iterator[dict[str, Any]]:
        from urllib3.exceptions import ReadTimeoutError

        yield {"messageStart": {"role": "assistant"}}
        for index in range(self._model.words):
            if index == self._model.silent_after:
                self._model.clock.now = DEADLINE_AT
                raise ReadTimeoutError(None, None, "Read timed out.")  # type: ignore[arg-type]
            self._model.clock.now += 1.0
            yield {"contentBlockDelta": {"delta": {"text": f"w{index} "}, "contentBlockIndex": 0}}
        yield {"messageStop": {"stopReason": "end_turn"}}
        yield {"metadata": {"usage": {"inputTokens": 9, "outputTokens": 99}}}

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return self._events

    def close(self) -> None:
        self._model.closed = True


def _answer(model: SlowBedrock, clock: ManualClock, cache: MemoryCache, published: list[AnswerRecord]) -> Any:
    deps = Dependencies(cache=cache, bedrock=lambda: model, publish=published.append, prices=PRICES,
                        clock=clock)  # type: ignore[arg-type]  # fmt: skip
    return answer_chat(REQUEST, deps, 100.0, "r", deadline=Deadline(DEADLINE_AT, clock))


def test_given_the_deadline_mid_stream_when_answered_then_the_text_so_far_estimated_and_not_cached() -> None:
    clock, cache, published = ManualClock(100.0), MemoryCache(), []  # type: ignore[var-annotated]
    model = SlowBedrock(clock, words=20)

    answer = _answer(model, clock, cache, published)

    assert answer.answer == "w0 w1 w2 w3 w4 w5 "  # the words that came by 105.5 (w5 at 106 is the last read)
    assert (answer.stop_reason, answer.to_json()["truncated"], answer.cached) == ("deadline", True, False)
    assert model.closed, "the stream was closed, not read to its end"
    assert cache.items == {}
    expected_in = estimate_tokens("be long" + "tell me everything")
    assert (answer.usage.input_tokens, answer.usage.output_tokens) == (
        expected_in,
        estimate_tokens(answer.answer),
    )
    assert answer.usage.estimated
    (record,) = published
    assert (record.stop_reason, record.usage, record.error_code) == ("deadline", answer.usage, None)
    assert record.cost_usd == pytest.approx((expected_in * 1.0 + answer.usage.output_tokens * 2.0) / 1000)


def test_given_the_answer_ends_before_the_deadline_when_answered_then_bedrocks_usage_and_cached() -> None:
    clock, cache, published = ManualClock(100.0), MemoryCache(), []  # type: ignore[var-annotated]

    answer = _answer(SlowBedrock(clock, words=3), clock, cache, published)

    assert (answer.stop_reason, answer.to_json()["truncated"]) == ("end_turn", False)
    assert (answer.usage.input_tokens, answer.usage.output_tokens, answer.usage.estimated) == (9, 99, False)
    assert len(cache.items) == 1


def test_given_no_text_before_the_deadline_when_answered_then_502_deadline_exceeded_and_nothing_charged() -> (
    None
):
    clock, published = ManualClock(103.0), []  # type: list[AnswerRecord]
    model = SlowBedrock(clock, words=20, silent_after=0)  # 2.5 s left: the attempt starts; no word comes

    with pytest.raises(ChatError) as caught:
        _answer(model, clock, MemoryCache(), published)

    assert (caught.value.status, caught.value.code) == (502, "model_error")
    assert "deadline" in caught.value.message
    assert [(r.error_code, r.usage) for r in published] == [("DeadlineExceeded", None)]


def test_given_less_than_an_attempts_time_left_when_answered_then_the_model_is_not_called() -> None:
    clock, published = ManualClock(104.0), []  # type: list[AnswerRecord]
    model = SlowBedrock(clock, words=3)

    with pytest.raises(ChatError):
        _answer(model, clock, MemoryCache(), published)

    assert model.calls == 0
    assert published[0].error_code == "DeadlineExceeded"


# --- the client it guards ------------------------------------------------------------------------------


@pytest.fixture
def bedrock_client(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("MODEL_ID", "amazon.nova-lite-v1:0")
    monkeypatch.setenv("CACHE_TABLE_NAME", "chat-cache")
    get_settings.cache_clear()
    reset_clients()
    yield chatbot_handler._bedrock()
    get_settings.cache_clear()
    reset_clients()


def _needs_retry(client: Any, retry_after_ms: int) -> Any:
    """What the client's needs-retry handlers answer for a first attempt throttled by Bedrock."""
    from botocore.awsrequest import AWSResponse
    from botocore.hooks import first_non_none_response

    http = AWSResponse("https://bedrock.invalid", 429, {"x-amz-retry-after": str(retry_after_ms)}, None)
    parsed = {"Error": {"Code": "ThrottlingException", "Message": "slow down"}, "ResponseMetadata": {}}
    responses = client.meta.events.emit(
        "needs-retry.bedrock-runtime.ConverseStream",
        response=(http, parsed),
        endpoint=None,
        operation=client.meta.service_model.operation_model("ConverseStream"),
        attempts=1,
        caught_exception=None,
        request_dict={"context": {}},
    )
    return first_non_none_response(responses)


def test_given_the_handlers_client_when_asked_to_retry_then_botocores_back_off_unless_the_deadline_is_near(
    bedrock_client: Any,
) -> None:
    from chatbot.deadline import watching

    assert chatbot_handler._bedrock() is bedrock_client  # guarded once, reused: one wrapper, not two
    assert guard(bedrock_client) is bedrock_client
    clock = ManualClock(0.0)

    assert _needs_retry(bedrock_client, 1000) == pytest.approx(1.0, abs=1.0)  # no call in progress
    with watching(Deadline(20.0, clock)):  # 20 s left: botocore's back-off (Bedrock's retry-after, 5 s)
        assert _needs_retry(bedrock_client, 5000) == pytest.approx(5.0)
    with watching(Deadline(6.0, clock)) as watch:  # 6 s left: the 5 s back-off would leave 1 s: refused
        assert _needs_retry(bedrock_client, 5000) is False
        assert watch.refused_retry
