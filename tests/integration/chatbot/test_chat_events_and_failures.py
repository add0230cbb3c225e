"""The real handler against moto and the loopback Bedrock: events AWS really sends, corrupt stream frames,
unexpected errors (each still one EMF document), latencies measured from the request's arrival, the
cache's expiry and the cached-answer estimate."""

from __future__ import annotations

import copy
import json
import time
from typing import Any

import pytest

from chatbot import chatbot_handler, service
from chatbot.cache import ResponseCache, cache_key
from tests.conftest import MODELS
from tests.fakes.bedrock_server import CORRUPT, QUOTA, Behavior, FakeBedrock
from tests.support import FakeLambdaContext, http_api_event, validated_emf

SONNET = MODELS[0]


def _invoke(event: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    response = chatbot_handler.handler(event, FakeLambdaContext())
    return response["statusCode"], json.loads(response["body"])


def _call(body: Any, **event: Any) -> tuple[int, dict[str, Any]]:
    return _invoke(http_api_event(body, **event))



# --- events AWS really sends -------------------------------------------------------------------------


def _iam_event(body: dict[str, Any], iam: dict[str, Any]) -> dict[str, Any]:
    event = http_api_event(body)
    event["requestContext"]["authorizer"] = {"iam": iam}
    return event


COGNITO_IAM = {  # an identity-pool identity signing with its temporary credentials (AWS's documented shape)
    "accessKey": "ASIA2ZJZYVUEREEIHAKY",
    "accountId": "123456789012",
    "callerId": "AROA7ZJZYVRE7C3DUXHH6:CognitoIdentityCredentials",
    "cognitoIdentity": {
        "amr": ["authenticated", "cognito-identity.amazonaws.com"],
        "identityId": "us-east-1:3f291106-8703-466b-8f2b-3ecee1ca56ce",
        "identityPoolId": "us-east-1:4f291106-8703-466b-8f2b-3ecee1ca56ce",
    },
    "principalOrgId": None,
    "userArn": "arn:aws:sts::123456789012:assumed-role/Cognito_PoolAuth_Role/CognitoIdentityCredentials",
    "userId": "AROA7ZJZYVRE7C3DUXHH6:CognitoIdentityCredentials",
}
USER_IAM = {
    "accessKey": "AKIAIOSFODNN7EXAMPLE",
    "accountId": "123456789012",
    "callerId": "AIDACKCEVSQ6C2EXAMPLE",
    "cognitoIdentity": None,
    "principalOrgId": None,
    "userArn": "arn:aws:iam::123456789012:user/alice",
    "userId": "AIDACKCEVSQ6C2EXAMPLE",
}


@pytest.mark.parametrize("iam", [COGNITO_IAM, USER_IAM], ids=["cognito-identity", "iam-user"])
def test_given_iam_authorized_event_when_invoked_then_answered(
    stack: FakeBedrock, cache_table: Any, iam: dict[str, Any]
) -> None:
    status, body = _invoke(_iam_event({"message": "who am I?"}, iam))
    assert status == 200, body
    assert len(stack.calls) == 1


def test_given_unauthenticated_identity_pool_caller_when_invoked_then_answered(
    stack: FakeBedrock, cache_table: Any
) -> None:
    iam = copy.deepcopy(COGNITO_IAM)
    iam["cognitoIdentity"] = {"amr": ["unauthenticated"], "identityId": None, "identityPoolId": None}
    assert _invoke(_iam_event({"message": "guest"}, iam))[0] == 200


@pytest.mark.parametrize("user_agent", ["absent", "null", "empty"])
def test_given_request_without_user_agent_when_invoked_then_answered(
    stack: FakeBedrock, cache_table: Any, user_agent: str
) -> None:
    event = http_api_event({"message": "curl -A ''"})
    http = event["requestContext"]["http"]
    if user_agent == "absent":
        del http["userAgent"]
    else:
        http["userAgent"] = None if user_agent == "null" else ""
    status, body = _invoke(event)
    assert status == 200, body


# --- failures: each answered request writes exactly one EMF document ------------------------------------


def test_given_corrupt_frame_crc_when_chatting_then_502_model_error_counted(
    stack: FakeBedrock, cache_table: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    stack.script(SONNET, Behavior(kind=CORRUPT, text="partial " * 20, chunk_chars=8))
    status, payload = _call({"message": "corrupt me"})
    assert (status, payload["error"]) == (502, "model_error")
    assert "ChecksumMismatch" in payload["message"]
    assert cache_table.scan(TableName="chat-cache")["Items"] == []
    (doc,) = validated_emf(capsys.readouterr().out)
    assert doc["ModelErrors"] == [1]
    assert doc["ErrorCode"] == "ChecksumMismatch"
    assert doc["ModelId"] == SONNET


def test_given_service_quota_exceeded_when_chatting_then_429_throttled(
    stack: FakeBedrock, cache_table: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    stack.script(SONNET, Behavior(kind=QUOTA), Behavior(kind=QUOTA))
    status, payload = _call({"message": "too many tokens"})
    assert (status, payload["error"]) == (429, "throttled")
    (doc,) = validated_emf(capsys.readouterr().out)
    assert doc["ErrorCode"] == "ServiceQuotaExceededException"


def test_given_unexpected_error_inside_the_service_when_chatting_then_502_and_one_emf_document(
    stack: FakeBedrock, cache_table: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: Any) -> float:
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(service, "estimated_cost", broken)
    status, payload = _call({"message": "trip the bug", "model_id": MODELS[1]})
    assert (status, payload["error"]) == (502, "internal_error")
    (doc,) = validated_emf(capsys.readouterr().out)
    assert doc["ModelErrors"] == [1]
    assert (doc["ErrorCode"], doc["ModelId"]) == ("ZeroDivisionError", MODELS[1])
    assert doc["request_id"]


def test_given_unexpected_error_after_the_metrics_were_written_when_chatting_then_still_one_document(
    stack: FakeBedrock, cache_table: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: Any) -> dict[str, Any]:
        raise KeyError("answer")

    monkeypatch.setattr(service.ChatAnswer, "to_json", broken)
    status, payload = _call({"message": "fail late"})
    assert (status, payload["error"]) == (502, "internal_error")
    (doc,) = validated_emf(capsys.readouterr().out)
    assert doc["InputTokens"][0] > 0
    assert "ModelErrors" not in doc


def test_given_broken_configuration_when_chatting_then_502_and_one_emf_document(
    stack: FakeBedrock, cache_table: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MODEL_PRICES", "{not json")
    status, payload = _call({"message": "misconfigured"})
    assert (status, payload["error"]) == (502, "internal_error")
    (doc,) = validated_emf(capsys.readouterr().out)
    assert (doc["ModelErrors"], doc["ErrorCode"], doc["ModelId"]) == ([1], "ConfigurationError", SONNET)


# --- latencies from the request's arrival --------------------------------------------------------------


def test_given_request_that_arrived_earlier_when_answered_then_latencies_count_from_arrival(
    stack: FakeBedrock, cache_table: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    arrived = int(time.time() * 1000) - 1500  # a cold start: API Gateway got it 1.5 s ago
    status, body = _call({"message": "cold start"}, time_epoch_ms=arrived)
    assert status == 200
    (doc,) = validated_emf(capsys.readouterr().out)
    assert doc["LatencyFrom"] == "arrival"
    assert doc["ResponseLatency"][0] >= 1500
    assert doc["TimeToFirstToken"][0] >= 1500
    assert body["latency_ms"] >= 1500
    assert doc["_aws"]["Timestamp"] == arrived


@pytest.mark.parametrize("age_ms", [10 * 60_000, -60_000], ids=["ten-minutes-old", "a-minute-ahead"])
def test_given_implausible_arrival_when_answered_then_latencies_count_from_the_handler(
    stack: FakeBedrock, cache_table: Any, capsys: pytest.CaptureFixture[str], age_ms: int
) -> None:
    _call({"message": "replayed"}, time_epoch_ms=int(time.time() * 1000) - age_ms)
    (doc,) = validated_emf(capsys.readouterr().out)
    assert doc["LatencyFrom"] == "handler"
    assert 0 < doc["ResponseLatency"][0] < 60_000  # not from the bogus arrival


def test_given_cache_hit_when_answered_then_latency_from_arrival_too(
    stack: FakeBedrock, cache_table: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    _call({"message": "again"})
    _call({"message": "again"}, time_epoch_ms=int(time.time() * 1000) - 700)
    _, hit = validated_emf(capsys.readouterr().out)
    assert (hit["Cached"], hit["LatencyFrom"]) == (True, "arrival")
    assert hit["ResponseLatency"][0] >= 700


# --- the cache's expiry and the cached-answer estimate ----------------------------------------------


def test_given_item_at_exactly_its_ttl_when_read_then_miss_and_a_second_before_hit(cache_table: Any) -> None:
    now = [1_000_000.0]
    cache = ResponseCache("chat-cache", 3600, lambda: cache_table, now=lambda: now[0])
    cache.put("k", SONNET, service.CachedAnswer("stored", "end_turn"))
    now[0] += 3599
    assert cache.get("k") is not None
    now[0] += 1  # expires_at == now: expired
    assert cache.get("k") is None


def test_given_cache_hit_with_system_prompt_when_answered_then_input_estimate_counts_system_and_message(
    stack: FakeBedrock, cache_table: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    system, message = "Answer as a pirate, briefly.", "Where is the treasure?"  # 28 + 22 = 50 characters
    key = cache_key(SONNET, system, message, None)
    ResponseCache("chat-cache", 3600, lambda: cache_table).put(
        key, SONNET, service.CachedAnswer("Arr. ", "end_turn")
    )
    status, body = _call({"message": message, "system": system})
    assert (status, body["cached"]) == (200, True)
    assert body["usage"] == {"input_tokens": 13, "output_tokens": 2, "total_tokens": 15, "estimated": True}
    (doc,) = validated_emf(capsys.readouterr().out)
    assert (doc["InputTokens"], doc["OutputTokens"]) == ([13], [2])
    assert stack.calls == []
