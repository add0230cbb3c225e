"""What the load sends: callers with limits, one HTTP API event per request, each request's injected fault.

Every request's fate is decided before it is sent, except the one the load is about: whether its caller's
limit admits it while the others of that caller are in flight. A fault is a marker in the message that the
loopback Bedrock answers with that fault (`FakeBedrock.when`), so it hits exactly that request whatever
order the requests arrive in. All messages have the same length, so every request reserves the same worst
case, and the fake reports an input of at most the estimate (a limit is then never passed, not even by
the bounded overshoot `chatbot.limits` allows for an input above the estimate).
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from offline.environment import MODEL_PRICES, MODELS
from tests.fakes.bedrock_server import DROP, STREAM_ERROR, THROTTLE, Behavior

NOW = 1_796_664_000.0  # 2026-12-07T17:20:00Z: the meter's wall clock (every request in the same windows)
ACCOUNT = "123456789012"
MESSAGE_CHARS = 96  # every message: 24 tokens by the estimate rule
INPUT_TOKENS = 23  # what the fake reports: within the estimate
MAX_TOKENS = 32
OUTPUT_TOKENS = 24
ANSWER_TEXT = "load answer " * 8  # 96 characters: 24 tokens, within max_tokens (no truncation)
WORST_TOKENS = MESSAGE_CHARS // 4 + MAX_TOKENS

FAULTS = {  # marker -> what the fake does (every attempt botocore makes); the status and error it gets
    "[fault:throttle]": (Behavior(kind=THROTTLE), 429, "throttled"),
    "[fault:stream-error]": (
        Behavior(kind=STREAM_ERROR, text=ANSWER_TEXT, chunk_chars=12),
        502,
        "model_error",
    ),
    "[fault:drop]": (Behavior(kind=DROP, text=ANSWER_TEXT, chunk_chars=12), 502, "model_error"),
}
ANSWER = Behavior(text=ANSWER_TEXT, input_tokens=INPUT_TOKENS, output_tokens=OUTPUT_TOKENS)


def _arn(kind: str, name: str) -> str:
    return f"arn:aws:{kind}::{ACCOUNT}:{name}"


ALICE, BOB = _arn("iam", "user/alice"), _arn("iam", "user/bob")
AGENT, BATCH = _arn("sts", "assumed-role/agents/nightly-run"), _arn("iam", "user/batch")
SHARES = {ALICE: 5, BOB: 4, AGENT: 4, BATCH: 3}  # of every 16 requests
DEFAULT_LIMITS: dict[str, float | None] = {"month_tokens": 1_000_000}  # generous: never refuses here
_PRICE = MODEL_PRICES[MODELS[0]]  # every request asks the default model
WORST_USD = (
    Decimal(repr(_PRICE["input_per_1k"])) * (MESSAGE_CHARS // 4)
    + Decimal(repr(_PRICE["output_per_1k"])) * MAX_TOKENS
) / 1000


@dataclass(frozen=True)
class Request:
    index: int
    caller: str
    body: dict[str, Any]
    fault: str | None  # a FAULTS marker or None
    request_id: str

    def event(self) -> dict[str, Any]:
        from tests.support import http_api_event

        return http_api_event(self.body, caller=self.caller, request_id=self.request_id)


@dataclass(frozen=True)
class Plan:
    requests: list[Request]
    overrides: dict[str, dict[str, float | None]]  # CALLER_LIMITS' `callers`

    @property
    def caller_limits(self) -> str:
        return json.dumps({"default": DEFAULT_LIMITS, "callers": self.overrides})

    def limits_of(self, caller: str) -> dict[str, Decimal]:
        """The oracle's view of a caller's limits (from the plan, not from the product's parser)."""
        merged = {**DEFAULT_LIMITS, **self.overrides.get(caller, {})}
        return {key: Decimal(repr(value)) for key, value in merged.items() if value is not None}

    @property
    def limited(self) -> set[str]:
        """The callers whose limits the plan makes tight enough to refuse some requests."""
        return {ALICE, BOB}


def _message(text: str) -> str:
    return (text + " " + "." * MESSAGE_CHARS)[:MESSAGE_CHARS]


def plan(requests: int, seed: int = 14, run: str = "load") -> Plan:
    """`requests` requests of the callers in their shares; about 1 in 10 carries a fault, 1 in 5 asks a
    question already asked (use_cache: a hit once the first answer is stored). Alice's hourly tokens and
    Bob's daily USD admit the worst case of half their requests: some of theirs are refused by design."""
    rng = random.Random(seed)
    callers = [caller for caller, share in SHARES.items() for _ in range(share)]
    markers = list(FAULTS)
    out = []
    for index in range(requests):
        caller = callers[index % len(callers)]
        fault = markers[index % len(markers)] if rng.random() < 0.1 else None
        repeated = fault is None and rng.random() < 0.2
        question = f"{run} popular question {index % 3}" if repeated else f"{run} question {index}"
        text = f"{fault} {question}" if fault else question
        body = {"message": _message(text), "max_tokens": MAX_TOKENS, "use_cache": repeated}
        out.append(Request(index, caller, body, fault, f"{run}-{index:04d}"))
    half = {caller: max(2, sum(r.caller == caller for r in out) // 2) for caller in (ALICE, BOB)}
    overrides: dict[str, dict[str, float | None]] = {
        ALICE: {"hour_tokens": half[ALICE] * WORST_TOKENS},
        BOB: {"day_usd": float(half[BOB] * WORST_USD)},
        BATCH: {"month_tokens": None},  # no limits at all (metering still runs)
    }
    return Plan(out, overrides)


def install_faults(bedrock: Any, model_id: str) -> None:
    """The fake answers every marker with its fault and anything else with ANSWER."""
    bedrock.set_default(model_id, ANSWER)
    for marker, (behavior, _, _) in FAULTS.items():
        bedrock.when(marker, behavior)
