"""The app claims only the partition its Powertools layer exists in, and refuses any other region at
synth (concrete regions) or at deploy (the template's rule), with an error naming the key and region."""

from __future__ import annotations

import pytest
from aws_cdk import App, Environment

from infra.application import create_app
from infra.config import ConfigError, load_config
from infra.partitions import SUPPORTED_PARTITIONS, TARGET_PARTITIONS_KEY, check_region
from infra.stack import AIGatewayStack
from tests.infra.conftest import Synth, cdk_context


def test_given_cdk_json_when_read_then_it_claims_only_the_aws_partition() -> None:
    assert cdk_context()[TARGET_PARTITIONS_KEY] == ["aws"]
    assert SUPPORTED_PARTITIONS == ("aws",)


@pytest.mark.parametrize("partitions", [["aws", "aws-cn"], ["aws-us-gov"]])
def test_given_target_partitions_beyond_aws_when_synthesized_then_the_synth_stops_naming_the_key(
    partitions: list[str],
) -> None:
    context = {**cdk_context(), TARGET_PARTITIONS_KEY: partitions}

    with pytest.raises(ConfigError, match=f"{TARGET_PARTITIONS_KEY} lists aws-") as error:
        create_app(context=context)
    assert "017000801446" in str(error.value)


@pytest.mark.parametrize(
    ("region", "partition"),
    [("cn-north-1", "aws-cn"), ("cn-northwest-1", "aws-cn"), ("us-gov-west-1", "aws-us-gov")],
)
def test_given_a_stack_env_outside_the_aws_partition_when_synthesized_then_the_synth_stops(
    region: str, partition: str
) -> None:
    app = App(context=cdk_context())

    with pytest.raises(ConfigError, match=rf"env\.region\) is {region} \(partition {partition}\)"):
        AIGatewayStack(app, "Elsewhere", env=Environment(region=region), config=load_config())


def test_given_the_cli_deploys_to_a_china_region_when_the_app_is_built_then_the_synth_stops(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CDK_DEFAULT_REGION", "cn-north-1")

    with pytest.raises(ConfigError, match=r"CDK_DEFAULT_REGION .* is cn-north-1 \(partition aws-cn\)"):
        create_app(context=cdk_context())


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-1", "ap-southeast-2"])
def test_given_a_commercial_region_when_checked_then_it_is_accepted(region: str) -> None:
    check_region(region, "env.region")


def test_given_an_unknown_region_when_checked_then_it_is_refused_as_unknown() -> None:
    with pytest.raises(ConfigError, match=r"xx-nowhere-1 \(a region this CDK version does not know\)"):
        check_region("xx-nowhere-1", "env.region")


def test_given_an_environment_agnostic_template_when_deployed_then_cloudformation_refuses_other_partitions(
    default: Synth,
) -> None:
    rule = default.json["Rules"]["SupportedPartition"]

    (assertion,) = rule["Assertions"]
    assert assertion["Assert"] == {"Fn::Contains": [["aws"], {"Ref": "AWS::Partition"}]}
    assert "017000801446" in assertion["AssertDescription"]
    layers = {
        str(layer)
        for function in default.resources("AWS::Lambda::Function").values()
        for layer in function["Properties"]["Layers"]
    }
    layer_name = ":017000801446:layer:AWSLambdaPowertoolsPythonV3-python314-arm64:"
    assert layers and all(layer_name in layer for layer in layers)
