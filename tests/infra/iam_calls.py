"""What the functions call (recorded through botocore) against what their roles allow (the template).

moto authorizes nothing, so a call the role does not allow passes every offline test and is denied in AWS.
`CallRecorder` hooks the botocore session `shared.aws_clients` builds every product client from (clients
copy the session's handlers when built), so only the functions' own calls are recorded, not the tests'
set-up and read-backs (plain boto3 clients). `RoleAccess` reads one function's role statements from the
template and answers whether each recorded call's IAM actions are allowed, on that resource, under the
statement's conditions.

IAM facts used (Service Authorization Reference / service docs):
- ConverseStream is authorized by bedrock:InvokeModelWithResponseStream, Converse by bedrock:InvokeModel
  (Bedrock API reference, "This operation requires permission for the bedrock:InvokeModelWithResponseStream
  action").
- TransactWriteItems / TransactGetItems are not IAM actions: each Put, Update, Delete, Get needs PutItem,
  UpdateItem, DeleteItem, GetItem on its table and a ConditionCheck needs dynamodb:ConditionCheckItem
  (DynamoDB developer guide, "Using IAM with DynamoDB transactions").
- CloudWatch's API is signed as `monitoring` but its IAM prefix is `cloudwatch`; bedrock-runtime's is
  `bedrock`.
- kms:Decrypt and friends for encrypted tables and secrets are requested by the service on the role's
  behalf (kms:ViaService): not recorded, left out.
"""

from __future__ import annotations

import fnmatch
import functools
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from tests.infra.conftest import Synth, render

# botocore service name -> IAM action prefix.
IAM_PREFIX = {
    "dynamodb": "dynamodb",
    "cloudwatch": "cloudwatch",
    "secretsmanager": "secretsmanager",
    "bedrock-runtime": "bedrock",
}
# Operations whose IAM action is not the operation's own name.
ACTION_OF = {
    ("bedrock-runtime", "ConverseStream"): "InvokeModelWithResponseStream",
    ("bedrock-runtime", "Converse"): "InvokeModel",
}
TRANSACT_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
    "Get": "GetItem",
}
# Where the call names its resource, per service (the ARN the statement's Resource must cover).
RESOURCE_ATTR = {"dynamodb": "Arn", "secretsmanager": None}  # a secret's Ref is its ARN


@dataclass(frozen=True)
class Call:
    service: str  # botocore's name: dynamodb, bedrock-runtime, ...
    operation: str
    params: dict[str, Any]


@dataclass(frozen=True)
class Access:
    """One IAM action a call needs, on what, with the request context its conditions read."""

    action: str  # e.g. dynamodb:GetItem
    operation: str
    resource: str | None = None  # the table name / secret ARN / model id as the call named it
    context: tuple[tuple[str, tuple[str, ...]], ...] = ()  # condition key -> values

    def describe(self) -> str:
        on = f" on {self.resource}" if self.resource else ""
        return f"{self.action} ({self.operation}{on})"


@dataclass
class CallRecorder:
    """Every API call of the product's clients, as (service, operation, params), in order."""

    calls: list[Call] = field(default_factory=list)

    def record(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        # before-parameter-build: once per API call (not per retry), with the caller's own parameters.
        self.calls.append(Call(model.service_model.service_name, model.name, dict(params)))

    def operations(self) -> set[tuple[str, str]]:
        return {(c.service, c.operation) for c in self.calls}

    def take(self) -> list[Call]:
        taken, self.calls[:] = list(self.calls), []
        return taken


def recording_session(original: Any, recorder: CallRecorder) -> Any:
    """A stand-in for `shared.aws_clients._session`: the same session, with `recorder` on its events."""

    @functools.cache
    def session() -> Any:
        built = original()
        built.register("before-parameter-build", recorder.record, unique_id="iam-covers-calls")
        return built

    return session


def _key_values(key: dict[str, Any], partition_key: str | None) -> tuple[str, ...]:
    if partition_key is None or partition_key not in key:
        return ()
    (value,) = key[partition_key].values()
    return (str(value),)


def accesses(call: Call, partition_key_of: dict[str, str]) -> Iterator[Access]:
    """The IAM actions one call needs (a transaction: one per item), each with its resource and context."""
    prefix = IAM_PREFIX.get(call.service)
    assert prefix, f"the test does not know the IAM prefix of {call.service}: add it to IAM_PREFIX"
    p = call.params
    if call.service == "dynamodb":
        if call.operation in ("TransactWriteItems", "TransactGetItems"):
            for item in p["TransactItems"]:
                ((kind, body),) = item.items()
                keys = _key_values(
                    body.get("Key") or body.get("Item") or {}, partition_key_of.get(body["TableName"])
                )
                yield Access(f"dynamodb:{TRANSACT_ACTIONS[kind]}", f"{call.operation}.{kind}",
                             body["TableName"], (("dynamodb:LeadingKeys", keys),))  # fmt: skip
            return
        if call.operation in ("BatchGetItem", "BatchWriteItem"):
            for table, request in p["RequestItems"].items():
                pk = partition_key_of.get(table)
                if call.operation == "BatchGetItem":
                    listed = [k for key in request["Keys"] for k in _key_values(key, pk)]
                else:
                    listed = [k for w in request for body in w.values() for k in
                            _key_values(body.get("Key") or body.get("Item") or {}, pk)]  # fmt: skip
                yield Access(f"dynamodb:{call.operation}", call.operation, table,
                             (("dynamodb:LeadingKeys", tuple(sorted(set(listed)))),))  # fmt: skip
            return
        table = p["TableName"]
        keys = _key_values(p.get("Key") or p.get("Item") or {}, partition_key_of.get(table))
        yield Access(f"dynamodb:{call.operation}", call.operation, table, (("dynamodb:LeadingKeys", keys),))
        return
    action = f"{prefix}:{ACTION_OF.get((call.service, call.operation), call.operation)}"
    if call.service == "cloudwatch" and call.operation == "PutMetricData":
        yield Access(action, call.operation, None, (("cloudwatch:namespace", (p["Namespace"],)),))
    elif call.service == "secretsmanager":
        yield Access(action, call.operation, p["SecretId"])
    elif call.service == "bedrock-runtime":
        yield Access(action, call.operation, p["modelId"])
    else:
        yield Access(action, call.operation)


class RoleAccess:
    """One function's role as the template grants it: its statements, and what its environment names."""

    def __init__(self, synth: Synth, handler: str) -> None:
        functions = [
            (fid, f["Properties"])
            for fid, f in synth.resources("AWS::Lambda::Function").items()
            if f["Properties"].get("Handler") == handler
        ]
        assert len(functions) == 1, f"expected one function with handler {handler}, found {len(functions)}"
        self.function_id, props = functions[0]
        role_id = props["Role"]["Fn::GetAtt"][0]
        self.environment: dict[str, Any] = props.get("Environment", {}).get("Variables", {})
        self.statements: list[dict[str, Any]] = []
        for policy in synth.resources("AWS::IAM::Policy").values():
            if {"Ref": role_id} in policy["Properties"].get("Roles", []):
                self.statements += policy["Properties"]["PolicyDocument"]["Statement"]
        for inline in synth.json["Resources"][role_id]["Properties"].get("Policies", []):
            self.statements += inline["PolicyDocument"]["Statement"]
        unsupported = [s for s in self.statements if {"NotAction", "NotResource"} & set(s)]
        assert not unsupported, f"NotAction/NotResource in {self.function_id}'s role: teach the test them"
        self._synth = synth

    def logical_id(self, runtime_value: str) -> str | None:
        """The template resource behind a table name / secret ARN the function used: the environment
        variable holding that value at run time holds a Ref to the resource in the template."""
        for name, value in self.environment.items():
            if os.environ.get(name) == runtime_value and isinstance(value, dict) and "Ref" in value:
                return str(value["Ref"])
        return None

    def partition_keys(self) -> dict[str, str]:
        """{runtime table name: its partition key attribute}, for the tables the environment names."""
        out: dict[str, str] = {}
        tables = self._synth.resources("AWS::DynamoDB::Table")
        for name, value in self.environment.items():
            if isinstance(value, dict) and value.get("Ref") in tables and name in os.environ:
                schema = tables[value["Ref"]]["Properties"]["KeySchema"]
                out[os.environ[name]] = next(k["AttributeName"] for k in schema if k["KeyType"] == "HASH")
        return out

    def refusal(self, access: Access, service: str) -> str | None:
        """None if some Allow statement covers `access` (and no Deny does), else why not."""
        target = self._target(access, service)
        if isinstance(target, _Unmapped):
            return target.reason
        allowed = [s for s in self.statements if s["Effect"] == "Allow" and self._covers(s, access, target)]
        denied = [s for s in self.statements if s["Effect"] == "Deny" and _actions_match(s, access.action)]
        if denied:
            return f"{access.describe()} is denied by {_name(denied[0])}"
        if allowed:
            return None
        by_action = [
            s for s in self.statements if s["Effect"] == "Allow" and _actions_match(s, access.action)
        ]
        if not by_action:
            return f"{access.describe()}: no statement of the role allows the action"
        names = [_name(s) for s in by_action]
        return (
            f"{access.describe()}: {names} allow the action but not on {target or 'this resource'} under "
            f"their conditions (request context {dict(access.context)})"
        )

    def _target(self, access: Access, service: str) -> str | _Unmapped | None:
        """What a statement's Resource must name: `${LogicalId(.Arn)}` for a table or secret, the model id's
        ARN suffix for Bedrock, nothing for resource-less actions (PutMetricData)."""
        if access.resource is None:
            return None
        if service == "bedrock-runtime":
            return f"/{access.resource}"
        logical = self.logical_id(access.resource)
        if logical is None:
            return _Unmapped(f"{access.describe()}: {access.resource} is named by none of "
                             f"{self.function_id}'s environment variables")  # fmt: skip
        attr = RESOURCE_ATTR[service]
        return "${" + logical + (f".{attr}" if attr else "") + "}"

    @staticmethod
    def _covers(statement: dict[str, Any], access: Access, target: str | None) -> bool:
        if not _actions_match(statement, access.action):
            return False
        resources = [render(r) for r in _as_list(statement.get("Resource", []))]
        if target is not None and "*" not in resources:
            if target.startswith(
                "/"
            ):  # a model id: an inference-profile or foundation-model ARN ending in it
                if not any(r.endswith(target) for r in resources):
                    return False
            elif target not in resources:
                return False
        return _conditions_hold(statement.get("Condition", {}), dict(access.context))


@dataclass(frozen=True)
class _Unmapped:
    reason: str


def _name(statement: dict[str, Any]) -> str:
    return str(statement.get("Sid") or f"{statement['Action']} on {statement.get('Resource')}")


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _actions_match(statement: dict[str, Any], action: str) -> bool:
    # IAM actions are case-insensitive; `*` and `?` are the only wildcards.
    return any(fnmatch.fnmatchcase(action.lower(), a.lower()) for a in _as_list(statement.get("Action", [])))


def _conditions_hold(conditions: dict[str, Any], context: dict[str, tuple[str, ...]]) -> bool:
    """The condition operators these roles use; any other fails the test (teach it before trusting it)."""
    for operator, keys in conditions.items():
        for key, expected in keys.items():
            if key == "kms:ViaService":
                continue  # KMS statements: never recorded (see the module docstring)
            allowed = set(_as_list(expected))
            if key not in context:
                return False  # a condition on a key this request does not carry: not satisfied
            values = set(context[key])
            if operator == "StringEquals":
                if len(values) != 1 or not values <= allowed:
                    return False
            elif operator == "ForAllValues:StringEquals":
                if not values <= allowed:
                    return False
            else:
                raise AssertionError(f"condition operator {operator} on {key}: teach the test to evaluate it")
    return True
