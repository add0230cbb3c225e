"""`make demo`'s pipeline as a test: the report's numbers match the traffic that was sent and the vendors'
ground truth, each vendor window is counted once, the picture is drawn and at least one alarm pages."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from offline import demo
from offline.demo_callers import RUNAWAY
from offline.emf import summarise
from offline.traffic import MODELS, SPIKE_REQUESTS, build_plan
from shared import metric_catalogue as mc

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[demo.DemoResult, Any, dict[str, Any]]]:
    saved = dict(os.environ)
    with ExitStack() as stack:
        result = demo.run_demo(stack, tmp_path_factory.mktemp("out"))
        cloudwatch = boto3.client("cloudwatch")
        fakes = _fakes_of(result)
        yield result, cloudwatch, fakes
    os.environ.clear()
    os.environ.update(saved)


def _fakes_of(result: demo.DemoResult) -> dict[str, Any]:
    return result.fakes.by_source()


def test_given_demo_traffic_when_reported_then_requests_hits_and_tokens_match_what_was_sent(run: Any) -> None:
    result, _, _ = run
    plan = build_plan(spike=True)
    capped = _rejections(result)  # the runaway loop's prompts refused at its cap (never reached a model)
    assert capped and result.statuses == {200: len(plan.requests) - 1 - len(capped), 429: 1 + len(capped)}
    from_emf = summarise(result.documents)
    for model in MODELS:
        row, sent = result.report.models[model], from_emf[model]
        assert (
            row["requests"]
            == sent.answers + sent.errors
            == sum(1 for r in plan.requests if r.body.get("model_id", MODELS[0]) == model)
            - sum(1 for d in capped if d[mc.DIM_MODEL_ID] == model)
        )
        assert row["cache_hits"] == sent.cache_hits
        assert row["hit_rate"] == pytest.approx(sent.cache_hits / sent.answers)
        assert row["input_tokens"] + row["output_tokens"] == row["total_tokens"]
        assert row["total_tokens"] == sent.total_tokens
        assert (row["cost"] or 0.0) == pytest.approx(sent.cost)
    assert result.report.models[MODELS[0]]["input_tokens"] >= (SPIKE_REQUESTS - len(capped)) * 45_000


def _rejections(result: demo.DemoResult) -> list[dict[str, Any]]:
    return [d for d in result.documents if d.get(mc.LIMIT_REJECTIONS.name) in ([1], [1.0], 1)]


def test_given_the_runaway_loop_when_it_nears_its_cap_then_the_alarm_pages_before_the_429s(run: Any) -> None:
    result, _, _ = run
    story = result.limits
    capped = _rejections(result)
    assert {d[mc.PROP_CALLER] for d in capped} == {RUNAWAY.arn}
    assert story.rejected_caller == RUNAWAY.arn
    assert story.alarm_at is not None and story.first_rejection_at is not None
    assert story.alarm_at < story.first_rejection_at  # paged first, then the cap answered 429
    assert story.answered_after > 0  # everyone else kept getting answers
    first = result.pages[0]["Alarm"]
    assert "CallerLimitUsage-above-80pct" in first["AlarmName"]
    assert first["StateChangeTime"].startswith(story.alarm_at.strftime("%Y-%m-%dT%H:%M"))
    assert "TopCallers-TotalTokens" in first["AlarmDescription"]
    callers = result.report.callers.callers  # the report's top callers (local Contributor Insights)
    top = max(callers, key=lambda caller: callers[caller].get(mc.TOTAL_TOKENS.name, 0.0))
    assert top == RUNAWAY.arn
    assert callers[top][mc.LIMIT_REJECTIONS.name] == len(capped)


def test_given_two_ticks_when_reported_then_each_launchdarkly_window_counted_once(run: Any) -> None:
    result, cloudwatch, fakes = run
    ld = fakes["launchdarkly"]
    now = datetime.now(UTC)
    assert result.report.ai_configs
    for (project, config, env), figures in result.report.ai_configs.items():
        # The metric budget's default: one series per project x environment, each config's window a
        # datapoint of its own (contract "Metric budget").
        assert config == "(all)"
        dims = [{"Name": mc.DIM_PROJECT_KEY, "Value": project}, {"Name": mc.DIM_ENVIRONMENT, "Value": env}]
        configs = [c for p, c, e in ld._ai_configs if (p, e) == (project, env)]  # the fake's registrations
        points = cloudwatch.get_metric_statistics(
            Namespace=mc.NS_LAUNCHDARKLY,
            MetricName=mc.LD_GENERATION_COUNT.name,
            Dimensions=dims,
            StartTime=now - timedelta(days=3),
            EndTime=now,
            Period=3600,
            Statistics=["Sum", "SampleCount"],
        )["Datapoints"]
        # 24 windows on the first tick; the second tick (15 min later) adds one when an hour closed between.
        assert len(points) in (24, 25), env
        for point in points:
            start_ms = int(point["Timestamp"].timestamp() * 1000)
            end_ms = start_ms + 3_600_000
            expected = [ld.expected_ai_config_metrics(project, c, env, start_ms, end_ms) for c in configs]
            assert point["SampleCount"] == len(configs)  # each config's window once: never published twice
            assert point["Sum"] == sum(e["generationCount"] for e in expected)
        assert figures["generationCount"] is not None


def test_given_flashback_ticks_when_reported_then_increments_equal_the_growth_of_the_totals(run: Any) -> None:
    result, _, fakes = run
    flashback = fakes["flashback"]
    # The metric budget's default: one series for every id together ("(all)"), the sum of each id's growth.
    assert set(result.report.flashback) == {"(all)"}
    figures = result.report.flashback["(all)"]
    for field, metric in mc.FLASHBACK_FIELDS.items():
        growth = sum(per_id[field] for per_id in result.flashback_growth.values())
        assert figures.get(metric.name, 0) == growth, field
    assert all(flashback.totals(llm) for llm in result.flashback_growth)


def test_given_perf_outage_then_recovery_when_reported_then_completed_days_once_and_never_today(
    run: Any,
) -> None:
    result, cloudwatch, _ = run
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    points = cloudwatch.get_metric_statistics(
        Namespace=mc.NS_PERF,
        MetricName=mc.PERF_DAILY_COST.name,
        StartTime=today - timedelta(days=10),
        EndTime=today + timedelta(days=1),
        Period=86400,
        Statistics=["SampleCount"],
    )["Datapoints"]
    days = sorted(p["Timestamp"] for p in points)
    assert len(days) == 7
    assert all(p["SampleCount"] == 1 for p in points)
    assert days[-1] < today
    assert result.report.collectors["perf"]["CollectorErrors"] >= 6  # the outage is visible in health
    assert result.report.perf["ProjectedMonthEndCost"] is not None


def test_given_demo_when_done_then_png_written_and_an_alarm_paged(run: Any) -> None:
    result, _, _ = run
    assert isinstance(result.png, Path)
    assert result.png.stat().st_size > 20_000
    assert result.png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    breaching = [a.name for a in result.alarms if a.state == "ALARM"]
    stepped = {result.limits.alarm.name, *(alarm.name for alarm, _ in result.outage.paged)}
    assert result.pages
    assert all(p["Subject"].startswith("ALARM: ") for p in result.pages)
    # Every alarm breaching now pages, and the caller alarm and the outage's service alarms paged at the
    # minute they fired (evaluated minute by minute through the replayed hour and the outage before it).
    assert {p["Alarm"]["AlarmName"] for p in result.pages} == {*breaching, *stepped}
    # The demo's alarms are new: CloudWatch's page names the state they left, not a made-up OK; the stepped
    # alarms were evaluated before they fired, so they left OK.
    left = {p["Alarm"]["AlarmName"]: p["Alarm"]["OldStateValue"] for p in result.pages}
    assert {left.pop(name) for name in stepped} == {"OK"}
    assert set(left.values()) == {"INSUFFICIENT_DATA"}


def test_given_a_chatbot_that_cannot_start_when_it_fails_before_our_code_then_the_service_alarms_page(
    run: Any,
) -> None:
    result, cloudwatch, _ = run
    outage = result.outage
    chatbot_errors = "AIGatewayTokenMetrics-Lambda-Errors-chatbot"
    api_5xx = "AIGatewayTokenMetrics-Api-5xx-rate-above-5pct"

    # A bad layer: every request fails before the handler runs; our code writes nothing.
    assert len(outage.invocations) == 45
    assert {i.status for i in outage.invocations} == {500}
    assert all(
        i.error == "Runtime.ImportModuleError: Unable to import module 'chatbot/chatbot_handler': "
        "No module named 'aws_lambda_powertools'"
        for i in outage.invocations
    )
    assert outage.emf_documents == 0
    # ... yet the alarms on what Lambda and API Gateway record fire during the outage, and clear after it.
    fired = {alarm.name: at for alarm, at in outage.paged}
    assert set(fired) == {chatbot_errors, api_5xx}
    assert all(outage.started_at < at <= outage.ended_at for at in fired.values())
    assert all(outage.ended_at < outage.cleared[name] for name in fired)
    # The pages went through the alarm topic to the subscribed queue, at the minute each alarm fired.
    pages = {p["Alarm"]["AlarmName"]: p for p in result.pages}
    for name, at in fired.items():
        page = pages[name]
        assert page["Subject"] == f'ALARM: "{name}" in US East (N. Virginia)'
        assert page["Alarm"]["StateChangeTime"].startswith(at.strftime("%Y-%m-%dT%H:%M"))
    assert "Runbook: docs/runbooks/function-errors.md." in pages[chatbot_errors]["Alarm"]["AlarmDescription"]
    assert "Runbook: docs/runbooks/api-5xx-rate.md." in pages[api_5xx]["Alarm"]["AlarmDescription"]
    # No EMF arrived for those minutes: the chatbot's own error metric stayed silent through the outage.
    points = cloudwatch.get_metric_statistics(
        Namespace=mc.NS_TOKEN_USAGE,
        MetricName=mc.MODEL_ERRORS.name,
        Dimensions=[{"Name": mc.DIM_MODEL_ID, "Value": MODELS[0]}],
        StartTime=outage.started_at,
        EndTime=outage.ended_at,
        Period=300,
        Statistics=["SampleCount"],
    )["Datapoints"]
    assert points == []


def test_given_a_call_around_the_gateway_when_evaluated_then_untracked_usage_pages_with_exactly_its_tokens(
    run: Any,
) -> None:
    from offline.demo_bedrock import BYPASS_MODEL, UNTRACKED_ALARM

    result, _, _ = run
    bypass = result.bedrock.bypass
    untracked = {r.name.rsplit("-per-hour-", 1)[-1]: r for r in result.alarms if UNTRACKED_ALARM in r.name}

    assert bypass.model_id == BYPASS_MODEL and bypass.tokens > 10_000
    assert (untracked[BYPASS_MODEL].state, untracked[BYPASS_MODEL].values[-1]) == ("ALARM", bypass.tokens)
    # Every other model: Bedrock counted what the gateway's live answers did, cached answers left out.
    assert {m: (r.state, r.values[-1]) for m, r in untracked.items() if m != BYPASS_MODEL} == {
        m: ("OK", 0) for m in MODELS if m != BYPASS_MODEL
    }
    assert {m: row.difference for m, row in result.report.bedrock.items()} == {
        m: (bypass.tokens if m == BYPASS_MODEL else 0) for m in MODELS
    }
    (paged,) = [p["Alarm"] for p in result.pages if UNTRACKED_ALARM in p["Alarm"]["AlarmName"]]
    assert paged["AlarmName"].endswith(BYPASS_MODEL)
    assert "untracked-usage.md" in paged["AlarmDescription"]


def test_given_the_runaway_loop_when_metered_by_bedrock_then_its_burst_nears_the_quota_and_trips_its_alarm(
    run: Any,
) -> None:
    from offline.demo_bedrock import DEMO_TPM_QUOTAS
    from offline.traffic import SONNET

    result, _, _ = run
    sonnet = result.report.bedrock[SONNET]

    assert sonnet.quota == DEMO_TPM_QUOTAS[SONNET]
    assert sonnet.quota_share is not None and 0.8 < sonnet.quota_share < 1.0  # approached, not reached
    assert result.bedrock.quota_alarm is not None and result.bedrock.quota_alarm.state == "ALARM"
    assert not any(mc.BEDROCK_ESTIMATED_TPM_QUOTA_USAGE.name in p["Alarm"]["AlarmName"] for p in result.pages)
