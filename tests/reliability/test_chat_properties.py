"""Property-based: whatever arrives, the chat handler answers well-formed JSON and never crashes.

The real handler, resolver and validation run; the cache and Bedrock are in-memory fakes (speed: 1000+
examples per property), counting model calls so an invalid request provably never reaches the model.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chatbot import chatbot_handler
from chatbot.service import Dependencies
from chatbot.settings import get_settings
from tests.conftest import MODELS
from tests.fakes.chat_fakes import MemoryCache, ScriptedBedrock
from tests.support import FakeLambdaContext, http_api_event

EXAMPLES = settings(
    max_examples=1000,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
STATUSES = {200, 400, 404, 413, 429, 502}
EVENTS = [
    {"messageStart": {"role": "assistant"}},
    {"contentBlockDelta": {"delta": {"text": "fine"}, "contentBlockIndex": 0}},
    {"messageStop": {"stopReason": "end_turn"}},
    {"metadata": {"usage": {"inputTokens": 3, "outputTokens": 1, "totalTokens": 4}}},
]


@pytest.fixture
def fake_model(chat_env: None) -> Iterator[ScriptedBedrock]:
    bedrock = ScriptedBedrock(EVENTS)
    deps = Dependencies(cache=MemoryCache(), bedrock=lambda: bedrock, publish=lambda record: None, prices={})  # type: ignore[arg-type]
    original = chatbot_handler.dependencies
    chatbot_handler.dependencies = lambda: deps  # type: ignore[assignment]
    yield bedrock
    chatbot_handler.dependencies = original  # type: ignore[assignment]


def _answer(event: Any) -> tuple[int, dict[str, Any]]:
    response = chatbot_handler.handler(event, FakeLambdaContext())
    assert isinstance(response, dict)
    assert response["statusCode"] in STATUSES
    assert response["headers"]["Content-Type"] == "application/json"
    body = json.loads(response["body"])
    assert isinstance(body, dict)
    if response["statusCode"] == 200:
        assert set(body) == {"answer", "model_id", "cached", "usage", "latency_ms", "request_id"}
    else:
        assert set(body) == {"error", "message"}
        assert isinstance(body["message"], str)
        assert body["message"]
    return response["statusCode"], body


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)


def _valid(body: Any) -> bool:
    """The contract's rules, written independently of the implementation (the oracle)."""
    if not isinstance(body, dict) or set(body) - {"message", "model_id", "system", "max_tokens", "use_cache"}:
        return False
    message = body.get("message")
    if not isinstance(message, str) or not 1 <= len(message.strip()) <= 8000:
        return False
    model = body.get("model_id")
    if model is not None and (not isinstance(model, str) or model.strip() not in MODELS):
        return False
    if body.get("system") is not None and not isinstance(body["system"], str):
        return False
    tokens = body.get("max_tokens")
    if tokens is not None and (type(tokens) is not int or not 1 <= tokens <= 4096):
        return False
    return "use_cache" not in body or type(body["use_cache"]) is bool


near_valid_bodies = st.fixed_dictionaries(
    {},
    optional={
        "message": st.text(max_size=60) | json_values,
        "model_id": st.sampled_from([*MODELS, " " + MODELS[1], "amazon.titan", ""]) | json_values,
        "system": st.text(max_size=20) | st.none() | st.integers(),
        "max_tokens": st.integers(-5, 5000) | st.floats() | st.booleans() | st.text(max_size=4) | st.none(),
        "use_cache": st.booleans() | st.integers(0, 1) | st.none() | st.text(max_size=3),
        "extra": json_values,
    },
)


@EXAMPLES
@given(body=near_valid_bodies)
def test_given_any_near_valid_body_when_chatting_then_model_called_iff_valid(
    fake_model: ScriptedBedrock, body: dict[str, Any]
) -> None:
    before = fake_model.calls
    status, _ = _answer(http_api_event(body))
    assert (status == 200) == _valid(body)
    assert fake_model.calls - before <= (1 if _valid(body) else 0)


@EXAMPLES
@given(
    raw=st.text(max_size=300) | st.binary(max_size=200).map(lambda b: b.decode("latin-1")), b64=st.booleans()
)
def test_given_any_raw_body_when_chatting_then_json_answer_and_no_model_call_unless_valid(
    fake_model: ScriptedBedrock, raw: str, b64: bool
) -> None:
    before = fake_model.calls
    event = http_api_event(raw if raw else None)
    event["isBase64Encoded"] = b64
    status, _ = _answer(event)
    if status != 200:
        assert fake_model.calls == before


def _mutate(event: dict[str, Any], path: list[str], value: Any) -> dict[str, Any]:
    target: Any = event
    for key in path[:-1]:
        if not isinstance(target, dict):
            return event
        target = target.setdefault(key, {})
    if isinstance(target, dict):
        target[path[-1]] = value
    return event


EVENT_PATHS = [
    *(["version"], ["routeKey"], ["rawPath"], ["headers"], ["body"], ["isBase64Encoded"], ["cookies"]),
    *(["requestContext"], ["requestContext", "http"], ["requestContext", "http", "method"]),
    *(["requestContext", "http", "path"], ["requestContext", "timeEpoch"], ["requestContext", "requestId"]),
    ["queryStringParameters"],
]


@EXAMPLES
@given(
    mutations=st.lists(st.tuples(st.sampled_from(EVENT_PATHS), json_values), max_size=3),
    whole=st.none() | json_values,
    use_whole=st.booleans(),
)
def test_given_any_event_when_invoked_then_never_raises(
    fake_model: ScriptedBedrock, mutations: list[tuple[list[str], Any]], whole: Any, use_whole: bool
) -> None:
    before = fake_model.calls
    event: Any = whole if use_whole else http_api_event({"message": "hi"})
    if not use_whole:
        for path, value in mutations:
            event = _mutate(event, path, value)
    status, _ = _answer(event)
    if status != 200:
        assert fake_model.calls == before


@pytest.fixture(autouse=True)
def _fresh_settings() -> Iterator[None]:
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
