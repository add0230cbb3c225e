"""Part 6: callers' limits. What metering and limits add to an answer, on the same loopback fakes.

- live answer (`use_cache: false`): the DynamoDB round trips in the request's own path, counted at
  botocore's `before-send` (target: at most 2, the reservation and the settle; the `limits` block's read
  runs in the background while the model answers); and the time added: the real handler for a caller
  with limits (hour, day and month all limited: the largest transactions) vs the same handler with no
  metering (USAGE_TABLE_NAME unset), calls alternated, the median of the paired differences, in bare
  UpdateItem calls on the same moto server and client, next to the same two writes sent bare. The model
  answers in 50 ms (a real one takes far longer than one read); the instant-model figure is in the note;
- live answer of a caller without limits (metered: the settle only), the same way;
- cached answer: reads of the usage (target: at most 1) and the time added, in bare GetItem calls;
- memory: tracemalloc over 1,000 live answers of 1,000 distinct callers (after 100 warm-up callers), in
  a fresh interpreter running only the handler (bench/_memory_probe.py; moto, which keeps three usage
  items per caller by design, and the fakes answer from this process). Target: no growth per caller.
moto spends milliseconds of CPU per transaction item (expression parsing, its own copies), so on moto a
3-item TransactWriteItems costs several UpdateItems; DynamoDB's latency hardly depends on the item count.
The counts are the portable figures, the times are this machine's and moto's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from bench.env import CACHE_TABLE, lambda_stdout
from bench.hot_path import _paired
from bench.report import Figure, PartResult, Table
from bench.stats import fmt_seconds, median
from offline.environment import LAMBDAS, REGION, REPO, create_cache_table

USAGE_TABLE = "bench-chat-usage"
CALLER = "arn:aws:iam::123456789012:user/bench"
# Limits no request reaches: every live answer reserves and settles, none is refused.
LIMITS = {"default": {"hour_tokens": 10**12, "day_tokens": 10**12, "month_usd": 10**9}}
MESSAGE = "How should a team split one monthly model budget between its agents and its people?"
TARGET_LIVE = 2.0
TARGET_HIT = 1.0
TARGET_BYTES_PER_CALLER = 64.0  # below: allocator noise, not a per-caller structure
MODEL_DELAY_S = 0.05  # the live comparison's model: a real one takes far longer than one read


def create_usage_table(endpoint: str) -> None:
    import boto3

    from tests.support import create_usage_table as create

    dynamodb = boto3.client("dynamodb", endpoint_url=endpoint, region_name=REGION)
    if USAGE_TABLE not in dynamodb.list_tables().get("TableNames", []):
        create(dynamodb, USAGE_TABLE)


@contextmanager
def _environment(**env: str | None) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in env}
    try:
        for name, value in env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _dependencies(metered: bool) -> Any:
    """The handler's own dependencies, built from an environment with or without metering."""
    from chatbot import chatbot_handler, metering
    from chatbot.settings import get_settings

    env = {"USAGE_TABLE_NAME": USAGE_TABLE, "CALLER_LIMITS": json.dumps(LIMITS)} if metered else {}
    with _environment(USAGE_TABLE_NAME=env.get("USAGE_TABLE_NAME"), CALLER_LIMITS=env.get("CALLER_LIMITS")):
        get_settings.cache_clear()
        metering.parsed_caller_limits.cache_clear()
        deps = chatbot_handler.dependencies.__wrapped__()
        get_settings.cache_clear()
    return deps


class _Invoke:
    """The real handler with the given dependencies, on events built ahead of time."""

    def __init__(
        self, deps: Any, body: Callable[[int], dict[str, Any]], caller: Callable[[int], str]
    ) -> None:
        from chatbot import chatbot_handler
        from tests.support import FakeLambdaContext, http_api_event

        self._module, self._deps, self._context = chatbot_handler, deps, FakeLambdaContext()
        self._build = lambda i: http_api_event(body(i), caller=caller(i))
        self._events: list[dict[str, Any]] = []
        self._count = 0

    def prepare(self, count: int) -> None:
        self._events = [self._build(self._count + i) for i in range(count)]
        self._count += count
        self._events.reverse()

    def __call__(self) -> dict[str, Any]:
        self._module.dependencies = lambda: self._deps  # type: ignore[assignment]
        if not self._events:
            self.prepare(1)
        response: dict[str, Any] = self._module.handler(self._events.pop(), self._context)
        if response.get("statusCode") != 200:
            raise RuntimeError(f"the handler answered {response.get('statusCode')}: {response.get('body')}")
        return response


def _added(on: _Invoke, off: _Invoke, repeats: int, calls: int) -> float:
    """Median over repeats of the median paired difference (on - off), seconds."""
    diffs = []
    for _ in range(repeats):
        on.prepare(calls)
        off.prepare(calls)
        first, second = _paired(on, off, calls)
        diffs.append(median([a - b for a, b in zip(first, second, strict=True)]))
    return median(diffs)


def _bare(fn: Callable[[], Any], repeats: int, calls: int) -> float:
    import time

    samples = []
    for _ in range(repeats * calls):
        start = time.perf_counter_ns()
        fn()
        samples.append((time.perf_counter_ns() - start) / 1e9)
    return median(samples)


def _calls_per_request(dynamodb: Any, invoke: _Invoke, requests: int) -> tuple[dict[str, float], float]:
    """DynamoDB calls per request by operation, and how many the request's own thread made (the rest run
    in the background while the model answers)."""
    seen: Counter[str] = Counter()
    own = 0
    requester = threading.current_thread()

    def count(request: Any, **_: Any) -> None:
        nonlocal own
        seen[request.headers["X-Amz-Target"].decode().rsplit(".", 1)[-1]] += 1
        own += threading.current_thread() is requester

    dynamodb.meta.events.register("before-send.dynamodb", count)
    try:
        invoke.prepare(requests)
        for _ in range(requests):
            invoke()
    finally:
        dynamodb.meta.events.unregister("before-send.dynamodb", count)
    return {operation: n / requests for operation, n in sorted(seen.items())}, own / requests


def _bare_reserve_and_settle(deps: Any, model_id: str) -> Callable[[], None]:
    """The two writes a live answer of CALLER makes, sent straight through the usage store."""
    import time

    from chatbot.limits import Charge, slots_for, worst_case
    from chatbot.request import ChatRequest
    from chatbot.windows import windows_at

    meter = deps.meter
    request = ChatRequest(MESSAGE, model_id, None, None, False)
    need = worst_case(request, meter.default_max_output, meter.prices or {})

    def both() -> None:
        now = time.time()
        windows = windows_at(now)
        slots = slots_for(meter.caller_limits().for_caller(CALLER), windows)
        request_id = uuid.uuid4().hex
        meter.store.reserve(CALLER, request_id, slots, need, now + 90, now)
        meter.store.settle(CALLER, request_id, windows, {s.window.id for s in slots}, need, Charge(81))

    return both


def _memory(callers: int) -> tuple[float, float, list[str]]:
    """Bytes the chatbot keeps per distinct caller, measured in a fresh interpreter (bench/_memory_probe.py)
    so that only the product and its libraries are traced (moto and the fakes run in this process)."""
    env = {
        **os.environ,
        "USAGE_TABLE_NAME": USAGE_TABLE,
        "CALLER_LIMITS": json.dumps(LIMITS),
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "PYTHONPATH": os.pathsep.join([str(LAMBDAS), str(REPO)]),
    }
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "memory.json")
        subprocess.run(
            [sys.executable, str(REPO / "bench" / "_memory_probe.py"), out, str(callers)],
            env=env, check=True, stdout=subprocess.DEVNULL, timeout=1800,
        )  # fmt: skip
        with open(out) as handle:
            result = json.load(handle)
    if set(result["statuses"]) != {"200"}:
        raise RuntimeError(f"the memory probe was not answered 200 every time: {result['statuses']}")
    return float(result["bytes_per_caller"]), float(result["first_run_bytes"]), list(result["top"])


def run(
    moto_endpoint: str, bedrock: Any = None, *, repeats: int = 5, calls: int = 30, callers: int = 1000
) -> PartResult:
    import boto3

    from chatbot import chatbot_handler
    from chatbot.cache import cache_key
    from chatbot.settings import get_settings
    from shared.table_schema import CACHE_PARTITION_KEY, USAGE_PARTITION_KEY, USAGE_SORT_KEY
    from tests.fakes.bedrock_server import Behavior

    create_cache_table(boto3.client("dynamodb", endpoint_url=moto_endpoint, region_name=REGION), CACHE_TABLE)
    create_usage_table(moto_endpoint)
    original = chatbot_handler.dependencies
    try:
        on, off = _dependencies(metered=True), _dependencies(metered=False)
        unlimited = replace(on, meter=replace(on.meter, caller_limits=_no_limits))
        dynamodb = chatbot_handler._dynamodb()
        settings = get_settings()
        live = lambda i: {"message": MESSAGE, "use_cache": False}  # noqa: E731
        hit = lambda i: {"message": MESSAGE}  # noqa: E731
        caller = lambda i: CALLER  # noqa: E731
        live_on, live_off = _Invoke(on, live, caller), _Invoke(off, live, caller)
        metered_only = _Invoke(unlimited, live, caller)
        hit_on, hit_off = _Invoke(on, hit, caller), _Invoke(off, hit, caller)
        with lambda_stdout():
            for invoke in (live_on, live_off, metered_only, hit_on, hit_off):  # warm-up (and cache the hit)
                for _ in range(5):
                    invoke()
            if not json.loads(hit_on()["body"]).get("cached"):
                raise RuntimeError("the cache-hit benchmark did not hit the cache")
            key = {USAGE_PARTITION_KEY: {"S": "bench-bare"}, USAGE_SORT_KEY: {"S": "bare"}}
            update = lambda: dynamodb.update_item(  # noqa: E731
                TableName=USAGE_TABLE, Key=key, UpdateExpression="ADD n :one",
                ExpressionAttributeValues={":one": {"N": "1"}},
            )  # fmt: skip
            cached = cache_key(settings.model_id, None, MESSAGE, None)
            get = lambda: dynamodb.get_item(  # noqa: E731
                TableName=settings.cache_table_name, Key={CACHE_PARTITION_KEY: {"S": cached}}
            )
            bare_update, bare_get = _bare(update, repeats, calls), _bare(get, repeats, calls)
            bare_two = _bare(_bare_reserve_and_settle(on, settings.model_id), repeats, calls)
            instant_added = _added(live_on, live_off, repeats, calls)
            if bedrock is not None:  # a model that takes some time, as every real one does
                bedrock.set_default(settings.model_id, Behavior(first_token_delay=MODEL_DELAY_S))
            try:
                live_added = _added(live_on, live_off, repeats, calls)
                metered_added = _added(metered_only, live_off, repeats, calls)
            finally:
                if bedrock is not None:
                    bedrock.reset()
            hit_added = _added(hit_on, hit_off, repeats, calls)
            live_calls, live_own = _calls_per_request(dynamodb, live_on, 20)
            metered_calls, _ = _calls_per_request(dynamodb, metered_only, 20)
            hit_calls, _ = _calls_per_request(dynamodb, hit_on, 20)
            hit_off_calls, _ = _calls_per_request(dynamodb, hit_off, 20)
        per_caller, first_run, top = _memory(callers)
    finally:
        chatbot_handler.dependencies = original

    def calls_text(seen: dict[str, float]) -> str:
        return ", ".join(f"{op} {n:g}" for op, n in seen.items()) or "none"

    delay = (
        f"a model answering in {MODEL_DELAY_S * 1000:.0f} ms" if bedrock is not None else "an instant model"
    )
    usage_reads = hit_calls.get("BatchGetItem", 0)
    figures = [
        Figure("6 limits", "live answer: DynamoDB round trips in the request's path", "", None, live_own,
               unit="count", target=f"<= {TARGET_LIVE:g}", met=live_own <= TARGET_LIVE,
               note=f"all calls per request: {calls_text(live_calls)}; the BatchGetItem (the limits block's "
                    "`used`) runs in the background while the model answers"),
        Figure("6 limits", "live answer: time added by limits, in bare UpdateItems", "bare UpdateItem",
               bare_update, live_added, target="report",
               note=f"with {delay}; the same two writes sent bare through the store take "
                    f"{fmt_seconds(bare_two)} (added / bare writes = {live_added / bare_two:.2f}): moto "
                    "spends about 5 ms per transaction item, so a 3-item transaction costs several "
                    "UpdateItems here; with an instant model the background read shows too: "
                    f"{fmt_seconds(instant_added)}"),
        Figure("6 limits", "live answer, caller without limits: time added by metering", "bare UpdateItem",
               bare_update, metered_added, target="report",
               note=f"with {delay}; DynamoDB calls per request: {calls_text(metered_calls)}"),
        Figure("6 limits", "cached answer: reads of the usage per request", "", None, usage_reads,
               unit="count", target=f"<= {TARGET_HIT:g}", met=usage_reads <= TARGET_HIT,
               note=f"DynamoDB calls per request: {calls_text(hit_calls)} (the GetItem is the response "
                    "cache's, with or without limits)"),
        Figure("6 limits", "cached answer: time added by limits, in bare GetItems", "bare GetItem", bare_get,
               hit_added, target="report",
               note="one BatchGetItem of the caller's limited windows (3 keys here; moto reads each key "
                    "in turn)"),
        Figure("6 limits", f"memory kept per distinct caller ({callers:,} more callers)", "", None,
               per_caller, unit="bytes", target=f"< {TARGET_BYTES_PER_CALLER:g} bytes per caller",
               met=per_caller < TARGET_BYTES_PER_CALLER,
               note=f"tracemalloc, a process running only the handler: growth from {callers:,} to "
                    f"{2 * callers:,} callers (the first {callers:,}, after 100 warm-up callers, grew "
                    f"{first_run / 1024:,.1f} KiB in all); "
                    + ("largest: " + "; ".join(top) if top else "no site grew")),
    ]  # fmt: skip
    table = Table(
        "Callers' limits: DynamoDB calls per request (every attempt, background read included)",
        ["request", "limits on", "limits off"],
        [
            ["live answer, caller with limits", calls_text(live_calls), "none"],
            ["live answer, caller without limits (metered)", calls_text(metered_calls), "none"],
            ["cached answer", calls_text(hit_calls), calls_text(hit_off_calls)],
        ],
    )
    return PartResult(figures=figures, tables=[table], data={"live_added_s": live_added})


def _no_limits() -> Any:
    from chatbot.caller_limits import CallerLimits

    return CallerLimits()
