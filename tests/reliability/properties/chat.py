"""The chat handler's properties: near-valid bodies against an independent oracle, raw bodies, arbitrary
and mutated events, and whatever the model and the cache do."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from tests.reliability.properties.chat_doubles import chat_models, current
from tests.reliability.properties.core import Property

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)


def valid_body(body: Any) -> bool:
    """The contract's rules, written independently of the implementation (the oracle)."""
    models = chat_models()
    if not isinstance(body, dict) or set(body) - {"message", "model_id", "system", "max_tokens", "use_cache"}:
        return False
    message = body.get("message")
    if not isinstance(message, str) or not 1 <= len(message.strip()) <= 8000:
        return False
    model = body.get("model_id")
    if model is not None and (not isinstance(model, str) or model.strip() not in models):
        return False
    if body.get("system") is not None and not isinstance(body["system"], str):
        return False
    tokens = body.get("max_tokens")
    if tokens is not None and (type(tokens) is not int or not 1 <= tokens <= 4096):
        return False
    return "use_cache" not in body or type(body["use_cache"]) is bool


def _near_valid_bodies() -> st.SearchStrategy[dict[str, Any]]:
    models = chat_models()
    messages = st.text(min_size=1, max_size=60) | st.sampled_from(
        ["x" * 8000, "x" * 8001, "  " + "y" * 8000 + "\n", "\u00e9" * 8000, "\t", "\u3000ok"]
    )
    mostly_valid = st.fixed_dictionaries(
        {"message": messages},
        optional={
            "model_id": st.sampled_from([*models, f" {models[2]} ", models[0].upper()]),
            "system": st.text(max_size=20) | st.none(),
            "max_tokens": st.integers(0, 4097) | st.none(),
            "use_cache": st.booleans(),
        },
    )
    return mostly_valid | st.fixed_dictionaries(
        {},
        optional={
            "message": st.text(max_size=60) | json_values,
            "model_id": st.sampled_from([*models, " " + models[1], "amazon.titan", ""]) | json_values,
            "system": st.text(max_size=20) | st.none() | st.integers(),
            "max_tokens": st.integers(-5, 5000)
            | st.floats()
            | st.booleans()
            | st.text(max_size=4)
            | st.none(),
            "use_cache": st.booleans() | st.integers(0, 1) | st.none() | st.text(max_size=3),
            "extra": json_values,
        },
    )


def check_chat_body(body: dict[str, Any]) -> str:
    """Status 200 iff the body is valid; an invalid one never reaches the model nor the metrics."""
    from tests.support import http_api_event

    harness = current()
    harness.model.behaviour = {"kind": "answer", "chunks": ["fine"], "stop": "end_turn",
                               "usage": {"inputTokens": 3, "outputTokens": 1}}  # fmt: skip
    calls, records = harness.model.calls, len(harness.records)
    status, _, documents = harness.answer(http_api_event(body))
    valid = valid_body(body)
    assert (status == 200) == valid, (status, body)
    if not valid:
        assert harness.model.calls == calls and len(harness.records) == records and documents == []
    else:
        assert len(harness.records) == records + 1 and len(documents) == 1
    return str(status)


def _raw_bodies() -> st.SearchStrategy[tuple[str, bool]]:
    text = st.text(max_size=300) | st.binary(max_size=200).map(lambda b: b.decode("latin-1"))
    return st.tuples(text, st.booleans())


def check_chat_raw(payload: tuple[str, bool]) -> str:
    from tests.support import http_api_event

    raw, b64 = payload
    harness = current()
    calls = harness.model.calls
    event = http_api_event(raw if raw else None)
    event["isBase64Encoded"] = b64
    status, _, documents = harness.answer(event)
    if status != 200:
        assert harness.model.calls == calls and documents == []
    return str(status)


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


def _events() -> st.SearchStrategy[tuple[list[tuple[list[str], Any]], Any, bool]]:
    return st.tuples(
        st.lists(st.tuples(st.sampled_from(EVENT_PATHS), json_values), max_size=3),
        st.none() | json_values,
        st.booleans(),
    )


def check_chat_event(payload: tuple[list[tuple[list[str], Any]], Any, bool]) -> str:
    from tests.support import http_api_event

    mutations, whole, use_whole = payload
    harness = current()
    calls = harness.model.calls
    event: Any = whole if use_whole else http_api_event({"message": "hi"})
    if not use_whole:
        for path, value in mutations:
            event = _mutate(event, path, value)
    status, _, documents = harness.answer(event)
    if status != 200:
        assert harness.model.calls == calls and documents == []
    return str(status)


def _model_behaviours() -> st.SearchStrategy[dict[str, Any]]:
    usage = st.fixed_dictionaries(
        {},
        optional={
            "inputTokens": st.integers(0, 10**7),
            "outputTokens": st.integers(0, 10**7),
            "cacheReadInputTokens": st.integers(0, 10**6),
        },
    )
    return st.fixed_dictionaries(
        {
            "kind": st.sampled_from(
                ["answer", "answer", "throttle", "client_error", "stream_error", "dropped", "cut_short"]
            ),
            "chunks": st.lists(st.text(min_size=1, max_size=8), max_size=5),
            "fail_at": st.integers(0, 5),
            "stop": st.sampled_from(
                ["end_turn", "stop_sequence", "max_tokens", "content_filtered", "guardrail_intervened"]
            ),
            "usage": usage,
            "read_fails": st.booleans(),
            "write_fails": st.booleans(),
            "use_cache": st.booleans(),
            "message": st.text(min_size=1, max_size=40).filter(lambda m: m.strip()),
            "model": st.sampled_from(chat_models()),
        }
    )


def check_chat_model(b: dict[str, Any]) -> str:
    """Whatever the model and the cache do: the status the contract says, one EMF document with the right
    numbers, and nothing cached from a failed or incomplete answer."""
    from tests.support import http_api_event

    harness = current()
    harness.cache.items.clear()
    harness.cache.read_fails, harness.cache.write_fails = b["read_fails"], b["write_fails"]
    harness.model.behaviour = b
    records = len(harness.records)
    request = {"message": b["message"], "model_id": b["model"], "use_cache": b["use_cache"]}
    status, body, documents = harness.answer(http_api_event(request))
    fails_early = b["kind"] == "stream_error" and b["fail_at"] < len(b["chunks"])
    drops = b["kind"] == "dropped" and b["fail_at"] < len(b["chunks"])
    if b["kind"] == "throttle":
        expected = 429
    elif b["kind"] in ("client_error", "cut_short", "stream_error", "dropped") or fails_early or drops:
        expected = 502
    else:
        expected = 200
    assert status == expected, (status, body, b)
    assert len(harness.records) == records + 1 and len(documents) == 1, "one EMF document per request"
    (document,) = documents
    cache_trouble = b["use_cache"] and (b["read_fails"] or (expected == 200 and b["write_fails"]
                                        and b["stop"] in ("end_turn", "stop_sequence")))  # fmt: skip
    assert document.get("CacheErrors") == ([1] if cache_trouble else None), (document, b)
    if expected != 200:
        assert document["ModelErrors"] == [1] and "InputTokens" not in document
        assert harness.cache.items == {}, "nothing cached from a failed answer"
        return str(status)
    usage = b["usage"]
    assert body["usage"]["input_tokens"] == usage.get("inputTokens", 0) == document["InputTokens"][0]
    assert body["usage"]["output_tokens"] == usage.get("outputTokens", 0) == document["OutputTokens"][0]
    assert body["answer"] == "".join(b["chunks"])
    complete = b["stop"] in ("end_turn", "stop_sequence")
    cached = b["use_cache"] and complete and not b["write_fails"]
    assert len(harness.cache.items) == int(cached), "only a complete answer is cached"
    return "200 cached" if cached else "200"


def chat_properties() -> list[Property]:
    return [
        Property("chatbot", "near-valid bodies (independent oracle)", _near_valid_bodies(), check_chat_body),
        Property("chatbot", "raw bodies", _raw_bodies(), check_chat_raw),
        Property("chatbot", "arbitrary and mutated events", _events(), check_chat_event),
        Property("chatbot", "model and cache behaviours", _model_behaviours(), check_chat_model),
    ]
