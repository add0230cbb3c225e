"""Where this app can be deployed: the partitions and regions its Powertools layer exists in.

Every function uses the Powertools for AWS Lambda (Python) v3 public layer
`AWSLambdaPowertoolsPythonV3-python314-arm64`, which account 017000801446 publishes in the commercial
regions of the `aws` partition. AWS China (`aws-cn`) and GovCloud (`aws-us-gov`) get copies from other
publisher accounts, in fewer regions and not for every version, and the ARN is built for the `aws`
partition and that account; so the app claims the `aws` partition only (cdk.json's
`@aws-cdk/core:target-partitions`) and refuses anything else:

- at synth, a concrete region (the stack's `env`, or `CDK_DEFAULT_REGION`, the region the CDK CLI will
  deploy to) outside the `aws` partition, or a target-partitions list naming another partition, stops
  the synth with an error naming the key and the region;
- at deploy, the template's rule `SupportedPartition` stops CloudFormation before it creates anything
  when the environment-agnostic template reaches another partition.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

from aws_cdk import Aws, CfnRule, CfnRuleAssertion, Fn, Stack, Token
from aws_cdk.region_info import RegionInfo

from infra.config_model import ConfigError

SUPPORTED_PARTITIONS = ("aws",)
TARGET_PARTITIONS_KEY = "@aws-cdk/core:target-partitions"
POWERTOOLS_PUBLISHER = "017000801446"
_WHY = (
    f"the Powertools layer AWSLambdaPowertoolsPythonV3-python314-arm64 is published by account "
    f"{POWERTOOLS_PUBLISHER} in the aws partition only (AWS China and GovCloud have other publisher "
    "accounts); deploy to a commercial region such as us-east-1"
)


def check_target_partitions(claimed: object) -> None:
    """cdk.json may claim only the partitions this app works in."""
    if claimed is None:
        return
    if not isinstance(claimed, Sequence) or isinstance(claimed, str):
        raise ConfigError(f"{TARGET_PARTITIONS_KEY} must be a list of partitions, got {claimed!r}")
    unsupported = [p for p in claimed if p not in SUPPORTED_PARTITIONS]
    if unsupported:
        raise ConfigError(f"{TARGET_PARTITIONS_KEY} lists {', '.join(map(str, unsupported))}, but {_WHY}")


def check_region(region: str, where: str) -> None:
    """A concrete region must be in a supported partition; an unresolved one is checked at deploy."""
    if not region or Token.is_unresolved(region):
        return
    partition = RegionInfo.get(region).partition
    if partition not in SUPPORTED_PARTITIONS:
        known = f"partition {partition}" if partition else "a region this CDK version does not know"
        raise ConfigError(f"{where} is {region} ({known}), but {_WHY}")


def check_cli_region(environ: Mapping[str, str] = os.environ) -> None:
    """The CDK CLI passes the region it will deploy to as CDK_DEFAULT_REGION."""
    check_region(environ.get("CDK_DEFAULT_REGION", ""), "CDK_DEFAULT_REGION (the CLI's --profile/AWS_REGION)")


def guard_stack(stack: Stack) -> None:
    """Refuse a concrete unsupported region now, and any other partition at deploy time."""
    check_region(stack.region, f"the region of stack {stack.stack_name} (env.region)")
    CfnRule(
        stack,
        "SupportedPartition",
        assertions=[
            CfnRuleAssertion(
                assert_=Fn.condition_contains(list(SUPPORTED_PARTITIONS), Aws.PARTITION),
                assert_description=f"This stack deploys only to the aws partition: {_WHY}.",
            )
        ],
    )
