"""Answer one validated chat request from the response cache or the model, and record its metrics.

Plain domain logic: the cache, the Bedrock client, the metric publisher, the meter and the clock come in
as arguments, so every branch is testable without AWS.

A live answer stopped at the request's deadline (chatbot.deadline) has no usage from Bedrock (its
`metadata` event never came): it is charged, metered and published with the documented estimate
(chatbot.tokens: input from the prompt, output from the text the caller got), flagged `estimated`, and
never cached.

Order: the caller's limits are resolved first (a malformed CALLER_LIMITS answers 500
`configuration_error`); a cached answer is served even to a caller over its limits (it costs nothing);
a live answer reserves its worst case before the model is called (429 `limit_exceeded` with
Retry-After, or 503 `limits_unavailable` in closed mode) and settles to its actual charge after.
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
from chatbot.deadline import NO_DEADLINE, Deadline
from chatbot.metering import NO_METER, LimitRefused, LimitsConfigurationError, LimitsUnavailable, Meter, Tab
from chatbot.platform_limits import HOLD_MARGIN_SECONDS, LAMBDA_MAX_TIMEOUT_SECONDS
from chatbot.request import ChatError, ChatRequest
from chatbot.settings import ModelPrice
from chatbot.stop_reasons import cut_at_deadline
from chatbot.token_metrics import AnswerRecord
from chatbot.tokens import Usage, estimated_cost, estimated_usage
from shared.metric_catalogue import ANONYMOUS_CALLER

logger = Logger(child=True)


@dataclass(frozen=True, slots=True)
class ChatAnswer:
    answer: str
    model_id: str
    cached: bool
    usage: Usage
    latency_ms: float
    request_id: str
    stop_reason: str
    limits: dict[str, Any] | None = None  # the caller's limits after this answer (None: it has none)

    def to_json(self) -> dict[str, Any]:
        body = {
            "answer": self.answer,
            "model_id": self.model_id,
            "cached": self.cached,
            "stop_reason": self.stop_reason,
            # Cut short (max_tokens, the model's context window, the gateway's deadline): the same rule
            # as TruncatedAnswers, so a caller can tell a whole answer from a part of one.
            "truncated": cut_at_deadline(self.stop_reason),
            "usage": {
                "input_tokens": self.usage.input_tokens,
                "output_tokens": self.usage.output_tokens,
                "total_tokens": self.usage.total_tokens,
                "estimated": self.usage.estimated,
            },
            "latency_ms": round(self.latency_ms),
            "request_id": self.request_id,
        }
        if self.limits is not None:
            body["limits"] = self.limits
        return body


@dataclass(slots=True)
class Dependencies:
    cache: ResponseCache
    bedrock: Callable[[], Any]
    publish: Callable[[AnswerRecord], None]
    prices: Mapping[str, ModelPrice]
    clock: Callable[[], float] = time.perf_counter
    meter: Meter = NO_METER


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


def _open_tab(deps: Dependencies, caller: str, request_id: str, hold_seconds: float, record: Any) -> Tab:
    try:
        return deps.meter.open(caller, request_id, hold_seconds)
    except LimitsConfigurationError as exc:
        logger.error("caller limits misconfigured", extra={"error": str(exc)})
        deps.publish(record(refused=True, limit_check_error=True, error_code="configuration_error"))
        raise ChatError(500, "configuration_error", str(exc)) from None


def _reserve(deps: Dependencies, tab: Tab, request: ChatRequest, record: Any) -> None:
    """Reserve before the model is called; a refusal publishes its one EMF document and raises."""
    try:
        tab.reserve(request)
    except LimitRefused as refused:
        logger.info("limit exceeded", extra={"retry_after": refused.retry_after})
        deps.publish(
            record(refused=True, limit_rejected=True, limit_usage_pct=tab.usage_percent,
                   error_code="limit_exceeded")
        )  # fmt: skip
        headers = {"Retry-After": str(refused.retry_after)}
        raise ChatError(429, "limit_exceeded", refused.message, headers) from None
    except LimitsUnavailable:
        deps.publish(record(refused=True, limit_check_error=True, error_code="limits_unavailable"))
        raise ChatError(
            503, "limits_unavailable", "the usage table cannot be reached and LIMITS_FAIL_MODE is closed"
        ) from None


def answer_chat(
    request: ChatRequest,
    deps: Dependencies,
    started: float,
    request_id: str,
    received_at_ms: int | None = None,
    latency_from: str = LATENCY_FROM_HANDLER,
    caller: str = ANONYMOUS_CALLER,
    hold_seconds: float = LAMBDA_MAX_TIMEOUT_SECONDS + HOLD_MARGIN_SECONDS,
    deadline: Deadline = NO_DEADLINE,
) -> ChatAnswer:
    """Serve from cache when allowed and present, else from the model; publish metrics either way.

    `started` is the monotonic clock reading the latencies count from (the request's arrival, else the
    handler's start: `latency_from` says which); `received_at_ms` is the metrics' timestamp. `caller`
    is the request's IAM principal; `hold_seconds` how long its reservation may stay unsettled before
    it counts as leaked (the invocation's time left plus a margin); `deadline` when the model must have
    answered (on `deps.clock`).
    """

    def record(cached: bool = False, usage: Usage | None = None, **fields: Any) -> AnswerRecord:
        fields.setdefault("cache_error", cache_error)
        return AnswerRecord(
            request.model_id, request_id, cached, _elapsed_ms(deps, started), usage,
            timestamp_ms=received_at_ms, latency_from=latency_from, caller=caller, **fields,
        )  # fmt: skip

    cache_error = False
    tab = _open_tab(deps, caller, request_id, hold_seconds, record)
    key = cache_key(request.model_id, request.system, request.message, request.max_tokens)
    if request.use_cache:
        hit, cache_error = _lookup(deps, key)
        if hit is not None:
            tab.cached()
            usage = estimated_usage(request.message, request.system, hit.answer)
            answered = record(True, usage, stop_reason=hit.stop_reason, **_limit_fields(tab))
            deps.publish(answered)
            return ChatAnswer(
                hit.answer, request.model_id, True, usage, answered.latency_ms, request_id, hit.stop_reason,
                tab.block,
            )  # fmt: skip

    _reserve(deps, tab, request, record)
    try:
        return _live(request, deps, started, request_id, key, tab, record, deadline)
    except ChatError:
        raise  # a model failure: already settled (its hold released) and published
    except Exception:
        tab.settle()  # an unexpected error must not leave its hold to be swept
        raise


def _live(
    request: ChatRequest,
    deps: Dependencies,
    started: float,
    request_id: str,
    key: str,
    tab: Tab,
    record: Callable[..., AnswerRecord],
    deadline: Deadline,
) -> ChatAnswer:
    """Answer from the model (its reservation already held), settle the charge and publish."""
    call = converse_request(request.model_id, request.message, request.system, tab.max_tokens(request))
    try:
        live = stream_answer(deps.bedrock(), call, started, deps.clock, deadline)
    except ModelFailure as failure:
        status, code = (429, "throttled") if failure.throttled else (502, "model_error")
        logger.warning("model call failed", extra={"error_code": failure.code, "status": status})
        tab.settle()  # releases the hold: a failed call charges nothing
        deps.publish(record(error_code=failure.code, **_limit_fields(tab)))
        raise ChatError(status, code, f"{request.model_id}: {failure.code}: {failure.message}") from failure

    cache_error = request.use_cache and live.complete and _store(deps, key, request, live)
    # Stopped at the deadline: Bedrock reported nothing, so the documented estimate is charged (it counts
    # the text the caller got; Bedrock may bill a few more output tokens generated before the close).
    usage = live.usage or estimated_usage(request.message, request.system, live.text)
    cost = estimated_cost(request.model_id, usage, deps.prices)
    tab.settle(usage, cost)
    fields = _limit_fields(tab)
    if cache_error:
        fields["cache_error"] = True
    answered = record(
        False, usage, ttft_ms=live.ttft_ms, cost_usd=cost, stop_reason=live.stop_reason, **fields
    )
    deps.publish(answered)
    return ChatAnswer(
        live.text, request.model_id, False, usage, answered.latency_ms, request_id, live.stop_reason,
        tab.block,
    )  # fmt: skip


def _limit_fields(tab: Tab) -> dict[str, Any]:
    """The limit metrics of a request that got past the limits (answered, or failed at the model)."""
    return {
        "limit_rejected": False,
        "limit_usage_pct": tab.usage_percent,
        "limit_check_error": tab.check_error,
    }
