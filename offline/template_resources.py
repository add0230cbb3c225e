"""Create the synthesized stack's stateful resources in moto, from the template's own properties.

The demo synthesizes the real CDK app in-process, creates what the Lambdas talk to (DynamoDB tables,
Secrets Manager secrets, the SNS topic, log groups) and the Contributor Insights rules the report reads
with the properties CloudFormation would use, and derives each
Lambda's environment from the template (Refs resolved to the local physical names). So the demo runs
the handlers exactly as the stack configures them, and the two cannot drift apart.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from offline.environment import REGION

REPO = Path(__file__).resolve().parent.parent
ACCOUNT = "123456789012"
STATEFUL_TYPES = (
    "AWS::DynamoDB::Table",
    "AWS::DynamoDB::GlobalTable",
    "AWS::SecretsManager::Secret",
    "AWS::SNS::Topic",
    "AWS::Logs::LogGroup",
)
# Created after the rest: their definitions name log groups, resolved to the local names first.
INSIGHT_RULE = "AWS::CloudWatch::InsightRule"


# What a synthesized template depends on: the CDK app's code, the Lambda code (its asset hash is in the
# template), the pinned libraries and the CDK settings. Environment variables the app reads are keyed too.
SYNTH_INPUTS = ("app.py", "cdk.json", "requirements.txt", "package-lock.json", "infra", "lambdas")
SYNTH_ENV = ("AWS_REGION", "AWS_DEFAULT_REGION", "CDK_DEFAULT_ACCOUNT", "CDK_DEFAULT_REGION")
SYNTH_CACHE = REPO / "out" / "synth-cache"


def synth_key(context: dict[str, Any]) -> str:
    """A digest of everything the template is built from: same key, same template."""
    digest = hashlib.sha256(json.dumps(context, sort_keys=True).encode())
    digest.update(json.dumps({name: os.environ.get(name) for name in SYNTH_ENV}, sort_keys=True).encode())
    for name in SYNTH_INPUTS:
        root = REPO / name
        files = sorted(root.rglob("*") if root.is_dir() else [root])
        for path in files:
            if "__pycache__" not in path.parts and path.suffix != ".pyc" and path.is_file():
                digest.update(str(path.relative_to(REPO)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def synthesize_template(
    context: dict[str, Any] | None = None, *, cache: Path | None = SYNTH_CACHE
) -> dict[str, Any]:
    """The stack's CloudFormation template, synthesized in this process (no CLI, no account).

    A synth takes ~15-20 s (jsii, cdk-nag), so the result is kept in `out/synth-cache/` under a digest of
    its inputs (`synth_key`): the demo inside `make test` and a `make demo` after it synthesize once. A
    changed input is a new key, never a stale template."""
    import tempfile

    from aws_cdk.assertions import Template

    from infra.application import create_app

    context = context or {}
    cached = cache / f"{synth_key(context)}.json" if cache else None
    if cached and cached.is_file():
        return dict(json.loads(cached.read_text()))
    with tempfile.TemporaryDirectory() as outdir:
        _, stack = create_app(context=context, outdir=outdir)
        template = dict(Template.from_stack(stack).to_json())
    if cached:
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_suffix(f".{os.getpid()}.tmp")  # atomic: a parallel reader sees all or nothing
        partial.write_text(json.dumps(template))
        partial.replace(cached)
    return template


@dataclass
class TemplateResources:
    template: dict[str, Any]
    stack_name: str = "AIGatewayTokenMetrics"
    physical: dict[str, str] = field(default_factory=dict)  # logical id -> local name
    arns: dict[str, str] = field(default_factory=dict)  # logical id -> local ARN

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return self.template.get("Resources", {})

    def of_type(self, *types: str) -> dict[str, dict[str, Any]]:
        return {lid: r for lid, r in self.resources.items() if r.get("Type") in types}

    # --- intrinsic functions -------------------------------------------------------------------
    def resolve(self, value: Any) -> Any:
        if isinstance(value, dict) and len(value) == 1:
            ((name, arg),) = value.items()
            if name == "Ref":
                return self._ref(arg)
            if name == "Fn::GetAtt":
                logical, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
                return (
                    self.arns.get(logical)
                    if attribute.endswith("Arn")
                    else self.physical.get(logical, logical)
                )
            if name == "Fn::Join":
                separator, parts = arg
                return separator.join(str(self.resolve(p)) for p in parts)
            if name == "Fn::Sub":
                text = arg if isinstance(arg, str) else arg[0]
                for key in (
                    "AWS::Region",
                    "AWS::AccountId",
                    "AWS::Partition",
                    "AWS::URLSuffix",
                    "AWS::StackName",
                ):
                    text = text.replace("${" + key + "}", str(self._ref(key)))
                return text
        if isinstance(value, dict):
            return {k: self.resolve(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        return value

    def _ref(self, name: str) -> str:
        pseudo = {
            "AWS::Region": REGION,
            "AWS::AccountId": ACCOUNT,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": self.stack_name,
        }
        if name in pseudo:
            return pseudo[name]
        return self.physical.get(name, name)

    # --- creation ----------------------------------------------------------------------------
    def _name(self, logical: str, props: dict[str, Any], key: str) -> str:
        explicit = self.resolve(props.get(key)) if props.get(key) else None
        return str(explicit) if explicit else f"{self.stack_name}-{logical}"

    def create(self, clients: Any, secret_values: dict[str, str] | None = None) -> None:
        """Create every stateful resource in moto; `clients(service)` returns a boto3 client."""
        secret_values = secret_values or {}
        for logical, resource in self.of_type(*STATEFUL_TYPES).items():
            props = resource.get("Properties", {})
            kind = resource["Type"]
            if kind.startswith("AWS::DynamoDB::"):
                self._create_table(clients("dynamodb"), logical, props)
            elif kind == "AWS::SecretsManager::Secret":
                name = self._name(logical, props, "Name")
                value = secret_values.get(logical, "placeholder-set-with-put-secret-value")
                arn = clients("secretsmanager").create_secret(Name=name, SecretString=value)["ARN"]
                self.physical[logical], self.arns[logical] = arn, arn  # Ref of a secret is its ARN
            elif kind == "AWS::SNS::Topic":
                name = self._name(logical, props, "TopicName")
                arn = clients("sns").create_topic(Name=name)["TopicArn"]
                self.physical[logical], self.arns[logical] = arn, arn  # Ref of a topic is its ARN
            elif kind == "AWS::Logs::LogGroup":
                name = self._name(logical, props, "LogGroupName")
                clients("logs").create_log_group(logGroupName=name)
                self.physical[logical] = name  # Ref of a log group is its name
                self.arns[logical] = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{name}:*"
        for logical, resource in self.of_type(INSIGHT_RULE).items():
            props = resource["Properties"]
            clients("cloudwatch").put_insight_rule(
                RuleName=self.resolve(props["RuleName"]),
                RuleState=props.get("RuleState", "ENABLED"),
                RuleDefinition=self.resolve(props["RuleBody"]),
            )
            self.physical[logical] = self.resolve(props["RuleName"])

    def _create_table(self, dynamodb: Any, logical: str, props: dict[str, Any]) -> None:
        name = self._name(logical, props, "TableName")
        dynamodb.create_table(
            TableName=name,
            KeySchema=props["KeySchema"],
            AttributeDefinitions=props["AttributeDefinitions"],
            BillingMode="PAY_PER_REQUEST",
        )
        ttl = props.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            dynamodb.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]},
            )
        self.physical[logical] = name
        self.arns[logical] = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}"

    # --- Lambda configuration ----------------------------------------------------------------
    def function(self, handler: str) -> dict[str, Any]:
        for resource in self.of_type("AWS::Lambda::Function").values():
            props = resource.get("Properties", {})
            if props.get("Handler") == handler:
                return props
        raise KeyError(f"no function with handler {handler} in the template")

    def environment(self, handler: str) -> dict[str, str]:
        """The function's environment variables with every intrinsic resolved locally."""
        variables = self.function(handler).get("Environment", {}).get("Variables", {})
        return {key: str(self.resolve(value)) for key, value in variables.items()}

    def secret_logical_ids(self) -> list[str]:
        return sorted(self.of_type("AWS::SecretsManager::Secret"))

    def describe(self) -> str:
        lines = [f"  {lid:<40} {self.physical[lid]}" for lid in sorted(self.physical)]
        return "\n".join(lines)


def dumps(template: dict[str, Any]) -> str:
    return json.dumps(template, indent=1, sort_keys=True)
