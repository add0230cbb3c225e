"""EMF documents of several callers, as the chatbot prints them, for the top-callers tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from chatbot.token_metrics import AnswerRecord, publish_token_metrics
from chatbot.tokens import Usage
from offline.emf import capture_emf
from shared import metric_catalogue as mc

STACK = "AIGatewayTokenMetrics"
SONNET = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
ALICE = "arn:aws:iam::123456789012:user/alice"
BOB = "arn:aws:iam::123456789012:user/bob"
LOOP = "arn:aws:sts::123456789012:assumed-role/agent-runner/runaway-loop"
NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def emf(caller: str | None, minutes_ago: float, *, tokens: int = 0, cost: float | None = None,
        cached: bool = False, rejected: bool = False) -> dict[str, Any]:  # fmt: skip
    """One EMF document as the chatbot prints it (Powertools' layout), with the contract's Caller property."""
    at = int((NOW - timedelta(minutes=minutes_ago)).timestamp() * 1000)
    usage = None if rejected else Usage(tokens // 2, tokens - tokens // 2)
    record = AnswerRecord(SONNET, "req-1", cached, 12.0, usage, cost_usd=cost, timestamp_ms=at,
                          error_code="limit_exceeded" if rejected else None)  # fmt: skip
    _, (document,) = capture_emf(lambda: publish_token_metrics(record))
    if rejected:  # the runtime half emits these; built here the way the EMF layout holds any metric
        document[mc.LIMIT_REJECTIONS.name] = [1.0]
        metrics = document["_aws"]["CloudWatchMetrics"][0]["Metrics"]
        metrics.append({"Name": mc.LIMIT_REJECTIONS.name, "Unit": "Count"})
    if caller is None:  # a line without the property (not one the chatbot writes: it says `anonymous`)
        document.pop(mc.PROP_CALLER, None)
    else:
        document[mc.PROP_CALLER] = caller
    return document
