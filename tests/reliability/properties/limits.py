"""Callers' limits: whatever sequence of live answers, model failures and cache hits several callers make,
the usage table holds exactly what their answers cost, no reservation is left behind, a request is
refused exactly when its worst case would not fit, and no limit is ever passed while the model reports
an input within the estimate.

The real handler, service, meter and usage store run against moto's DynamoDB (atomic per call, as
DynamoDB) and the loopback Bedrock, which answers each step as the example says (`limits_harness`: one
case of the reliability lab). The oracle keeps its own ledger per caller, written from the contract, not
from the implementation: a live answer charges its reported total tokens and its cost at MODEL_PRICES; a
failure and a cached answer charge nothing; a request is refused when, in some limited window,
charged + worst case > limit (sequential requests hold nothing between them, so reserved == charged
when each one starts). Each example uses callers of its own, so examples never share a ledger.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from hypothesis import event
from hypothesis import strategies as st

from tests.fakes.bedrock_server import STREAM_ERROR, THROTTLE
from tests.reliability.properties.core import Property

NOW = 1_796_664_000.0  # 2026-12-07T17:20:00Z: every example's requests fall in the same windows
MAX_TOKENS = (8, 20, 45)
# Per caller (by position): CALLER_LIMITS entries; the first uses the default, the last has no limits.
DEFAULT = {"hour_tokens": 90, "day_usd": 0.0009}
OVERRIDES: tuple[dict[str, float | None] | None, ...] = (
    None,
    {"hour_tokens": None, "day_tokens": 100, "month_usd": 0.0006},
    {"hour_tokens": None, "day_usd": None},
)
USAGE_TABLE = "reliability-usage"
_examples = itertools.count()


@dataclass
class Ledger:
    """The oracle's view of one caller: its limits and what it was charged."""

    limits: dict[str, float]
    tokens: int = 0
    usd: Decimal = field(default_factory=lambda: Decimal(0))

    def fits(self, worst_tokens: int, worst_usd: Decimal) -> bool:
        from chatbot.limits import to_usd

        for key, limit in self.limits.items():
            if key.endswith("_tokens") and self.tokens + worst_tokens > limit:
                return False
            if key.endswith("_usd") and self.usd + worst_usd > to_usd(limit):
                return False
        return True


@dataclass
class LimitsHarness:
    bedrock: Any
    dynamodb: Any
    config: dict[str, Any]  # "limits": the CallerLimits the meter applies to the current example

    def items(self, caller: str) -> list[dict[str, Any]]:
        from chatbot.windows import windows_at

        keys = [{"caller": {"S": caller}, "window": {"S": window.id}} for window in windows_at(NOW)]
        request = {USAGE_TABLE: {"Keys": keys, "ConsistentRead": True}}
        return list(self.dynamodb.batch_get_item(RequestItems=request)["Responses"][USAGE_TABLE])


_harness: list[LimitsHarness] = []


@contextmanager
def limits_harness(lab: Any) -> Iterator[LimitsHarness]:
    """A lab case with the usage table; the handler's meter on a fixed wall clock (NOW), its limits
    whatever the current example sets. Undone on exit."""
    import pytest

    from chatbot import chatbot_handler
    from chatbot.settings import get_settings
    from shared.aws_clients import client
    from tests.fakes.chat_fakes import ManualClock
    from tests.support import create_usage_table

    with lab.case(None, USAGE_TABLE_NAME=USAGE_TABLE) as case, pytest.MonkeyPatch.context() as mp:
        dynamodb = case.aws("dynamodb")
        create_usage_table(dynamodb, USAGE_TABLE)
        # The property is about the accounting, not the 2 s timeouts: on a loaded machine moto can stall
        # past them twice in a row, which is "metering unreachable" (tested in tests/integration).
        patient = client("dynamodb", max_attempts=3, connect_timeout=5.0, read_timeout=30.0)
        mp.setattr(chatbot_handler, "_dynamodb", lambda: patient)
        get_settings.cache_clear()
        config: dict[str, Any] = {}
        deps = chatbot_handler.dependencies.__wrapped__()
        meter = replace(deps.meter, caller_limits=lambda: config["limits"], wall=ManualClock(NOW))
        deps = replace(deps, meter=meter)
        mp.setattr(chatbot_handler, "dependencies", lambda: deps)
        _harness.append(LimitsHarness(lab.bedrock, dynamodb, config))
        try:
            yield _harness[-1]
        finally:
            _harness.pop()
            get_settings.cache_clear()


def current() -> LimitsHarness:
    assert _harness, "inside limits_harness() only"
    return _harness[-1]


def _cost(input_tokens: int, output_tokens: int) -> Decimal:
    from chatbot.limits import to_usd
    from chatbot.settings import get_settings
    from chatbot.tokens import Usage, estimated_cost
    from tests.reliability.lab import MODELS

    prices = get_settings().model_prices
    return to_usd(estimated_cost(MODELS[0], Usage(input_tokens, output_tokens), prices))


def limit_steps() -> st.SearchStrategy[list[dict[str, Any]]]:
    return st.lists(
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


def check_limits(sequence: list[dict[str, Any]]) -> str:
    """One sequence of requests of three callers through the real handler, against the oracle's ledger."""
    from chatbot import chatbot_handler
    from chatbot.caller_limits import caller_limits_from_env
    from chatbot.limits import to_usd
    from chatbot.tokens import estimate_tokens
    from chatbot.usage_store import charged, holds, reserved
    from chatbot.windows import windows_at
    from tests.fakes.bedrock_server import Behavior
    from tests.reliability.lab import MODELS, captured_output
    from tests.support import FakeLambdaContext, http_api_event

    harness = current()
    example = next(_examples)
    callers = [f"arn:aws:iam::123456789012:user/p{example}-{index}" for index in range(len(OVERRIDES))]
    overrides = {caller: entry for caller, entry in zip(callers, OVERRIDES, strict=True) if entry is not None}
    harness.config["limits"] = caller_limits_from_env(json.dumps({"default": DEFAULT, "callers": overrides}))
    ledgers = [
        Ledger({k: v for k, v in {**DEFAULT, **(entry or {})}.items() if v is not None})
        for entry in OVERRIDES
    ]
    cached: set[tuple[str, int]] = set()
    refusals = 0
    for step in sequence:
        caller, ledger = callers[step["caller"]], ledgers[step["caller"]]
        message = f"question {example}-{step['message']} " + "about limits " * step["message"]
        estimate = estimate_tokens(message.strip())
        body = {"message": message, "max_tokens": step["max_tokens"], "use_cache": step["use_cache"]}
        inputs = max(1, estimate - step["input_below_estimate"])
        outputs = step["max_tokens"] * step["output_share"] // 100
        answer = Behavior(kind=step["kind"], text="word" * max(outputs, 1), input_tokens=inputs,
                          output_tokens=outputs)  # fmt: skip
        harness.bedrock.set_default(MODELS[0], answer)
        with captured_output():
            response = chatbot_handler.handler(http_api_event(body, caller=caller), FakeLambdaContext())
        status, answer = response["statusCode"], json.loads(response["body"])
        for item in harness.items(caller):  # sequential: nothing is held once a request is answered
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
            refusals += 1
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
        items = {item["window"]["S"]: item for item in harness.items(caller)}
        for window in windows_at(NOW):
            item = items.get(window.id, {})
            assert charged(item).tokens == ledger.tokens and charged(item).usd == ledger.usd, (window, item)
            assert reserved(item) == charged(item) and holds(item) == {}, "no reservation left behind"
        for name, limit in ledger.limits.items():
            used = ledger.tokens if name.endswith("_tokens") else ledger.usd
            assert used <= (to_usd(limit) if name.endswith("_usd") else limit), f"{name} passed"
    return "some refused" if refusals else "none refused"


def limits_property() -> Property:
    return Property(
        "chatbot",
        "callers' limits: answers, failures, cache hits",
        limit_steps(),
        check_limits,
        max_examples=100,
    )
