"""moto's DynamoDB under concurrent calls, as the usage table's tests need it: each call atomic.

moto 5.2.5 runs each request on its own server thread without a lock, and a cancelled
TransactWriteItems restores a deep copy of the whole table taken when it started: a write committed by
another request in between is lost. Real DynamoDB serializes writes per item (a conflicting transaction
is cancelled with TransactionConflict, which the product retries). tests.fakes.moto_server makes every
DynamoDB backend call atomic; this test fails without that.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import boto3
import pytest
from botocore.exceptions import ClientError

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
