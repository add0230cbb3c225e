"""SnapStart on the chatbot: a typed option (on by default), a published version and the `live` alias the
HTTP API invokes, every deploy replacing the version; off, the version and alias stay without a snapshot."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import aws_lambda as lambda_

from infra.config import ConfigError, load_config
from infra.constructs.chat_api import CHATBOT_HANDLER, LIVE_ALIAS
from infra.constructs.python_function import (
    SNAP_START_REGION_CONDITION,
    SNAP_START_UNSUPPORTED_REGIONS,
    snap_start_conf,
)
from tests.infra.conftest import Synth


def _chatbot(synth: Synth) -> tuple[str, dict[str, Any]]:
    (found,) = [
        (name, resource["Properties"])
        for name, resource in synth.resources("AWS::Lambda::Function").items()
        if resource["Properties"]["Handler"] == CHATBOT_HANDLER
    ]
    return found


def test_given_no_context_when_loaded_then_snap_start_is_on_and_false_turns_it_off() -> None:
    assert load_config(None).chatbot.snap_start is True
    assert load_config({"chatbot": {"snap_start": False}}).chatbot.snap_start is False


@pytest.mark.parametrize("value", ["yes", 1, None])
def test_given_a_snap_start_that_is_not_a_boolean_when_loaded_then_the_error_names_the_key(
    value: Any,
) -> None:
    with pytest.raises(ConfigError, match=r"aigateway\.chatbot\.snap_start must be true or false"):
        load_config({"chatbot": {"snap_start": value}})


def test_given_a_runtime_without_snap_start_when_asked_for_it_then_the_error_names_the_key() -> None:
    with pytest.raises(ConfigError, match=r"aigateway\.chatbot\.snap_start is true, but .* python3\.11"):
        snap_start_conf(True, lambda_.Runtime.PYTHON_3_11)
    assert snap_start_conf(False, lambda_.Runtime.PYTHON_3_11) is None


def test_given_default_config_when_synthesized_then_the_chatbot_snapshots_its_published_versions(
    default: Synth,
) -> None:
    name, chatbot = _chatbot(default)

    condition = SNAP_START_REGION_CONDITION
    assert chatbot["SnapStart"] == {"ApplyOn": {"Fn::If": [condition, "PublishedVersions", "None"]}}
    assert chatbot["Runtime"] == "python3.14" and chatbot["Architectures"] == ["arm64"]
    others = [f["Properties"] for n, f in default.resources("AWS::Lambda::Function").items() if n != name]
    assert others and all("SnapStart" not in f for f in others)  # the collectors stay as they were


@pytest.mark.parametrize("which", ["default", "custom"])
def test_given_either_setting_when_synthesized_then_the_api_invokes_the_live_alias_of_the_one_version(
    which: str, request: pytest.FixtureRequest
) -> None:
    synth: Synth = request.getfixturevalue(which)
    name, _ = _chatbot(synth)

    (version_name, version), *more = synth.resources("AWS::Lambda::Version").items()
    assert more == []
    assert version["Properties"]["FunctionName"] == {"Ref": name}
    assert version["DeletionPolicy"] == "Delete"  # the next deploy's version replaces it
    ((alias_name, alias),) = synth.resources("AWS::Lambda::Alias").items()
    assert alias["Properties"] == {
        "FunctionName": {"Ref": name},
        "FunctionVersion": {"Fn::GetAtt": [version_name, "Version"]},
        "Name": LIVE_ALIAS,
    }
    assert synth.one("AWS::ApiGatewayV2::Integration")["IntegrationUri"] == {"Ref": alias_name}
    (permission,) = [
        p["Properties"]
        for p in synth.resources("AWS::Lambda::Permission").values()
        if p["Properties"]["Principal"] == "apigateway.amazonaws.com"
    ]
    assert permission["FunctionName"] == {"Ref": alias_name}  # the alias only, never $LATEST
    assert synth.json["Outputs"]["ChatbotLiveAlias"]["Value"] == {"Ref": alias_name}


def test_given_snap_start_off_when_synthesized_then_no_function_snapshots(custom: Synth) -> None:
    assert all("SnapStart" not in f["Properties"] for f in custom.resources("AWS::Lambda::Function").values())


def test_given_the_alias_when_synthesized_then_the_function_alarms_still_read_the_whole_function(
    default: Synth,
) -> None:
    # AWS/Lambda's FunctionName dimension alone sums every version and alias of the function.
    name, _ = _chatbot(default)
    metrics = [
        query["MetricStat"]["Metric"]
        for alarm in default.resources("AWS::CloudWatch::Alarm").values()
        for query in alarm["Properties"].get("Metrics", [])
        if query.get("MetricStat", {}).get("Metric", {}).get("Namespace") == "AWS/Lambda"
    ]
    chatbot = [m for m in metrics if {"Name": "FunctionName", "Value": {"Ref": name}} in m["Dimensions"]]
    assert {m["MetricName"] for m in chatbot} >= {"Errors", "Throttles", "Duration", "ConcurrentExecutions"}
    assert all(len(m["Dimensions"]) == 1 for m in chatbot)  # no Resource (version or alias) dimension


def _holds(condition: Any, region: str) -> bool:
    """CloudFormation's value of a condition made of Fn::Not, Fn::Or and Fn::Equals on AWS::Region."""
    ((function, args),) = condition.items()
    if function == "Fn::Not":
        return not _holds(args[0], region)
    if function == "Fn::Or":
        return any(_holds(arg, region) for arg in args)
    if function == "Fn::Equals":
        values = [region if arg == {"Ref": "AWS::Region"} else arg for arg in args]
        return bool(values[0] == values[1])
    raise AssertionError(f"unexpected {function}")


@pytest.mark.parametrize(
    ("region", "snapshots"),
    [("us-east-1", True), ("eu-west-1", True), ("ap-southeast-2", True)]
    + [(region, False) for region in SNAP_START_UNSUPPORTED_REGIONS],
)
def test_given_a_deploy_region_when_the_condition_is_evaluated_then_snap_start_only_where_lambda_offers_it(
    default: Synth, region: str, snapshots: bool
) -> None:
    # Lambda offers SnapStart in every commercial region but Asia Pacific (New Zealand) and (Taipei).
    condition = default.json["Conditions"][SNAP_START_REGION_CONDITION]

    assert _holds(condition, region) is snapshots
