"""Hold the template's alarms in moto and deliver a breaching alarm's page through SNS to SQS.

moto keeps alarms and their state but never sends the notification, so `page` does CloudWatch's part:
it publishes the alarm-state-change message CloudWatch sends (same JSON fields, same subject line) to
the alarm's SNS action; a demo SQS queue subscribed to the topic receives exactly what an e-mail or
chat subscriber would.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from offline.alarm_eval import AlarmResult
from offline.template_resources import ACCOUNT

REGION_NAMES = {"us-east-1": "US East (N. Virginia)"}
ALARM_KEYS = (
    "AlarmName", "AlarmDescription", "ActionsEnabled", "AlarmActions", "OKActions", "InsufficientDataActions",
    "ComparisonOperator", "EvaluationPeriods", "DatapointsToAlarm", "Threshold", "TreatMissingData",
    "Metrics", "MetricName", "Namespace", "Statistic", "ExtendedStatistic", "Dimensions", "Period", "Unit",
    "EvaluateLowSampleCountPercentile", "ThresholdMetricId",
)  # fmt: skip


def hold_alarm(cloudwatch: Any, props: dict[str, Any]) -> str | None:
    """PutMetricAlarm with the template's properties; returns why moto refused, or None."""
    try:
        cloudwatch.put_metric_alarm(**{k: props[k] for k in ALARM_KEYS if k in props})
    except Exception as exc:  # moto's model of alarms is partial; say so instead of failing the demo
        return f"{type(exc).__name__}: {exc}"
    return None


def alarm_message(result: AlarmResult, region: str, now: datetime) -> dict[str, Any]:
    props = result.properties
    trigger: dict[str, Any] = {
        "ComparisonOperator": props.get("ComparisonOperator"),
        "Threshold": props.get("Threshold"),
        "EvaluationPeriods": props.get("EvaluationPeriods"),
        "TreatMissingData": props.get("TreatMissingData"),
    }
    if "Metrics" in props:
        trigger["Metrics"] = props["Metrics"]
    else:
        trigger.update({k: props.get(k) for k in ("MetricName", "Namespace", "Statistic", "ExtendedStatistic",
                                                   "Dimensions", "Period")})  # fmt: skip
    return {
        "AlarmName": result.name,
        "AlarmDescription": result.description,
        "AWSAccountId": ACCOUNT,
        "NewStateValue": "ALARM",
        "NewStateReason": result.reason,
        "StateChangeTime": now.strftime("%Y-%m-%dT%H:%M:%S.000+0000"),
        "Region": REGION_NAMES.get(region, region),
        "AlarmArn": f"arn:aws:cloudwatch:{region}:{ACCOUNT}:alarm:{result.name}",
        "OldStateValue": result.previous,
        "Trigger": trigger,
    }


def subscribe_pager(sns: Any, sqs: Any, topic_arn: str) -> str:
    """An SQS queue subscribed to the alarm topic: the demo's stand-in for an on-call inbox."""
    queue_url = sqs.create_queue(QueueName="demo-pager")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
    return queue_url


def page(
    cloudwatch: Any, sns: Any, result: AlarmResult, region: str, at: datetime | None = None
) -> list[str]:
    """Set the alarm's state in moto and publish CloudWatch's notification to each SNS action (stamped
    `at`, the minute the alarm changed state; default now)."""
    now = at or datetime.now(UTC)
    cloudwatch.set_alarm_state(AlarmName=result.name, StateValue="ALARM", StateReason=result.reason[:1000])
    message = alarm_message(result, region, now)
    subject = f'ALARM: "{result.name}" in {message["Region"]}'[:100]
    topics = [a for a in result.properties.get("AlarmActions", []) if str(a).startswith("arn:aws:sns:")]
    for topic in topics:
        sns.publish(TopicArn=topic, Subject=subject, Message=json.dumps(message))
    return topics


def read_pages(sqs: Any, queue_url: str, limit: int = 10) -> list[dict[str, Any]]:
    """The SNS envelopes the pager queue received (Subject, and the alarm JSON in Message)."""
    pages: list[dict[str, Any]] = []
    while len(pages) < limit:
        batch = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
        messages = batch.get("Messages", [])
        if not messages:
            return pages
        for message in messages:
            envelope = json.loads(message["Body"])
            envelope["Alarm"] = json.loads(envelope["Message"])
            pages.append(envelope)
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return pages
