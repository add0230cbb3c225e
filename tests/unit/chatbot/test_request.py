"""Request validation: each bad input gets its 4xx with a reason naming the field."""

from __future__ import annotations

import json

import pytest

from chatbot.request import ChatError, parse_body
from chatbot.settings import ChatbotSettings

SETTINGS = ChatbotSettings(
    model_id="model-a",
    allowed_model_ids=("model-a", "model-b"),
    cache_table_name="t",
    max_message_chars=50,
    max_body_bytes=2048,
)


def _error(raw: str | None) -> ChatError:
    with pytest.raises(ChatError) as caught:
        parse_body(raw, SETTINGS)
    return caught.value


def test_given_minimal_body_when_parsed_then_defaults_apply() -> None:
    request = parse_body('{"message": "  hello  "}', SETTINGS)
    assert request.message == "hello"
    assert request.model_id == "model-a"
    assert request.system is None
    assert request.max_tokens is None
    assert request.use_cache is True


def test_given_every_field_when_parsed_then_values_kept() -> None:
    body = {
        "message": "hi",
        "model_id": "model-b",
        "system": " be brief ",
        "max_tokens": 4096,
        "use_cache": False,
    }
    request = parse_body(json.dumps(body), SETTINGS)
    assert (request.model_id, request.system, request.max_tokens, request.use_cache) == (
        "model-b",
        "be brief",
        4096,
        False,
    )


@pytest.mark.parametrize(
    ("raw", "status", "code", "names"),
    [
        (None, 400, "invalid_json", "body"),
        ("", 400, "invalid_json", "body"),
        ("{not json", 400, "invalid_json", "body"),
        ('["message"]', 400, "invalid_request", "body"),
        ('"just a string"', 400, "invalid_request", "body"),
        ("{}", 400, "invalid_request", "message"),
        ('{"message": "   "}', 400, "invalid_request", "message"),
        ('{"message": 42}', 400, "invalid_request", "message"),
        ('{"message": "' + "x" * 51 + '"}', 400, "invalid_request", "message"),
        ('{"message": "hi", "model_id": "model-z"}', 400, "invalid_request", "model_id"),
        ('{"message": "hi", "model_id": 7}', 400, "invalid_request", "model_id"),
        ('{"message": "hi", "max_tokens": 0}', 400, "invalid_request", "max_tokens"),
        ('{"message": "hi", "max_tokens": 4097}', 400, "invalid_request", "max_tokens"),
        ('{"message": "hi", "max_tokens": "5"}', 400, "invalid_request", "max_tokens"),
        ('{"message": "hi", "max_tokens": 5.5}', 400, "invalid_request", "max_tokens"),
        ('{"message": "hi", "max_tokens": true}', 400, "invalid_request", "max_tokens"),
        ('{"message": "hi", "use_cache": "yes"}', 400, "invalid_request", "use_cache"),
        ('{"message": "hi", "use_cache": 1}', 400, "invalid_request", "use_cache"),
        ('{"message": "hi", "system": ["a"]}', 400, "invalid_request", "system"),
        ('{"message": "hi", "max_token": 5}', 400, "invalid_request", "max_token"),
        ("[" * 1020 + "]" * 1020, 400, "invalid_json", "body"),  # nesting past the recursion limit
    ],
)
def test_given_bad_body_when_parsed_then_4xx_names_the_field(
    raw: str | None, status: int, code: str, names: str
) -> None:
    error = _error(raw)
    assert (error.status, error.code) == (status, code)
    assert error.message.startswith(names), error.message


def test_given_body_over_byte_limit_when_parsed_then_413() -> None:
    error = _error(json.dumps({"message": "é" * 1500}))  # 1500 chars, 3000+ bytes
    assert (error.status, error.code) == (413, "payload_too_large")


def test_given_message_at_exact_limit_after_trim_when_parsed_then_accepted() -> None:
    assert len(parse_body(json.dumps({"message": " " + "x" * 50 + "\n"}), SETTINGS).message) == 50


def test_given_raw_utf8_body_under_the_limit_in_characters_but_over_in_bytes_when_parsed_then_413() -> None:
    # ensure_ascii=False keeps "é" as 2 UTF-8 bytes: 1100 characters of body, 2200+ bytes (limit 2048).
    raw = json.dumps({"message": "hi", "system": "é" * 1080}, ensure_ascii=False)
    assert len(raw) <= SETTINGS.max_body_bytes < len(raw.encode("utf-8"))
    error = _error(raw)
    assert (error.status, error.code) == (413, "payload_too_large")
    assert str(len(raw.encode("utf-8"))) in error.message


def test_given_body_of_exactly_the_byte_limit_when_parsed_then_accepted_and_one_byte_more_413() -> None:
    settings = ChatbotSettings(
        model_id="model-a", allowed_model_ids=("model-a",), cache_table_name="t", max_body_bytes=40
    )
    at_limit = json.dumps({"message": "x" * 25})
    assert len(at_limit.encode("utf-8")) == 40
    assert parse_body(at_limit, settings).message == "x" * 25
    with pytest.raises(ChatError) as caught:
        parse_body(json.dumps({"message": "x" * 26}), settings)
    assert (caught.value.status, caught.value.code) == (413, "payload_too_large")
