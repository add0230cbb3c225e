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
from tests.fakes.flashback_server import FakeFlashback
from tests.fakes.launchdarkly_server import FakeLaunchDarkly
from tests.fakes.perf_server import FakePerf
from tests.infra.conftest import Assembly, Synth, cdk_context, render
from tests.reliability.lab import PLANTED

# Actions that have no resource-level permissions: the only ones allowed on Resource "*" in an identity
# policy. PutMetricData must carry a `cloudwatch:namespace` condition; the four X-Ray actions (what the
# Lambda tracing policy grants: segments, telemetry, sampling rules and targets) have no resource type
# and no condition key that could narrow them (Service Authorization Reference, AWS X-Ray).
WILDCARD_RESOURCE_ACTIONS = {
    "cloudwatch:PutMetricData",
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "xray:GetSamplingRules",
    "xray:GetSamplingTargets",
}
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

    # The check above really ran: PutMetricData and the tracing actions the template grants were seen.
    assert {"cloudwatch:PutMetricData", "xray:PutTraceSegments", "xray:PutTelemetryRecords"} <= seen


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


# --- Reliability & security gates (issue 7): every route, queue, topic, secret and resource policy ---------
ROOT_ARN = ["arn:", {"Ref": "AWS::Partition"}, ":iam::", {"Ref": "AWS::AccountId"}, ":root"]
ROOT_PRINCIPAL = {"AWS": {"Fn::Join": ["", ROOT_ARN]}}
# What a leaked credential would look like in the template: the vendor fakes' tokens, the token shapes of
# the three vendors and AWS, PEM keys and bearer headers.
SECRET_PATTERNS = [
    re.compile(pattern)
    for pattern in (
        r"api-[0-9a-f]{8}-[0-9a-f]{4}-",  # LaunchDarkly access token
        r"\b(?:pk|fb)_(?:live|test)_[A-Za-z0-9]",  # Perf and Flashback key shapes
        r"\bsk-[A-Za-z0-9]{16,}",
        r"\bAKIA[0-9A-Z]{16}\b",
        r"-----BEGIN [A-Z ]*PRIVATE KEY",
        r"Bearer [A-Za-z0-9._-]{8,}",
    )
]


def _resource_statements(synth: Synth) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(resource id, type, statement) of every resource-based policy (key, queue and topic policies)."""
    for name, resource in synth.json["Resources"].items():
        props = resource.get("Properties", {})
        for key in ("KeyPolicy", "PolicyDocument"):
            if key in props and resource["Type"] not in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
                for statement in props[key]["Statement"]:
                    yield name, resource["Type"], statement


def test_given_any_route_when_synthesized_then_every_route_requires_sigv4_and_nothing_else_is_public(
    synth: Synth,
) -> None:
    routes = synth.resources("AWS::ApiGatewayV2::Route")

    assert routes, "the chat API has routes"
    for name, route in routes.items():
        assert route["Properties"].get("AuthorizationType") == "AWS_IAM", name  # unsigned requests: 403
        assert route["Properties"]["RouteKey"] != "$default", name
    assert synth.resources("AWS::ApiGatewayV2::Authorizer") == {}  # no custom authorizer to bypass IAM
    assert synth.resources("AWS::Lambda::Url") == {}  # no function URL beside the API
    for name, permission in synth.resources("AWS::Lambda::Permission").items():
        props = permission["Properties"]
        assert props["Principal"] == "apigateway.amazonaws.com", name
        source = render(props["SourceArn"])
        assert source.startswith("arn:${AWS::Partition}:execute-api:") and source.endswith("/chat"), name


def test_given_any_queue_or_topic_when_synthesized_then_it_is_encrypted_and_refuses_plain_http(
    synth: Synth,
) -> None:
    queues, topics = synth.resources("AWS::SQS::Queue"), synth.resources("AWS::SNS::Topic")
    tls_only: set[str] = set()
    for _, resource_type, statement in _resource_statements(synth):
        if (
            resource_type in ("AWS::SQS::QueuePolicy", "AWS::SNS::TopicPolicy")
            and statement["Effect"] == "Deny"
            and statement.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
            and statement.get("Principal") in ("*", {"AWS": "*"})
        ):
            resources = _listed(statement["Resource"])
            tls_only |= {r.get("Ref") or r["Fn::GetAtt"][0] for r in resources if isinstance(r, dict)}

    assert queues and topics
    for name, queue in queues.items():
        props = queue["Properties"]
        assert props.get("SqsManagedSseEnabled") is True or "KmsMasterKeyId" in props, name
        assert name in tls_only, f"{name}: no Deny on aws:SecureTransport=false"
    for name, topic in topics.items():
        assert "KmsMasterKeyId" in topic["Properties"], name  # SNS has no default encryption at rest
        assert name in tls_only, f"{name}: no Deny on aws:SecureTransport=false"


def test_given_resource_policies_when_inspected_then_no_allow_is_public_or_wildcarded(synth: Synth) -> None:
    """Key, queue and topic policies: an Allow names a principal that is not `*`, and the only service
    wildcard is the key policy's default statement (`kms:*` for the account root, which hands the key's
    access control to IAM; `Resource: *` in a key policy means this key)."""
    for name, resource_type, statement in _resource_statements(synth):
        if statement["Effect"] != "Allow":
            continue
        principal = statement.get("Principal")
        assert principal not in ("*", {"AWS": "*"}), name
        actions = _listed(statement["Action"])
        assert "*" not in actions, name
        if any(action.endswith(":*") for action in actions):
            assert (resource_type, actions, principal) == ("AWS::KMS::Key", ["kms:*"], ROOT_PRINCIPAL), name
        if "Service" in (principal or {}):  # a service may act only for this account's resources
            condition = statement.get("Condition", {})
            # CloudWatch Logs names the log group it encrypts for in the encryption context, not a source.
            logs_arn = condition.get("ArnLike", {}).get("kms:EncryptionContext:aws:logs:arn")
            if logs_arn is not None:
                assert ":${AWS::AccountId}:log-group:" in render(logs_arn), name
                continue
            assert "aws:SourceAccount" in json.dumps(condition), name


def test_given_secrets_when_synthesized_then_no_value_is_in_the_template_and_lambdas_get_only_arns(
    synth: Synth,
) -> None:
    secrets = synth.resources("AWS::SecretsManager::Secret")
    text = json.dumps(synth.json)

    assert len(secrets) == 3
    for name, secret in secrets.items():
        assert "SecretString" not in secret["Properties"], name  # set out of band, never in the template
    planted = (
        FakeLaunchDarkly.DEFAULT_TOKEN,
        FakePerf.DEFAULT_TOKEN,
        FakeFlashback.DEFAULT_TOKEN,
        *PLANTED.values(),
    )
    for token in planted:
        assert token not in text
    for pattern in SECRET_PATTERNS:
        assert not pattern.search(text), pattern.pattern
    referenced: set[str] = set()
    for name, function in synth.resources("AWS::Lambda::Function").items():
        variables = function["Properties"].get("Environment", {}).get("Variables", {})
        for variable, value in variables.items():
            if re.search(r"TOKEN|SECRET|PASSWORD|CREDENTIAL|API_KEY", variable):
                assert variable.endswith("_SECRET_ARN"), f"{name}: {variable} would hold a secret value"
                assert isinstance(value, dict) and value.get("Ref") in secrets, f"{name}: {variable}"
                referenced.add(value["Ref"])
    assert referenced == set(secrets)  # each secret reaches its collector as an ARN, and only so
