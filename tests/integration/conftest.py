from __future__ import annotations

from typing import Any

import boto3
import pytest

from offline.environment import create_cache_table
from tests.conftest import CACHE_TABLE
from tests.fakes.bedrock_server import FakeBedrock
from tests.fakes.moto_server import MotoServer
from tests.support import USAGE_TABLE, create_usage_table


@pytest.fixture
def cache_table(aws: MotoServer, chat_env: None) -> Any:
    dynamodb = boto3.client("dynamodb", endpoint_url=aws.endpoint)
    create_cache_table(dynamodb, CACHE_TABLE)
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
