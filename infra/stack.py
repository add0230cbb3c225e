"""The one stack: chat API, callers' insights, collectors, alerting, alarms (ours and the services'), and the
dashboard, composed from one config."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from infra.config import CONTEXT_KEY, StackConfig, load_config
from infra.constructs.ai_config_insights import AIConfigInsights
from infra.constructs.alarms import Alarms
from infra.constructs.alerting import Alerting
from infra.constructs.caller_insights import CallerInsights
from infra.constructs.chat_api import ChatApi
from infra.constructs.collectors import Collectors
from infra.constructs.dashboards import Dashboards, dashboard_url
from infra.constructs.data_key import DataKey
from infra.constructs.python_function import FunctionFactory
from infra.constructs.service_monitoring import ServiceMonitoring
from infra.partitions import guard_stack
from shared.metric_catalogue import SOURCE_LAUNCHDARKLY


class AIGatewayStack(Stack):
    def __init__(
        self, scope: Construct, construct_id: str, *, config: StackConfig | None = None, **kwargs: Any
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        guard_stack(self)  # the Powertools layer exists in the aws partition only
        self.config = config or load_config(self.node.try_get_context(CONTEXT_KEY))
        # Alarm names share this prefix: the topic and key policies admit only alarms that carry it.
        alarm_prefix = f"{self.stack_name}-"
        dashboard_name = self.stack_name

        self.data_key = DataKey(self, "DataKey")
        functions = FunctionFactory(self, self.config, key=self.data_key.key)
        self.chat_api = ChatApi(
            self, "ChatApi", config=self.config, functions=functions, data_key=self.data_key
        )
        self.callers = CallerInsights(self, "Callers", log_group=self.chat_api.function.log_group)
        self.collectors = Collectors(
            self, "Collectors", config=self.config, functions=functions, data_key=self.data_key
        )
        # Every AI Config without a series per config: a rule and saved queries on the collector's logs.
        self.ai_configs = AIConfigInsights(
            self,
            "AIConfigs",
            log_group=self.collectors.collectors[SOURCE_LAUNCHDARKLY].function.log_group,
        )
        self.alerting = Alerting(
            self, "Alerting", emails=self.config.alarms.emails, alarm_name_prefix=alarm_prefix
        )
        self.alarms = Alarms(
            self,
            "Alarms",
            config=self.config,
            topic=self.alerting.topic,
            name_prefix=alarm_prefix,
            dashboard_name=dashboard_name,
            dashboard_url=dashboard_url(dashboard_name),
            dead_letter_queue=self.collectors.dead_letter_queue,
            top_callers=self.callers.rule_names(),
            query_folder=self.stack_name,
        )
        # What the services publish themselves (AWS/Lambda, AWS/ApiGateway, ...): pages when the gateway
        # fails before our code writes a metric. Same topic, prefix and dashboard as every other alarm.
        self.services = ServiceMonitoring(
            self,
            "Services",
            config=self.config,
            target=self.alarms.target,
            chat_api=self.chat_api,
            collectors=self.collectors,
        )
        self.dashboards = Dashboards(
            self,
            "Dashboards",
            config=self.config,
            dashboard_name=dashboard_name,
            alarms=self.alarms.alarms + self.services.alarms,
            callers=self.callers,
            service_rows=self.services.rows,
            ai_config_rows=[[self.ai_configs.top_ten_widget()]],
        )
        self._outputs()

    def _outputs(self) -> None:
        outputs = {
            "ChatApiUrl": (self.chat_api.url, "POST here with SigV4 (service execute-api)"),
            "ChatbotLiveAlias": (
                self.chat_api.alias.function_arn,
                "the chatbot version the API invokes (alias live, SnapStart: chatbot.snap_start)",
            ),
            "DashboardUrl": (self.dashboards.url, "CloudWatch dashboard"),
            "AlarmTopicArn": (
                self.alerting.topic.topic_arn,
                "SNS topic of every alarm (subscribe more here)",
            ),
            "CacheTableName": (self.chat_api.cache_table.table_name, "DynamoDB response cache"),
            "UsageTableName": (self.chat_api.usage.table_name, "DynamoDB callers' usage per UTC window"),
            "CheckpointTableName": (
                self.collectors.checkpoint_table.table_name,
                "DynamoDB collector checkpoints",
            ),
            "CollectorDeadLetterQueueUrl": (
                self.collectors.dead_letter_queue.queue_url,
                "failed collector runs",
            ),
        }
        for source, collector in self.collectors.collectors.items():
            outputs[f"{collector.spec.construct_id}SecretName"] = (
                collector.secret.secret_name,
                f"put the {source} token here: aws secretsmanager put-secret-value --secret-id <this>",
            )
        for output_id, (value, description) in outputs.items():
            CfnOutput(self, output_id, value=value, description=description)
