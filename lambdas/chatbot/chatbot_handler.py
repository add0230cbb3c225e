"""Chatbot Lambda: `POST /chat` on an HTTP API (payload 2.0). Thin: parse, call the domain, shape the reply.

Entry point `handler`; `publish_token_metrics` (one EMF document per request) is imported here, as the
contract names it.
"""

from __future__ import annotations

import json
import time
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.parser import ValidationError
from aws_lambda_powertools.utilities.parser.models import APIGatewayProxyEventV2Model
from aws_lambda_powertools.utilities.typing import LambdaContext

from chatbot.cache import ResponseCache
from chatbot.request import ChatError, parse_body
from chatbot.service import Dependencies, answer_chat
from chatbot.settings import get_settings
from chatbot.token_metrics import publish_token_metrics
from shared.aws_clients import client

__all__ = ["handler", "publish_token_metrics"]

logger = Logger()
tracer = Tracer()
app = APIGatewayHttpResolver()


def _json(status: int, body: dict[str, Any]) -> Response:
    return Response(status_code=status, content_type="application/json", body=json.dumps(body))


def _raw_error(status: int, code: str, message: str) -> dict[str, Any]:
    """An HTTP API response built without the resolver (for events it cannot route)."""
    body = json.dumps({"error": code, "message": message})
    return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": body}


def _bedrock() -> Any:
    settings = get_settings()
    return client(
        "bedrock-runtime",
        max_attempts=settings.bedrock_max_attempts,
        connect_timeout=3.0,
        read_timeout=settings.bedrock_read_timeout,
    )


def _dynamodb() -> Any:
    # Fail fast: a slow cache must not eat the answer's time budget; a miss costs one model call.
    return client("dynamodb", max_attempts=2, connect_timeout=1.0, read_timeout=2.0)


@cache
def dependencies() -> Dependencies:
    """Built on the first request of a container, reused after (no AWS work at import)."""
    settings = get_settings()
    return Dependencies(
        cache=ResponseCache(settings.cache_table_name, settings.cache_ttl_seconds, _dynamodb),
        bedrock=_bedrock,
        publish=publish_token_metrics,
        prices=settings.model_prices,
    )


# CloudWatch drops EMF datapoints older than 14 days or more than 2 hours ahead.
_MAX_PAST_MS = 14 * 86_400_000 - 3_600_000
_MAX_FUTURE_MS = 7_200_000 - 60_000


def _received_at_ms() -> int | None:
    """API Gateway's arrival time of the request (requestContext.timeEpoch), if plausible."""
    context = app.current_event.get("requestContext") or {}
    epoch = context.get("timeEpoch") if isinstance(context, dict) else None
    if isinstance(epoch, bool) or not isinstance(epoch, int):
        return None
    now = int(time.time() * 1000)
    return epoch if now - _MAX_PAST_MS <= epoch <= now + _MAX_FUTURE_MS else None


def _request_id() -> str:
    event = app.current_event
    request_id = event.request_context.request_id if event.get("requestContext") else None
    return request_id or (app.lambda_context.aws_request_id if app.lambda_context else "unknown")


@app.post("/chat")
@tracer.capture_method
def chat() -> Response:
    started = time.perf_counter()
    try:
        raw = app.current_event.decoded_body
    except ValueError:  # bad base64 or bytes that are not UTF-8
        raise ChatError(400, "invalid_json", "body: not valid base64-encoded UTF-8") from None
    request = parse_body(raw, get_settings())
    tracer.put_annotation(key="ModelId", value=request.model_id)
    answer = answer_chat(request, dependencies(), started, _request_id(), _received_at_ms())
    logger.info(
        "answered",
        extra={
            "model_id": answer.model_id,
            "cached": answer.cached,
            "latency_ms": round(answer.latency_ms, 1),
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
    return _json(error.status, {"error": error.code, "message": error.message})


@app.exception_handler(Exception)
def unexpected_error(error: Exception) -> Response:
    # A bug must still answer JSON (never a bare 500 from API Gateway); the log has the stack.
    logger.exception("unexpected error while answering", extra={"error_type": type(error).__name__})
    return _json(502, {"error": "internal_error", "message": "the request could not be answered"})


@app.not_found
def not_found(_: Exception) -> Response:
    return _json(404, {"error": "not_found", "message": "only POST /chat is served"})


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:  # Powertools Parser's model of an HTTP API (payload 2.0) event: anything else is not routable
        APIGatewayProxyEventV2Model.model_validate(event)
    except ValidationError as exc:
        where = ".".join(str(part) for part in exc.errors()[0]["loc"]) or "event"
        logger.warning("not an HTTP API payload 2.0 event", extra={"field": where})
        return _raw_error(400, "invalid_event", f"{where}: not an HTTP API (payload 2.0) event")
    return app.resolve(event, context)
