#!/usr/bin/env python3
"""CDK app entry point: `cdk synth` / `cdk deploy` (see README)."""

import aws_cdk as cdk

from infra.stack import AIGatewayStack

app = cdk.App()
AIGatewayStack(app, "AIGatewayTokenMetrics")
app.synth()
