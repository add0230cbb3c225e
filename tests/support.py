"""Helpers shared by the tests: HTTP API events, a Lambda context, EMF capture and validation."""

from __future__ import annotations

import base64
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from shared.table_schema import (
    CACHE_PARTITION_KEY,
    CACHE_TTL_ATTRIBUTE,
    USAGE_PARTITION_KEY,
    USAGE_SORT_KEY,
    USAGE_TTL_ATTRIBUTE,
)

USAGE_TABLE = "chat-usage"


@dataclass
class FakeLambdaContext:
    function_name: str = "chatbot"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:chatbot"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    remaining_ms: int = 30_000

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def http_api_event(
    body: str | dict[str, Any] | list[Any] | None,
    *,
    path: str = "/chat",
    method: str = "POST",
    base64_encoded: bool = False,
    request_id: str | None = None,
    time_epoch_ms: int | None = None,
    caller: str | None = None,
) -> dict[str, Any]:
    """An API Gateway HTTP API (payload format 2.0) event, as the service sends it. `caller`: the IAM
    principal that signed it (`requestContext.authorizer.iam`, as IAM auth fills it); None: no authorizer."""
    raw = body if isinstance(body, str) or body is None else json.dumps(body)
    if raw is not None and base64_encoded:
        raw = base64.b64encode(raw.encode()).decode()
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": f"{method} {path}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"content-type": "application/json", "host": "abc123.execute-api.us-east-1.amazonaws.com"},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123",
            "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "abc123",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "192.0.2.10",
                "userAgent": "pytest",
            },
            "requestId": request_id or f"req-{uuid.uuid4().hex[:12]}",
            "routeKey": f"{method} {path}",
            "stage": "$default",
            "time": "23/Nov/2026:10:00:00 +0000",
            "timeEpoch": time_epoch_ms if time_epoch_ms is not None else int(time.time() * 1000),
        },
        "body": raw,
        "isBase64Encoded": base64_encoded,
    }
    if caller is not None:
        event["requestContext"]["authorizer"] = {"iam": iam_authorizer(caller)}
    return event


def iam_authorizer(user_arn: str) -> dict[str, Any]:
    """`requestContext.authorizer.iam` of a request signed by `user_arn` (AWS's documented shape)."""
    account = user_arn.split(":")[4] if user_arn.count(":") >= 5 else "123456789012"
    principal = "AIDA" + uuid.uuid5(uuid.NAMESPACE_URL, user_arn).hex[:17].upper()
    session = user_arn.rsplit("/", 1)[-1]
    return {
        "accessKey": "ASIA" + uuid.uuid5(uuid.NAMESPACE_DNS, user_arn).hex[:16].upper(),
        "accountId": account,
        "callerId": f"{principal}:{session}" if ":assumed-role/" in user_arn else principal,
        "cognitoIdentity": None,
        "principalOrgId": None,
        "userArn": user_arn,
        "userId": f"{principal}:{session}" if ":assumed-role/" in user_arn else principal,
    }


def emf_documents(stdout: str) -> list[dict[str, Any]]:
    """Every EMF document printed on stdout (Logger lines are skipped)."""
    docs = []
    for line in stdout.splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            doc = json.loads(line)
        except ValueError:
            continue
        if isinstance(doc, dict) and "_aws" in doc:
            docs.append(doc)
    return docs


VALID_UNITS = {
    "Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes", "Terabytes",
    "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count", "Bytes/Second",
    "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second", "Bits/Second",
    "Kilobits/Second", "Megabits/Second", "Gigabits/Second", "Terabits/Second", "Count/Second", "None",
}  # fmt: skip


def validate_emf(doc: dict[str, Any]) -> None:
    """Check a document against the EMF specification; raise AssertionError naming the breach.

    Spec: `_aws` holds an integer `Timestamp` (epoch ms) and a non-empty `CloudWatchMetrics` array of
    directives, each with `Namespace` (1..1024 chars), `Dimensions` (array of dimension-name arrays,
    at most 30 names each, every name a member of the root holding a string), and `Metrics` (at most
    100 `{Name, Unit?, StorageResolution?}`, every name a member of the root holding a number or an
    array of at most 100 numbers).
    """
    aws = doc.get("_aws")
    assert isinstance(aws, dict), "_aws must be an object"
    assert isinstance(aws.get("Timestamp"), int) and aws["Timestamp"] > 0, "_aws.Timestamp must be epoch ms"
    directives = aws.get("CloudWatchMetrics")
    assert isinstance(directives, list) and directives, "_aws.CloudWatchMetrics must be a non-empty array"
    for directive in directives:
        namespace = directive.get("Namespace")
        assert isinstance(namespace, str) and 1 <= len(namespace) <= 1024, "Namespace must be 1..1024 chars"
        dimension_sets = directive.get("Dimensions")
        assert isinstance(dimension_sets, list), "Dimensions must be an array"
        for dimension_set in dimension_sets:
            assert isinstance(dimension_set, list) and len(dimension_set) <= 30
            for name in dimension_set:
                assert isinstance(doc.get(name), str), f"dimension {name} must be a string member"
        metrics = directive.get("Metrics")
        assert isinstance(metrics, list) and 0 < len(metrics) <= 100, "Metrics must hold 1..100 entries"
        for metric in metrics:
            name = metric.get("Name")
            assert isinstance(name, str) and name, "metric Name must be a non-empty string"
            unit = metric.get("Unit", "None")
            assert unit in VALID_UNITS, f"{name}: unit {unit!r} is not a CloudWatch unit"
            value = doc.get(name)
            values = value if isinstance(value, list) else [value]
            assert values and len(values) <= 100, f"{name}: 1..100 values"
            for item in values:
                assert isinstance(item, int | float) and not isinstance(item, bool), f"{name}: not a number"


def validated_emf(stdout: str) -> list[dict[str, Any]]:
    """The EMF documents printed to `stdout`, each checked against the EMF specification."""
    docs = emf_documents(stdout)
    for doc in docs:
        validate_emf(doc)
    return docs


def cache_items(dynamodb: Any, table: str = "chat-cache") -> list[dict[str, Any]]:
    """Every item of the chatbot's response cache table (moto)."""
    return list(dynamodb.scan(TableName=table)["Items"])


def cache_item(key: str, answer: str, expires_at: int, stop_reason: str = "end_turn") -> dict[str, Any]:
    return {
        CACHE_PARTITION_KEY: {"S": key},
        "model_id": {"S": "m"},
        "answer": {"S": answer},
        "stop_reason": {"S": stop_reason},
        "created_at": {"N": "0"},
        CACHE_TTL_ATTRIBUTE: {"N": str(expires_at)},
    }


def create_usage_table(dynamodb: Any, name: str = USAGE_TABLE) -> None:
    """The usage table as the stack declares it: (caller, window) keys, on-demand, TTL on expires_at."""
    dynamodb.create_table(
        TableName=name,
        KeySchema=[
            {"AttributeName": USAGE_PARTITION_KEY, "KeyType": "HASH"},
            {"AttributeName": USAGE_SORT_KEY, "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": USAGE_PARTITION_KEY, "AttributeType": "S"},
            {"AttributeName": USAGE_SORT_KEY, "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": USAGE_TTL_ATTRIBUTE}
    )
