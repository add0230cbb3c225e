"""The one stack that composes every construct (filled in by the CDK stack issue)."""

from __future__ import annotations

from aws_cdk import Stack
from constructs import Construct


class AIGatewayStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, **kwargs: object) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
