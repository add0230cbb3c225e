"""The collectors construct: functions, secrets, schedules, the checkpoint table and the dead-letter queue."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.config import DEFAULTS
from shared import metric_catalogue as mc
from shared.table_schema import CHECKPOINT_PARTITION_KEY, CHECKPOINT_SORT_KEY
from tests.infra.conftest import Synth

HANDLERS = {
    "launchdarkly": "collectors/launchdarkly_collector.handler",
    "perf": "collectors/perf_collector.handler",
    "flashback": "collectors/flashback_collector.handler",
}
NAMESPACES = {
    "launchdarkly": [mc.NS_LAUNCHDARKLY, mc.NS_LAUNCHDARKLY_USAGE, mc.NS_COLLECTORS],
    "perf": [mc.NS_PERF, mc.NS_COLLECTORS],
    "flashback": [mc.NS_FLASHBACK, mc.NS_COLLECTORS],
}
SECRET_ENV = {
    "launchdarkly": "LAUNCHDARKLY_API_TOKEN_SECRET_ARN",
    "perf": "PERF_API_KEY_SECRET_ARN",
    "flashback": "FLASHBACK_API_KEY_SECRET_ARN",
}


def _function(synth: Synth, source: str) -> tuple[str, dict[str, Any]]:
    for name, function in synth.resources("AWS::Lambda::Function").items():
        if function["Properties"]["Handler"] == HANDLERS[source]:
            return name, function["Properties"]
    raise AssertionError(f"no {source} collector")


def _statements(synth: Synth, function: dict[str, Any]) -> list[dict[str, Any]]:
    role = function["Role"]["Fn::GetAtt"][0]
    for policy in synth.resources("AWS::IAM::Policy").values():
        if {"Ref": role} in policy["Properties"]["Roles"]:
            return policy["Properties"]["PolicyDocument"]["Statement"]
    raise AssertionError("no policy")


@pytest.mark.parametrize("source", list(HANDLERS))
def test_given_default_config_when_synthesized_then_each_collector_runs_alone_on_python314_arm64(
    default: Synth, source: str
) -> None:
    _, function = _function(default, source)

    assert function["Runtime"] == "python3.14"
    assert function["Architectures"] == ["arm64"]
    assert function["ReservedConcurrentExecutions"] == 1
    assert function["TracingConfig"] == {"Mode": "Active"}
    assert function["Timeout"] == DEFAULTS["collectors"][source]["timeout_seconds"]
    # A run ends before the next one is due, so reserved concurrency 1 never throttles a scheduled run.
    assert function["Timeout"] < DEFAULTS["collectors"][source]["schedule_minutes"] * 60
    assert "LoggingConfig" in function


def test_given_default_config_when_synthesized_then_launchdarkly_environment_matches_the_contract(
    default: Synth,
) -> None:
    _, function = _function(default, "launchdarkly")
    env = function["Environment"]["Variables"]

    assert set(env) == {
        "CHECKPOINT_TABLE_NAME",
        "LAUNCHDARKLY_API_BASE_URL",
        "LAUNCHDARKLY_API_TOKEN_SECRET_ARN",
        "LAUNCHDARKLY_PROJECT_KEY",
        "LAUNCHDARKLY_ENVIRONMENT_KEYS",
        "LAUNCHDARKLY_AI_CONFIG_KEYS",
        "LAUNCHDARKLY_AI_CONFIG_TIME_UNIT",
        "LAUNCHDARKLY_USAGE_SERIES",
        "LAUNCHDARKLY_USAGE_LAG_SECONDS",
        "LAUNCHDARKLY_DETAIL_KEYS",
        "POWERTOOLS_SERVICE_NAME",
        "POWERTOOLS_LOG_LEVEL",
    }
    assert env["LAUNCHDARKLY_API_BASE_URL"] == "https://app.launchdarkly.com"
    assert env["LAUNCHDARKLY_AI_CONFIG_TIME_UNIT"] == "ms"
    assert env["LAUNCHDARKLY_PROJECT_KEY"] == "default"
    assert env["LAUNCHDARKLY_ENVIRONMENT_KEYS"] == "production"
    assert env["LAUNCHDARKLY_USAGE_SERIES"] == ",".join(mc.LD_USAGE_DEFAULT_SERIES)
    assert env["LAUNCHDARKLY_USAGE_LAG_SECONDS"] == "21600"
    assert env["POWERTOOLS_SERVICE_NAME"] == "launchdarkly-collector"


def test_given_default_config_when_synthesized_then_perf_and_flashback_environments_match_the_contract(
    default: Synth,
) -> None:
    perf = _function(default, "perf")[1]["Environment"]["Variables"]
    flashback = _function(default, "flashback")[1]["Environment"]["Variables"]

    assert set(perf) == {
        "CHECKPOINT_TABLE_NAME",
        "PERF_API_BASE_URL",
        "PERF_API_KEY_SECRET_ARN",
        "PERF_SERIES",
        "POWERTOOLS_SERVICE_NAME",
        "POWERTOOLS_LOG_LEVEL",
    }
    assert perf["PERF_API_BASE_URL"] == "https://api.withperf.pro"
    assert set(flashback) == {
        "CHECKPOINT_TABLE_NAME",
        "FLASHBACK_API_BASE_URL",
        "FLASHBACK_API_KEY_SECRET_ARN",
        "FLASHBACK_AI_LLM_IDS",
        "FLASHBACK_DETAIL_IDS",
        "POWERTOOLS_SERVICE_NAME",
        "POWERTOOLS_LOG_LEVEL",
    }
    assert flashback["FLASHBACK_API_BASE_URL"] == "https://backend.flashback.tech"
    assert flashback["FLASHBACK_AI_LLM_IDS"] == ""


def test_given_custom_config_when_synthesized_then_lists_are_comma_separated(custom: Synth) -> None:
    ld = _function(custom, "launchdarkly")[1]["Environment"]["Variables"]
    flashback = _function(custom, "flashback")[1]["Environment"]["Variables"]

    assert ld["LAUNCHDARKLY_AI_CONFIG_KEYS"] == "support-bot"
    assert ld["LAUNCHDARKLY_ENVIRONMENT_KEYS"] == "production,staging"
    assert flashback["FLASHBACK_AI_LLM_IDS"] == "llm-1,llm-2"


@pytest.mark.parametrize("source", list(HANDLERS))
def test_given_default_config_when_synthesized_then_each_collector_reads_only_its_own_secret(
    default: Synth, source: str
) -> None:
    _, function = _function(default, source)
    secret = function["Environment"]["Variables"][SECRET_ENV[source]]
    (statement,) = [
        s for s in _statements(default, function) if "secretsmanager:GetSecretValue" in str(s["Action"])
    ]

    assert statement["Action"] == "secretsmanager:GetSecretValue"
    assert statement["Resource"] == secret
    secret_resource = default.json["Resources"][secret["Ref"]]
    assert secret_resource["Type"] == "AWS::SecretsManager::Secret"
    assert "SecretString" not in secret_resource["Properties"]


@pytest.mark.parametrize("source", list(HANDLERS))
def test_given_default_config_when_synthesized_then_put_metric_data_is_limited_to_own_namespaces(
    default: Synth, source: str
) -> None:
    _, function = _function(default, source)
    (statement,) = [s for s in _statements(default, function) if s["Action"] == "cloudwatch:PutMetricData"]

    assert statement["Resource"] == "*"
    assert statement["Condition"] == {"StringEquals": {"cloudwatch:namespace": NAMESPACES[source]}}


@pytest.mark.parametrize("source", list(HANDLERS))
def test_given_default_config_when_synthesized_then_checkpoints_are_the_only_table_a_collector_touches(
    default: Synth, source: str
) -> None:
    _, function = _function(default, source)
    table = function["Environment"]["Variables"]["CHECKPOINT_TABLE_NAME"]["Ref"]
    dynamo = [s for s in _statements(default, function) if "dynamodb:" in str(s["Action"])]

    if source == "flashback":  # per-id totals items (BatchGetItem, TransactWriteItems), own partition only
        assert dynamo == [
            {
                "Action": [
                    "dynamodb:BatchGetItem",
                    "dynamodb:ConditionCheckItem",
                    "dynamodb:GetItem",
                    "dynamodb:PutItem",
                    "dynamodb:UpdateItem",
                ],
                "Condition": {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["flashback"]}},
                "Effect": "Allow",
                "Resource": {"Fn::GetAtt": [table, "Arn"]},
                "Sid": "OwnCheckpointPartitionOnly",
            }
        ]
        return
    if source == "launchdarkly":  # the schedule's BatchGetItem of every AI Config checkpoint, own partition
        assert dynamo == [
            {
                "Action": ["dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:UpdateItem"],
                "Condition": {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["launchdarkly"]}},
                "Effect": "Allow",
                "Resource": {"Fn::GetAtt": [table, "Arn"]},
                "Sid": "OwnCheckpointPartitionOnly",
            }
        ]
        return
    assert dynamo == [
        {
            "Action": ["dynamodb:GetItem", "dynamodb:UpdateItem"],
            "Effect": "Allow",
            "Resource": {"Fn::GetAtt": [table, "Arn"]},
        }
    ]


def test_given_default_config_when_synthesized_then_checkpoint_table_has_the_shared_key_schema(
    default: Synth,
) -> None:
    default.template.has_resource(
        "AWS::DynamoDB::Table",
        {
            "Properties": {
                "KeySchema": [
                    {"AttributeName": CHECKPOINT_PARTITION_KEY, "KeyType": "HASH"},
                    {"AttributeName": CHECKPOINT_SORT_KEY, "KeyType": "RANGE"},
                ],
                "BillingMode": "PAY_PER_REQUEST",
                "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            },
            "DeletionPolicy": "Retain",
        },
    )


@pytest.mark.parametrize("source", list(HANDLERS))
def test_given_default_config_when_synthesized_then_a_schedule_with_retries_and_dlq_invokes_each_collector(
    default: Synth, source: str
) -> None:
    name, _ = _function(default, source)
    (schedule,) = [
        s["Properties"]
        for s in default.resources("AWS::Scheduler::Schedule").values()
        if s["Properties"]["Target"]["Arn"] == {"Fn::GetAtt": [name, "Arn"]}
    ]
    (queue,) = default.resources("AWS::SQS::Queue")

    assert (
        schedule["ScheduleExpression"]
        == f"rate({DEFAULTS['collectors'][source]['schedule_minutes']} minutes)"
    )
    assert schedule["State"] == "ENABLED"
    assert json.loads(schedule["Target"]["Input"]) == {"time": "<aws.scheduler.scheduled-time>"}
    assert schedule["Target"]["RetryPolicy"] == {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 900}
    assert schedule["Target"]["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [queue, "Arn"]}}


@pytest.mark.parametrize("source", list(HANDLERS))
def test_given_default_config_when_synthesized_then_failed_async_runs_are_retried_then_go_to_the_dlq(
    default: Synth, source: str
) -> None:
    name, _ = _function(default, source)
    (queue,) = default.resources("AWS::SQS::Queue")

    default.template.has_resource_properties(
        "AWS::Lambda::EventInvokeConfig",
        {
            "FunctionName": {"Ref": name},
            "MaximumRetryAttempts": 2,
            "MaximumEventAgeInSeconds": 900,
            "DestinationConfig": {"OnFailure": {"Destination": {"Fn::GetAtt": [queue, "Arn"]}}},
        },
    )


def test_given_custom_schedule_when_synthesized_then_rate_and_event_age_follow_it(custom: Synth) -> None:
    name, _ = _function(custom, "flashback")
    (schedule,) = [
        s["Properties"]
        for s in custom.resources("AWS::Scheduler::Schedule").values()
        if s["Properties"]["Target"]["Arn"] == {"Fn::GetAtt": [name, "Arn"]}
    ]

    assert schedule["ScheduleExpression"] == "rate(30 minutes)"
    assert schedule["Target"]["RetryPolicy"]["MaximumEventAgeInSeconds"] == 1800


def test_given_default_config_when_synthesized_then_the_dlq_is_encrypted_and_tls_only(default: Synth) -> None:
    (queue_id,) = default.resources("AWS::SQS::Queue")
    default.template.has_resource_properties("AWS::SQS::Queue", {"SqsManagedSseEnabled": True})
    (policy,) = default.resources("AWS::SQS::QueuePolicy").values()

    assert {
        "Action": "sqs:*",
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Resource": {"Fn::GetAtt": [queue_id, "Arn"]},
    } in policy["Properties"]["PolicyDocument"]["Statement"]


def test_given_default_config_when_synthesized_then_the_scheduler_role_invokes_only_the_collectors(
    default: Synth,
) -> None:
    (role_id,) = [k for k, r in default.resources("AWS::IAM::Role").items() if "Scheduler" in k]
    role = default.json["Resources"][role_id]["Properties"]
    (policy,) = [
        p
        for p in default.resources("AWS::IAM::Policy").values()
        if {"Ref": role_id} in p["Properties"]["Roles"]
    ]
    invoke = policy["Properties"]["PolicyDocument"]["Statement"][0]
    collectors = sorted(_function(default, source)[0] for source in HANDLERS)

    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": "scheduler.amazonaws.com"
    }
    assert invoke["Action"] == "lambda:InvokeFunction"
    assert sorted({r["Fn::GetAtt"][0] for r in invoke["Resource"] if "Fn::GetAtt" in r}) == collectors
