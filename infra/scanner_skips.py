"""checkov findings that do not apply to this stack: each skipped in the resource's own metadata, with a
specific reason, from this one catalogue.

checkov reads a CloudFormation resource's `Metadata.checkov.skip` list of `{id, comment}` and prints the
comment beside the skipped check (`make scan`). docs/security.md shows `docs_table()` between its
`<!-- checkov-skips -->` markers, and tests/infra/test_scanner_skips.py keeps the page, this catalogue and
the synthesized templates equal, so a skip cannot be added, changed or dropped without the docs following.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import CfnResource
from constructs import IConstruct

METADATA_KEY = "checkov"


@dataclass(frozen=True, slots=True)
class Skip:
    """One checkov check that does not apply to one kind of resource of the stack."""

    check: str  # checkov's id, e.g. CKV_AWS_117
    title: str  # checkov's name of the check
    resource_type: str  # the CloudFormation type it is skipped on
    where: str  # which resources, for the docs
    reason: str  # what checkov prints beside the skip: why the check does not apply here

    def entry(self) -> dict[str, str]:
        return {"id": self.check, "comment": self.reason}


_VPC = "Ensure that AWS Lambda function is configured inside a VPC"
_DLQ = "Ensure that AWS Lambda function is configured for a Dead Letter Queue(DLQ)"

CHATBOT_VPC = Skip(
    "CKV_AWS_117",
    _VPC,
    "AWS::Lambda::Function",
    "chatbot function",
    "The chatbot calls only public AWS endpoints (Bedrock, DynamoDB, X-Ray), SigV4-signed over TLS, and "
    "reaches no private resource: a VPC would add an interface endpoint per service (about $7 a month per "
    "AZ each) and protect nothing its IAM policy does not already limit.",
)
COLLECTOR_VPC = Skip(
    "CKV_AWS_117",
    _VPC,
    "AWS::Lambda::Function",
    "each collector function",
    "A collector calls its vendor's public HTTPS API (LaunchDarkly, Perf or Flashback) and public AWS "
    "endpoints (CloudWatch, DynamoDB, Secrets Manager) and reaches no private resource: in a VPC it would "
    "need a NAT gateway (about $33 a month per AZ plus data) to reach the vendor, for nothing to protect.",
)
CHATBOT_DLQ = Skip(
    "CKV_AWS_116",
    _DLQ,
    "AWS::Lambda::Function",
    "chatbot function",
    "The HTTP API invokes the chatbot synchronously: a failure is answered to its caller (5xx) and never "
    "retried by Lambda, and a dead-letter queue only receives failed asynchronous invocations, so it would "
    "stay empty.",
)
COLLECTOR_DLQ = Skip(
    "CKV_AWS_116",
    _DLQ,
    "AWS::Lambda::Function",
    "each collector function",
    "A failed asynchronous run goes, after 2 retries, to the collectors' dead-letter queue through an "
    "on-failure destination (EventInvokeConfig), which keeps the error with the request, unlike the "
    "DeadLetterConfig this check reads; the schedules use the same queue, and an alarm pages on it.",
)
DEAD_LETTER_QUEUE_SSE = Skip(
    "CKV_AWS_27",
    "Ensure all data stored in the SQS queue is encrypted",
    "AWS::SQS::Queue",
    "collector dead-letter queue",
    "The queue is encrypted at rest with SSE-SQS (SqsManagedSseEnabled), which this check does not read "
    "(only KmsMasterKeyId). It holds failed schedule events and error records, no secret; a KMS key would "
    "make the failure path, where no message may be lost, depend on the senders' KMS permissions.",
)
CHECKPOINT_TABLE_CMK = Skip(
    "CKV_AWS_119",
    "Ensure DynamoDB Tables are encrypted using a KMS Customer Managed CMK",
    "AWS::DynamoDB::Table",
    "collector checkpoint table",
    "The table holds only each vendor's collection watermarks and running totals, nothing secret or "
    "personal (AWS managed key). It is retained on `make destroy`, and the stack's own key, deleted with "
    "the stack, would leave the retained table unreadable.",
)

SKIPS: tuple[Skip, ...] = (
    CHATBOT_VPC,
    COLLECTOR_VPC,
    CHATBOT_DLQ,
    COLLECTOR_DLQ,
    DEAD_LETTER_QUEUE_SSE,
    CHECKPOINT_TABLE_CMK,
)


def skip(scope: IConstruct, *skips: Skip) -> None:
    """Record `skips` in the metadata of `scope`'s CloudFormation resource (its default child for an L2)."""
    resource = scope if isinstance(scope, CfnResource) else scope.node.default_child
    if not isinstance(resource, CfnResource):
        raise TypeError(f"{scope.node.path} has no CloudFormation resource to carry a checkov skip")
    current = resource.get_metadata(METADATA_KEY) or {}
    entries = [*current.get("skip", []), *(s.entry() for s in skips)]
    resource.add_metadata(METADATA_KEY, {**current, "skip": entries})


def docs_table() -> str:
    """The Markdown table docs/security.md shows: every skip, where it applies and why."""
    rows = ["| check | where | reason |", "|---|---|---|"]
    rows += [f"| `{s.check}` {s.title} | {s.where} | {s.reason} |" for s in SKIPS]
    return "\n".join(rows)
