"""The alerting construct: a CMK-encrypted, TLS-only SNS topic CloudWatch may use, e-mail subscriptions."""

from __future__ import annotations

from typing import Any

from tests.infra.conftest import Synth, render


def _topic_key(synth: Synth) -> tuple[str, dict[str, Any]]:
    """The alarm topic's own key (the stack's data key, infra/constructs/data_key.py, is another)."""
    keys = synth.resources("AWS::KMS::Key")
    (key_id,) = [k for k in keys if k.startswith("AlertingTopicKey")]
    return key_id, keys[key_id]["Properties"]


def test_given_default_config_when_synthesized_then_topic_is_encrypted_with_a_rotating_cmk(
    default: Synth,
) -> None:
    key_id, key = _topic_key(default)
    topic = default.one("AWS::SNS::Topic")

    assert topic["KmsMasterKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
    assert key["EnableKeyRotation"] is True


def test_given_default_config_when_synthesized_then_cloudwatch_may_use_the_key_for_this_stacks_alarms_only(
    default: Synth,
) -> None:
    statements = _topic_key(default)[1]["KeyPolicy"]["Statement"]
    (cloudwatch,) = [s for s in statements if s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}]

    assert cloudwatch["Effect"] == "Allow"
    assert sorted(cloudwatch["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey*"]
    assert render(cloudwatch["Condition"]["ArnLike"]["aws:SourceArn"]) == (
        "arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:AIGatewayTokenMetrics-*"
    )
    assert cloudwatch["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}


def test_given_default_config_when_synthesized_then_topic_policy_denies_publishing_without_tls(
    default: Synth,
) -> None:
    (topic_id,) = default.resources("AWS::SNS::Topic")
    statements = default.one("AWS::SNS::TopicPolicy")["PolicyDocument"]["Statement"]

    assert {
        "Action": "sns:Publish",
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        "Effect": "Deny",
        "Principal": "*",
        "Resource": {"Ref": topic_id},
        "Sid": "AllowPublishThroughSSLOnly",
    } in statements
    (publish,) = [s for s in statements if s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}]
    assert publish["Action"] == "sns:Publish"


def test_given_no_emails_when_synthesized_then_there_is_no_subscription(default: Synth) -> None:
    default.template.resource_count_is("AWS::SNS::Subscription", 0)


def test_given_emails_in_config_when_synthesized_then_each_is_subscribed(custom: Synth) -> None:
    (topic_id,) = custom.resources("AWS::SNS::Topic")
    subscriptions = sorted(
        (s["Properties"]["Endpoint"], s["Properties"]["Protocol"], s["Properties"]["TopicArn"]["Ref"])
        for s in custom.resources("AWS::SNS::Subscription").values()
    )

    assert subscriptions == [
        ("finance@example.com", "email", topic_id),
        ("oncall@example.com", "email", topic_id),
    ]
