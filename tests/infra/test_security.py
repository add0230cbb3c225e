"""Security gates: cdk-nag AwsSolutions, least-privilege IAM over every policy, cfn-lint."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aws_cdk
import pytest

from infra.application import create_app
from tests.infra.conftest import Assembly, Synth, cdk_context

# Actions that have no resource-level permissions: the only ones allowed on Resource "*".
WILDCARD_RESOURCE_ACTIONS = {"cloudwatch:PutMetricData", "xray:PutTraceSegments", "xray:PutTelemetryRecords"}
ACK_KEY = "aws:cdk:acknowledged-rules"


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _identity_statements(synth: Synth) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every statement of every identity policy: inline role policies, policies, managed policies."""
    for name, resource in synth.json["Resources"].items():
        props = resource.get("Properties", {})
        if resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            for statement in props["PolicyDocument"]["Statement"]:
                yield name, statement
        if resource["Type"] == "AWS::IAM::Role":
            for policy in props.get("Policies", []):
                for statement in policy["PolicyDocument"]["Statement"]:
                    yield name, statement


def _all_statements(synth: Synth) -> Iterator[tuple[str, dict[str, Any]]]:
    yield from _identity_statements(synth)
    for name, resource in synth.json["Resources"].items():
        props = resource.get("Properties", {})
        for key in ("KeyPolicy", "PolicyDocument", "AssumeRolePolicyDocument"):
            if key in props and resource["Type"] not in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
                for statement in props[key]["Statement"]:
                    yield name, statement


@pytest.fixture(scope="module", params=["default", "custom"])
def synth(request: pytest.FixtureRequest, assembly: Assembly) -> Synth:
    return getattr(assembly, request.param)


def test_given_the_app_when_synthesized_then_cdk_nag_reports_no_unacknowledged_finding(
    assembly: Assembly,
) -> None:
    # The session synth would have raised on a finding; the report it wrote must be empty too.
    report = json.loads((assembly.outdir / "validation-report.json").read_text())

    assert [r for r in report["pluginReports"] if r.get("violations")] == []


def test_given_every_acknowledgement_removed_when_synthesized_then_cdk_nag_finds_exactly_those_rules(
    default: Synth, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    acknowledged = {
        rule.split("::", 1)[1]
        for construct in default.stack.node.find_all()
        for entry in construct.node.metadata
        if entry.type == ACK_KEY
        for rule in entry.data
    }
    monkeypatch.setattr(aws_cdk.Validations, "acknowledge", lambda self, *rules: None)
    app, _ = create_app(context=cdk_context(), outdir=str(tmp_path))

    with pytest.raises(RuntimeError, match="ValidationFailed") as failure:
        app.synth()

    findings = set(re.findall(r"Acknowledge with 'AwsSolutions::([^']+)'", str(failure.value)))
    assert findings == acknowledged
    assert len(acknowledged) >= 5


def test_given_the_acknowledgements_when_read_then_each_carries_a_specific_reason(default: Synth) -> None:
    reasons = {
        rule: reason
        for construct in default.stack.node.find_all()
        for entry in construct.node.metadata
        if entry.type == ACK_KEY
        for rule, reason in entry.data.items()
    }

    assert {rule.split("[")[0] for rule in reasons} == {
        "AwsSolutions::AwsSolutions-IAM5",
        "AwsSolutions::AwsSolutions-SQS3",
        "AwsSolutions::AwsSolutions-SMG4",
    }
    for rule, reason in reasons.items():
        assert len(reason) > 60, rule


def test_given_any_policy_when_inspected_then_no_statement_allows_every_action(synth: Synth) -> None:
    for name, statement in _all_statements(synth):
        if statement["Effect"] == "Allow":
            assert "*" not in _listed(statement["Action"]), name


def test_given_identity_policies_when_inspected_then_no_action_is_a_service_wildcard(synth: Synth) -> None:
    for name, statement in _identity_statements(synth):
        for action in _listed(statement["Action"]):
            assert not action.endswith(":*"), f"{name}: {action}"


def test_given_identity_policies_when_inspected_then_only_actions_without_resource_permissions_use_star(
    synth: Synth,
) -> None:
    seen: set[str] = set()
    for name, statement in _identity_statements(synth):
        if "*" not in _listed(statement["Resource"]):
            continue
        actions = set(_listed(statement["Action"]))
        seen |= actions
        assert actions <= WILDCARD_RESOURCE_ACTIONS, f"{name}: {actions}"
        if "cloudwatch:PutMetricData" in actions:
            assert actions == {"cloudwatch:PutMetricData"}, name
            namespaces = statement["Condition"]["StringEquals"]["cloudwatch:namespace"]
            assert namespaces and all(ns.startswith("AIGateway/") for ns in namespaces), name

    assert seen == WILDCARD_RESOURCE_ACTIONS  # the check above really saw the three


def test_given_the_templates_when_linted_then_cfn_lint_reports_no_error(assembly: Assembly) -> None:
    templates = [
        str(assembly.outdir / f"{synth.stack.stack_name}.template.json")
        for synth in (assembly.default, assembly.custom)
    ]
    cfn_lint = Path(sys.executable).parent / "cfn-lint"

    result = subprocess.run(  # noqa: S603 - fixed arguments
        [str(cfn_lint), "--format", "json", *templates],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )

    findings = json.loads(result.stdout or "[]")
    errors = [f for f in findings if f["Level"] == "Error"]
    assert errors == [], json.dumps(errors, indent=1)[:4000]
    assert result.returncode in (0, 4, 8, 12), (
        result.stderr
    )  # bit 2: errors; 4/8: warnings/informational only
    assert not result.returncode & 2
