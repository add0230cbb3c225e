#!/usr/bin/env python3
"""CDK app entry point: `cdk synth` / `cdk deploy` (see docs/deploy.md)."""

from infra.application import create_app

app, _ = create_app()
app.synth()
