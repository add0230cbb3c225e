"""`make demo`: the chatbot end to end on this machine — moto, the loopback Bedrock, the real handler.

Prints a per-model table built from the EMF documents the handler printed (what CloudWatch would make
of them): requests, cache hits, hit rate, tokens, latency avg/p90/p99 and estimated cost.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections import Counter
from contextlib import ExitStack
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "lambdas"))

from tools.local_stack import start_local_stack


def chatbot_environment() -> dict[str, str]:
    """The chatbot's Lambda environment for the local run (the same variables the stack sets)."""
    from tools.traffic import MODEL_PRICES, MODELS

    return {
        "MODEL_ID": MODELS[0],
        "ALLOWED_MODEL_IDS": ",".join(MODELS),
        "CACHE_TABLE_NAME": "aigateway-chat-cache",
        "CACHE_TTL_SECONDS": "86400",
        "MAX_MESSAGE_CHARS": "8000",
        "MODEL_PRICES": json.dumps(MODEL_PRICES),
        "BEDROCK_MAX_ATTEMPTS": "2",
        "POWERTOOLS_SERVICE_NAME": "chatbot",
    }


def _create_cache_table() -> None:
    import boto3

    from shared.table_schema import CACHE_PARTITION_KEY, CACHE_TTL_ATTRIBUTE

    dynamodb = boto3.client("dynamodb")
    name = os.environ["CACHE_TABLE_NAME"]
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": CACHE_PARTITION_KEY, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": CACHE_PARTITION_KEY, "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": CACHE_TTL_ATTRIBUTE}
    )


def run_chat_traffic(bedrock: Any, *, seed: int = 7, spike: bool = False) -> tuple[Counter[int], list[dict]]:
    """Send the traffic plan through the real handler; return status counts and the EMF documents."""
    from chatbot import chatbot_handler
    from tests.support import FakeLambdaContext
    from tools.emf import capture_emf
    from tools.traffic import build_plan, chat_event, script_behavior

    statuses: Counter[int] = Counter()
    documents: list[dict] = []
    for request in build_plan(seed=seed, spike=spike).requests:
        script_behavior(bedrock, request, max_attempts=int(os.environ["BEDROCK_MAX_ATTEMPTS"]))
        event = chat_event(request.body)
        response, docs = capture_emf(lambda: chatbot_handler.handler(event, FakeLambdaContext()))  # noqa: B023
        statuses[response["statusCode"]] += 1
        documents += docs
    return statuses, documents


def _fmt(value: float, spec: str) -> str:
    return "-" if value != value else format(value, spec)  # NaN -> "-"


def print_model_table(documents: list[dict]) -> None:
    from tools.emf import percentile, summarise

    header = ("model", "requests", "hits", "hit rate", "input", "output", "total", "avg ms", "p90 ms",
              "p99 ms", "cost USD")  # fmt: skip
    rows = [header]
    for model, s in sorted(summarise(documents).items()):
        latency_avg = sum(s.latencies) / len(s.latencies) if s.latencies else float("nan")
        rows.append(
            (
                model,
                str(s.answers + s.errors),
                str(s.cache_hits),
                _fmt(s.hit_rate * 100, ".0f") + "%",
                f"{s.input_tokens:,.0f}",
                f"{s.output_tokens:,.0f}",
                f"{s.total_tokens:,.0f}",
                _fmt(latency_avg, ".1f"),
                _fmt(percentile(s.latencies, 90), ".1f"),
                _fmt(percentile(s.latencies, 99), ".1f"),
                f"{s.cost:.6f}",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    for index, row in enumerate(rows):
        print(
            "  ".join(
                cell.ljust(w) if i == 0 else cell.rjust(w)
                for i, (cell, w) in enumerate(zip(row, widths, strict=True))
            )
        )
        if index == 0:
            print("  ".join("-" * w for w in widths))


def main() -> int:
    started = time.perf_counter()
    with ExitStack() as stack:
        local = start_local_stack(stack)
        os.environ.update(chatbot_environment())
        _create_cache_table()
        print(f"moto server {local.moto.endpoint}, loopback Bedrock {local.bedrock.endpoint}\n")
        statuses, documents = run_chat_traffic(local.bedrock)
        print("== Chatbot: AIGateway/TokenUsage, from the EMF documents the handler printed ==")
        print(f"responses by status: {dict(sorted(statuses.items()))}; EMF documents: {len(documents)}\n")
        print_model_table(documents)
    print(f"\ndemo finished in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
