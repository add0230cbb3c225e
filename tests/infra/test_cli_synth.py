"""`cdk synth` through the pinned CLI (package.json), offline, with no account and no arguments."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.infra.conftest import ROOT


@pytest.mark.slow
def test_given_no_account_when_the_pinned_cli_synthesizes_then_the_stack_template_is_written(
    tmp_path: Path,
) -> None:
    npx = shutil.which("npx")
    assert npx, "Node's npx is needed (make install sets up node_modules)"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20",
        JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION="1",
        CDK_DISABLE_VERSION_CHECK="1",
        CDK_DISABLE_CLI_TELEMETRY="true",  # else the CLI posts telemetry to an AWS endpoint
        AWS_EC2_METADATA_DISABLED="true",
    )

    result = subprocess.run(  # noqa: S603 - fixed arguments
        [npx, "--no-install", "cdk", "synth", "--no-notices", "-q", "-o", str(tmp_path / "cdk.out")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert result.returncode == 0, result.stderr[-4000:]
    template = json.loads((tmp_path / "cdk.out" / "AIGatewayTokenMetrics.template.json").read_text())
    types = {resource["Type"] for resource in template["Resources"].values()}
    assert {"AWS::ApiGatewayV2::Api", "AWS::CloudWatch::Dashboard", "AWS::SNS::Topic"} <= types
    assert "DashboardUrl" in template["Outputs"]
