"""The real handler against moto and the loopback Bedrock: how a live answer ended reaches the caller
(`truncated`, `stop_reason`) and its one EMF document (TruncatedAnswers, FilteredAnswers); a cached
answer carries neither metric."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chatbot import chatbot_handler
from tests.conftest import MODELS
from tests.fakes.bedrock_server import Behavior, FakeBedrock
from tests.support import (
    FakeLambdaContext,
    cache_items,
    http_api_event,
    validated_emf,
)

SONNET = MODELS[0]


def _call(body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    response = chatbot_handler.handler(http_api_event(body), FakeLambdaContext())
    return response["statusCode"], json.loads(response["body"])




# Every stop reason ConverseStream documents: (truncated, filtered, cached).
STOP_REASONS = {
    "end_turn": (0, 0, True),
    "stop_sequence": (0, 0, True),
    "tool_use": (0, 0, False),
    "max_tokens": (1, 0, False),
    "model_context_window_exceeded": (1, 0, False),
    "guardrail_intervened": (0, 1, False),
    "content_filtered": (0, 1, False),
}


@pytest.mark.parametrize(("stop_reason", "expected"), STOP_REASONS.items(), ids=list(STOP_REASONS))
def test_given_each_bedrock_stop_reason_when_chatting_then_the_answer_and_its_one_document_say_how_it_ended(
    stack: FakeBedrock, cache_table: Any, capsys: pytest.CaptureFixture[str], stop_reason: str,
    expected: tuple[int, int, bool],
) -> None:  # fmt: skip
    truncated, filtered, cached = expected
    stack.script(SONNET, Behavior(text="An answer that ended somehow.", stop_reason=stop_reason))

    status, body = _call({"message": f"how does {stop_reason} end?"})

    assert status == 200
    assert (body["stop_reason"], body["truncated"]) == (stop_reason, False)  # finished before the deadline
    (doc,) = validated_emf(capsys.readouterr().out)
    assert (doc["TruncatedAnswers"], doc["FilteredAnswers"]) == ([truncated], [filtered])
    assert doc["StopReason"] == stop_reason
    assert len(cache_items(cache_table)) == int(cached)


def test_given_an_answer_cut_by_max_tokens_when_chatting_then_truncated_counted_and_not_cached(
    stack: FakeBedrock, cache_table: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    status, body = _call({"message": "a long essay please", "max_tokens": 5})

    assert status == 200
    assert (body["truncated"], body["stop_reason"]) == (False, "max_tokens")  # cut by the cap, in time
    (doc,) = validated_emf(capsys.readouterr().out)
    assert (doc["TruncatedAnswers"], doc["FilteredAnswers"]) == ([1], [0])
    assert cache_items(cache_table) == []


@pytest.mark.parametrize("stop_reason", ["guardrail_intervened", "content_filtered"])
def test_given_a_filtered_answer_when_chatting_then_filtered_counted_and_not_cached(
    stack: FakeBedrock, cache_table: Any, capsys: pytest.CaptureFixture[str], stop_reason: str
) -> None:
    stack.script(SONNET, Behavior(text="Sorry, I can't help with that.", stop_reason=stop_reason))

    status, body = _call({"message": "something a guardrail blocks"})

    assert status == 200
    assert (body["truncated"], body["stop_reason"]) == (False, stop_reason)
    (doc,) = validated_emf(capsys.readouterr().out)
    assert (doc["TruncatedAnswers"], doc["FilteredAnswers"]) == ([0], [1])
    assert cache_items(cache_table) == []


def test_given_a_complete_answer_then_its_cached_copy_when_chatting_then_only_the_live_one_counts(
    stack: FakeBedrock, cache_table: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    live = _call({"message": "what is EMF?"})[1]
    cached = _call({"message": "what is EMF?"})[1]

    assert (live["cached"], live["truncated"], live["stop_reason"]) == (False, False, "end_turn")
    assert (cached["cached"], cached["truncated"], cached["stop_reason"]) == (True, False, "end_turn")
    first, second = validated_emf(capsys.readouterr().out)
    assert (first["TruncatedAnswers"], first["FilteredAnswers"]) == ([0], [0])
    assert "TruncatedAnswers" not in second
    assert "FilteredAnswers" not in second
