"""moto's DynamoDB as the usage table's tests need it: each call atomic, TransactWriteItems idempotent.

moto 5.2.5 runs each request on its own server thread without a lock, and a cancelled
TransactWriteItems restores a deep copy of the whole table taken when it started: a write committed by
another request in between is lost. Real DynamoDB serializes writes per item (a conflicting transaction
is cancelled with TransactionConflict, which the product retries). moto 5.2.5 also ignores
ClientRequestToken, so botocore's resend of a transaction whose answer was lost applies it twice; real
DynamoDB applies it once within 10 minutes (and refuses the token with other items). tests.fakes.
moto_server adds both; these tests fail without them.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.fakes.aws_fault_proxy import AwsFaultProxy
from tests.fakes.moto_server import MotoServer


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoServer]:
    with MotoServer() as server:
        yield server


def test_given_cancelled_and_committed_transactions_at_once_when_counted_then_no_write_is_lost(
    moto: MotoServer,
) -> None:
    dynamodb = boto3.client("dynamodb", endpoint_url=moto.endpoint, region_name="us-east-1")
    dynamodb.create_table(
        TableName="counter",
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    keys = [{"k": {"S": name}} for name in ("hour", "day", "month")]
    start = threading.Barrier(16)

    def worker(index: int) -> int:
        client = boto3.client("dynamodb", endpoint_url=moto.endpoint, region_name="us-east-1")
        start.wait()
        committed = 0
        for attempt in range(15):
            refused = (index + attempt) % 2 == 0  # half the transactions are cancelled by their condition
            updates = [
                {
                    "TableName": "counter",
                    "Key": key,
                    "UpdateExpression": "ADD n :one",
                    "ExpressionAttributeValues": {":one": {"N": "1"}, ":never": {"N": "-1"}},
                }
                for key in keys
            ]
            if refused:
                updates[-1]["ConditionExpression"] = "attribute_exists(n) AND n = :never"
            try:
                client.transact_write_items(TransactItems=[{"Update": update} for update in updates])
                committed += 1
            except ClientError:
                assert refused
        return committed

    with ThreadPoolExecutor(16) as pool:
        committed = sum(pool.map(worker, range(16)))
    for key in keys:
        stored = dynamodb.get_item(TableName="counter", Key=key, ConsistentRead=True)["Item"]["n"]["N"]
        assert int(stored) == committed


def _counter(endpoint: str, name: str) -> Any:
    dynamodb = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1")
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return dynamodb


def _add(name: str, amount: int = 1) -> list[dict[str, Any]]:
    update = {"TableName": name, "Key": {"k": {"S": "one"}}, "UpdateExpression": "ADD n :n",
              "ExpressionAttributeValues": {":n": {"N": str(amount)}}}  # fmt: skip
    return [{"Update": update}]


def _stored(dynamodb: Any, name: str) -> int:
    item = dynamodb.get_item(TableName=name, Key={"k": {"S": "one"}}, ConsistentRead=True)["Item"]
    return int(item["n"]["N"])


def test_given_lost_answer_when_botocore_resends_the_same_token_then_the_transaction_applies_once(
    moto: MotoServer,
) -> None:
    _counter(moto.endpoint, "lost")
    with AwsFaultProxy(moto.endpoint) as proxy:
        client = boto3.client(
            "dynamodb", endpoint_url=proxy.endpoint, region_name="us-east-1",
            config=Config(retries={"mode": "standard", "total_max_attempts": 2}),
        )  # fmt: skip
        proxy.lose_answer("TransactWriteItems", hold=0)  # stored by moto, then the connection closes
        client.transact_write_items(TransactItems=_add("lost"), ClientRequestToken="token-1")
        assert proxy.fates("TransactWriteItems") == ["answer lost", "forwarded"], "botocore resent it"
    assert _stored(client, "lost") == 1


def test_given_token_reused_with_other_items_then_mismatch_and_a_new_token_applies(moto: MotoServer) -> None:
    dynamodb = _counter(moto.endpoint, "tokens")
    dynamodb.transact_write_items(TransactItems=_add("tokens"), ClientRequestToken="token-2")
    dynamodb.transact_write_items(TransactItems=_add("tokens"), ClientRequestToken="token-2")
    with pytest.raises(ClientError, match="IdempotentParameterMismatch"):
        dynamodb.transact_write_items(TransactItems=_add("tokens", 5), ClientRequestToken="token-2")
    dynamodb.transact_write_items(TransactItems=_add("tokens"), ClientRequestToken="token-3")
    dynamodb.transact_write_items(TransactItems=_add("tokens"))
    assert _stored(dynamodb, "tokens") == 3


def test_given_cancelled_transaction_when_sent_again_with_its_token_then_evaluated_again(
    moto: MotoServer,
) -> None:
    dynamodb = _counter(moto.endpoint, "cancelled")
    guarded = _add("cancelled")
    guarded[0]["Update"]["ConditionExpression"] = "attribute_exists(n)"
    with pytest.raises(ClientError, match="TransactionCanceled"):
        dynamodb.transact_write_items(TransactItems=guarded, ClientRequestToken="token-4")
    dynamodb.transact_write_items(TransactItems=_add("cancelled"))
    dynamodb.transact_write_items(TransactItems=guarded, ClientRequestToken="token-4")
    assert _stored(dynamodb, "cancelled") == 2


def test_given_transaction_cancelled_by_its_last_item_then_every_item_as_before_and_no_new_one(
    moto: MotoServer,
) -> None:
    dynamodb = boto3.client("dynamodb", endpoint_url=moto.endpoint, region_name="us-east-1")
    dynamodb.create_table(
        TableName="pairs",
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}, {"AttributeName": "r", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "k", "AttributeType": "S"},
            {"AttributeName": "r", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    existing = {"k": {"S": "a"}, "r": {"S": "1"}, "n": {"N": "1"}}
    dynamodb.put_item(TableName="pairs", Item=existing)

    def update(k: str, r: str, condition: str | None = None) -> dict[str, Any]:
        change: dict[str, Any] = {
            "TableName": "pairs",
            "Key": {"k": {"S": k}, "r": {"S": r}},
            "UpdateExpression": "ADD n :one",
            "ExpressionAttributeValues": {":one": {"N": "1"}},
        }
        if condition:
            change["ConditionExpression"] = condition
        return {"Update": change}

    items = [update("a", "1"), update("a", "2"), update("b", "1"), update("a", "1x", "attribute_exists(n)")]
    with pytest.raises(ClientError, match="TransactionCanceled"):
        dynamodb.transact_write_items(TransactItems=items)
    assert dynamodb.scan(TableName="pairs")["Items"] == [existing]
    dynamodb.transact_write_items(TransactItems=items[:3])
    assert len(dynamodb.scan(TableName="pairs")["Items"]) == 3
