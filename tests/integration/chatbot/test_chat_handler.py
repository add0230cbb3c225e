"""The real handler, botocore and DynamoDB client against moto's server and the loopback Bedrock."""

from __future__ import annotations

import json
import math
import time
from typing import Any

import pytest

from chatbot import chatbot_handler
from chatbot.tokens import estimate_tokens
from tests.conftest import MODELS
from tests.fakes.bedrock_server import DROP, STREAM_ERROR, THROTTLE, Behavior, FakeBedrock
from tests.support import (
    FakeLambdaContext,
    cache_items,
    http_api_event,
    validated_emf,
)

SONNET, HAIKU, NOVA = MODELS


def _call(body: Any, **event: Any) -> tuple[int, dict[str, Any]]:
    response = chatbot_handler.handler(http_api_event(body, **event), FakeLambdaContext())
    assert response["headers"]["Content-Type"] == "application/json"
    return response["statusCode"], json.loads(response["body"])




def test_given_live_answer_when_chatting_then_metrics_equal_stream_usage(
    stack: FakeBedrock, cache_table: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    stack.script(SONNET, Behavior(input_tokens=321, output_tokens=54, cache_read_input_tokens=200,
                                  cache_write_input_tokens=12, first_token_delay=0.05))  # fmt: skip
    status, body = _call({"message": "Explain EMF in one line", "system": "be brief", "max_tokens": 300})
    assert status == 200
    assert body["usage"] == {
        "input_tokens": 321,
        "output_tokens": 54,
        "total_tokens": 375,
        "estimated": False,
    }
    assert body["cached"] is False
    assert body["model_id"] == SONNET
    (doc,) = validated_emf(capsys.readouterr().out)
    assert (doc["InputTokens"], doc["OutputTokens"], doc["TotalTokens"]) == ([321], [54], [375])
    assert (doc["CacheReadInputTokens"], doc["CacheWriteInputTokens"]) == ([200], [12])
    assert doc["CachedResponses"] == [0]
    assert doc["EstimatedCost"] == [pytest.approx((321 * 0.003 + 54 * 0.015) / 1000)]
    assert doc["TimeToFirstToken"][0] >= 50
    assert doc["ResponseLatency"][0] >= doc["TimeToFirstToken"][0]
    assert doc["request_id"] == body["request_id"]
    call = stack.calls[0]
    assert call.body["system"] == [{"text": "be brief"}]
    assert call.body["inferenceConfig"] == {"maxTokens": 300}
    assert len(cache_items(cache_table)) == 1


def test_given_repeat_when_chatting_then_cache_hit_without_model_call(
    stack: FakeBedrock, cache_table: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    _, first = _call({"message": "What is a cache?", "model_id": HAIKU})
    status, second = _call({"message": "  What is a cache?  ", "model_id": HAIKU})
    assert status == 200
    assert len(stack.calls) == 1
    assert second["cached"] is True
    assert second["answer"] == first["answer"]
    expected_in, expected_out = estimate_tokens("What is a cache?"), estimate_tokens(first["answer"])
    assert second["usage"] == {"input_tokens": expected_in, "output_tokens": expected_out,
                               "total_tokens": expected_in + expected_out, "estimated": True}  # fmt: skip
    live, hit = validated_emf(capsys.readouterr().out)
    assert hit["CachedResponses"] == [1]
    assert "EstimatedCost" not in hit
    assert "TimeToFirstToken" not in hit
    assert hit["Cached"] is True
    assert live["EstimatedCost"][0] > 0


def test_given_use_cache_false_when_chatting_then_model_every_time_and_nothing_stored(
    stack: FakeBedrock, cache_table: Any
) -> None:
    for _ in range(2):
        status, body = _call({"message": "fresh please", "use_cache": False})
        assert (status, body["cached"]) == (200, False)
    assert len(stack.calls) == 2
    assert cache_items(cache_table) == []


def test_given_unpriced_model_when_chatting_then_no_estimated_cost(
    stack: FakeBedrock, cache_table: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _call({"message": "hello", "model_id": NOVA})[0] == 200
    (doc,) = validated_emf(capsys.readouterr().out)
    assert "EstimatedCost" not in doc
    assert doc["ModelId"] == NOVA


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ("not json", 400, "body"),
        ([{"message": "hi"}], 400, "body"),
        ({}, 400, "message"),
        ({"message": " \n\t "}, 400, "message"),
        ({"message": "x" * 8001}, 400, "message"),
        ({"message": "hi", "model_id": "anthropic.claude-v2"}, 400, "model_id"),
        ({"message": "hi", "max_tokens": 0}, 400, "max_tokens"),
        ({"message": "hi", "max_tokens": 5000}, 400, "max_tokens"),
        ({"message": "hi", "max_tokens": "100"}, 400, "max_tokens"),
        ({"message": "hi", "max_tokens": 10.5}, 400, "max_tokens"),
        ({"message": "x", "system": "y" * 70000}, 413, "body"),
    ],
)
def test_given_bad_input_when_chatting_then_4xx_and_model_never_called(
    stack: FakeBedrock,
    cache_table: Any,
    capsys: pytest.CaptureFixture[str],
    body: Any,
    status: int,
    field: str,
) -> None:
    got, payload = _call(body)
    assert got == status
    assert payload["message"].startswith(field)
    assert payload["error"] in {"invalid_json", "invalid_request", "payload_too_large"}
    assert stack.calls == []
    assert validated_emf(capsys.readouterr().out) == []


def test_given_base64_body_when_chatting_then_decoded(stack: FakeBedrock, cache_table: Any) -> None:
    assert _call({"message": "encoded"}, base64_encoded=True)[0] == 200


def test_given_unknown_route_when_called_then_404_json(stack: FakeBedrock, cache_table: Any) -> None:
    status, payload = _call({"message": "hi"}, path="/other")
    assert (status, payload["error"]) == (404, "not_found")


def test_given_throttling_to_the_end_when_chatting_then_429_after_retries_and_nothing_cached(
    stack: FakeBedrock, cache_table: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    stack.script(SONNET, Behavior(kind=THROTTLE), Behavior(kind=THROTTLE))  # BEDROCK_MAX_ATTEMPTS=2
    status, payload = _call({"message": "busy?"})
    assert (status, payload["error"]) == (429, "throttled")
    assert len(stack.calls) == 2  # botocore retried once
    assert cache_items(cache_table) == []
    (doc,) = validated_emf(capsys.readouterr().out)
    assert doc["ModelErrors"] == [1]
    assert doc["ErrorCode"] == "ThrottlingException"
    assert "InputTokens" not in doc


def test_given_one_throttle_when_chatting_then_botocore_retry_answers(
    stack: FakeBedrock, cache_table: Any
) -> None:
    stack.script(SONNET, Behavior(kind=THROTTLE))
    assert _call({"message": "retry me"})[0] == 200
    assert len(stack.calls) == 2


@pytest.mark.parametrize("kind", [STREAM_ERROR, DROP])
def test_given_mid_stream_failure_when_chatting_then_502_and_nothing_cached(
    stack: FakeBedrock, cache_table: Any, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    stack.script(SONNET, Behavior(kind=kind, text="partial " * 20, chunk_chars=8))
    status, payload = _call({"message": "fail midway"})
    assert (status, payload["error"]) == (502, "model_error")
    assert cache_items(cache_table) == []
    (doc,) = validated_emf(capsys.readouterr().out)
    assert doc["ModelErrors"] == [1]
    if kind == STREAM_ERROR:
        assert doc["ErrorCode"] == "modelStreamErrorException"


def test_given_truncated_answer_when_chatting_then_answered_but_not_cached(
    stack: FakeBedrock, cache_table: Any
) -> None:
    status, body = _call({"message": "long please", "max_tokens": 5})
    assert status == 200
    assert len(body["answer"]) <= 20
    assert cache_items(cache_table) == []


def test_given_cache_table_missing_when_chatting_then_200_from_model_and_cache_error_counted(
    aws: Any, bedrock: FakeBedrock, chat_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    status, body = _call({"message": "no table"})
    assert (status, body["cached"]) == (200, False)
    assert len(bedrock.calls) == 1
    (doc,) = validated_emf(capsys.readouterr().out)
    assert doc["CacheErrors"] == [1]
    assert doc["InputTokens"][0] > 0


def test_given_expired_item_when_chatting_then_miss(stack: FakeBedrock, cache_table: Any) -> None:
    _call({"message": "expire me"})
    item = cache_items(cache_table)[0]
    item["expires_at"] = {"N": "1000"}  # long past; DynamoDB has not swept it yet
    cache_table.put_item(TableName="chat-cache", Item=item)
    _, body = _call({"message": "expire me"})
    assert body["cached"] is False
    assert len(stack.calls) == 2


def test_given_ttl_setting_when_cached_then_expiry_is_now_plus_ttl(
    stack: FakeBedrock, cache_table: Any
) -> None:
    _call({"message": "ttl"})
    item = cache_items(cache_table)[0]
    assert math.isclose(int(item["expires_at"]["N"]) - int(item["created_at"]["N"]), 3600)


def test_given_request_time_when_answered_then_emf_stamped_at_arrival(
    stack: FakeBedrock, cache_table: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    arrived = int(time.time() * 1000) - 45 * 60_000  # replayed or long-running: 45 minutes ago
    _call({"message": "when?"}, time_epoch_ms=arrived)
    (doc,) = validated_emf(capsys.readouterr().out)
    assert doc["_aws"]["Timestamp"] == arrived


@pytest.mark.parametrize("epoch", [0, 10**13 * 5, -1])
def test_given_implausible_request_time_when_answered_then_emf_stamped_now(
    stack: FakeBedrock, cache_table: Any, capsys: pytest.CaptureFixture[str], epoch: int
) -> None:
    before = int(time.time() * 1000)
    _call({"message": "when?"}, time_epoch_ms=epoch)
    (doc,) = validated_emf(capsys.readouterr().out)
    assert before <= doc["_aws"]["Timestamp"] <= int(time.time() * 1000)


def test_given_several_requests_when_answered_then_each_client_built_once(
    stack: FakeBedrock, cache_table: Any
) -> None:
    from shared.aws_clients import client

    client.cache_clear()
    for index in range(3):
        assert _call({"message": f"reuse {index}"})[0] == 200
    info = client.cache_info()
    assert info.currsize == 2  # bedrock-runtime and dynamodb, nothing else
    assert info.hits >= 4  # every later lookup reused the container's clients
