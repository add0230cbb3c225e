"""A realistic chat traffic mix for the demo, sent through the real chatbot handler by several callers
(offline/demo_callers.py: IAM users and assumed-role sessions; the runaway agent loop is one session)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from offline.demo_callers import RUNAWAY, Caller, everyday_callers
from tests.fakes.bedrock_server import THROTTLE, Behavior, FakeBedrock
from tests.support import http_api_event

SONNET = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
HAIKU = "us.anthropic.claude-haiku-4-5-20251001-v1:0"
NOVA = "amazon.nova-lite-v1:0"
MODELS = (SONNET, HAIKU, NOVA)
MODEL_PRICES = {
    SONNET: {"input_per_1k": 0.003, "output_per_1k": 0.015},
    HAIKU: {"input_per_1k": 0.001, "output_per_1k": 0.005},
    NOVA: {"input_per_1k": 0.00006, "output_per_1k": 0.00024},
}

QUESTIONS = (
    "How do I rotate an IAM access key without downtime?",
    "Summarise the trade-offs between DynamoDB on-demand and provisioned capacity.",
    "Write a haiku about CloudWatch alarms at 3 a.m.",
    "What is the difference between p90 and p99 latency?",
    "Explain prompt caching in Amazon Bedrock in two sentences.",
    "Draft a polite reply declining a meeting invitation.",
    "Which metrics should I alarm on for a chatbot?",
    "Give me three names for a cost dashboard.",
)
SYSTEM = "You are a concise assistant for a cloud operations team."
SPIKE_REQUESTS = 45
SPIKE_EVERY_S = 30  # slow enough that its caller crosses 80% of its cap minutes before the cap

# Per-model timing profile: (first-token delay s, per-chunk delay s, tokens per answer scale).
PROFILES = {SONNET: (0.060, 0.004, 3), HAIKU: (0.025, 0.002, 2), NOVA: (0.015, 0.001, 1)}


def chat_event(
    body: dict[str, Any], time_epoch_ms: int | None = None, caller: Caller | None = None
) -> dict[str, Any]:
    """The HTTP API (payload 2.0) event API Gateway would send for this body, signed by `caller`."""
    event = http_api_event(body, time_epoch_ms=time_epoch_ms)
    if caller is not None:
        event["requestContext"]["authorizer"] = caller.authorizer()
    return event


@dataclass
class Request:
    body: dict[str, Any]
    behavior: Behavior | None = None  # scripted model behaviour for this request, if any
    offset_s: float = 0.0  # arrival, in seconds after the start of the replayed span
    caller: Caller | None = None  # who signed it (None: no IAM context, the caller `anonymous`)


@dataclass
class TrafficPlan:
    requests: list[Request] = field(default_factory=list)


def _answer_text(rng: random.Random, scale: int) -> str:
    sentences = [
        "Start with the smallest change that proves the idea.",
        "Measure before and after, with the same load.",
        "Alarm on symptoms users feel, not on every cause.",
        "Keep the blast radius small and the rollback fast.",
        "Prefer managed services where the undifferentiated work is heavy.",
        "Write down the decision and the reason next to it.",
    ]
    return " ".join(rng.choice(sentences) for _ in range(rng.randint(2, 4) * scale))


def build_plan(seed: int = 7, requests: int = 36, spike: bool = False, span_s: float = 3600.0) -> TrafficPlan:
    """Mostly new questions, some repeats (cache hits), a throttled call, optionally a token spike.

    Arrivals are spread over `span_s` seconds (the demo replays them as the last hour of traffic);
    the spike, if any (a runaway agent loop), sends a huge prompt every 30 s from half-way through.
    """
    rng = random.Random(seed)
    plan = TrafficPlan()
    asked: list[dict[str, Any]] = []
    for index in range(requests):
        if asked and rng.random() < 0.35:
            plan.requests.append(Request(dict(rng.choice(asked))))  # a repeat: served from the cache
            continue
        model = rng.choices(MODELS, weights=(5, 3, 2))[0]
        first, chunk, scale = PROFILES[model]
        body = {"message": f"{rng.choice(QUESTIONS)} (ticket {index})", "model_id": model, "system": SYSTEM}
        behavior = Behavior(
            text=_answer_text(rng, scale),
            first_token_delay=first * rng.uniform(0.6, 1.8),
            chunk_delay=chunk,
            chunk_chars=rng.choice((16, 24, 32)),
            cache_read_input_tokens=rng.choice((None, None, 512)) if model != NOVA else None,
        )
        plan.requests.append(Request(body, behavior))
        asked.append(body)
    # One request that Bedrock keeps throttling past botocore's retry budget -> 429.
    throttled = {"message": "Summarise last week's incidents.", "model_id": HAIKU, "use_cache": False}
    plan.requests.append(Request(throttled, Behavior(kind=THROTTLE)))
    offsets = sorted(rng.uniform(0, span_s - 60) for _ in plan.requests)
    callers = everyday_callers(len(plan.requests), seed)
    for request, offset, caller in zip(plan.requests, offsets, callers, strict=True):
        request.offset_s, request.caller = offset, caller
    if spike:  # a runaway agent loop: 45 huge prompts, one every 30 s from half-way through the hour
        for part in range(SPIKE_REQUESTS):
            message = f"Step {part}: re-read the repository and plan again."
            big: dict[str, Any] = {"message": message, "model_id": SONNET, "use_cache": False}
            behavior = Behavior(input_tokens=45_000, output_tokens=2_000, text="Re-planning. " * 40)
            offset = span_s / 2 + part * SPIKE_EVERY_S
            plan.requests.append(Request(big, behavior, offset_s=offset, caller=RUNAWAY))
        plan.requests.sort(key=lambda r: r.offset_s)
    return plan


def script_behavior(bedrock: FakeBedrock, request: Request, max_attempts: int) -> None:
    if request.behavior is None:
        return
    model = request.body.get("model_id", SONNET)
    repeats = max_attempts if request.behavior.kind == THROTTLE else 1
    bedrock.script(model, *([request.behavior] * repeats))
