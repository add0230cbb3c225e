"""Amazon Bedrock ConverseStream: stream one answer, time it, and take its usage from `metadata`.

Retries of the initial call (throttling, 5xx) are botocore's standard retry mode, configured on the
client and bounded by the request's deadline (chatbot.deadline); nothing here loops. Once the stream has
started, an error event ends the answer: a partial answer is never returned as if it were complete, except
at the deadline, where it is returned as what it is (stop reason `deadline`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from botocore.eventstream import ParserError
from botocore.exceptions import BotoCoreError, ClientError, EventStreamError
from urllib3.exceptions import HTTPError as Urllib3Error

from chatbot import stop_reasons
from chatbot.deadline import NO_DEADLINE, Deadline, watching
from chatbot.tokens import Usage

# The ErrorCode of a request whose model gave no text before its deadline (or was not called for lack of
# time): a 502 `model_error`, like any model call that produced nothing usable.
DEADLINE_EXCEEDED = "DeadlineExceeded"


class ModelFailure(Exception):
    """The model call failed: `throttled` maps to HTTP 429, anything else to 502."""

    def __init__(self, code: str, message: str, *, throttled: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.throttled = throttled


@dataclass(frozen=True, slots=True)
class LiveAnswer:
    text: str
    stop_reason: str
    usage: Usage | None  # None: stopped at the deadline, before Bedrock's `metadata` reported it
    ttft_ms: float | None

    @property
    def complete(self) -> bool:
        """Only an answer the model finished on its own is worth caching (not truncated or filtered)."""
        return stop_reasons.is_complete(self.stop_reason)


def _is_throttling(code: str) -> bool:
    return code.lower() in {
        "throttlingexception",
        "toomanyrequestsexception",
        "servicequotaexceededexception",
    }


def _failure_from_client_error(exc: ClientError) -> ModelFailure:
    error = exc.response.get("Error", {})
    code = str(error.get("Code") or "UnknownError")
    message = str(error.get("Message") or exc)
    return ModelFailure(code, message, throttled=_is_throttling(code))


def converse_request(
    model_id: str, message: str, system: str | None, max_tokens: int | None
) -> dict[str, Any]:
    request: dict[str, Any] = {
        "modelId": model_id,
        "messages": [{"role": "user", "content": [{"text": message}]}],
    }
    if system:
        request["system"] = [{"text": system}]
    if max_tokens is not None:
        request["inferenceConfig"] = {"maxTokens": max_tokens}
    return request


def _usage(metadata: dict[str, Any]) -> Usage:
    usage = metadata.get("usage") or {}
    return Usage(
        input_tokens=int(usage.get("inputTokens", 0)),
        output_tokens=int(usage.get("outputTokens", 0)),
        cache_read_input_tokens=usage.get("cacheReadInputTokens"),
        cache_write_input_tokens=usage.get("cacheWriteInputTokens"),
    )


class _Reading:
    """The answer as its events arrive: the text so far, when it began, how and whether it ended."""

    def __init__(self, started: float, clock: Callable[[], float]) -> None:
        self._started, self._clock = started, clock
        self.parts: list[str] = []
        self.ttft_ms: float | None = None
        self.stop_reason: str | None = None
        self.metadata: dict[str, Any] | None = None

    def take(self, event: dict[str, Any]) -> None:
        if "contentBlockDelta" in event:
            text = event["contentBlockDelta"].get("delta", {}).get("text")
            if text:
                if self.ttft_ms is None:
                    self.ttft_ms = (self._clock() - self._started) * 1000.0
                self.parts.append(text)
        elif "messageStop" in event:
            self.stop_reason = event["messageStop"].get("stopReason", "")
        elif "metadata" in event:
            self.metadata = event["metadata"]

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def at_deadline(self) -> LiveAnswer:
        """What the caller gets when the deadline came first: the text so far (never nothing)."""
        if not self.parts:
            raise ModelFailure(DEADLINE_EXCEEDED, "no answer text before the deadline")
        return LiveAnswer(self.text, stop_reasons.DEADLINE, None, self.ttft_ms)


def _close(stream: Any) -> None:
    """Stop reading: the connection is closed, not returned to the pool half-read."""
    close = getattr(stream, "close", None)
    if close is not None:
        with suppress(Exception):  # closing a broken stream may fail too; the answer stands
            close()


def stream_answer(
    bedrock: Any,
    request: dict[str, Any],
    started: float,
    clock: Callable[[], float] = time.perf_counter,
    deadline: Deadline = NO_DEADLINE,
) -> LiveAnswer:
    """Call ConverseStream and assemble the answer; raise ModelFailure on any failure.

    At `deadline` (chatbot.deadline) the stream is closed and the text so far is the answer, with stop
    reason `deadline` and no usage (no `metadata` event came); no text by then is a failure.
    """
    if not deadline.allows_attempt():
        raise ModelFailure(DEADLINE_EXCEEDED, "too little time left before the deadline to call the model")
    reading = _Reading(started, clock)
    stream: Any = None
    with watching(deadline) as watch:
        try:
            stream = bedrock.converse_stream(**request)["stream"]
            watch.bound()
            for event in stream:
                reading.take(event)
                if reading.metadata is None and deadline.passed:
                    _close(stream)
                    return reading.at_deadline()
                watch.bound()
        except EventStreamError as exc:  # an exception event in the middle of the stream
            raise _failure_from_client_error(exc) from exc
        except ClientError as exc:  # the initial call failed after botocore's retries
            raise _failure_from_client_error(exc) from exc
        except (BotoCoreError, Urllib3Error, ParserError) as exc:
            # timeouts, dropped connections; a corrupt frame (ChecksumMismatch, ...) is no BotoCoreError
            if deadline.passed:  # the read timed out at the deadline
                _close(stream)
                return reading.at_deadline()
            raise ModelFailure(type(exc).__name__, str(exc)) from exc
    if reading.stop_reason is None or reading.metadata is None:
        raise ModelFailure("IncompleteStream", "the stream ended without messageStop and metadata")
    return LiveAnswer(reading.text, reading.stop_reason, _usage(reading.metadata), reading.ttft_ms)
