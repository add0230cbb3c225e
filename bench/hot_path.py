"""Part 2: the chatbot's overhead on an answer, end to end through `chatbot_handler.handler`.

- live answer, `use_cache: false`: the full handler (HTTP API event -> resolver -> pydantic -> Bedrock
  ConverseStream -> EMF -> JSON response) against the loopback Bedrock with zero model delay, vs a bare
  `converse_stream` call on the same botocore client (same config, same connection pool), consuming the
  stream. The difference is the handler's own cost, since the model takes no time at all here;
- live answer with the cache on (a miss): adds a DynamoDB GetItem and PutItem on moto, reported apart;
- cache hit: the full handler vs a bare `get_item` of the same item on the same client.
Calls alternate A/B (and the order flips each call), so machine drift hits both sides alike. Tracing is
disabled (no X-Ray daemon here); the handler logs at INFO, as deployed, into a real fd.
"""

from __future__ import annotations

import json
import os
import tempfile
import uuid
from collections.abc import Callable
from typing import Any

from bench.env import CACHE_TABLE, lambda_stdout
from bench.report import Figure, PartResult
from bench.stats import Summary, fmt_seconds
from offline.environment import MODELS, REGION, create_cache_table

MESSAGE = "How do I rotate the access keys of an IAM user without breaking the running applications?"
TARGET_RATIO = 1.05
TARGET_ADDED_S = 0.003


def _paired(a: Callable[[], Any], b: Callable[[], Any], calls: int) -> tuple[list[float], list[float]]:
    """Time `a` and `b` alternately (order flipped every call)."""
    import time

    clock = time.perf_counter_ns
    first: list[float] = []
    second: list[float] = []
    for i in range(calls):
        order = ((a, first), (b, second)) if i % 2 == 0 else ((b, second), (a, first))
        for fn, samples in order:
            start = clock()
            fn()
            samples.append((clock() - start) / 1e9)
    return first, second


class _Handler:
    """Calls the real handler with events built ahead of time (Lambda hands the event over ready-made)."""

    def __init__(self, bodies: Callable[[int], dict[str, Any]]) -> None:
        from chatbot import chatbot_handler
        from tests.support import FakeLambdaContext, http_api_event

        self._handler = chatbot_handler.handler
        self._context = FakeLambdaContext()
        self._event = http_api_event
        self._bodies = bodies
        self._events: list[dict[str, Any]] = []
        self.last: dict[str, Any] = {}

    def prepare(self, count: int) -> None:
        self._events = [self._event(self._bodies(i)) for i in range(count)]
        self._events.reverse()

    def __call__(self) -> None:
        response = self._handler(self._events.pop(), self._context)
        if response.get("statusCode") != 200:
            raise RuntimeError(f"the handler answered {response.get('statusCode')}: {response.get('body')}")
        self.last = response


def _bare_converse(bedrock: Any, request: dict[str, Any]) -> Callable[[], str]:
    def call() -> str:
        response = bedrock.converse_stream(**request)
        parts = []
        for event in response["stream"]:
            if "contentBlockDelta" in event:
                parts.append(event["contentBlockDelta"]["delta"].get("text", ""))
        return "".join(parts)

    return call


def _measure(
    handler: _Handler, bare: Callable[[], Any], repeats: int, calls: int
) -> tuple[Summary, Summary, float]:
    handler_runs: list[list[float]] = []
    bare_runs: list[list[float]] = []
    diffs: list[float] = []
    with lambda_stdout():
        handler.prepare(5)
        for _ in range(5):  # warm-up: connections, first validation, first flush
            handler()
            bare()
        for _ in range(repeats):
            handler.prepare(calls)
            h, b = _paired(handler, bare, calls)
            handler_runs.append(h)
            bare_runs.append(b)
            diffs.append(sorted(x - y for x, y in zip(h, b, strict=True))[len(h) // 2])
    from bench.stats import median

    return Summary.of(handler_runs), Summary.of(bare_runs), median(diffs)


def _log_bytes(handler: _Handler, count: int) -> float:
    """Bytes the handler writes to stdout per request (EMF document + Logger lines), at the fd."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "stdout.log")
        handler.prepare(count)
        with lambda_stdout(path):
            for _ in range(count):
                handler()
        return os.path.getsize(path) / count


def run(moto_endpoint: str, *, repeats: int = 5, calls: int = 30) -> PartResult:
    import boto3

    from chatbot import chatbot_handler
    from chatbot.bedrock import converse_request
    from chatbot.cache import cache_key
    from chatbot.settings import get_settings
    from shared.table_schema import CACHE_PARTITION_KEY

    get_settings.cache_clear()
    chatbot_handler.dependencies.cache_clear()
    create_cache_table(boto3.client("dynamodb", endpoint_url=moto_endpoint, region_name=REGION), CACHE_TABLE)
    settings = get_settings()
    bedrock = chatbot_handler._bedrock()
    dynamodb = chatbot_handler._dynamodb()
    bare_live = _bare_converse(bedrock, converse_request(MODELS[0], MESSAGE, None, None))

    # 2a: live answer, no cache: the handler's own overhead.
    live = _Handler(lambda i: {"message": MESSAGE, "use_cache": False})
    live_h, live_b, live_diff = _measure(live, bare_live, repeats, calls)
    live_ratio = live_h.median / live_b.median
    live_met = live_ratio <= TARGET_RATIO or live_diff <= TARGET_ADDED_S

    # 2b: live answer with the cache on: every message is new, so each request misses (Get + Put).
    run_id = uuid.uuid4().hex[:8]
    miss = _Handler(lambda i: {"message": f"{MESSAGE} (variant {run_id}-{i}-{uuid.uuid4().hex[:6]})"})
    miss_h, miss_b, miss_diff = _measure(miss, bare_live, repeats, calls)

    # 2c: cache hit: the same message each time, after one request stored it.
    hit = _Handler(lambda i: {"message": MESSAGE})
    with lambda_stdout():
        hit.prepare(1)
        hit()
        hit.prepare(1)
        hit()
    if not json.loads(hit.last["body"]).get("cached"):
        raise RuntimeError("the cache-hit benchmark did not hit the cache")
    key = cache_key(MODELS[0], None, MESSAGE, None)

    def bare_get() -> None:
        item = dynamodb.get_item(TableName=settings.cache_table_name, Key={CACHE_PARTITION_KEY: {"S": key}})
        if "Item" not in item:
            raise RuntimeError("the cached item is missing")

    hit_h, hit_b, hit_diff = _measure(hit, bare_get, repeats, calls)

    live_bytes = _log_bytes(live, 40)
    hit_bytes = _log_bytes(hit, 40)

    base = "bare converse_stream"
    figures = [
        Figure(
            "2 hot path",
            "live answer, use_cache=false (handler), median",
            base,
            live_b.median,
            live_h.median,
            target="<= 1.05x or <= 3 ms added",
            met=live_met,
            note=(
                f"added {fmt_seconds(live_diff)} per request (median of paired differences); p99 handler "
                f"{fmt_seconds(live_h.p99)} vs bare {fmt_seconds(live_b.p99)}; {live_h.calls} pairs; "
                "the fake "
                "model answers at once, so the ratio is the worst case (a real answer takes seconds)"
            ),
        ),
        Figure(
            "2 hot path",
            "live answer, cache on (miss: +GetItem +PutItem)",
            base,
            miss_b.median,
            miss_h.median,
            target="report",
            note=f"added {fmt_seconds(miss_diff)} per request, two DynamoDB calls to moto included",
        ),
        Figure(
            "2 hot path",
            "cache hit end to end (handler)",
            "bare get_item",
            hit_b.median,
            hit_h.median,
            target="report",
            note=f"added {fmt_seconds(hit_diff)} per request over the GetItem itself",
        ),
        Figure(
            "2 hot path",
            "stdout bytes per live answer (EMF + log line)",
            "",
            None,
            live_bytes,
            unit="bytes",
            target="report (priced in part 5)",
        ),
    ]
    if not live_met:
        figures[0].miss = (
            f"{live_ratio:.2f}x, +{fmt_seconds(live_diff)}: the fake answers in "
            f"{fmt_seconds(live_b.median)}, so fixed per-request work dominates. Next step: profile the "
            "handler (resolver, event model, pydantic, EMF) and trim"
        )
    return PartResult(
        figures=figures,
        data={
            "log_bytes_live": live_bytes,
            "log_bytes_hit": hit_bytes,
            "handler_added_s": live_diff,
        },
    )
