"""`POST /chat`: the IAM-authorized HTTP API, the chatbot function, its response cache, its callers' usage
table and its IAM."""

from __future__ import annotations

import json

import jsii
from aws_cdk import ArnFormat, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk.aws_apigatewayv2_authorizers import HttpIamAuthorizer
from aws_cdk.aws_apigatewayv2_integrations import HttpLambdaIntegration
from constructs import Construct

from infra.chatbot_environment import chatbot_environment
from infra.config import StackConfig, foundation_model_id, geo_prefix
from infra.constructs.data_key import DYNAMODB_KEY_ACTIONS, DataKey
from infra.constructs.python_function import FunctionFactory, log_retention, snap_start_conf
from infra.constructs.usage_table import UsageTable
from infra.nag import acknowledge
from infra.scanner_skips import CHATBOT_DLQ, CHATBOT_VPC, skip
from shared.table_schema import CACHE_PARTITION_KEY, CACHE_TTL_ATTRIBUTE

CHATBOT_HANDLER = "chatbot/chatbot_handler.handler"
# The alias the HTTP API invokes: every deploy publishes a version of the function and points it there.
LIVE_ALIAS = "live"
# ConverseStream is authorized as InvokeModelWithResponseStream; the chatbot never calls InvokeModel.
BEDROCK_ACTIONS = ["bedrock:InvokeModelWithResponseStream"]
# HTTP API $context variables: who called (SigV4 identity), what, how it ended and how long it took.
ACCESS_LOG_FORMAT = {
    "requestId": "$context.requestId",
    "requestTime": "$context.requestTime",
    "sourceIp": "$context.identity.sourceIp",
    "caller": "$context.identity.userArn",
    "routeKey": "$context.routeKey",
    "protocol": "$context.protocol",
    "status": "$context.status",
    "responseLength": "$context.responseLength",
    "responseLatency": "$context.responseLatency",
    "integrationLatency": "$context.integrationLatency",
    "integrationError": "$context.integrationErrorMessage",
    "authorizerError": "$context.authorizer.error",
}


def bedrock_resource_arns(stack: Stack, model_ids: tuple[str, ...]) -> list[str]:
    """The ARNs ConverseStream needs for these model ids, and no others.

    A geo-prefixed id (`us.`, `eu.`, `global.` ...) is an inference profile in this account and region
    that routes to the foundation model in several regions, so the model ARN takes any region. A plain
    id is an on-demand foundation model in the stack's region.
    """
    arns: list[str] = []
    for model_id in model_ids:
        model = foundation_model_id(model_id)
        if geo_prefix(model_id):
            arns.append(
                stack.format_arn(
                    service="bedrock",
                    resource="inference-profile",
                    resource_name=model_id,
                    arn_format=ArnFormat.SLASH_RESOURCE_NAME,
                )
            )
            region = "*"
        else:
            region = stack.region
        arns.append(
            stack.format_arn(
                service="bedrock",
                region=region,
                account="",
                resource="foundation-model",
                resource_name=model,
                arn_format=ArnFormat.SLASH_RESOURCE_NAME,
            )
        )
    return list(dict.fromkeys(arns))


class ChatApi(Construct):
    """The chat API: HTTP API -> chatbot Lambda -> DynamoDB cache / Bedrock."""

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
        stack = Stack.of(self)
        chatbot = config.chatbot

        self.cache_table = dynamodb.Table(
            self,
            "CacheTable",
            partition_key=dynamodb.Attribute(name=CACHE_PARTITION_KEY, type=dynamodb.AttributeType.STRING),
            time_to_live_attribute=CACHE_TTL_ATTRIBUTE,
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            # Answers to callers' prompts: under the stack's own key.
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=data_key.key,
            # A cache: losing it costs one model call per entry, never data.
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.usage = UsageTable(self, "Usage", key=data_key.key)

        self.function: lambda_.Function = functions.create(
            self,
            "ChatbotFunction",
            handler=CHATBOT_HANDLER,
            description="AI Gateway chatbot: POST /chat, Bedrock ConverseStream, EMF token metrics",
            memory_mb=chatbot.memory_mb,
            timeout_seconds=chatbot.timeout_seconds,
            reserved_concurrency=chatbot.reserved_concurrency,
            snap_start=snap_start_conf(chatbot.snap_start),
            environment=chatbot_environment(
                config,
                cache_table_name=self.cache_table.table_name,
                usage_table_name=self.usage.table_name,
            ),
        )
        # The API calls a published version through an alias, never $LATEST: SnapStart snapshots published
        # versions only, and a version is the code and configuration of one deploy. Alarms, dashboards and
        # reserved concurrency stay on the function (AWS/Lambda's FunctionName dimension sums every
        # version and alias of it).
        self.alias = lambda_.Alias(
            self, "ChatbotLive", alias_name=LIVE_ALIAS, version=self.function.current_version
        )
        role = self.function.role
        assert role is not None  # nosec B101 # the factory always passes a role (narrows the type)
        self.cache_table.grant(role, "dynamodb:GetItem", "dynamodb:PutItem")
        self.usage.grant_metering(role)
        data_key.grant_via(role, "dynamodb", DYNAMODB_KEY_ACTIONS)
        skip(self.function, CHATBOT_VPC, CHATBOT_DLQ)
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="InvokeConfiguredModels",
                actions=BEDROCK_ACTIONS,
                resources=bedrock_resource_arns(stack, config.models.allowed),
            )
        )
        for model in sorted({foundation_model_id(m) for m in config.models.allowed if geo_prefix(m)}):
            acknowledge(
                role,
                f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:bedrock:*::foundation-model/{model}]",
                f"{model} is reached through a cross-region inference profile, which routes to the same "
                "foundation model in several regions; only the region is a wildcard.",
            )

        self.access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            retention=log_retention(config.log_retention_days),
            encryption_key=data_key.key,
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.http_api = apigwv2.HttpApi(
            self,
            "HttpApi",
            description="AI Gateway chat API (SigV4 / IAM authorized)",
            create_default_stage=False,
        )
        self.stage = self.http_api.add_stage(
            "DefaultStage",
            stage_name="$default",
            auto_deploy=True,
            throttle=apigwv2.ThrottleSettings(
                rate_limit=config.api.throttle_rate_limit, burst_limit=config.api.throttle_burst_limit
            ),
            access_log_settings=_AccessLogs(
                apigwv2.LogGroupLogDestination(self.access_logs),
                apigw.AccessLogFormat.custom(json.dumps(ACCESS_LOG_FORMAT, separators=(",", ":"))),
            ),
        )
        self.http_api.add_routes(
            path="/chat",
            methods=[apigwv2.HttpMethod.POST],
            integration=HttpLambdaIntegration("ChatbotIntegration", self.alias),
            authorizer=HttpIamAuthorizer(),
        )

    @property
    def url(self) -> str:
        """`https://<api-id>.execute-api.<region>.amazonaws.com/chat`."""
        return f"{self.http_api.api_endpoint}/chat"


@jsii.implements(apigwv2.IAccessLogSettings)
class _AccessLogs:
    """IAccessLogSettings is a jsii interface (not a struct): Python passes an object implementing it."""

    def __init__(self, destination: apigwv2.IAccessLogDestination, log_format: apigw.AccessLogFormat) -> None:
        self._destination = destination
        self._format = log_format

    @property
    def destination(self) -> apigwv2.IAccessLogDestination:
        return self._destination

    @property
    def format(self) -> apigw.AccessLogFormat:
        return self._format
