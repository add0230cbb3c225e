"""One customer-managed KMS key for the stack's data at rest: every log group, the cache and usage tables,
the vendor secrets and every function's environment variables.

One key, not one per service: a key bills $1 a month whatever it encrypts, and its policy already tells the
services apart. The key policy keeps the account's default statement (IAM decides who may use the key) and
adds the one service principal that needs it: CloudWatch Logs, for this stack's log groups only (an
encryption-context condition on the log group ARN). The functions' roles get their use of the key in their
own policies, each only through the service that holds its data (`kms:ViaService`). Lambda decrypts the
environment with a grant it creates on deploy, so the roles need nothing for that.
"""

from __future__ import annotations

from aws_cdk import ArnFormat, Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

# What CloudWatch Logs does with a log group's key (CloudWatch Logs User Guide, "Encrypt log data in
# CloudWatch Logs using AWS KMS", step 2).
LOGS_KEY_ACTIONS = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
# Through DynamoDB a reader and a writer of a table under this key need these (the actions of the AWS
# managed key for DynamoDB, which the tables used before, spelled out; CreateGrant only creates tables).
DYNAMODB_KEY_ACTIONS = (
    "kms:Decrypt",
    "kms:DescribeKey",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
)
# GetSecretValue: Secrets Manager decrypts the secret's data key as the caller.
SECRETS_MANAGER_KEY_ACTIONS = ("kms:Decrypt",)


class DataKey(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self._region = stack.region
        self.key = kms.Key(
            self,
            "Key",
            description="Encrypts the AI Gateway's logs, cache and usage tables, vendor secrets and function "
            "environments",
            enable_key_rotation=True,
            pending_window=Duration.days(7),
            # Everything it encrypts goes with `make destroy` too (the retained checkpoint table does not
            # use it: docs/security.md).
            removal_policy=RemovalPolicy.DESTROY,
        )
        # CloudFormation names an unnamed log group `<stack name>-<logical id>-<suffix>`; the condition
        # admits those and no other log group, of this account and region only.
        log_groups = stack.format_arn(
            service="logs",
            resource="log-group",
            resource_name=f"{stack.stack_name}-*",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchLogsForThisStacksLogGroups",
                principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
                actions=LOGS_KEY_ACTIONS,
                resources=["*"],  # in a key policy: this key
                conditions={"ArnLike": {"kms:EncryptionContext:aws:logs:arn": log_groups}},
            )
        )

    def grant_via(self, role: iam.IRole, service: str, actions: tuple[str, ...]) -> None:
        """Let `role` use the key for `actions`, only in requests `service` (e.g. `dynamodb`) makes for it."""
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=list(actions),
                resources=[self.key.key_arn],
                conditions={"StringEquals": {"kms:ViaService": f"{service}.{self._region}.amazonaws.com"}},
            )
        )
