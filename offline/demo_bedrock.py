"""The demo's Bedrock story: Bedrock's own view beside the gateway's (contract: "Bedrock's own view beside
ours"), on the traffic the demo already sends.

The loopback Bedrock metered every call it served while the chat traffic was replayed, each stamped with
its request's replayed arrival (as the gateway's EMF is). Then someone calls Haiku directly, around the
gateway (a script with the same account's credentials: boto3's ConverseStream against the same endpoint),
and the local stand-in publishes the meter as AWS/Bedrock datapoints. The untracked-usage alarm of Haiku
then reads exactly that call's tokens and pages; the other models' alarms read 0. The runaway agent loop
of the chat traffic is the burst: the demo's config gives Sonnet a small account's quota, so the loop
takes EstimatedTPMQuotaUsage past the quota alarm's line and close to the quota, and the quota alarm,
evaluated at the busiest minute, is shown firing (not paged: the minute is past).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from offline.alarm_eval import AlarmEvaluator, AlarmResult
from offline.local_bedrock_meter import LocalBedrockMetrics
from offline.traffic import HAIKU, SONNET
from shared import metric_catalogue as mc
from tests.fakes.bedrock_meter import MeteredCall
from tests.fakes.bedrock_server import Behavior, FakeBedrock

BYPASS_MODEL = HAIKU
# A batch summary someone runs from a notebook: a long document in, a page out.
BYPASS = Behavior(input_tokens=24_000, output_tokens=1_200, text="Summary of the quarter's incidents. " * 12)
# Sonnet's quota in the demo's account (a new account's kind of figure; the stack's default is a
# placeholder): the runaway loop's two 45,000-token prompts a minute come close to it.
DEMO_TPM_QUOTAS = {SONNET: 125_000, HAIKU: 400_000, "amazon.nova-lite-v1:0": 2_000_000}
UNTRACKED_ALARM = "Bedrock-UntrackedTokens-"
QUOTA_ALARM = "Bedrock-EstimatedTPMQuotaUsage-"


def with_demo_quotas(context: dict[str, Any]) -> dict[str, Any]:
    """The cdk.json overrides of `context` plus the demo account's tokens-per-minute quotas."""
    merged = copy.deepcopy(context)
    merged.setdefault("aigateway", {}).setdefault("bedrock", {})["tpm_quotas"] = dict(DEMO_TPM_QUOTAS)
    return merged


def call_around_the_gateway(bedrock: FakeBedrock) -> MeteredCall:
    """One ConverseStream call straight to Bedrock with boto3, as a notebook would make it; returns the
    call as Bedrock metered it (its tokens are those the caller's response reported)."""
    import boto3

    bedrock.script(BYPASS_MODEL, BYPASS)
    client = boto3.client("bedrock-runtime")  # AWS_ENDPOINT_URL_BEDROCK_RUNTIME: the loopback Bedrock
    message = {"role": "user", "content": [{"text": "Summarise last quarter's incident reports."}]}
    response = client.converse_stream(modelId=BYPASS_MODEL, messages=[message])
    usage = next(e["metadata"]["usage"] for e in response["stream"] if "metadata" in e)
    metered = bedrock.meter.calls[-1]
    assert (metered.model_id, metered.input_tokens) == (BYPASS_MODEL, usage["inputTokens"]), metered
    return metered


@dataclass
class BedrockStory:
    bypass: MeteredCall
    metered_calls: int
    datapoints: int
    put_metric_data_calls: int
    quota_alarm: AlarmResult | None = None  # the quota alarm evaluated at the busiest minute
    quota_alarm_at: datetime | None = None

    def lines(self, report: Any, alarms: list[AlarmResult]) -> list[str]:
        untracked = {r.name.rsplit("-per-hour-", 1)[-1]: r for r in alarms if UNTRACKED_ALARM in r.name}
        lines = [
            f"Bedrock's own view (the loopback Bedrock's meter, in {mc.NS_BEDROCK} by the local stand-in):",
            f"  {self.metered_calls} calls metered -> {self.datapoints} datapoints "
            f"({self.put_metric_data_calls} PutMetricData)",
            f"  a call around the gateway: {self.bypass.model_id}, {self.bypass.input_tokens:,} input + "
            f"{self.bypass.output_tokens:,} output = {self.bypass.tokens:,} tokens (boto3 ConverseStream)",
        ]
        for model, result in sorted(untracked.items()):
            value = result.values[-1]
            shown = "-" if value is None else f"{value:,.0f}"
            lines.append(f"  untracked-usage alarm {model}: {result.state} (untracked tokens {shown})")
        sonnet = report.bedrock.get(SONNET)
        if sonnet is not None and sonnet.quota_peak is not None and sonnet.quota:
            at = f"{sonnet.quota_peak_at:%H:%M}" if sonnet.quota_peak_at else "?"
            lines.append(
                f"  the runaway loop's burst: {SONNET} peaked at {sonnet.quota_peak:,.0f} tokens/min at "
                f"{at}, {sonnet.quota_share:.0%} of its {sonnet.quota:,} quota"
            )
        if self.quota_alarm is not None and self.quota_alarm_at is not None:
            lines.append(
                f"  quota alarm, stepped minute by minute from the busiest one: {self.quota_alarm.state} "
                f"at {self.quota_alarm_at:%H:%M} (a past minute: shown, not paged)"
            )
        return lines


def meter_and_bypass(bedrock: FakeBedrock, cloudwatch: Any) -> BedrockStory:
    """After the chat traffic: the call around the gateway, then Bedrock's meter into AWS/Bedrock."""
    bypass = call_around_the_gateway(bedrock)
    local = LocalBedrockMetrics(cloudwatch, bedrock.meter)
    local.publish()
    return BedrockStory(bypass, len(bedrock.meter.calls), local.datapoints, local.calls)


STEP_MINUTES = 10  # how far past the busiest minute the quota alarm is stepped (2 of 3 minutes decide)


def quota_at_peak(
    story: BedrockStory, cloudwatch: Any, report: Any, alarms: list[AlarmResult]
) -> BedrockStory:
    """Step Sonnet's quota alarm minute by minute from its busiest minute, as CloudWatch evaluates it
    every minute, to the first minute it fires (or the last minute stepped)."""
    sonnet = report.bedrock.get(SONNET)
    result = next((r for r in alarms if QUOTA_ALARM in r.name and r.name.endswith(SONNET)), None)
    if result is None or sonnet is None or sonnet.quota_peak_at is None:
        return story
    evaluator = AlarmEvaluator(cloudwatch, sonnet.quota_peak_at)
    for minute in range(1, STEP_MINUTES + 1):
        at = sonnet.quota_peak_at + timedelta(minutes=minute)
        story.quota_alarm = evaluator.at(at).evaluate(result.name, result.properties)
        story.quota_alarm_at = at
        if story.quota_alarm.state == "ALARM":
            break
    return story
