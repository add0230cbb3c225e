"""Property targets: what arbitrary input must never do, written once for the tests and `make reliability`.

A `Property` is a hypothesis strategy and a check. The check runs the product's own code on one example
and raises (AssertionError for a broken rule, anything else for a crash) or returns a label of what
happened ("published", "rejected", ...). The tests (`test_chat_properties.py`,
`test_collector_properties.py`) run each with `@settings(max_examples=1000)`; the tool runs the same
objects with `run_property`, counting instead of stopping.

Collectors: the vendor's body arrives as bytes through the real `HttpClient` (its JSON decoding and
error typing, on a stub connection pool), then the collector's parsing function, then the CloudWatch
writer's validation: what would be published is checked against CloudWatch's own rules (finite values
within +/-2^360, timestamps inside the 14-day / 2-hour window, at most 30 dimensions of printable ASCII
with a non-blank value, names 1..255 and values 1..1024 characters), written here independently of the
writer. Every field the body offers must end up published, dropped-and-counted or reported as invalid.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st


# --- strategies: wild JSON ----------------------------------------------------------------------------
class Raw(str):
    """A JSON token written verbatim (`1e400`, `-0`, a 1,200-deep `[[[...]]]`)."""


NUMBER_TOKENS = [
    *("1e400", "-1e400", "1e-400", "-0", "0.0", "1E3", "123456789012345678901234567890", "NaN", "Infinity"),
    *("-Infinity", "9007199254740993", "-9007199254740993", "1" + "0" * 400),
]
NUMERIC_STRINGS = ["12", " 7 ", "-5", "+3", "1.5", "1e3", "0x1F", "١٢", "²", "", " ", "NaN", "inf", "12abc",
                   "0" * 30, "9" * 400, "9" * 5000, str(2**53 + 1), str(2**64)]  # fmt: skip

leaves = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.sampled_from([2**53 + 1, 2**64, 10**30, -(10**30), 10**400, -1, 0])
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
    | st.sampled_from(NUMERIC_STRINGS)
    | st.sampled_from(NUMBER_TOKENS).map(Raw)
    | st.integers(1, 60).map(lambda depth: Raw("[" * depth + "]" * depth))
)
# Nesting deeper than Python's JSON decoder recurses (about 1000 levels), once per body at most.
deep = st.sampled_from([900, 999, 1000, 3000, 100_000]).map(lambda depth: Raw("[" * depth + "]" * depth))
wild = st.recursive(
    leaves,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=6,
)


def render(value: Any) -> str:
    """JSON text of `value`; `Raw` tokens verbatim, NaN/Infinity as Python's json reads them."""
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(str(k))}:{render(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(render(v) for v in value) + "]"
    return json.dumps(value)


def mutated(document: Any) -> st.SearchStrategy[Any]:
    """`document` with up to four values (at any depth) replaced by wild ones, or keys deleted."""
    paths: list[tuple[Any, ...]] = []

    def walk(node: Any, path: tuple[Any, ...]) -> None:
        paths.append(path)
        if isinstance(node, dict):
            for key, child in node.items():
                walk(child, (*path, key))
        elif isinstance(node, list):
            for index, child in enumerate(node):
                walk(child, (*path, index))

    walk(document, ())

    def apply(edits: list[tuple[tuple[Any, ...], Any, bool]]) -> Any:
        doc = json.loads(json.dumps(document))
        for path, value, delete in edits:
            if not path:
                return value
            parent = doc
            try:
                for step in path[:-1]:
                    parent = parent[step]
                if delete and isinstance(parent, dict):
                    parent.pop(path[-1], None)
                else:
                    parent[path[-1]] = value
            except (KeyError, IndexError, TypeError):
                continue
        return doc

    edit = st.tuples(st.sampled_from(paths), wild, st.booleans())
    return st.lists(edit, min_size=1, max_size=3).map(apply)


# --- what would be published ----------------------------------------------------------------------
PRINTABLE = re.compile(r"[\x20-\x7e]+")
UNITS = {
    *("Seconds", "Microseconds", "Milliseconds", "Percent", "Count", "Count/Second", "None"),
    *(
        f"{size}{suffix}"
        for size in ("Bytes", "Kilobytes", "Megabytes", "Gigabytes", "Terabytes")
        for suffix in ("", "/Second")
    ),
    *(
        f"{size}{suffix}"
        for size in ("Bits", "Kilobits", "Megabits", "Gigabits", "Terabits")
        for suffix in ("", "/Second")
    ),
}


def cloudwatch_accepts(datum: dict[str, Any], now_ms: int) -> None:
    """CloudWatch's PutMetricData rules for one datum (API reference: MetricDatum, Dimension)."""
    value = datum["Value"]
    assert isinstance(value, float) and math.isfinite(value), f"value {value!r}"
    assert value == 0 or 2.0**-360 <= abs(value) <= 2.0**360, f"value {value!r} out of range"
    stamp = int(datum["Timestamp"].timestamp() * 1000)
    assert now_ms - 14 * 86_400_000 <= stamp <= now_ms + 2 * 3_600_000, f"timestamp {stamp}"
    name = datum["MetricName"]
    assert isinstance(name, str) and 1 <= len(name) <= 255 and PRINTABLE.fullmatch(name), name
    assert datum["Unit"] in UNITS, datum["Unit"]
    dimensions = datum["Dimensions"]
    assert len(dimensions) <= 30
    assert len({d["Name"] for d in dimensions}) == len(dimensions), "duplicate dimension names"
    for dimension in dimensions:
        key, val = dimension["Name"], dimension["Value"]
        assert 1 <= len(key) <= 255 and PRINTABLE.fullmatch(key) and key.strip() and key[0] != ":", key
        assert 1 <= len(val) <= 1024 and PRINTABLE.fullmatch(val) and val.strip(), f"{key}={val!r}"


def publishable(points: list[Any], now_ms: int) -> tuple[list[dict[str, Any]], Counter[str]]:
    """What the collectors' writer would send for `points`, each datum checked against CloudWatch."""
    from collectors.common.cloudwatch_writer import CloudWatchWriter

    writer = CloudWatchWriter(lambda: None, clock=lambda: now_ms / 1000)
    by_namespace, dropped = writer.prepare(points)
    datums = [datum for group in by_namespace.values() for datum in group]
    assert len(datums) + sum(dropped.values()) == len(points), "a datapoint vanished without a count"
    for datum in datums:
        cloudwatch_accepts(datum, now_ms)
    return datums, dropped


class _Response:
    def __init__(self, body: bytes) -> None:
        self.status, self.data = 200, body
        self.headers: dict[str, str] = {}


class _Pool:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def request(self, *args: Any, **kwargs: Any) -> _Response:
        return _Response(self.body)


def fetch(text: str) -> Any:
    """The body through the real HttpClient (decoding, error typing); MalformedResponse when not JSON."""
    from collectors.common.http import HttpClient

    client = HttpClient("https://vendor.invalid", {}, pool=_Pool(text.encode("utf-8", "surrogatepass")))  # type: ignore[arg-type]
    return client.get_json("/stats")


# --- LaunchDarkly -------------------------------------------------------------------------------------
LD_NOW_MS = 1_795_392_000_000 + 12 * 3_600_000  # 2026-11-21T12:00Z
LD_WINDOW = LD_NOW_MS - 3 * 3_600_000
LD_DIMS = (("ProjectKey", "ai-gateway"), ("AIConfigKey", "support-chatbot"), ("Environment", "production"))


def _ld_fields() -> list[str]:
    from shared import metric_catalogue as mc

    return list(mc.LD_AI_CONFIG_FIELDS)


def _ld_ai_bodies() -> st.SearchStrategy[str]:
    fields = _ld_fields()
    numbers = st.integers(0, 10**6) | st.floats(0, 1e6)
    body = st.fixed_dictionaries(
        {}, optional=dict.fromkeys(fields, numbers | wild) | {"_links": wild, "extra": wild}
    )
    return st.one_of(body, body, body, wild, deep).map(render)


def check_ld_ai_config(text: str) -> str:
    from collectors.common.http import MalformedResponse
    from collectors.launchdarkly import ai_config_datapoints

    try:
        body = fetch(text)
        points, invalid, _ = ai_config_datapoints(body, LD_WINDOW, LD_DIMS)
    except MalformedResponse:
        return "rejected"
    offered = [name for name in _ld_fields() if body.get(name) is not None]
    assert len(points) + len(invalid) == len(offered), "every field offered is published or reported"
    datums, _ = publishable(points, LD_NOW_MS)
    assert all(int(d["Timestamp"].timestamp() * 1000) == LD_WINDOW for d in datums)
    return "published" if datums else "all dropped or invalid"


LD_DAY0 = LD_NOW_MS - LD_NOW_MS % 86_400_000
USAGE_TIMES = [LD_DAY0 - k * 86_400_000 for k in range(-1, 6)] + [(LD_DAY0 - 86_400_000) // 1000, 0, -5]
SPECIAL_TIMES = [Raw("NaN"), Raw("Infinity"), Raw("-Infinity"), Raw("1e400"), 1e300, -(2**63), 2**70]


def _ld_usage_bodies() -> st.SearchStrategy[str]:
    values = st.integers(0, 10**6) | st.floats(0, 1e6) | wild
    loose = {"0": values, "1": values, "2": wild, "x": wild, "\u00b2": wild, "\u0663": wild}
    # k = 1, 2, 3 days before today: the completed buckets of the 3-day plan
    in_plan = st.fixed_dictionaries(
        {"time": st.sampled_from(USAGE_TIMES[2:5]), "0": values},
        optional={k: v for k, v in loose.items() if k != "0"},
    )
    point = st.one_of(
        in_plan,
        in_plan,
        st.fixed_dictionaries(
            {"time": st.sampled_from(USAGE_TIMES) | st.sampled_from(SPECIAL_TIMES) | wild}, optional=loose
        ),
        wild,
    )
    entry = st.dictionaries(
        st.sampled_from(["sdkName", "sdkVersion", "contextKind", "", "a b", "Series", "\u00e9t\u00e9"]),
        st.sampled_from(["go-server-sdk", "7.1.0", "user", " ", ""]) | wild,
        max_size=4,
    )
    body = st.fixed_dictionaries(
        {
            "metadata": st.lists(entry, max_size=4) | wild,
            "series": st.lists(point, min_size=1, max_size=4) | wild,
        },
        optional={"_links": wild},
    )
    return st.one_of(body, body, body, wild, deep).map(render)


def check_ld_usage(text: str) -> str:
    from collectors.common.http import MalformedResponse
    from collectors.launchdarkly import usage_datapoints, usage_plan

    plan = usage_plan(None, LD_NOW_MS, 3)
    assert plan is not None
    try:
        body = fetch(text)
        result = usage_datapoints(body, "total-mau", plan, LD_NOW_MS)
    except MalformedResponse:
        return "rejected"
    series = body.get("series") or []
    offered = sum(len(p) - ("time" in p) if isinstance(p, dict) else 1 for p in series)
    assert len(result.datapoints) + result.skipped <= offered
    for point in result.datapoints:
        assert plan.from_ms <= point.timestamp_ms and point.timestamp_ms + 86_400_000 <= plan.to_ms
    datums, _ = publishable(result.datapoints, LD_NOW_MS)
    return "published" if datums else "nothing due"


# --- Perf -------------------------------------------------------------------------------------------
PERF_NOW_MS = int(datetime(2024, 1, 3, 12, tzinfo=UTC).timestamp() * 1000)  # the seed's daily dates
PERF_ENDPOINTS = ("overview", "customer", "performance", "failures", "providers", "daily")


def _perf_bodies(endpoint: str) -> st.SearchStrategy[str]:
    from tests.fakes.vendor_data import PERF_SEED_JSON

    seed = json.loads(PERF_SEED_JSON[endpoint])
    return st.one_of(mutated(seed), mutated(seed), mutated(seed), wild, deep).map(render)


def check_perf(endpoint: str, text: str) -> str:
    from collectors.common.http import MalformedResponse
    from collectors.perf import daily_plan, map_daily, map_gauges
    from shared import metric_catalogue as mc

    names = {spec.metric.name for spec in mc.perf_fields(endpoint)}
    tick = PERF_NOW_MS - PERF_NOW_MS % 60_000
    try:
        body = fetch(text)
        if endpoint == "daily":
            plan = daily_plan(None, PERF_NOW_MS, 7)
            assert plan is not None
            mapped, newest = map_daily(body, plan)
            for point in mapped.datapoints:
                assert plan.first_ms <= point.timestamp_ms < plan.today_ms, "only completed days"
                assert newest is not None and point.timestamp_ms <= newest
        else:
            mapped = map_gauges(endpoint, body, tick)
            assert all(point.timestamp_ms == tick for point in mapped.datapoints)
    except MalformedResponse:
        return "rejected"
    assert {point.metric.name for point in mapped.datapoints} <= names
    datums, _ = publishable(mapped.datapoints, PERF_NOW_MS)
    return "published" if datums else ("invalid reported" if mapped.invalid else "nothing")


# --- Flashback ----------------------------------------------------------------------------------------
FB_NOW_MS = LD_NOW_MS
FB_IDS = ["550e8400-e29b-41d4-a716-446655440000", "llm-2", "", "ünï", " "]


def _fb_fields() -> list[str]:
    from shared import metric_catalogue as mc

    return list(mc.FLASHBACK_FIELDS)


def _fb_payloads() -> st.SearchStrategy[tuple[str, dict[str, int], str | None]]:
    fields = ["totalApiCalls", "totalTokensIn", "totalTokensOut", "totalLlmTokensIn", "totalLlmTokensOut",
              "totalPolicyViolations", "totalAlerts", "totalBlocks"]  # fmt: skip
    digits = st.integers(0, 2**70).map(str)
    total = st.one_of(digits, digits, st.sampled_from(NUMERIC_STRINGS), wild)
    entry = st.fixed_dictionaries(
        {"aiLlmId": st.sampled_from(FB_IDS) | wild}, optional=dict.fromkeys(fields, total)
    )
    stats = st.lists(st.one_of(entry, entry, wild), max_size=4)
    body = st.fixed_dictionaries(
        {
            "success": st.one_of(st.just(True), st.just(True), wild),
            "stats": st.one_of(stats, stats, stats, wild),
        }
    )
    previous = st.builds(
        lambda ids, value: {f"{i}/{f}": value + k for i in ids for k, f in enumerate(fields)},
        st.one_of(st.just([*FB_IDS, "all"]), st.lists(st.sampled_from([*FB_IDS, "all"]), max_size=3)),
        st.integers(0, 2**64),
    )
    only = st.none() | st.sampled_from(FB_IDS[:2])
    return st.tuples(st.one_of(body, body, body, wild, deep).map(render), previous, only)


def check_flashback(payload: tuple[str, dict[str, int], str | None]) -> str:
    from collectors.common.http import MalformedResponse
    from collectors.flashback import increments, stats_entries

    text, previous, only = payload
    try:
        entries = stats_entries(fetch(text))
    except MalformedResponse:
        return "rejected"
    result = increments(entries, previous, FB_NOW_MS, only)
    offered = 0
    for entry in entries:
        ai_llm_id = str(entry.get("aiLlmId") or only or "all")
        if only is None or ai_llm_id == only:
            offered += sum(1 for name in _fb_fields() if name in entry)
    accounted = len(result.datapoints) + len(result.baselined) + len(result.invalid)
    assert accounted == offered, f"{accounted} accounted for, {offered} offered"
    for point in result.datapoints:
        assert isinstance(point.value, int) and point.value >= 0, point.value
    assert all(isinstance(v, int) and v >= 0 for v in result.totals.values())
    datums, _ = publishable(result.datapoints, FB_NOW_MS)
    return "published" if datums else "baseline or invalid"


# --- the property objects -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Property:
    component: str
    name: str
    strategy: st.SearchStrategy[Any]
    check: Callable[[Any], str]


def collector_properties() -> list[Property]:
    props = [
        Property("launchdarkly", "AI Config metrics bodies", _ld_ai_bodies(), check_ld_ai_config),
        Property("launchdarkly", "usage SeriesListRep bodies", _ld_usage_bodies(), check_ld_usage),
        Property("flashback", "stats bodies", _fb_payloads(), check_flashback),
    ]
    for endpoint in PERF_ENDPOINTS:
        props.append(
            Property(
                "perf",
                f"/v1/metrics/{endpoint} bodies",
                _perf_bodies(endpoint),
                functools.partial(check_perf, endpoint),
            )
        )
    return props


@dataclass
class PropertyRun:
    component: str
    name: str
    inputs: int = 0
    crashes: int = 0
    broken: int = 0  # a rule (AssertionError) broken
    labels: Counter[str] | None = None
    first_failure: str = ""


def run_property(prop: Property, examples: int = 1000) -> PropertyRun:
    """Run `examples` generated inputs through the check, counting outcomes instead of stopping."""
    result = PropertyRun(prop.component, prop.name, labels=Counter())

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(prop.strategy)
    def body(example: Any) -> None:
        result.inputs += 1
        try:
            label = prop.check(example)
        except AssertionError as exc:
            result.broken += 1
            result.first_failure = result.first_failure or f"{exc!r} on {example!r}"[:300]
            return
        except Exception as exc:
            result.crashes += 1
            result.first_failure = result.first_failure or f"{type(exc).__name__}: {exc} on {example!r}"[:300]
            return
        assert result.labels is not None
        result.labels[label] += 1

    body()
    return result


# --- the chat handler ---------------------------------------------------------------------------------
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
            assert set(body) == {"answer", "model_id", "cached", "usage", "latency_ms", "request_id"}
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


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)


def valid_body(body: Any) -> bool:
    """The contract's rules, written independently of the implementation (the oracle)."""
    models = chat_models()
    if not isinstance(body, dict) or set(body) - {"message", "model_id", "system", "max_tokens", "use_cache"}:
        return False
    message = body.get("message")
    if not isinstance(message, str) or not 1 <= len(message.strip()) <= 8000:
        return False
    model = body.get("model_id")
    if model is not None and (not isinstance(model, str) or model.strip() not in models):
        return False
    if body.get("system") is not None and not isinstance(body["system"], str):
        return False
    tokens = body.get("max_tokens")
    if tokens is not None and (type(tokens) is not int or not 1 <= tokens <= 4096):
        return False
    return "use_cache" not in body or type(body["use_cache"]) is bool


def _near_valid_bodies() -> st.SearchStrategy[dict[str, Any]]:
    models = chat_models()
    messages = st.text(min_size=1, max_size=60) | st.sampled_from(
        ["x" * 8000, "x" * 8001, "  " + "y" * 8000 + "\n", "\u00e9" * 8000, "\t", "\u3000ok"]
    )
    mostly_valid = st.fixed_dictionaries(
        {"message": messages},
        optional={
            "model_id": st.sampled_from([*models, f" {models[2]} ", models[0].upper()]),
            "system": st.text(max_size=20) | st.none(),
            "max_tokens": st.integers(0, 4097) | st.none(),
            "use_cache": st.booleans(),
        },
    )
    return mostly_valid | st.fixed_dictionaries(
        {},
        optional={
            "message": st.text(max_size=60) | json_values,
            "model_id": st.sampled_from([*models, " " + models[1], "amazon.titan", ""]) | json_values,
            "system": st.text(max_size=20) | st.none() | st.integers(),
            "max_tokens": st.integers(-5, 5000)
            | st.floats()
            | st.booleans()
            | st.text(max_size=4)
            | st.none(),
            "use_cache": st.booleans() | st.integers(0, 1) | st.none() | st.text(max_size=3),
            "extra": json_values,
        },
    )


def check_chat_body(body: dict[str, Any]) -> str:
    """Status 200 iff the body is valid; an invalid one never reaches the model nor the metrics."""
    from tests.support import http_api_event

    harness = current()
    harness.model.behaviour = {"kind": "answer", "chunks": ["fine"], "stop": "end_turn",
                               "usage": {"inputTokens": 3, "outputTokens": 1}}  # fmt: skip
    calls, records = harness.model.calls, len(harness.records)
    status, _, documents = harness.answer(http_api_event(body))
    valid = valid_body(body)
    assert (status == 200) == valid, (status, body)
    if not valid:
        assert harness.model.calls == calls and len(harness.records) == records and documents == []
    else:
        assert len(harness.records) == records + 1 and len(documents) == 1
    return str(status)


def _raw_bodies() -> st.SearchStrategy[tuple[str, bool]]:
    text = st.text(max_size=300) | st.binary(max_size=200).map(lambda b: b.decode("latin-1"))
    return st.tuples(text, st.booleans())


def check_chat_raw(payload: tuple[str, bool]) -> str:
    from tests.support import http_api_event

    raw, b64 = payload
    harness = current()
    calls = harness.model.calls
    event = http_api_event(raw if raw else None)
    event["isBase64Encoded"] = b64
    status, _, documents = harness.answer(event)
    if status != 200:
        assert harness.model.calls == calls and documents == []
    return str(status)


def _mutate(event: dict[str, Any], path: list[str], value: Any) -> dict[str, Any]:
    target: Any = event
    for key in path[:-1]:
        if not isinstance(target, dict):
            return event
        target = target.setdefault(key, {})
    if isinstance(target, dict):
        target[path[-1]] = value
    return event


EVENT_PATHS = [
    *(["version"], ["routeKey"], ["rawPath"], ["headers"], ["body"], ["isBase64Encoded"], ["cookies"]),
    *(["requestContext"], ["requestContext", "http"], ["requestContext", "http", "method"]),
    *(["requestContext", "http", "path"], ["requestContext", "timeEpoch"], ["requestContext", "requestId"]),
    ["queryStringParameters"],
]


def _events() -> st.SearchStrategy[tuple[list[tuple[list[str], Any]], Any, bool]]:
    return st.tuples(
        st.lists(st.tuples(st.sampled_from(EVENT_PATHS), json_values), max_size=3),
        st.none() | json_values,
        st.booleans(),
    )


def check_chat_event(payload: tuple[list[tuple[list[str], Any]], Any, bool]) -> str:
    from tests.support import http_api_event

    mutations, whole, use_whole = payload
    harness = current()
    calls = harness.model.calls
    event: Any = whole if use_whole else http_api_event({"message": "hi"})
    if not use_whole:
        for path, value in mutations:
            event = _mutate(event, path, value)
    status, _, documents = harness.answer(event)
    if status != 200:
        assert harness.model.calls == calls and documents == []
    return str(status)


def _model_behaviours() -> st.SearchStrategy[dict[str, Any]]:
    usage = st.fixed_dictionaries(
        {},
        optional={
            "inputTokens": st.integers(0, 10**7),
            "outputTokens": st.integers(0, 10**7),
            "cacheReadInputTokens": st.integers(0, 10**6),
        },
    )
    return st.fixed_dictionaries(
        {
            "kind": st.sampled_from(
                ["answer", "answer", "throttle", "client_error", "stream_error", "dropped", "cut_short"]
            ),
            "chunks": st.lists(st.text(min_size=1, max_size=8), max_size=5),
            "fail_at": st.integers(0, 5),
            "stop": st.sampled_from(
                ["end_turn", "stop_sequence", "max_tokens", "content_filtered", "guardrail_intervened"]
            ),
            "usage": usage,
            "read_fails": st.booleans(),
            "write_fails": st.booleans(),
            "use_cache": st.booleans(),
            "message": st.text(min_size=1, max_size=40).filter(lambda m: m.strip()),
            "model": st.sampled_from(chat_models()),
        }
    )


def check_chat_model(b: dict[str, Any]) -> str:
    """Whatever the model and the cache do: the status the contract says, one EMF document with the right
    numbers, and nothing cached from a failed or incomplete answer."""
    from tests.support import http_api_event

    harness = current()
    harness.cache.items.clear()
    harness.cache.read_fails, harness.cache.write_fails = b["read_fails"], b["write_fails"]
    harness.model.behaviour = b
    records = len(harness.records)
    request = {"message": b["message"], "model_id": b["model"], "use_cache": b["use_cache"]}
    status, body, documents = harness.answer(http_api_event(request))
    fails_early = b["kind"] == "stream_error" and b["fail_at"] < len(b["chunks"])
    drops = b["kind"] == "dropped" and b["fail_at"] < len(b["chunks"])
    if b["kind"] == "throttle":
        expected = 429
    elif b["kind"] in ("client_error", "cut_short", "stream_error", "dropped") or fails_early or drops:
        expected = 502
    else:
        expected = 200
    assert status == expected, (status, body, b)
    assert len(harness.records) == records + 1 and len(documents) == 1, "one EMF document per request"
    (document,) = documents
    cache_trouble = b["use_cache"] and (b["read_fails"] or (expected == 200 and b["write_fails"]
                                        and b["stop"] in ("end_turn", "stop_sequence")))  # fmt: skip
    assert document.get("CacheErrors") == ([1] if cache_trouble else None), (document, b)
    if expected != 200:
        assert document["ModelErrors"] == [1] and "InputTokens" not in document
        assert harness.cache.items == {}, "nothing cached from a failed answer"
        return str(status)
    usage = b["usage"]
    assert body["usage"]["input_tokens"] == usage.get("inputTokens", 0) == document["InputTokens"][0]
    assert body["usage"]["output_tokens"] == usage.get("outputTokens", 0) == document["OutputTokens"][0]
    assert body["answer"] == "".join(b["chunks"])
    complete = b["stop"] in ("end_turn", "stop_sequence")
    cached = b["use_cache"] and complete and not b["write_fails"]
    assert len(harness.cache.items) == int(cached), "only a complete answer is cached"
    return "200 cached" if cached else "200"


def chat_properties() -> list[Property]:
    return [
        Property("chatbot", "near-valid bodies (independent oracle)", _near_valid_bodies(), check_chat_body),
        Property("chatbot", "raw bodies", _raw_bodies(), check_chat_raw),
        Property("chatbot", "arbitrary and mutated events", _events(), check_chat_event),
        Property("chatbot", "model and cache behaviours", _model_behaviours(), check_chat_model),
    ]
