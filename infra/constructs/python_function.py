"""One way to build every Lambda of the product: same runtime, architecture, code, layer, logs and tracing.

Each function gets its own role (no AWS managed policy: it may write only to its own log group) and an
explicit log group with retention, so nothing is created outside the stack at first invocation. Its log group
and its environment variables are encrypted with the stack's data key (infra/constructs/data_key.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from aws_cdk import Annotations, CfnCondition, Duration, Fn, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.config import CONTEXT_KEY, RETENTION_DAYS, ConfigError, StackConfig
from infra.nag import acknowledge

LAMBDAS_DIR = Path(__file__).resolve().parents[2] / "lambdas"
# Never ship caches, stubs or local tooling state into the deployment package.
CODE_EXCLUDES = ["**/__pycache__", "**/*.pyc", "**/.pytest_cache", "**/.mypy_cache", "**/.ruff_cache"]
RUNTIME = lambda_.Runtime.PYTHON_3_14
ARCHITECTURE = lambda_.Architecture.ARM_64
# Powertools for AWS Lambda (Python) v3 public layer, published by AWS in account 017000801446.
POWERTOOLS_LAYER_ARN = (
    "arn:aws:lambda:{region}:017000801446:layer:AWSLambdaPowertoolsPythonV3-python314-arm64:{version}"
)


# The synth warning CDK adds to every SnapStart function ("SnapStart only supports published Lambda
# versions"): a function built with `snap_start` publishes one (`current_version`) and is called through it.
SNAP_START_PUBLISH_WARNING = "@aws-cdk/aws-lambda:snapStartRequirePublish"


# Lambda's guide ("Improving startup performance with Lambda SnapStart", Supported Regions): SnapStart is
# offered in every commercial region except Asia Pacific (New Zealand) and Asia Pacific (Taipei). The template
# is environment-agnostic, so the region decides at deploy: there the function starts without a snapshot.
SNAP_START_UNSUPPORTED_REGIONS = ("ap-southeast-6", "ap-east-2")
SNAP_START_REGION_CONDITION = "SnapStartOfferedInRegion"


def _snap_start_where_offered(function: lambda_.Function) -> None:
    """SnapStart `PublishedVersions` where the deploy's region offers it, `None` where it does not."""
    stack = Stack.of(function)
    condition = stack.node.try_find_child(SNAP_START_REGION_CONDITION)
    if not isinstance(condition, CfnCondition):
        condition = CfnCondition(
            stack,
            SNAP_START_REGION_CONDITION,
            expression=Fn.condition_not(
                Fn.condition_or(
                    *(Fn.condition_equals(stack.region, r) for r in SNAP_START_UNSUPPORTED_REGIONS)
                )
            ),
        )
    cfn = function.node.default_child
    if not isinstance(cfn, lambda_.CfnFunction):
        raise TypeError(f"{function.node.path}: no CfnFunction to set SnapStart on")
    cfn.add_property_override(
        "SnapStart.ApplyOn", Fn.condition_if(condition.logical_id, "PublishedVersions", "None")
    )


def snap_start_conf(
    enabled: bool, runtime: lambda_.Runtime = RUNTIME, key: str = f"{CONTEXT_KEY}.chatbot.snap_start"
) -> lambda_.SnapStartConf | None:
    """SnapStart on published versions when `enabled`; an error naming `key` where the runtime has none
    (Lambda: Java 11+, Python 3.12+, .NET 8+, either architecture)."""
    if not enabled:
        return None
    if not runtime.supports_snap_start:
        raise ConfigError(
            f"{key} is true, but the functions' runtime {runtime.name} has no SnapStart: set it to false"
        )
    return lambda_.SnapStartConf.ON_PUBLISHED_VERSIONS


# jsii enum members are named, not numbered: CloudWatch's retention values in the enum's own order.
_RETENTION = dict(zip(RETENTION_DAYS, [m for m in logs.RetentionDays if m.name != "INFINITE"], strict=True))


def log_retention(days: int) -> logs.RetentionDays:
    return _RETENTION[days]


# A failed run is retried twice (after ~1 and ~2 minutes): runs are idempotent (checkpoints), and a quick
# retry beats waiting for the next scheduled run.
ASYNC_RETRY_ATTEMPTS = 2


@dataclass(frozen=True, slots=True)
class AsyncFailure:
    """Where an asynchronous invocation goes when it fails, and how long it may wait to run."""

    queue: sqs.IQueue
    max_event_age: Duration


class FunctionFactory:
    """Builds the product's functions; one per stack so the code asset and layer are shared."""

    def __init__(self, stack: Stack, config: StackConfig, *, key: kms.IKey) -> None:
        self._config = config
        self.key = key
        self.code = lambda_.Code.from_asset(str(LAMBDAS_DIR), exclude=CODE_EXCLUDES)
        self.layer = lambda_.LayerVersion.from_layer_version_arn(
            stack,
            "PowertoolsLayer",
            POWERTOOLS_LAYER_ARN.format(region=stack.region, version=config.powertools_layer_version),
        )

    def create(
        self,
        scope: Construct,
        construct_id: str,
        *,
        handler: str,
        description: str,
        environment: Mapping[str, str],
        memory_mb: int,
        timeout_seconds: int,
        reserved_concurrency: int | None = None,
        async_failure: AsyncFailure | None = None,
        wildcard_resource_reason: str = "",
        snap_start: lambda_.SnapStartConf | None = None,
    ) -> lambda_.Function:
        """A function with its own log group and role; `wildcard_resource_reason` explains any action
        the caller adds with Resource `*` besides X-Ray's. With `snap_start` the caller must call the
        function through a published version (`function.current_version`), as SnapStart requires."""
        log_group = logs.LogGroup(
            scope,
            f"{construct_id}Logs",
            retention=log_retention(self._config.log_retention_days),
            encryption_key=self.key,
            # Logs follow the function: `make destroy` leaves no orphaned groups behind.
            removal_policy=RemovalPolicy.DESTROY,
        )
        role = iam.Role(
            scope,
            f"{construct_id}Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"{description} (execution role)",
        )
        log_group.grant_write(role)
        function = lambda_.Function(
            scope,
            construct_id,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            code=self.code,
            handler=handler,
            layers=[self.layer],
            description=description,
            memory_size=memory_mb,
            timeout=Duration.seconds(timeout_seconds),
            environment=dict(environment),
            environment_encryption=self.key,
            log_group=log_group,
            role=role,
            tracing=lambda_.Tracing.ACTIVE,
            reserved_concurrent_executions=reserved_concurrency,
            retry_attempts=ASYNC_RETRY_ATTEMPTS if async_failure else None,
            max_event_age=async_failure.max_event_age if async_failure else None,
            on_failure=destinations.SqsDestination(async_failure.queue) if async_failure else None,
            snap_start=snap_start,
            # Each deploy publishes a new version; the one it replaces is deleted, not kept: a kept SnapStart
            # version would keep billing its snapshot cache (docs/deploy.md).
            current_version_options=lambda_.VersionOptions(removal_policy=RemovalPolicy.DESTROY),
        )
        if snap_start is not None:
            _snap_start_where_offered(function)
            Annotations.of(function).acknowledge_warning(
                SNAP_START_PUBLISH_WARNING, "the function is called through its published current_version"
            )
        acknowledge(
            role,
            "AwsSolutions-IAM5[Resource::*]",
            "X-Ray PutTraceSegments and PutTelemetryRecords (active tracing) support no resource-level "
            f"permissions.{wildcard_resource_reason} Every other action of this role names its resources.",
        )
        return function
