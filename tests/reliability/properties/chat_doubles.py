"""The chat handler's property harness: the real handler, resolver, validation, service and EMF
publisher, with an in-memory model (a converse_stream playing a drawn behaviour) and cache."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

STATUSES = {200, 400, 404, 413, 429, 502}


class ChatModel:
    """A converse_stream that plays a drawn behaviour: answer, throttling, a client error before the
    stream, an error event or a dropped connection after some chunks, or a stream cut short."""

    def __init__(self) -> None:
        self.behaviour: dict[str, Any] = {"kind": "answer", "chunks": ["fine"], "stop": "end_turn",
                                          "usage": {"inputTokens": 3, "outputTokens": 1}}  # fmt: skip
        self.calls = 0

    def converse_stream(self, **request: Any) -> dict[str, Any]:
        from botocore.exceptions import ClientError

        self.calls += 1
        b = self.behaviour
        if b["kind"] in ("throttle", "client_error"):
            code = "ThrottlingException" if b["kind"] == "throttle" else "ValidationException"
            raise ClientError({"Error": {"Code": code, "Message": "drawn"}}, "ConverseStream")
        return {"stream": self._events(b)}

    @staticmethod
    def _events(b: dict[str, Any]) -> Iterator[dict[str, Any]]:
        from botocore.exceptions import EventStreamError, ReadTimeoutError

        yield {"messageStart": {"role": "assistant"}}
        for index, chunk in enumerate(b["chunks"]):
            if b["kind"] == "stream_error" and index == b["fail_at"]:
                raise EventStreamError(
                    {"Error": {"Code": "modelStreamErrorException", "Message": "drawn"}}, "ConverseStream"
                )
            if b["kind"] == "dropped" and index == b["fail_at"]:
                raise ReadTimeoutError(endpoint_url="http://bedrock.invalid")
            yield {"contentBlockDelta": {"delta": {"text": chunk}, "contentBlockIndex": 0}}
        if b["kind"] in ("stream_error", "dropped"):
            raise EventStreamError({"Error": {"Code": "internalServerException", "Message": "late"}}, "x")
        if b["kind"] == "cut_short":
            return
        yield {"messageStop": {"stopReason": b["stop"]}}
        yield {"metadata": {"usage": b["usage"]}}


class ChatCache:
    def __init__(self) -> None:
        self.items: dict[str, Any] = {}
        self.read_fails = self.write_fails = False

    def get(self, key: str) -> Any:
        from chatbot.cache import CacheUnavailable

        if self.read_fails:
            raise CacheUnavailable("drawn")
        return self.items.get(key)

    def put(self, key: str, model_id: str, answer: Any) -> None:
        from chatbot.cache import CacheUnavailable

        if self.write_fails:
            raise CacheUnavailable("drawn")
        self.items[key] = answer


class ChatHarness:
    """The real handler, resolver, validation, service and EMF publisher; in-memory model and cache."""

    def __init__(self) -> None:
        self.model = ChatModel()
        self.cache = ChatCache()
        self.records: list[Any] = []

    def answer(self, event: Any) -> tuple[int, dict[str, Any], list[dict[str, Any]]]:
        """(status, body, EMF documents printed) for one invocation; checks the response's shape."""
        from chatbot import chatbot_handler
        from tests.reliability.lab import captured_output
        from tests.support import FakeLambdaContext, emf_documents, validate_emf

        with captured_output() as out:
            response = chatbot_handler.handler(event, FakeLambdaContext())
        assert isinstance(response, dict) and response["statusCode"] in STATUSES, response
        assert response["headers"]["Content-Type"] == "application/json"
        body = json.loads(response["body"])
        assert isinstance(body, dict)
        if response["statusCode"] == 200:
            assert set(body) == {"answer", "model_id", "cached", "stop_reason", "truncated", "usage",
                                 "latency_ms", "request_id"}  # fmt: skip
        else:
            assert set(body) == {"error", "message"} and isinstance(body["message"], str) and body["message"]
            assert body["error"] != "internal_error", f"an unexpected exception was answered: {body}"
        documents = emf_documents(out.getvalue())
        for document in documents:
            validate_emf(document)
        return response["statusCode"], body, documents


_harness: list[ChatHarness] = []


@contextmanager
def chat_harness() -> Iterator[ChatHarness]:
    """The chatbot's contract environment and in-memory dependencies, undone on exit."""
    import pytest

    from chatbot import chatbot_handler
    from chatbot.service import Dependencies
    from chatbot.settings import get_settings
    from chatbot.token_metrics import publish_token_metrics
    from tests.reliability.lab import CHAT_ENV

    harness = ChatHarness()

    def publish(record: Any) -> None:
        harness.records.append(record)
        publish_token_metrics(record)

    with pytest.MonkeyPatch.context() as mp:
        for name, value in CHAT_ENV.items():
            mp.setenv(name, value)
        get_settings.cache_clear()
        deps = Dependencies(
            cache=harness.cache,  # type: ignore[arg-type]
            bedrock=lambda: harness.model,
            publish=publish,
            prices=get_settings().model_prices,
        )
        mp.setattr(chatbot_handler, "dependencies", lambda: deps)
        _harness.append(harness)
        try:
            yield harness
        finally:
            _harness.pop()
            get_settings.cache_clear()


def current() -> ChatHarness:
    assert _harness, "inside chat_harness() only"
    return _harness[-1]


def chat_models() -> tuple[str, ...]:
    from tests.reliability.lab import MODELS

    return MODELS
