"""Answer one validated chat request from the response cache or the model, and record its metrics.

Plain domain logic: the cache, the Bedrock client, the metric publisher and the clock come in as
arguments, so every branch is testable without AWS.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger

from chatbot.arrival import LATENCY_FROM_HANDLER
from chatbot.bedrock import LiveAnswer, ModelFailure, converse_request, stream_answer
from chatbot.cache import CachedAnswer, CacheUnavailable, ResponseCache, cache_key
from chatbot.request import ChatError, ChatRequest
from chatbot.settings import ModelPrice
from chatbot.token_metrics import AnswerRecord
from chatbot.tokens import Usage, estimated_cost, estimated_usage

logger = Logger(child=True)


@dataclass(frozen=True, slots=True)
class ChatAnswer:
    answer: str
    model_id: str
    cached: bool
    usage: Usage
    latency_ms: float
    request_id: str

    def to_json(self) -> dict[str, Any]:
        return {
            "answer": self.answer,
            "model_id": self.model_id,
            "cached": self.cached,
            "usage": {
                "input_tokens": self.usage.input_tokens,
                "output_tokens": self.usage.output_tokens,
                "total_tokens": self.usage.total_tokens,
                "estimated": self.usage.estimated,
            },
            "latency_ms": round(self.latency_ms),
            "request_id": self.request_id,
        }


@dataclass(slots=True)
class Dependencies:
    cache: ResponseCache
    bedrock: Callable[[], Any]
    publish: Callable[[AnswerRecord], None]
    prices: Mapping[str, ModelPrice]
    clock: Callable[[], float] = time.perf_counter


def _elapsed_ms(deps: Dependencies, started: float) -> float:
    return (deps.clock() - started) * 1000.0


def _lookup(deps: Dependencies, key: str) -> tuple[CachedAnswer | None, bool]:
    try:
        return deps.cache.get(key), False
    except CacheUnavailable as exc:
        logger.warning("response cache unreadable; answering from the model", extra={"error": str(exc)})
        return None, True


def _store(deps: Dependencies, key: str, request: ChatRequest, live: LiveAnswer) -> bool:
    """Cache a complete answer; return True when the write failed."""
    try:
        deps.cache.put(key, request.model_id, CachedAnswer(live.text, live.stop_reason))
    except CacheUnavailable as exc:
        logger.warning("response cache unwritable; answer not cached", extra={"error": str(exc)})
        return True
    return False


def answer_chat(
    request: ChatRequest,
    deps: Dependencies,
    started: float,
    request_id: str,
    received_at_ms: int | None = None,
    latency_from: str = LATENCY_FROM_HANDLER,
) -> ChatAnswer:
    """Serve from cache when allowed and present, else from the model; publish metrics either way.

    `started` is the monotonic clock reading the latencies count from (the request's arrival, else the
    handler's start: `latency_from` says which); `received_at_ms` is the metrics' timestamp.
    """
    key = cache_key(request.model_id, request.system, request.message, request.max_tokens)
    cache_error = False
    if request.use_cache:
        hit, cache_error = _lookup(deps, key)
        if hit is not None:
            usage = estimated_usage(request.message, request.system, hit.answer)
            latency = _elapsed_ms(deps, started)
            deps.publish(
                AnswerRecord(
                    request.model_id,
                    request_id,
                    True,
                    latency,
                    usage,
                    stop_reason=hit.stop_reason,
                    timestamp_ms=received_at_ms,
                    latency_from=latency_from,
                )
            )
            return ChatAnswer(hit.answer, request.model_id, True, usage, latency, request_id)

    call = converse_request(request.model_id, request.message, request.system, request.max_tokens)
    try:
        live = stream_answer(deps.bedrock(), call, started, deps.clock)
    except ModelFailure as failure:
        status, code = (429, "throttled") if failure.throttled else (502, "model_error")
        logger.warning("model call failed", extra={"error_code": failure.code, "status": status})
        latency = _elapsed_ms(deps, started)
        deps.publish(
            AnswerRecord(
                request.model_id,
                request_id,
                False,
                latency,
                error_code=failure.code,
                cache_error=cache_error,
                timestamp_ms=received_at_ms,
                latency_from=latency_from,
            )
        )
        raise ChatError(status, code, f"{request.model_id}: {failure.code}: {failure.message}") from failure

    if request.use_cache and live.complete:
        cache_error = _store(deps, key, request, live) or cache_error
    latency = _elapsed_ms(deps, started)
    cost = estimated_cost(request.model_id, live.usage, deps.prices)
    deps.publish(
        AnswerRecord(
            request.model_id,
            request_id,
            False,
            latency,
            live.usage,
            ttft_ms=live.ttft_ms,
            cost_usd=cost,
            stop_reason=live.stop_reason,
            cache_error=cache_error,
            timestamp_ms=received_at_ms,
            latency_from=latency_from,
        )
    )
    return ChatAnswer(live.text, request.model_id, False, live.usage, latency, request_id)
