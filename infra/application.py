"""Builds the CDK app: the stack from cdk.json's `aigateway` context, checked by cdk-nag AwsSolutions."""

from __future__ import annotations

from typing import Any

from aws_cdk import App, Validations
from cdk_nag import AwsSolutionsChecks

from infra.partitions import TARGET_PARTITIONS_KEY, check_cli_region, check_target_partitions
from infra.stack import AIGatewayStack

STACK_ID = "AIGatewayTokenMetrics"


def create_app(**app_props: Any) -> tuple[App, AIGatewayStack]:
    """The app and its one stack; `app_props` go to `App` (tests pass `context` and `outdir`)."""
    app = App(**app_props)
    check_target_partitions(app.node.try_get_context(TARGET_PARTITIONS_KEY))
    check_cli_region()
    stack = AIGatewayStack(
        app, STACK_ID, description="AI Gateway token metrics: chat API, collectors, dashboard, alarms"
    )
    # cdk-nag 3: a validation plugin; any unacknowledged finding fails the synth.
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app, stack
