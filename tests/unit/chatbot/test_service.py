"""answer_chat's branches with in-memory fakes for the cache and the Bedrock client."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.eventstream import ChecksumMismatch, DuplicateHeader, InvalidHeadersLength, InvalidPayloadLength
from botocore.exceptions import ClientError, EventStreamError

from chatbot.request import ChatError, ChatRequest
from chatbot.service import Dependencies, answer_chat
from chatbot.settings import ModelPrice
from chatbot.token_metrics import AnswerRecord
from tests.fakes.chat_fakes import Clock, ManualClock, MemoryCache, ScriptedBedrock


def _events(text: str = "Hello there", stop: str = "end_turn", metadata: bool = True) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = [{"messageStart": {"role": "assistant"}}]
    events += [
        {"contentBlockDelta": {"delta": {"text": part}, "contentBlockIndex": 0}} for part in text.split(" ")
    ]
    events += [{"contentBlockStop": {"contentBlockIndex": 0}}, {"messageStop": {"stopReason": stop}}]
    if metadata:
        events.append({"metadata": {"usage": {"inputTokens": 11, "outputTokens": 7, "totalTokens": 18}}})
    return events


def _deps(cache: MemoryCache, bedrock: ScriptedBedrock, published: list[AnswerRecord]) -> Dependencies:
    prices = {"m": ModelPrice(input_per_1k=1.0, output_per_1k=2.0)}
    return Dependencies(
        cache=cache, bedrock=lambda: bedrock, publish=published.append, prices=prices, clock=Clock()
    )  # type: ignore[arg-type]


REQUEST = ChatRequest(message="hi", model_id="m", system=None, max_tokens=None, use_cache=True)


def test_given_live_answer_when_answered_then_usage_cost_ttft_from_stream() -> None:
    published: list[AnswerRecord] = []
    cache, bedrock = MemoryCache(), ScriptedBedrock(_events())
    answer = answer_chat(REQUEST, _deps(cache, bedrock, published), 100.0, "r1")
    assert answer.answer == "Hellothere"
    assert (answer.usage.input_tokens, answer.usage.output_tokens, answer.cached) == (11, 7, False)
    record = published[0]
    assert record.cost_usd == pytest.approx((11 * 1.0 + 7 * 2.0) / 1000)
    assert record.ttft_ms == pytest.approx(10.0)  # the first clock reading is at the first delta
    assert record.latency_ms > record.ttft_ms
    assert len(cache.items) == 1


def test_given_truncated_answer_when_answered_then_not_cached() -> None:
    cache = MemoryCache()
    answer_chat(REQUEST, _deps(cache, ScriptedBedrock(_events(stop="max_tokens")), []), 100.0, "r")
    assert cache.items == {}


def test_given_stream_without_metadata_when_answered_then_502_nothing_cached() -> None:
    cache, published = MemoryCache(), []  # type: list[AnswerRecord]
    with pytest.raises(ChatError) as caught:
        answer_chat(REQUEST, _deps(cache, ScriptedBedrock(_events(metadata=False)), published), 100.0, "r")
    assert caught.value.status == 502
    assert cache.items == {}
    assert published[0].error_code == "IncompleteStream"


def test_given_unreadable_cache_when_answered_then_model_answers_and_error_counted() -> None:
    published: list[AnswerRecord] = []
    bedrock = ScriptedBedrock(_events())
    answer = answer_chat(REQUEST, _deps(MemoryCache(read_fails=True), bedrock, published), 100.0, "r")
    assert answer.cached is False
    assert bedrock.calls == 1
    assert published[0].cache_error is True


def test_given_unwritable_cache_when_answered_then_200_and_error_counted() -> None:
    published: list[AnswerRecord] = []
    answer = answer_chat(
        REQUEST, _deps(MemoryCache(write_fails=True), ScriptedBedrock(_events()), published), 100.0, "r"
    )
    assert answer.answer
    assert published[0].cache_error is True


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (
            ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "ConverseStream"),
            429,
        ),
        (
            ClientError(
                {"Error": {"Code": "ServiceQuotaExceededException", "Message": "Too many tokens"}},
                "ConverseStream",
            ),
            429,
        ),
        (ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "ConverseStream"), 502),
        (EventStreamError({"Error": {"Code": "throttlingException", "Message": "x"}}, "ConverseStream"), 429),
        (
            EventStreamError(
                {"Error": {"Code": "modelStreamErrorException", "Message": "x"}}, "ConverseStream"
            ),
            502,
        ),
    ],
)
def test_given_model_failure_when_answered_then_status_and_model_error(error: Exception, status: int) -> None:
    cache, published = MemoryCache(), []  # type: list[AnswerRecord]
    with pytest.raises(ChatError) as caught:
        answer_chat(REQUEST, _deps(cache, ScriptedBedrock(error=error), published), 100.0, "r")
    assert caught.value.status == status
    assert published[0].usage is None
    assert cache.items == {}


def test_given_cached_answer_when_answered_then_no_model_call_and_estimated_usage() -> None:
    cache, bedrock, published = MemoryCache(), ScriptedBedrock(_events()), []  # type: ignore[var-annotated]
    deps = _deps(cache, bedrock, published)
    answer_chat(REQUEST, deps, 100.0, "r1")
    hit = answer_chat(REQUEST, deps, 100.0, "r2")
    assert bedrock.calls == 1
    assert hit.cached
    assert hit.usage.estimated
    assert published[1].cost_usd is None


@pytest.mark.parametrize(
    "error",
    [
        ChecksumMismatch(1, 2),
        InvalidHeadersLength(200_000),
        InvalidPayloadLength(30_000_000),
        DuplicateHeader("x"),
    ],
)
def test_given_corrupt_stream_frame_when_answered_then_502_model_error_with_its_code(
    error: Exception,
) -> None:
    events = _events()

    def stream() -> Any:  # botocore's parser raises these while the stream is iterated
        yield events[0]
        raise error

    class CorruptBedrock(ScriptedBedrock):
        def converse_stream(self, **request: Any) -> dict[str, Any]:
            self.calls += 1
            return {"stream": stream()}

    cache, published = MemoryCache(), []  # type: list[AnswerRecord]
    with pytest.raises(ChatError) as caught:
        answer_chat(REQUEST, _deps(cache, CorruptBedrock(), published), 100.0, "r")
    assert (caught.value.status, caught.value.code) == (502, "model_error")
    assert [(record.usage, record.error_code) for record in published] == [(None, type(error).__name__)]
    assert cache.items == {}


def test_given_empty_first_delta_when_answered_then_time_to_first_token_is_at_the_first_text() -> None:
    clock = ManualClock(100.0)

    def stream() -> Any:  # the clock moves between deltas as the stream arrives
        yield {"messageStart": {"role": "assistant"}}
        clock.now = 100.2
        yield {"contentBlockDelta": {"delta": {"text": ""}, "contentBlockIndex": 0}}
        clock.now = 100.5
        yield {"contentBlockDelta": {"delta": {}, "contentBlockIndex": 0}}
        clock.now = 100.9
        yield {"contentBlockDelta": {"delta": {"text": "Hi"}, "contentBlockIndex": 0}}
        clock.now = 101.0
        yield from _events()[-3:]

    class StreamingBedrock(ScriptedBedrock):
        def converse_stream(self, **request: Any) -> dict[str, Any]:
            return {"stream": stream()}

    published: list[AnswerRecord] = []
    deps = Dependencies(
        cache=MemoryCache(), bedrock=StreamingBedrock, publish=published.append, prices={}, clock=clock
    )  # type: ignore[arg-type]
    answer_chat(REQUEST, deps, 100.0, "r")
    assert published[0].ttft_ms == pytest.approx(900.0)
    assert published[0].latency_ms == pytest.approx(1000.0)
