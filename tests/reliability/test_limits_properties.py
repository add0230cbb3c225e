"""Property-based: whatever sequence of live answers, model failures and cache hits several callers make,
the usage table holds exactly what their answers cost, no reservation is left behind, a request is
refused exactly when its worst case would not fit, and no limit is ever passed while the model reports
an input within the estimate.

The real handler, service, meter and usage store run against moto's DynamoDB (atomic per call, as
DynamoDB) and the loopback Bedrock, which answers each step as the example says. The oracle below keeps
its own ledger per caller, written from the contract, not from the implementation: a live answer charges
its reported total tokens and its cost at MODEL_PRICES; a failure and a cached answer charge nothing; a
request is refused when, in some limited window, charged + worst case > limit (sequential requests hold
nothing between them, so reserved == charged when each one starts).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

import boto3
import pytest
from botocore.retries.standard import ExponentialBackoff
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from chatbot import chatbot_handler
from chatbot.caller_limits import caller_limits_from_env
from chatbot.limits import to_usd
from chatbot.settings import get_settings
from chatbot.tokens import Usage, estimate_tokens, estimated_cost
from chatbot.usage_store import charged, holds, reserved
from chatbot.windows import windows_at
from shared.aws_clients import client
from tests.conftest import MODELS
from tests.fakes.bedrock_server import STREAM_ERROR, THROTTLE, Behavior, FakeBedrock
from tests.fakes.chat_fakes import ManualClock
from tests.fakes.moto_server import MotoServer
from tests.reliability.lab import FAST_BACKOFF, captured_output
from tests.support import USAGE_TABLE, FakeLambdaContext, create_usage_table, http_api_event

SONNET = MODELS[0]
PRICE = (0.003, 0.015)  # tests.conftest.PRICES for SONNET, USD per 1,000 tokens
NOW = 1_796_664_000.0  # 2026-12-07T17:20:00Z: every example's requests fall in the same windows
WINDOWS = windows_at(NOW)
MAX_TOKENS = (8, 20, 45)
# Per caller (by position): CALLER_LIMITS entries; the first uses the default, the last has no limits.
DEFAULT = {"hour_tokens": 90, "day_usd": 0.0009}
OVERRIDES: tuple[dict[str, float | None] | None, ...] = (
    None,
    {"hour_tokens": None, "day_tokens": 100, "month_usd": 0.0006},
    {"hour_tokens": None, "day_usd": None},
)
_examples = itertools.count()


@dataclass
class Ledger:
    """The oracle's view of one caller: its limits and what it was charged."""

    limits: dict[str, float]
    tokens: int = 0
    usd: Decimal = field(default_factory=lambda: Decimal(0))

    def fits(self, worst_tokens: int, worst_usd: Decimal) -> bool:
        for key, limit in self.limits.items():
            if key.endswith("_tokens") and self.tokens + worst_tokens > limit:
                return False
            if key.endswith("_usd") and self.usd + worst_usd > to_usd(limit):
                return False
        return True


def _cost(input_tokens: int, output_tokens: int) -> Decimal:
    prices = get_settings().model_prices
    return to_usd(estimated_cost(SONNET, Usage(input_tokens, output_tokens), prices))


@pytest.fixture
def metered_chat(
    aws: MotoServer, bedrock: FakeBedrock, chat_env: None
) -> Iterator[tuple[FakeBedrock, Any, dict[str, Any]]]:
    dynamodb = boto3.client("dynamodb", endpoint_url=aws.endpoint)
    dynamodb.create_table(
        TableName="chat-cache",
        KeySchema=[{"AttributeName": "cache_key", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "cache_key", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    create_usage_table(dynamodb)
    config: dict[str, Any] = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("USAGE_TABLE_NAME", USAGE_TABLE)
        mp.setattr(ExponentialBackoff, "_DEFAULT_BACKOFF_CONFIG", FAST_BACKOFF)
        mp.setattr(ExponentialBackoff, "_SERVICE_BACKOFF_CONFIG", {})
        # The property is about the accounting, not the 2 s timeouts: on a loaded machine moto can stall
        # past them twice in a row, which is "metering unreachable" (tested in tests/integration).
        patient = client("dynamodb", max_attempts=3, connect_timeout=5.0, read_timeout=30.0)
        mp.setattr(chatbot_handler, "_dynamodb", lambda: patient)
        get_settings.cache_clear()
        deps = chatbot_handler.dependencies.__wrapped__()
        meter = replace(deps.meter, caller_limits=lambda: config["limits"], wall=ManualClock(NOW))
        deps = replace(deps, meter=meter)
        mp.setattr(chatbot_handler, "dependencies", lambda: deps)

        yield bedrock, dynamodb, config
    get_settings.cache_clear()


def _items(dynamodb: Any, caller: str) -> list[dict[str, Any]]:
    keys = [{"caller": {"S": caller}, "window": {"S": window.id}} for window in WINDOWS]
    found = dynamodb.batch_get_item(RequestItems={USAGE_TABLE: {"Keys": keys, "ConsistentRead": True}})
    return list(found["Responses"][USAGE_TABLE])


steps = st.lists(
    st.fixed_dictionaries(
        {
            "caller": st.integers(0, len(OVERRIDES) - 1),
            "message": st.integers(0, 2),
            "max_tokens": st.sampled_from(MAX_TOKENS),
            "kind": st.sampled_from(["answer", "answer", "answer", THROTTLE, STREAM_ERROR]),
            "use_cache": st.booleans(),
            "input_below_estimate": st.integers(0, 3),
            "output_share": st.integers(0, 100),
        }
    ),
    min_size=1,
    max_size=16,
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(sequence=steps)
def test_given_any_sequence_of_answers_failures_and_cache_hits_then_usage_is_exact_and_no_limit_passed(
    metered_chat: tuple[FakeBedrock, Any, dict[str, Any]], sequence: list[dict[str, Any]]
) -> None:
    bedrock, dynamodb, config = metered_chat
    example = next(_examples)
    callers = [f"arn:aws:iam::123456789012:user/p{example}-{index}" for index in range(len(OVERRIDES))]
    overrides = {caller: entry for caller, entry in zip(callers, OVERRIDES, strict=True) if entry is not None}
    config["limits"] = caller_limits_from_env(json.dumps({"default": DEFAULT, "callers": overrides}))
    ledgers = [
        Ledger({k: v for k, v in {**DEFAULT, **(entry or {})}.items() if v is not None})
        for entry in OVERRIDES
    ]
    cached: set[tuple[str, int]] = set()
    for step in sequence:
        caller, ledger = callers[step["caller"]], ledgers[step["caller"]]
        message = f"question {example}-{step['message']} " + "about limits " * step["message"]
        estimate = estimate_tokens(message.strip())
        body = {"message": message, "max_tokens": step["max_tokens"], "use_cache": step["use_cache"]}
        inputs = max(1, estimate - step["input_below_estimate"])
        outputs = step["max_tokens"] * step["output_share"] // 100
        bedrock.set_default(SONNET, Behavior(kind=step["kind"], text="word" * max(outputs, 1),
                                             input_tokens=inputs, output_tokens=outputs))  # fmt: skip
        with captured_output():
            response = chatbot_handler.handler(http_api_event(body, caller=caller), FakeLambdaContext())
        status, answer = response["statusCode"], json.loads(response["body"])
        for item in _items(dynamodb, caller):  # sequential: nothing is held once a request is answered
            assert holds(item) == {} and reserved(item) == charged(item), (step, status, answer, item)
        key = (message, step["max_tokens"])
        if step["use_cache"] and key in cached:
            assert (status, answer["cached"]) == (200, True), "a cached answer is served, over a limit too"
            event("cache hit")
            continue
        worst = estimate + step["max_tokens"]
        if not ledger.fits(worst, _cost(estimate, step["max_tokens"])):
            assert (status, answer["error"]) == (429, "limit_exceeded"), (step, ledger, answer)
            assert int(response["headers"]["Retry-After"]) >= 1
            event("refused")
            continue
        expected = {"answer": 200, THROTTLE: 429, STREAM_ERROR: 502}[step["kind"]]
        assert status == expected, (step, ledger, answer)
        event(f"status {status}")
        if status == 200:
            assert answer["usage"]["total_tokens"] == inputs + outputs
            ledger.tokens += inputs + outputs
            ledger.usd += _cost(inputs, outputs)
            if step["use_cache"]:
                cached.add(key)
            if ledger.limits:
                assert {
                    entry["used"] for name, entry in answer["limits"].items() if name.endswith("_tokens")
                } <= {ledger.tokens}
    for caller, ledger in zip(callers, ledgers, strict=True):
        for window in WINDOWS:
            key = {"caller": {"S": caller}, "window": {"S": window.id}}
            item = dynamodb.get_item(TableName=USAGE_TABLE, Key=key, ConsistentRead=True).get("Item", {})
            assert charged(item).tokens == ledger.tokens and charged(item).usd == ledger.usd, (window, item)
            assert reserved(item) == charged(item) and holds(item) == {}, "no reservation left behind"
        for name, limit in ledger.limits.items():
            used = ledger.tokens if name.endswith("_tokens") else ledger.usd
            assert used <= (to_usd(limit) if name.endswith("_usd") else limit), f"{name} passed"
