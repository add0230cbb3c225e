"""The chatbot fault scenarios: cache (DynamoDB) and Bedrock faults, checked against the fake Bedrock's
scripted usage and the answers the client got (EMF read back through the CloudWatch Logs stand-in)."""

from __future__ import annotations

import json
import socket
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from tests.reliability.lab import CACHE_TABLE, MODELS, Lab
from tests.reliability.scenarios.harness import Harness, Outcome, scenario

# The chatbot's own DynamoDB client (shared.aws_clients caches one per argument set): faults go into it.
CHATBOT_DYNAMODB = {"max_attempts": 2, "connect_timeout": 1.0, "read_timeout": 2.0}


@dataclass
class ChatLog:
    answered: list[dict[str, Any]] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)
    documents: list[dict[str, Any]] = field(default_factory=list)
    cache_errors: int = 0


def chat(
    harness: Harness, log: ChatLog, body: dict[str, Any], *, cache_fault: bool = False
) -> tuple[int, dict[str, Any]]:
    from chatbot import chatbot_handler
    from tests.reliability.lab import captured_output
    from tests.support import FakeLambdaContext, emf_documents, http_api_event

    harness.outcome.inputs += 1
    event = http_api_event(body, time_epoch_ms=int(harness.clock() * 1000))
    with captured_output() as out:
        try:
            response = chatbot_handler.handler(event, FakeLambdaContext())
        except Exception as exc:
            harness.outcome.crashes += 1
            harness.outcome.checks.append(f"handler raised {type(exc).__name__}: {exc}")
            return 0, {}
    payload = json.loads(response["body"])
    status = response["statusCode"]
    if payload.get("error") == "internal_error":
        harness.outcome.crashes += 1
    log.documents += emf_documents(out.getvalue())
    (log.answered if status == 200 else log.failed).append(payload)
    log.cache_errors += int(cache_fault)
    return status, payload


def chat_finish(harness: Harness, log: ChatLog, live_usage: tuple[int, int]) -> Outcome:
    """EMF through the CloudWatch Logs stand-in into moto; per metric, samples against the answers."""
    from offline.local_cloudwatch import EmfLogsExtractor
    from shared import metric_catalogue as mc

    EmfLogsExtractor(harness.case.aws("cloudwatch")).ingest(log.documents)
    got = harness.case.readback(mc.NS_TOKEN_USAGE, days=1)
    counts: Counter[str] = Counter()
    sums: dict[str, float] = defaultdict(float)
    for (name, dims, _), (total, count) in got.items():
        harness.outcome.expect(dims == (("ModelId", dims[0][1]),), f"dimensions {dims}")
        counts[name] += count
        sums[name] += total
    answers, cached = len(log.answered), sum(1 for a in log.answered if a["cached"])
    expected = {
        "InputTokens": answers,
        "OutputTokens": answers,
        "TotalTokens": answers,
        "CachedResponses": answers,
        "ResponseLatency": answers,
        "ModelErrors": len(log.failed),
        "CacheErrors": log.cache_errors,
    }
    for name, count in expected.items():
        harness.outcome.lost += max(0, count - counts[name])
        harness.outcome.double += max(0, counts[name] - count)
    harness.outcome.expect(
        sums["CachedResponses"] == cached, f"CachedResponses {sums['CachedResponses']} != {cached}"
    )
    harness.outcome.expect(
        sums["InputTokens"] == sum(a["usage"]["input_tokens"] for a in log.answered), "InputTokens != answers"
    )
    live_in = sum(a["usage"]["input_tokens"] for a in log.answered if not a["cached"])
    live_out = sum(a["usage"]["output_tokens"] for a in log.answered if not a["cached"])
    harness.outcome.expect(
        (live_in, live_out) == live_usage, f"live usage {(live_in, live_out)} != {live_usage}"
    )
    return harness.outcome


def _cached_items(harness: Harness) -> int:
    try:
        return len(harness.case.aws("dynamodb").scan(TableName=CACHE_TABLE)["Items"])
    except Exception:
        return 0


def _closed_port() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def chat_cache_unreachable(lab: Lab) -> Outcome:
    """DynamoDB cannot be reached at all: every request is answered by the model, each counts CacheErrors."""
    from tests.fakes.bedrock_server import Behavior

    with scenario(
        lab, "chatbot", "cache (DynamoDB) unreachable", env={"AWS_ENDPOINT_URL_DYNAMODB": _closed_port()}
    ) as h:
        log = ChatLog()
        lab.bedrock.set_default(MODELS[0], Behavior(input_tokens=40, output_tokens=9))
        for index in range(4):
            status, _ = chat(h, log, {"message": f"question {index % 2}"}, cache_fault=True)
            h.outcome.faults += 1
            h.outcome.expect(status == 200, f"status {status}")
        h.outcome.expect(len(lab.bedrock.calls) == 4, "every request went to the model")
        return chat_finish(h, log, (160, 36))


def chat_cache_throttled(lab: Lab) -> Outcome:
    """DynamoDB throttles every cache call (after botocore's retries): answered, not cached, counted."""
    from tests.fakes.bedrock_server import Behavior

    with scenario(lab, "chatbot", "cache (DynamoDB) throttled") as h:
        log = ChatLog()
        lab.bedrock.set_default(MODELS[0], Behavior(input_tokens=30, output_tokens=7))
        code = "ProvisionedThroughputExceededException"
        faults = [
            h.case.fail_aws("dynamodb", operation, code, 400, lambda n, body: True, CHATBOT_DYNAMODB)
            for operation in ("GetItem", "PutItem")
        ]
        for _ in range(3):
            status, _ = chat(h, log, {"message": "same question"}, cache_fault=True)
            h.outcome.faults += 1
            h.outcome.expect(status == 200, f"status {status}")
        h.fired(*faults)
        h.outcome.expect(_cached_items(h) == 0, "nothing cached")
        return chat_finish(h, log, (90, 21))


def chat_bedrock_throttled_once(lab: Lab) -> Outcome:
    from tests.fakes.bedrock_server import THROTTLE, Behavior

    with scenario(lab, "chatbot", "Bedrock throttles once (botocore retries)") as h:
        log = ChatLog()
        lab.bedrock.script(MODELS[0], Behavior(kind=THROTTLE), Behavior(input_tokens=12, output_tokens=5))
        h.outcome.faults += 1
        status, _ = chat(h, log, {"message": "retry me"})
        h.outcome.expect(status == 200 and len(lab.bedrock.calls) == 2, f"status {status}")
        return chat_finish(h, log, (12, 5))


def chat_bedrock_throttled(lab: Lab) -> Outcome:
    from tests.fakes.bedrock_server import THROTTLE, Behavior

    with scenario(lab, "chatbot", "Bedrock keeps throttling (429)") as h:
        log = ChatLog()
        lab.bedrock.script(MODELS[0], Behavior(kind=THROTTLE), Behavior(kind=THROTTLE))
        h.outcome.faults += 1
        status, payload = chat(h, log, {"message": "busy?"})
        h.outcome.expect((status, payload.get("error")) == (429, "throttled"), f"{status} {payload}")
        lab.bedrock.script(MODELS[0], Behavior(input_tokens=11, output_tokens=4))
        status, payload = chat(h, log, {"message": "busy?"})  # not poisoned: a live answer, then cached
        h.outcome.expect(status == 200 and payload["cached"] is False, f"{status} {payload}")
        h.outcome.expect(_cached_items(h) == 1, "only the complete answer was cached")
        return chat_finish(h, log, (11, 4))


def _chat_model_failure(lab: Lab, name: str, kind: str, **env: str) -> Outcome:
    from tests.fakes.bedrock_server import Behavior

    with scenario(lab, "chatbot", name, env=env) as h:
        log = ChatLog()
        behavior = Behavior(kind=kind, text="partial answer " * 10, chunk_chars=10)
        if kind == "slow":
            behavior = Behavior(first_token_delay=1.3)
        lab.bedrock.script(MODELS[0], behavior)
        h.outcome.faults += 1
        status, payload = chat(h, log, {"message": "fail midway"})
        h.outcome.expect((status, payload.get("error")) == (502, "model_error"), f"{status} {payload}")
        h.outcome.expect(_cached_items(h) == 0, "nothing cached from a failed answer")
        lab.bedrock.script(MODELS[0], Behavior(input_tokens=21, output_tokens=8))
        status, payload = chat(h, log, {"message": "fail midway"})
        h.outcome.expect(status == 200 and payload["cached"] is False, f"{status} {payload}")
        return chat_finish(h, log, (21, 8))


def chat_mid_stream_error(lab: Lab) -> Outcome:
    return _chat_model_failure(lab, "Bedrock error event mid-stream (502)", "stream_error")


def chat_connection_dropped(lab: Lab) -> Outcome:
    return _chat_model_failure(lab, "Bedrock connection dropped mid-stream (502)", "drop")


def chat_read_timeout(lab: Lab) -> Outcome:
    return _chat_model_failure(
        lab,
        "Bedrock read timeout (502)",
        "slow",
        BEDROCK_READ_TIMEOUT_SECONDS="1",
        BEDROCK_MAX_ATTEMPTS="1",
    )

