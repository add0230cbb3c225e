"""Chatbot Lambda: `POST /chat` on an HTTP API (payload 2.0). Thin: parse, call the domain, shape the reply.

Entry point `handler`; `publish_token_metrics` (one EMF document per request) is imported here, as the
contract names it.

Every request is attributed to its caller (chatbot.callers: the IAM principal from the request context,
never from the body or a header): `caller` on every log line of the request and `Caller` on its EMF
document.

Privacy: Tracer records no response and no error (they carry the answer and the request's text), and an
unexpected error is logged by type and stack, never by its message.
"""

from __future__ import annotations

import json
import os
import time
import traceback
from collections.abc import Callable
from dataclasses import replace
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.parser import ValidationError
from aws_lambda_powertools.utilities.typing import LambdaContext

from chatbot import platform_limits as limits
from chatbot import snapshot
from chatbot.arrival import RequestTiming, request_timing
from chatbot.cache import ResponseCache
from chatbot.callers import caller_of
from chatbot.deadline import deadline_after, guard
from chatbot.events import HttpApiEvent
from chatbot.metering import Meter
from chatbot.request import ChatError, parse_body
from chatbot.service import Dependencies, answer_chat
from chatbot.settings import get_settings
from chatbot.token_metrics import AnswerRecord, publish_token_metrics
from shared.aws_clients import client
from shared.metric_catalogue import ANONYMOUS_CALLER

__all__ = ["handler", "publish_token_metrics"]

logger = Logger()
# botocore is the only I/O: patching every library X-Ray knows (requests, httplib, drivers) costs import time.
tracer = Tracer(patch_modules=["botocore"])
# debug=False: Powertools' debug mode (POWERTOOLS_DEV) would print every event, bodies included.
app = APIGatewayHttpResolver(debug=False)


def _json(status: int, body: dict[str, Any]) -> Response:
    return Response(status_code=status, content_type="application/json", body=json.dumps(body))


def _raw_error(status: int, code: str, message: str) -> dict[str, Any]:
    """An HTTP API response built without the resolver (for events it cannot route)."""
    body = json.dumps({"error": code, "message": message})
    return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": body}


def _bedrock() -> Any:
    """The container's Bedrock client, its retries and reads bounded by each request's deadline."""
    settings = get_settings()
    return guard(
        client(
            "bedrock-runtime",
            max_attempts=settings.bedrock_max_attempts,
            connect_timeout=limits.BEDROCK_CONNECT_TIMEOUT_SECONDS,
            read_timeout=settings.bedrock_read_timeout,
        )
    )


def _dynamodb() -> Any:
    return client(
        "dynamodb",
        max_attempts=limits.CACHE_MAX_ATTEMPTS,
        connect_timeout=limits.CACHE_CONNECT_TIMEOUT_SECONDS,
        read_timeout=limits.CACHE_READ_TIMEOUT_SECONDS,
    )


def _marked(publish: Callable[[AnswerRecord], None]) -> Callable[[AnswerRecord], None]:
    """`publish`, noting in the request's context that its EMF document is written (before writing: a
    request gets at most one document, even if a later step fails)."""

    def publish_once(record: AnswerRecord) -> None:
        app.append_context(published=True)
        publish(record)

    return publish_once


@cache
def dependencies() -> Dependencies:
    """Built on the first request of a container, reused after (no AWS work at import)."""
    settings = get_settings()
    return Dependencies(
        cache=ResponseCache(settings.cache_table_name, settings.cache_ttl_seconds, _dynamodb),
        bedrock=_bedrock,
        publish=publish_token_metrics,
        prices=settings.model_prices,
        meter=Meter.from_settings(settings, _dynamodb),
    )


def _caller() -> str:
    return str(app.context.get("caller") or ANONYMOUS_CALLER)


def _hold_seconds() -> float:
    """How long this request's reservation may stay unsettled: the invocation's time left plus a margin."""
    context = app.lambda_context
    remaining = float(limits.LAMBDA_MAX_TIMEOUT_SECONDS)
    if context is not None:
        remaining = context.get_remaining_time_in_millis() / 1000.0
    return max(0.0, remaining) + limits.HOLD_MARGIN_SECONDS


def _request_id() -> str:
    event = app.current_event
    request_id = event.request_context.request_id if event.get("requestContext") else None
    return request_id or (app.lambda_context.aws_request_id if app.lambda_context else "unknown")


def _timing() -> RequestTiming:
    timing = app.context.get("timing")
    if not isinstance(timing, RequestTiming):
        started = app.context.get("handler_started", time.perf_counter())
        timing = request_timing(app.current_event.raw_event, started)
        app.append_context(timing=timing)
    return timing


# No subsegment of its own (the handler's is enough): an error leaving a subsegment is recorded with its
# message, and a ChatError's message can quote the request.
@app.post("/chat")
def chat() -> Response:
    timing = _timing()
    try:
        raw = app.current_event.decoded_body
    except ValueError:  # bad base64 or bytes that are not UTF-8
        raise ChatError(400, "invalid_json", "body: not valid base64-encoded UTF-8") from None
    settings = get_settings()
    request = parse_body(raw, settings)
    app.append_context(model_id=request.model_id)
    tracer.put_annotation(key="ModelId", value=request.model_id)
    deps = dependencies()
    deps = replace(deps, publish=_marked(deps.publish))
    answer = answer_chat(
        request, deps, timing.started, _request_id(), timing.received_at_ms, timing.latency_from,
        caller=_caller(), hold_seconds=_hold_seconds(),
        deadline=deadline_after(timing.started, settings.answer_deadline_seconds),
    )  # fmt: skip
    logger.info(
        "answered",
        extra={
            "model_id": answer.model_id,
            "cached": answer.cached,
            "stop_reason": answer.stop_reason,
            "latency_ms": round(answer.latency_ms, 1),
            "latency_from": timing.latency_from,
            "total_tokens": answer.usage.total_tokens,
        },
    )
    return _json(200, answer.to_json())


@app.exception_handler(ChatError)
def chat_error(error: ChatError) -> Response:
    if error.status >= 500 or error.status == 429:
        logger.warning("request failed", extra={"status": error.status, "error": error.code})
    else:
        logger.info("request rejected", extra={"status": error.status, "reason": error.message})
    response = _json(error.status, {"error": error.code, "message": error.message})
    response.headers.update(error.headers)
    return response


def _publish_unexpected(error_code: str) -> None:
    """The one EMF document of a request that failed unexpectedly (ModelErrors=1), unless it has one."""
    if app.context.get("published"):
        return
    timing = _timing()
    model_id = str(app.context.get("model_id") or os.environ.get("MODEL_ID", "").strip() or "unknown")
    latency = (time.perf_counter() - timing.started) * 1000.0
    record = AnswerRecord(
        model_id,
        _request_id(),
        False,
        latency,
        error_code=error_code,
        timestamp_ms=timing.received_at_ms,
        latency_from=timing.latency_from,
        caller=_caller(),
    )
    try:
        try:
            publish = dependencies().publish
        except Exception:  # the configuration itself may be what failed
            publish = publish_token_metrics
        _marked(publish)(record)
    except Exception as exc:  # the answer must still go out; the log says why the metric did not
        logger.error("metrics of a failed request not written", extra={"error_type": type(exc).__name__})


@app.exception_handler(Exception)
def unexpected_error(error: Exception) -> Response:
    # A bug must still answer JSON (never a bare 500 from API Gateway) and count in ModelErrors. The log
    # has the type and the stack (file, line, code) but not the message, which may quote the request.
    stack = "".join(traceback.format_tb(error.__traceback__))
    logger.error(
        "unexpected error while answering", extra={"error_type": type(error).__name__, "stack": stack}
    )
    _publish_unexpected(type(error).__name__)
    return _json(502, {"error": "internal_error", "message": "the request could not be answered"})


@app.not_found
def not_found(_: Exception) -> Response:
    return _json(404, {"error": "not_found", "message": "only POST /chat is served"})


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    handler_started = time.perf_counter()  # the latencies' origin when the event's arrival is unusable
    caller = caller_of(event)
    logger.append_keys(caller=caller)  # replaces the previous request's: every request sets its own
    try:  # Powertools Parser's model of an HTTP API (payload 2.0) event: anything else is not routable
        HttpApiEvent.model_validate(event)
    except ValidationError as exc:
        where = ".".join(str(part) for part in exc.errors()[0]["loc"]) or "event"
        logger.warning("not an HTTP API payload 2.0 event", extra={"field": where})
        return _raw_error(400, "invalid_event", f"{where}: not an HTTP API (payload 2.0) event")
    app.append_context(handler_started=handler_started, caller=caller)
    return app.resolve(event, context)


# SnapStart: the first request's work before the snapshot, fresh per-copy state after (chatbot.snapshot).
snapshot.register()
