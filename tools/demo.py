"""`make demo`: the whole product end to end on this machine, offline.

moto's server and the loopback fakes stand in for AWS, Bedrock and the vendors; the real handlers run
unchanged. The chatbot's EMF lines go to CloudWatch through a local stand-in for CloudWatch Logs, the
collectors write with PutMetricData, and the report and the dashboard picture are read back from that
one CloudWatch with the same calls a real account would get.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "lambdas"))

from tools.local_stack import LocalStack, start_local_stack

OUT = Path(__file__).resolve().parent.parent / "out"


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
    plan = build_plan(seed=seed, spike=spike)
    span_start_ms = int(time.time() * 1000) - 3_600_000  # replayed as the last hour of traffic
    for request in plan.requests:
        script_behavior(bedrock, request, max_attempts=int(os.environ["BEDROCK_MAX_ATTEMPTS"]))
        event = chat_event(request.body, span_start_ms + int(request.offset_s * 1000))
        response, docs = capture_emf(lambda: chatbot_handler.handler(event, FakeLambdaContext()))  # noqa: B023
        statuses[response["statusCode"]] += 1
        documents += docs
    return statuses, documents


@dataclass
class DemoResult:
    statuses: Counter[int]
    documents: list[dict]
    report: Any
    report_text: str
    png: Path
    emf_datapoints: int
    sections: list[str] = field(default_factory=list)


def run_demo(local: LocalStack, out_dir: Path = OUT, *, seed: int = 7) -> DemoResult:
    """The whole pipeline; returns what it printed and produced (the e2e test asserts on it)."""
    import boto3

    from tools.dashboard_png import render_dashboard
    from tools.local_cloudwatch import EmfLogsExtractor
    from tools.metric_reader import window
    from tools.report import build_report, format_report

    os.environ.update(chatbot_environment())
    _create_cache_table()
    cloudwatch = boto3.client("cloudwatch")
    sections: list[str] = []

    statuses, documents = run_chat_traffic(local.bedrock, seed=seed, spike=True)
    extractor = EmfLogsExtractor(cloudwatch)
    datapoints = extractor.ingest(documents)
    sections.append(
        f"chatbot: {sum(statuses.values())} requests replayed over the last hour, statuses "
        f"{dict(sorted(statuses.items()))}; {len(documents)} EMF documents -> {datapoints} datapoints "
        f"in {extractor.calls} PutMetricData calls (the CloudWatch Logs step, done locally)"
    )

    report = build_report(cloudwatch, hours=2)
    start, end = window(1.1, report.end)
    png = render_dashboard(cloudwatch, out_dir / "dashboard.png", start, end)
    return DemoResult(statuses, documents, report, format_report(report), png, datapoints, sections)


def main() -> int:
    from tools.local_cloudwatch import enable_percentiles

    started = time.perf_counter()
    with ExitStack() as stack:
        local = start_local_stack(stack)
        enable_percentiles()
        print(f"local stand-ins: moto {local.moto.endpoint}, Bedrock {local.bedrock.endpoint}\n")
        result = run_demo(local)
        for line in result.sections:
            print(line)
        print()
        print(result.report_text)
        print(f"\ndashboard picture: {result.png}")
    print(f"demo finished in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
