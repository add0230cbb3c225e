"""The process environment of every offline run of the product, and the tables it needs, in one place.

The tests (`tests/conftest.py` and the integration fixtures), the reliability lab
(`tests/reliability/lab.py`), the benchmark (`bench/`) and the demo all run the real handlers against
moto and the loopback fakes. They share:

- `apply_offline_environment`: credentials that cannot reach a real account, the region, no instance
  metadata, no X-Ray, and `lambdas/` plus the repository root on `sys.path`; the variables a developer's
  shell may hold that would reach a real account (`AWS_PROFILE`, a session token, `AWS_ENDPOINT_URL`)
  are removed. Call it before any product module is imported (Powertools reads its variables at import);
- `chat_environment`: the chatbot's contract environment (three models, two of them priced);
- `create_cache_table` and `create_checkpoint_table`: the chatbot's response cache and the collectors'
  checkpoint table, with the key schema the stack gives them (`shared.table_schema`).

It imports no product module at import time, so it can run before the environment exists.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
LAMBDAS = REPO / "lambdas"
REGION = "us-east-1"
# Set in a developer's shell, each would send an offline run to a real account.
REAL_ACCOUNT_VARIABLES = ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_ENDPOINT_URL")

MODELS = (
    "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
    "us.anthropic.claude-haiku-4-5-20251001-v1:0",
    "amazon.nova-lite-v1:0",
)
# The third model has no price: its answers carry no EstimatedCost.
MODEL_PRICES = {
    MODELS[0]: {"input_per_1k": 0.003, "output_per_1k": 0.015},
    MODELS[1]: {"input_per_1k": 0.001, "output_per_1k": 0.005},
}


def ensure_paths() -> None:
    """`lambdas/` is the code root of every Lambda; the repository root holds the other packages."""
    for path in (str(REPO), str(LAMBDAS)):
        if path not in sys.path:
            sys.path.insert(0, path)


def offline_environment(log_level: str = "WARNING") -> dict[str, str]:
    """Never reach a real account; never trace (no X-Ray daemon here); Powertools logs at `log_level`."""
    return {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_EC2_METADATA_DISABLED": "true",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_SERVICE_NAME": "chatbot",
        "POWERTOOLS_LOG_LEVEL": log_level,
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        "JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION": "1",
        "CDK_DISABLE_VERSION_CHECK": "1",
    }


def apply_offline_environment(log_level: str = "WARNING") -> None:
    """This process: `offline_environment`, without the real-account variables, with the code on the path."""
    for name in REAL_ACCOUNT_VARIABLES:
        os.environ.pop(name, None)
    os.environ.update(offline_environment(log_level))
    ensure_paths()


def chat_environment(cache_table: str) -> dict[str, str]:
    """The chatbot's contract environment, its response cache in `cache_table`."""
    return {
        "MODEL_ID": MODELS[0],
        "ALLOWED_MODEL_IDS": ",".join(MODELS),
        "CACHE_TABLE_NAME": cache_table,
        "CACHE_TTL_SECONDS": "3600",
        "MAX_MESSAGE_CHARS": "8000",
        "MODEL_PRICES": json.dumps(MODEL_PRICES),
        "BEDROCK_MAX_ATTEMPTS": "2",
    }


def create_cache_table(dynamodb: Any, name: str) -> None:
    """The chatbot's response cache (partition key and TTL attribute as the stack sets them); a table
    that already exists is left as it is."""
    from shared.table_schema import CACHE_PARTITION_KEY, CACHE_TTL_ATTRIBUTE

    if _exists(dynamodb, name):
        return
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": CACHE_PARTITION_KEY, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": CACHE_PARTITION_KEY, "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": CACHE_TTL_ATTRIBUTE}
    )


def create_checkpoint_table(dynamodb: Any, name: str) -> None:
    """The collectors' checkpoint table (partition and sort key as the stack sets them); a table that
    already exists is left as it is."""
    from shared.table_schema import CHECKPOINT_PARTITION_KEY, CHECKPOINT_SORT_KEY

    if _exists(dynamodb, name):
        return
    dynamodb.create_table(
        TableName=name,
        KeySchema=[
            {"AttributeName": CHECKPOINT_PARTITION_KEY, "KeyType": "HASH"},
            {"AttributeName": CHECKPOINT_SORT_KEY, "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": CHECKPOINT_PARTITION_KEY, "AttributeType": "S"},
            {"AttributeName": CHECKPOINT_SORT_KEY, "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )


def _exists(dynamodb: Any, name: str) -> bool:
    return name in dynamodb.list_tables().get("TableNames", [])
