"""The vendor collectors: one function, secret and schedule per vendor, one checkpoint table, one DLQ.

Reserved concurrency 1 keeps a vendor's runs from overlapping (two runs would read the same checkpoint
and publish the same window twice). Scheduler retries a run it cannot deliver; Lambda retries a run
that fails (twice, within one schedule interval); what still fails ends in the dead-letter queue. Retries are
safe: a run re-asks the window its checkpoint says is due.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from aws_cdk import Aws, Duration, RemovalPolicy, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as targets
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.config import CollectorConfig, StackConfig
from infra.constructs.data_key import SECRETS_MANAGER_KEY_ACTIONS, DataKey
from infra.constructs.python_function import AsyncFailure, FunctionFactory
from infra.nag import acknowledge
from infra.scanner_skips import (
    CHECKPOINT_TABLE_CMK,
    COLLECTOR_DLQ,
    COLLECTOR_VPC,
    DEAD_LETTER_QUEUE_SSE,
    skip,
)
from shared.metric_catalogue import (
    NS_COLLECTORS,
    NS_FLASHBACK,
    NS_LAUNCHDARKLY,
    NS_LAUNCHDARKLY_USAGE,
    NS_PERF,
    SOURCE_FLASHBACK,
    SOURCE_LAUNCHDARKLY,
    SOURCE_PERF,
)
from shared.table_schema import CHECKPOINT_PARTITION_KEY, CHECKPOINT_SORT_KEY

CHECKPOINT_ACTIONS = ("dynamodb:GetItem", "dynamodb:UpdateItem")  # all the checkpoint store calls
# Flashback also keeps one totals item per LLM id (collectors/common/checkpoint_items.py): BatchGetItem reads
# them; TransactWriteItems (not an IAM action itself) needs PutItem for its Puts, UpdateItem for the series
# commit and ConditionCheckItem for its check of the series' claim. LaunchDarkly reads every AI Config
# checkpoint with BatchGetItem (collectors/launchdarkly_schedule.py; without it every run is denied that
# read and falls back to the listed order and a GetItem per series). Each only within its own partition.
PER_KEY_CHECKPOINT_ACTIONS = {
    SOURCE_FLASHBACK: (
        *CHECKPOINT_ACTIONS,
        "dynamodb:BatchGetItem",
        "dynamodb:PutItem",
        "dynamodb:ConditionCheckItem",
    ),
    SOURCE_LAUNCHDARKLY: (*CHECKPOINT_ACTIONS, "dynamodb:BatchGetItem"),
}
SCHEDULER_RETRY_ATTEMPTS = 2


@dataclass(frozen=True, slots=True)
class CollectorSpec:
    """What differs between vendors: names, handler, namespaces and the vendor's own settings."""

    source: str
    construct_id: str
    handler: str
    namespaces: tuple[str, ...]
    secret_env: str
    base_url_env: str
    secret_description: str


SPECS: tuple[CollectorSpec, ...] = (
    CollectorSpec(
        SOURCE_LAUNCHDARKLY,
        "LaunchDarkly",
        "collectors/launchdarkly_collector.handler",
        (NS_LAUNCHDARKLY, NS_LAUNCHDARKLY_USAGE, NS_COLLECTORS),
        "LAUNCHDARKLY_API_TOKEN_SECRET_ARN",
        "LAUNCHDARKLY_API_BASE_URL",
        "LaunchDarkly API access token (read access to AI Configs and usage); SecretString = the token",
    ),
    CollectorSpec(
        SOURCE_PERF,
        "Perf",
        "collectors/perf_collector.handler",
        (NS_PERF, NS_COLLECTORS),
        "PERF_API_KEY_SECRET_ARN",
        "PERF_API_BASE_URL",
        "Perf API key; SecretString = the key",
    ),
    CollectorSpec(
        SOURCE_FLASHBACK,
        "Flashback",
        "collectors/flashback_collector.handler",
        (NS_FLASHBACK, NS_COLLECTORS),
        "FLASHBACK_API_KEY_SECRET_ARN",
        "FLASHBACK_API_BASE_URL",
        "Flashback API key; SecretString = the key",
    ),
)


@dataclass(frozen=True, slots=True)
class Collector:
    spec: CollectorSpec
    config: CollectorConfig
    function: lambda_.Function
    secret: secretsmanager.Secret
    schedule: scheduler.Schedule


def vendor_environment(config: StackConfig, source: str) -> dict[str, str]:
    """The vendor-specific variables of the contract (secret ARN and base URL are added by the caller)."""
    budget = config.metric_budget
    if source == SOURCE_LAUNCHDARKLY:
        ld = config.collectors.launchdarkly
        return {
            "LAUNCHDARKLY_PROJECT_KEY": ld.project_key,
            "LAUNCHDARKLY_ENVIRONMENT_KEYS": ",".join(ld.environment_keys),
            "LAUNCHDARKLY_AI_CONFIG_KEYS": ",".join(ld.ai_config_keys),
            "LAUNCHDARKLY_AI_CONFIG_TIME_UNIT": ld.time_unit,
            "LAUNCHDARKLY_USAGE_SERIES": ",".join(ld.usage_series),
            "LAUNCHDARKLY_USAGE_LAG_SECONDS": str(ld.usage_lag_seconds),
            "LAUNCHDARKLY_DETAIL_KEYS": ",".join(budget.launchdarkly_detail_keys),
        }
    if source == SOURCE_FLASHBACK:
        return {
            "FLASHBACK_AI_LLM_IDS": ",".join(config.collectors.flashback.llm_ids),
            "FLASHBACK_DETAIL_IDS": ",".join(budget.flashback_detail_ids),
        }
    return {"PERF_SERIES": ",".join(budget.perf_series)}


class Collectors(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StackConfig,
        functions: FunctionFactory,
        data_key: DataKey,
    ) -> None:
        super().__init__(scope, construct_id)
        self._data_key = data_key
        self.checkpoint_table = dynamodb.Table(
            self,
            "CheckpointTable",
            partition_key=dynamodb.Attribute(
                name=CHECKPOINT_PARTITION_KEY, type=dynamodb.AttributeType.STRING
            ),
            sort_key=dynamodb.Attribute(name=CHECKPOINT_SORT_KEY, type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            # Checkpoints say which windows were already published: kept on destroy, never lost silently.
            removal_policy=RemovalPolicy.RETAIN,
        )
        skip(self.checkpoint_table, CHECKPOINT_TABLE_CMK)
        self.dead_letter_queue = sqs.Queue(
            self,
            "DeadLetterQueue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        skip(self.dead_letter_queue, DEAD_LETTER_QUEUE_SSE)
        acknowledge(
            self.dead_letter_queue,
            "AwsSolutions-SQS3",
            "This queue is itself the dead-letter queue of the collector schedules and of the collectors' "
            "asynchronous invocations; nothing consumes it automatically, an alarm pages when it holds a "
            "message.",
        )
        # One role for the three schedules: it may invoke the three collectors and write to the DLQ.
        self.scheduler_role = iam.Role(
            self,
            "SchedulerRole",
            assumed_by=iam.ServicePrincipal(
                "scheduler.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}}
            ),
            description="EventBridge Scheduler: invokes the AI Gateway collectors",
        )
        by_source = {
            SOURCE_LAUNCHDARKLY: config.collectors.launchdarkly,
            SOURCE_PERF: config.collectors.perf,
            SOURCE_FLASHBACK: config.collectors.flashback,
        }
        self.collectors: dict[str, Collector] = {
            spec.source: self._collector(spec, by_source[spec.source], config, functions) for spec in SPECS
        }

    def _collector(
        self, spec: CollectorSpec, vendor: CollectorConfig, config: StackConfig, functions: FunctionFactory
    ) -> Collector:
        secret = secretsmanager.Secret(
            self,
            f"{spec.construct_id}Secret",
            description=f"{spec.secret_description}. Set it with `aws secretsmanager put-secret-value`.",
            encryption_key=self._data_key.key,
            removal_policy=RemovalPolicy.DESTROY,
        )
        acknowledge(
            secret,
            "AwsSolutions-SMG4",
            f"The {spec.construct_id} token is issued in the vendor's console, not by AWS: Secrets Manager "
            "cannot rotate it; rotate it at the vendor and put the new value.",
        )
        interval = Duration.minutes(vendor.schedule_minutes)
        # A run older than one interval is superseded by the next scheduled run (same checkpoint).
        max_age = Duration.seconds(min(max(vendor.schedule_minutes * 60, 60), 6 * 3600))
        environment: Mapping[str, str] = {
            "CHECKPOINT_TABLE_NAME": self.checkpoint_table.table_name,
            spec.base_url_env: vendor.base_url,
            spec.secret_env: secret.secret_arn,
            **vendor_environment(config, spec.source),
            "POWERTOOLS_SERVICE_NAME": f"{spec.source}-collector",
            "POWERTOOLS_LOG_LEVEL": config.log_level,
        }
        function = functions.create(
            self,
            f"{spec.construct_id}Function",
            handler=spec.handler,
            description=f"AI Gateway {spec.construct_id} collector: vendor API -> CloudWatch metrics",
            environment=environment,
            memory_mb=vendor.memory_mb,
            timeout_seconds=vendor.timeout_seconds,
            reserved_concurrency=1,
            async_failure=AsyncFailure(self.dead_letter_queue, max_age),
            wildcard_resource_reason=" cloudwatch:PutMetricData has none either; a cloudwatch:namespace "
            "condition limits it to this collector's namespaces.",
        )
        role = function.role
        assert role is not None  # nosec B101 # the factory always passes a role (narrows the type)
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="PutOwnNamespacesOnly",
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={"StringEquals": {"cloudwatch:namespace": list(spec.namespaces)}},
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="ReadOwnSecret", actions=["secretsmanager:GetSecretValue"], resources=[secret.secret_arn]
            )
        )
        self._data_key.grant_via(role, "secretsmanager", SECRETS_MANAGER_KEY_ACTIONS)
        skip(function, COLLECTOR_VPC, COLLECTOR_DLQ)
        if spec.source in PER_KEY_CHECKPOINT_ACTIONS:
            role.add_to_principal_policy(
                iam.PolicyStatement(
                    sid="OwnCheckpointPartitionOnly",
                    actions=list(PER_KEY_CHECKPOINT_ACTIONS[spec.source]),
                    resources=[self.checkpoint_table.table_arn],
                    # Every key this role reads or writes has partition key = its source.
                    conditions={"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": [spec.source]}},
                )
            )
        else:
            self.checkpoint_table.grant(role, *CHECKPOINT_ACTIONS)
        schedule = scheduler.Schedule(
            self,
            f"{spec.construct_id}Schedule",
            schedule=scheduler.ScheduleExpression.rate(interval),
            description=f"Runs the {spec.construct_id} collector every {vendor.schedule_minutes} minutes",
            target=targets.LambdaInvoke(
                function,
                dead_letter_queue=self.dead_letter_queue,
                role=self.scheduler_role,
                # Perf stamps its gauges with this time: a redelivered event publishes nothing twice.
                input=scheduler.ScheduleTargetInput.from_object(
                    {"time": scheduler.ContextAttribute.scheduled_time}
                ),
                retry_attempts=SCHEDULER_RETRY_ATTEMPTS,
                max_event_age=max_age,
            ),
        )
        function_id = Stack.of(self).get_logical_id(function.node.default_child)
        acknowledge(
            self.scheduler_role,
            f"AwsSolutions-IAM5[Resource::<{function_id}.Arn>:*]",
            "aws_scheduler_targets.LambdaInvoke grants lambda:InvokeFunction on the collector function and "
            "its versions and aliases (ARN:*); the role can invoke nothing else.",
        )
        return Collector(spec, vendor, function, secret, schedule)
