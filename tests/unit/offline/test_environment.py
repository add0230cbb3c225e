"""The one environment of every offline run (tests, reliability lab, benchmark, demo) and its tables."""

from __future__ import annotations

import os

import boto3
import pytest

from offline.environment import (
    REAL_ACCOUNT_VARIABLES,
    apply_offline_environment,
    create_cache_table,
    create_checkpoint_table,
)
from shared.table_schema import (
    CACHE_PARTITION_KEY,
    CACHE_TTL_ATTRIBUTE,
    CHECKPOINT_PARTITION_KEY,
    CHECKPOINT_SORT_KEY,
)
from tests.fakes.moto_server import MotoServer


def test_given_a_shell_set_up_for_a_real_account_when_applied_then_nothing_can_reach_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in REAL_ACCOUNT_VARIABLES:
        monkeypatch.setenv(name, "real")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAREALKEY")

    apply_offline_environment()

    assert not [name for name in REAL_ACCOUNT_VARIABLES if name in os.environ]
    assert os.environ["AWS_ACCESS_KEY_ID"] == "testing"
    assert os.environ["AWS_EC2_METADATA_DISABLED"] == "true"
    assert os.environ["POWERTOOLS_TRACE_DISABLED"] == "true"


def test_given_an_empty_account_when_tables_are_created_twice_then_each_has_the_stack_key_schema(
    aws: MotoServer,
) -> None:
    dynamodb = boto3.client("dynamodb", endpoint_url=aws.endpoint)

    for _ in range(2):  # the second call finds the tables and leaves them
        create_cache_table(dynamodb, "cache")
        create_checkpoint_table(dynamodb, "checkpoints")

    cache = dynamodb.describe_table(TableName="cache")["Table"]
    checkpoints = dynamodb.describe_table(TableName="checkpoints")["Table"]
    ttl = dynamodb.describe_time_to_live(TableName="cache")["TimeToLiveDescription"]
    assert cache["KeySchema"] == [{"AttributeName": CACHE_PARTITION_KEY, "KeyType": "HASH"}]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": CACHE_TTL_ATTRIBUTE}
    assert checkpoints["KeySchema"] == [
        {"AttributeName": CHECKPOINT_PARTITION_KEY, "KeyType": "HASH"},
        {"AttributeName": CHECKPOINT_SORT_KEY, "KeyType": "RANGE"},
    ]
