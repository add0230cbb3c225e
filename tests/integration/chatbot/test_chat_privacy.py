"""No chat message, system prompt or answer text reaches traces or logs (contract).

The handler runs with its real Tracer, whose provider is swapped for one that records everything the
Tracer hands it (annotations, metadata, and, as the X-Ray SDK's subsegment context manager does, any
exception leaving a subsegment); its Logger writes at DEBUG into a buffer; stdout and stderr are captured.
Distinctive markers in the message, the system prompt, the model's answer and an unexpected error's
text must appear in none of them.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aws_lambda_powertools.tracing.base import BaseProvider, BaseSegment

from chatbot import chatbot_handler, service
from tests.conftest import MODELS
from tests.fakes.bedrock_server import CORRUPT, STREAM_ERROR, Behavior, FakeBedrock
from tests.support import FakeLambdaContext, http_api_event

MESSAGE = "zq-MESSAGE-7f3a1"
SYSTEM = "zq-SYSTEM-91be4"
ANSWER = "zq-ANSWER-c05d2"
FAILURE = "zq-FAILURE-44e0b"
MARKERS = (MESSAGE, SYSTEM, ANSWER, FAILURE)


@dataclass
class RecordedSegment(BaseSegment):
    name: str
    records: list[Any]

    def close(self, end_time: int | None = None) -> None:
        self.records.append(("close", self.name))

    def add_subsegment(self, subsegment: Any) -> None:
        self.records.append(("add_subsegment", repr(subsegment)))

    def remove_subsegment(self, subsegment: Any) -> None:
        self.records.append(("remove_subsegment", repr(subsegment)))

    def put_annotation(self, key: str, value: Any) -> None:
        self.records.append(("annotation", self.name, key, value))

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        self.records.append(("metadata", self.name, namespace, key, value))

    def add_exception(self, exception: BaseException, stack: Any, remote: bool = False) -> None:
        self.records.append(("exception", self.name, type(exception).__name__, str(exception), stack))


@dataclass
class RecordingProvider(BaseProvider):
    records: list[Any] = field(default_factory=list)

    @contextlib.contextmanager
    def in_subsegment(self, name: str | None = None, **kwargs: Any) -> Iterator[BaseSegment]:
        segment = RecordedSegment(name or "", self.records)
        try:
            yield segment
        except BaseException as exc:  # the X-Ray SDK records an escaping exception with its message
            segment.add_exception(exc, traceback.extract_tb(exc.__traceback__))
            raise
        finally:
            segment.close()

    def in_subsegment_async(self, name: str | None = None, **kwargs: Any) -> Any:
        raise NotImplementedError

    def put_annotation(self, key: str, value: Any) -> None:
        self.records.append(("annotation", "current", key, value))

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        self.records.append(("metadata", "current", namespace, key, value))

    def patch(self, modules: Any) -> None:
        pass

    def patch_all(self) -> None:
        pass

    def text(self) -> str:
        return json.dumps(self.records, default=repr)


@dataclass
class Observed:
    tracer: RecordingProvider
    logs: io.StringIO
    root_logs: list[logging.LogRecord]


@pytest.fixture
def observed(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, stack: FakeBedrock
) -> Iterator[Observed]:
    provider = RecordingProvider()
    monkeypatch.setattr(chatbot_handler.tracer, "provider", provider)
    monkeypatch.setattr(chatbot_handler.tracer, "disabled", False)
    buffer = io.StringIO()
    handler = chatbot_handler.logger.registered_handler
    monkeypatch.setattr(handler, "stream", buffer)
    level = chatbot_handler.logger.log_level
    chatbot_handler.logger.setLevel("DEBUG")
    caplog.set_level(logging.DEBUG)
    try:
        yield Observed(provider, buffer, caplog.records)
    finally:
        chatbot_handler.logger.setLevel(level)


def _chat(body: dict[str, Any]) -> dict[str, Any]:
    response = chatbot_handler.handler(http_api_event(body), FakeLambdaContext())
    return {"status": response["statusCode"], **json.loads(response["body"])}


def _assert_private(observed: Observed, capfd: pytest.CaptureFixture[str]) -> None:
    out, err = capfd.readouterr()
    places = {
        "traces": observed.tracer.text(),
        "logger": observed.logs.getvalue(),
        "log records": "\n".join(f"{r.getMessage()} {r.__dict__}" for r in observed.root_logs),
        "stdout": out,
        "stderr": err,
    }
    assert observed.tracer.records, "the recording provider saw nothing: the test would prove nothing"
    assert observed.logs.getvalue(), "the logger wrote nothing: the test would prove nothing"
    for where, text in places.items():
        for marker in MARKERS:
            assert marker not in text, f"{marker} reached the {where}"


def test_given_live_and_cached_answers_when_chatting_then_no_text_in_traces_or_logs(
    observed: Observed, stack: FakeBedrock, capfd: pytest.CaptureFixture[str]
) -> None:
    stack.script(MODELS[0], Behavior(text=f"Here it is: {ANSWER}."))
    body = {"message": f"Tell me {MESSAGE}", "system": f"You are {SYSTEM}"}
    live, cached = _chat(body), _chat(body)
    assert (live["status"], cached["status"], cached["cached"]) == (200, 200, True)
    assert ANSWER in live["answer"] and ANSWER in cached["answer"]  # the answer does go to the caller
    _assert_private(observed, capfd)


@pytest.mark.parametrize("kind", [STREAM_ERROR, CORRUPT])
def test_given_model_failure_mid_answer_when_chatting_then_no_text_in_traces_or_logs(
    observed: Observed, stack: FakeBedrock, capfd: pytest.CaptureFixture[str], kind: str
) -> None:
    stack.script(MODELS[0], Behavior(kind=kind, text=f"{ANSWER} " * 20, chunk_chars=8))
    assert _chat({"message": f"Tell me {MESSAGE}", "system": f"You are {SYSTEM}"})["status"] == 502
    _assert_private(observed, capfd)


def test_given_unexpected_error_quoting_the_request_when_chatting_then_no_text_in_traces_or_logs(
    observed: Observed, stack: FakeBedrock, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: Any) -> float:
        raise ValueError(f"cannot price {FAILURE} for {MESSAGE}")

    monkeypatch.setattr(service, "estimated_cost", broken)
    answer = _chat({"message": f"Tell me {MESSAGE}", "system": f"You are {SYSTEM}"})
    assert (answer["status"], answer["error"]) == (502, "internal_error")
    assert "ValueError" in observed.logs.getvalue()  # the type and the stack are logged, not the text
    _assert_private(observed, capfd)


def test_given_rejected_requests_when_chatting_then_no_text_in_traces_or_logs(
    observed: Observed, stack: FakeBedrock, capfd: pytest.CaptureFixture[str]
) -> None:
    assert _chat({"message": MESSAGE * 1000, "system": SYSTEM})["status"] == 400
    assert _chat({"message": MESSAGE, "system": SYSTEM, "max_tokens": "5"})["status"] == 400
    assert _chat({"message": MESSAGE, "system": SYSTEM * 5000})["status"] == 413
    _assert_private(observed, capfd)
