"""cdk-nag acknowledgements, recorded with the rule pack's own prefix (as cdk-nag prints it)."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Validations
from constructs import IConstruct

PACK = "AwsSolutions"


def acknowledge(scope: IConstruct, rule: str, reason: str) -> None:
    """Accept finding `rule` (e.g. `AwsSolutions-SQS3`, `AwsSolutions-IAM5[Resource::*]`) on `scope` and
    its children, for `reason` (specific: it is printed in the audit trail and docs/deploy.md)."""
    Validations.of(scope).acknowledge(Acknowledgment(id=f"{PACK}::{rule}", reason=reason))
