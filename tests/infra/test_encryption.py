"""Data at rest under one customer-managed key: log groups, the cache and usage tables, the vendor secrets and
every function's environment; each service may use the key only for this stack's data."""

from __future__ import annotations

from typing import Any

import pytest

from tests.infra.conftest import Assembly, Synth, render

DYNAMODB_KEY_ACTIONS = [
    "kms:Decrypt",
    "kms:DescribeKey",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
]


@pytest.fixture(scope="module", params=["default", "custom"])
def synth(request: pytest.FixtureRequest, assembly: Assembly) -> Synth:
    return getattr(assembly, request.param)


def _data_key(synth: Synth) -> tuple[str, dict[str, Any]]:
    (found,) = [(k, v) for k, v in synth.resources("AWS::KMS::Key").items() if k.startswith("DataKey")]
    return found


def _key_arn(synth: Synth) -> dict[str, Any]:
    return {"Fn::GetAtt": [_data_key(synth)[0], "Arn"]}


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _kms_statements(synth: Synth, role_prefix: str) -> list[dict[str, Any]]:
    statements = [
        statement
        for name, policy in synth.resources("AWS::IAM::Policy").items()
        if name.startswith(role_prefix)
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if any(action.startswith("kms:") for action in _listed(statement["Action"]))
    ]
    for statement in statements:  # kms actions never share a statement with another service's
        assert all(action.startswith("kms:") for action in _listed(statement["Action"])), statement
    return statements


def test_given_the_stack_when_synthesized_then_one_rotating_key_encrypts_logs_tables_secrets_and_envs(
    synth: Synth,
) -> None:
    _, key = _data_key(synth)
    arn = _key_arn(synth)
    tables = synth.resources("AWS::DynamoDB::Table")
    encrypted_tables = {k for k in tables if k.startswith(("ChatApiCache", "ChatApiUsage"))}

    assert key["Properties"]["EnableKeyRotation"] is True
    assert key["Properties"]["PendingWindowInDays"] == 7
    assert key["DeletionPolicy"] == "Delete"  # it goes with the data it encrypts (make destroy)
    log_groups = synth.resources("AWS::Logs::LogGroup")
    assert len(log_groups) == 5  # four functions' logs and the API's access logs
    for name, log_group in log_groups.items():
        assert log_group["Properties"]["KmsKeyId"] == arn, name
    assert len(encrypted_tables) == 2
    for name in encrypted_tables:
        assert tables[name]["Properties"]["SSESpecification"] == {
            "KMSMasterKeyId": arn,
            "SSEEnabled": True,
            "SSEType": "KMS",
        }, name
    secrets = synth.resources("AWS::SecretsManager::Secret")
    assert len(secrets) == 3
    for name, secret in secrets.items():
        assert secret["Properties"]["KmsKeyId"] == arn, name
    functions = synth.resources("AWS::Lambda::Function")
    assert len(functions) == 4
    for name, function in functions.items():
        assert function["Properties"]["KmsKeyArn"] == arn, name


def test_given_the_key_policy_when_read_then_cloudwatch_logs_may_use_it_for_this_stacks_log_groups_only(
    synth: Synth,
) -> None:
    _, key = _data_key(synth)
    (statement,) = [
        s for s in key["Properties"]["KeyPolicy"]["Statement"] if "Service" in s.get("Principal", {})
    ]
    stack = synth.stack.stack_name

    assert render(statement["Principal"]["Service"]) == "logs.${AWS::Region}.amazonaws.com"
    assert statement["Resource"] == "*"  # in a key policy: this key
    assert sorted(statement["Action"]) == [
        "kms:Decrypt*",
        "kms:Describe*",
        "kms:Encrypt*",
        "kms:GenerateDataKey*",
        "kms:ReEncrypt*",
    ]
    (condition,) = statement["Condition"]["ArnLike"].values()
    assert list(statement["Condition"]["ArnLike"]) == ["kms:EncryptionContext:aws:logs:arn"]
    assert render(condition) == (
        f"arn:${{AWS::Partition}}:logs:${{AWS::Region}}:${{AWS::AccountId}}:log-group:{stack}-*"
    )
    # CloudFormation names an unnamed log group `<stack name>-<logical id>-<suffix>`: every one of ours.
    for name, log_group in synth.resources("AWS::Logs::LogGroup").items():
        assert "LogGroupName" not in log_group["Properties"], name


def test_given_the_chatbot_role_when_inspected_then_it_uses_the_key_only_through_dynamodb(
    synth: Synth,
) -> None:
    (statement,) = _kms_statements(synth, "ChatApiChatbotFunctionRole")

    assert statement["Action"] == DYNAMODB_KEY_ACTIONS
    assert statement["Resource"] == _key_arn(synth)
    (via,) = statement["Condition"]["StringEquals"].values()
    assert render(via) == "dynamodb.${AWS::Region}.amazonaws.com"


@pytest.mark.parametrize("collector", ["LaunchDarkly", "Perf", "Flashback"])
def test_given_a_collector_role_when_inspected_then_it_may_only_decrypt_its_secret_through_secrets_manager(
    synth: Synth, collector: str
) -> None:
    (statement,) = _kms_statements(synth, f"Collectors{collector}FunctionRole")

    assert statement["Action"] == "kms:Decrypt"
    assert statement["Resource"] == _key_arn(synth)
    (via,) = statement["Condition"]["StringEquals"].values()
    assert render(via) == "secretsmanager.${AWS::Region}.amazonaws.com"


def test_given_the_scheduler_role_when_inspected_then_it_never_touches_the_key(synth: Synth) -> None:
    assert _kms_statements(synth, "CollectorsSchedulerRole") == []
