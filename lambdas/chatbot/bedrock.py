"""Amazon Bedrock ConverseStream: stream one answer, time it, and take its usage from `metadata`.

Retries of the initial call (throttling, 5xx) are botocore's standard retry mode, configured on the
client; nothing here loops. Once the stream has started, an error event ends the answer: a partial
answer is never returned as if it were complete.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.eventstream import ParserError
from botocore.exceptions import BotoCoreError, ClientError, EventStreamError
from urllib3.exceptions import HTTPError as Urllib3Error

from chatbot.tokens import Usage

COMPLETE_STOP_REASONS = frozenset({"end_turn", "stop_sequence"})


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
    usage: Usage
    ttft_ms: float | None

    @property
    def complete(self) -> bool:
        """Only an answer the model finished on its own is worth caching (not truncated or filtered)."""
        return self.stop_reason in COMPLETE_STOP_REASONS


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


def stream_answer(
    bedrock: Any,
    request: dict[str, Any],
    started: float,
    clock: Callable[[], float] = time.perf_counter,
) -> LiveAnswer:
    """Call ConverseStream and assemble the answer; raise ModelFailure on any failure."""
    try:
        response = bedrock.converse_stream(**request)
        parts: list[str] = []
        ttft_ms: float | None = None
        stop_reason: str | None = None
        metadata: dict[str, Any] | None = None
        for event in response["stream"]:
            if "contentBlockDelta" in event:
                text = event["contentBlockDelta"].get("delta", {}).get("text")
                if text:
                    if ttft_ms is None:
                        ttft_ms = (clock() - started) * 1000.0
                    parts.append(text)
            elif "messageStop" in event:
                stop_reason = event["messageStop"].get("stopReason", "")
            elif "metadata" in event:
                metadata = event["metadata"]
    except EventStreamError as exc:  # an exception event in the middle of the stream
        raise _failure_from_client_error(exc) from exc
    except ClientError as exc:  # the initial call failed after botocore's retries
        raise _failure_from_client_error(exc) from exc
    except (BotoCoreError, Urllib3Error) as exc:  # timeouts, dropped connections
        raise ModelFailure(type(exc).__name__, str(exc)) from exc
    except ParserError as exc:  # a corrupt frame (ChecksumMismatch, ...) is no BotoCoreError
        raise ModelFailure(type(exc).__name__, str(exc)) from exc
    if stop_reason is None or metadata is None:
        raise ModelFailure("IncompleteStream", "the stream ended without messageStop and metadata")
    return LiveAnswer(text="".join(parts), stop_reason=stop_reason, usage=_usage(metadata), ttft_ms=ttft_ms)
