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

from offline.local_stack import start_local_stack

OUT = Path(__file__).resolve().parent.parent / "out"


def chatbot_environment() -> dict[str, str]:
    """The chatbot's Lambda environment for the local run (the same variables the stack sets)."""
    from offline.traffic import MODEL_PRICES, MODELS

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

    from offline.environment import create_cache_table

    create_cache_table(boto3.client("dynamodb"), os.environ["CACHE_TABLE_NAME"])


def run_chat_traffic(
    bedrock: Any, *, seed: int = 7, spike: bool = False, by_caller: dict[str, Counter[int]] | None = None
) -> tuple[Counter[int], list[dict]]:
    """Send the traffic plan through the real handler; return status counts and the EMF documents
    (and, into `by_caller`, each caller's status counts)."""
    from chatbot import chatbot_handler
    from offline.emf import capture_emf
    from offline.traffic import build_plan, chat_event, script_behavior
    from tests.support import FakeLambdaContext

    statuses: Counter[int] = Counter()
    documents: list[dict] = []
    plan = build_plan(seed=seed, spike=spike)
    span_start_ms = int(time.time() * 1000) - 3_600_000  # replayed as the last hour of traffic
    for request in plan.requests:
        script_behavior(bedrock, request, max_attempts=int(os.environ["BEDROCK_MAX_ATTEMPTS"]))
        arrival_ms = span_start_ms + int(request.offset_s * 1000)
        bedrock.meter.at(arrival_ms / 1000)  # Bedrock meters the call in the minute it was asked, as EMF does
        event = chat_event(request.body, arrival_ms, request.caller)
        response, docs = capture_emf(lambda: chatbot_handler.handler(event, FakeLambdaContext()))  # noqa: B023
        statuses[response["statusCode"]] += 1
        if by_caller is not None:
            who = request.caller.arn if request.caller else "anonymous"
            by_caller.setdefault(who, Counter())[response["statusCode"]] += 1
        documents += docs
    bedrock.meter.at(None)
    return statuses, documents


CHATBOT_HANDLER = "chatbot/chatbot_handler.handler"


def _forget_container_state() -> None:
    """A fresh "container": boto3 clients, settings and dependencies are built again on first use."""
    from chatbot import chatbot_handler
    from chatbot.settings import get_settings
    from shared.aws_clients import reset_clients

    reset_clients()
    get_settings.cache_clear()
    chatbot_handler.dependencies.cache_clear()


@dataclass
class DemoResult:
    statuses: Counter[int]
    documents: list[dict]
    ticks: list[dict[str, dict[str, Any]]]
    report: Any
    report_text: str
    png: Path
    alarms: list[Any]
    pages: list[dict[str, Any]]
    lines: list[str] = field(default_factory=list)
    fakes: Any = None
    flashback_growth: dict[str, dict[str, int]] = field(default_factory=dict)
    limits: Any = None  # demo_limits.LimitStory
    outage: Any = None  # demo_outage.OutageStory
    bedrock: Any = None  # demo_bedrock.BedrockStory


def _alarm_lines(results: list[Any]) -> list[str]:
    lines = ["Alarms of the synthesized template, evaluated on the demo data:"]
    for result in results:
        shown = ", ".join("-" if v is None else f"{v:,.4g}" for v in result.values)
        name = result.name.removeprefix("AIGatewayTokenMetrics-")
        lines.append(f"  {result.state:<17} {name[:72]:<72} {result.threshold:<34} [{shown}]")
    return lines


def _page_lines(pages: list[dict[str, Any]]) -> list[str]:
    if not pages:
        return ["No page was sent."]
    first = pages[0]["Alarm"]
    lines = [f"Pages delivered through SNS to the subscribed SQS queue: {len(pages)}", "", "First page:"]
    lines += [
        f"  Subject: {pages[0]['Subject']}",
        f"  {first['AlarmDescription']}",
        f"  {first['NewStateReason']}",
    ]
    lines += [
        f"  State change: {first['OldStateValue']} -> {first['NewStateValue']} at {first['StateChangeTime']}"
    ]
    lines += ["", "Other pages:"] + [f"  {page['Subject']}" for page in pages[1:]]
    return lines


def run_demo(stack: ExitStack, out_dir: Path = OUT, *, seed: int = 7) -> DemoResult:
    """The whole pipeline; returns what it printed and produced (the e2e test asserts on it)."""
    from datetime import UTC, datetime, timedelta

    import boto3

    from offline import demo_collectors as dc
    from offline.alarm_eval import AlarmEvaluator
    from offline.alarm_notify import hold_alarm, page, read_pages, subscribe_pager
    from offline.dashboard_png import render_dashboard
    from offline.demo_bedrock import DEMO_TPM_QUOTAS, meter_and_bypass, quota_at_peak, with_demo_quotas
    from offline.demo_callers import with_demo_limits
    from offline.demo_limits import CALLER_ALARM, limit_story
    from offline.demo_outage import outage_story
    from offline.local_cloudwatch import EmfLogsExtractor, enable_percentiles, enforce_retention_rule
    from offline.local_contributor_insights import LocalContributorInsights
    from offline.template_resources import TemplateResources, synthesize_template
    from tools.metric_reader import window
    from tools.report import build_report, format_report

    local = start_local_stack(stack)  # first: the environment (quiet logs) before any handler is imported
    _forget_container_state()
    stack.callback(_forget_container_state)
    enable_percentiles()
    stack.callback(enforce_retention_rule())  # the report must ask for periods CloudWatch answers
    now = time.time()
    fakes = dc.start_vendor_fakes(stack, now - 900)
    vendors = ", ".join(f"{name} {fake.endpoint}" for name, fake in fakes.by_source().items())
    lines = [f"Local stand-ins: moto {local.moto.endpoint}, Bedrock {local.bedrock.endpoint}, {vendors}"]

    # The stack as the demo's team configures it: its vendor accounts, and its callers' limits.
    resources = TemplateResources(synthesize_template(with_demo_quotas(with_demo_limits(dc.demo_context()))))
    resources.create(boto3.client)
    dc.plant_secrets(resources, fakes, boto3.client("secretsmanager"))
    lines += ["", "Resources created in moto from the synthesized template:", resources.describe()]

    chat_env = resources.environment(CHATBOT_HANDLER)
    chat_env.pop("POWERTOOLS_LOG_LEVEL", None)
    os.environ.update(chat_env)
    cloudwatch = boto3.client("cloudwatch")
    by_caller: dict[str, Counter[int]] = {}
    statuses, documents = run_chat_traffic(local.bedrock, seed=seed, spike=True, by_caller=by_caller)
    extractor = EmfLogsExtractor(cloudwatch)
    datapoints = extractor.ingest(documents)
    lines += [
        "",
        f"Chatbot: {sum(statuses.values())} requests replayed as the last hour (a runaway agent loop from "
        f"half-way), statuses {dict(sorted(statuses.items()))}; {len(documents)} EMF documents -> "
        f"{datapoints} "
        f"datapoints ({extractor.calls} PutMetricData: the CloudWatch Logs step, done locally)",
        "Callers (requestContext.authorizer.iam.userArn), statuses:",
        *(f"  {arn:<{max(map(len, by_caller))}} {dict(sorted(c.items()))}" for arn, c in by_caller.items()),
    ]
    bedrock_story = meter_and_bypass(local.bedrock, cloudwatch)  # a call around the gateway; AWS/Bedrock

    fakes.perf.fail_always(503)  # Perf is down for the whole first tick
    first = dc.run_tick(resources, fakes, now - 900)
    baseline = {llm: fakes.flashback.totals(llm) for llm in dc.REALISTIC_IDS}
    fakes.perf.clear_faults()
    fakes.flashback.advance(dc.REALISTIC_IDS[0], totalBlocks=2, totalPolicyViolations=1, totalAlerts=3)
    second = dc.run_tick(resources, fakes, now)
    growth = {
        llm: {k: v - baseline[llm][k] for k, v in fakes.flashback.totals(llm).items()}
        for llm in dc.REALISTIC_IDS
    }
    lines += ["", *dc.describe_tick("Collectors, tick 1 (15 minutes ago; Perf answers 503 all tick):", first)]
    lines += dc.describe_tick("Collectors, tick 2 (now):", second)

    # moto keeps the Contributor Insights rules but has no GetInsightRuleReport: the stand-in answers it
    # from the same EMF lines CloudWatch Logs would have received.
    insights = LocalContributorInsights(cloudwatch, documents)
    report = build_report(cloudwatch, hours=24, insights=insights, tpm_quotas=DEMO_TPM_QUOTAS)
    start, end = window(1.1, report.end)
    png = render_dashboard(cloudwatch, out_dir / "dashboard.png", start, end, tpm_quotas=DEMO_TPM_QUOTAS)

    evaluator = AlarmEvaluator(cloudwatch, datetime.now(UTC) + timedelta(minutes=1))
    alarms = []
    for alarm in resources.of_type("AWS::CloudWatch::Alarm").values():
        props = resources.resolve(alarm["Properties"])
        alarms.append(evaluator.evaluate(props["AlarmName"], props))
    sns, sqs = boto3.client("sns"), boto3.client("sqs")
    topic = next(iter(resources.of_type("AWS::SNS::Topic")))
    queue = subscribe_pager(sns, sqs, resources.physical[topic])
    refused = [r.name for r in alarms if hold_alarm(cloudwatch, r.properties)]
    # The caller alarm fired during the replayed hour (minutes before the cap): page it first, then.
    caller_alarm = next(r for r in alarms if CALLER_ALARM in r.name)
    story = limit_story(cloudwatch, caller_alarm.properties, documents)
    if story.alarm is not None and story.alarm_at is not None:
        page(cloudwatch, sns, story.alarm, os.environ["AWS_REGION"], at=story.alarm_at)
    # Before the replayed hour the chatbot could not even start: no EMF, yet the service alarms page.
    replay_start = datetime.fromtimestamp(now, UTC) - timedelta(hours=1)
    outage = outage_story(cloudwatch, sns, resources, os.environ["AWS_REGION"], replay_start=replay_start)
    for result in alarms:
        if result.state == "ALARM" and result.name not in refused and result is not caller_alarm:
            page(cloudwatch, sns, result, os.environ["AWS_REGION"])
    pages = read_pages(sqs, queue, limit=50)
    held = len(alarms) - len(refused)
    lines += ["", *_alarm_lines(alarms), f"  ({held} alarms held in moto; {len(refused)} refused by moto)"]
    quota_at_peak(bedrock_story, cloudwatch, report, alarms)
    lines += ["", *story.lines(), "", *outage.lines(), "", *bedrock_story.lines(report, alarms)]
    lines += ["", *_page_lines(pages)]
    return DemoResult(
        statuses,
        documents,
        [first, second],
        report,
        format_report(report),
        png,
        alarms,
        pages,
        lines,
        fakes,
        growth,
        story,
        outage,
        bedrock_story,
    )


def main() -> int:
    started = time.perf_counter()
    with ExitStack() as stack:
        result = run_demo(stack)
    print("\n".join(result.lines))
    print()
    print(result.report_text)
    print(f"\nDashboard picture: {result.png}")
    print(f"Demo finished in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
