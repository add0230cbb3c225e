from __future__ import annotations

from typing import Any

import boto3
import pytest

from shared.table_schema import CACHE_PARTITION_KEY, CACHE_TTL_ATTRIBUTE
from tests.fakes.bedrock_server import FakeBedrock
from tests.fakes.moto_server import MotoServer
from tests.support import USAGE_TABLE, create_usage_table


@pytest.fixture
def cache_table(aws: MotoServer, chat_env: None) -> Any:
    dynamodb = boto3.client("dynamodb", endpoint_url=aws.endpoint)
    dynamodb.create_table(
        TableName="chat-cache",
        KeySchema=[{"AttributeName": CACHE_PARTITION_KEY, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": CACHE_PARTITION_KEY, "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.update_time_to_live(
        TableName="chat-cache",
        TimeToLiveSpecification={"Enabled": True, "AttributeName": CACHE_TTL_ATTRIBUTE},
    )
    return dynamodb


@pytest.fixture
def stack(cache_table: Any, bedrock: FakeBedrock) -> FakeBedrock:
    """Everything the chatbot talks to: moto DynamoDB with the cache table, and the fake Bedrock."""
    return bedrock


@pytest.fixture
def usage_table(cache_table: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The usage table on moto, named in USAGE_TABLE_NAME (no CALLER_LIMITS: tests set their own)."""
    create_usage_table(cache_table)
    monkeypatch.setenv("USAGE_TABLE_NAME", USAGE_TABLE)
    return cache_table
