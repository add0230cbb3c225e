"""The callers' usage table: what each caller was charged per UTC window, and nothing else.

Key design (contract "Callers"): one item per caller and window. Partition key `caller` (the IAM ARN
that signed the request, or `anonymous`), sort key `window` = `<hour|day|month>#<UTC start>`, e.g.
`hour#2026-12-07T13`, `day#2026-12-07`, `month#2026-12`; the item holds the tokens and USD charged (and
reserved) in that window. One caller's windows share a partition, so a request's reservation across its
windows is one transaction on at most three small items, and callers never contend with each other. Items
carry `expires_at` (epoch seconds, the TTL attribute) set after their window closes, so the table holds
about one month of items per caller and a reservation leaked by a killed invocation dies with its window.

On demand: traffic follows the chat API's, which has no steady floor worth provisioning. Point-in-time
recovery on and the stack's data key, as for the cache. Removal policy as the cache table's (DESTROY): the
items are worth at most one month of metering, `make destroy` removes the function that enforces them too,
and a redeployed stack starting with empty windows only forgives what callers had used so far this month.
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from shared.table_schema import (
    USAGE_PARTITION_KEY,
    USAGE_SORT_KEY,
    USAGE_TABLE_ACTIONS,
    USAGE_TTL_ATTRIBUTE,
)


class UsageTable(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, key: kms.IKey) -> None:
        super().__init__(scope, construct_id)
        self.table = dynamodb.Table(
            self,
            "Table",
            partition_key=dynamodb.Attribute(name=USAGE_PARTITION_KEY, type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name=USAGE_SORT_KEY, type=dynamodb.AttributeType.STRING),
            time_to_live_attribute=USAGE_TTL_ATTRIBUTE,
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=key,
            removal_policy=RemovalPolicy.DESTROY,
        )

    @property
    def table_name(self) -> str:
        return self.table.table_name

    def grant_metering(self, grantee: iam.IGrantable) -> iam.Grant:
        """Exactly the actions the chatbot's metering uses (shared.table_schema), on this table only."""
        return self.table.grant(grantee, *USAGE_TABLE_ACTIONS)
