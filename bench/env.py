"""The process environment of a benchmark run, and stdout handled the way Lambda handles it.

Lambda's Python runtime replaces `sys.stdout` with a wrapper that flushes after every write, on a pipe:
every EMF document or log line costs a `write(2)`. `lambda_stdout()` reproduces that at the file
descriptor level (fd 1 goes to /dev/null, `sys.stdout` flushes on every write), so a benchmark pays the
real system calls instead of appending to a StringIO that would flatter it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

REPO = Path(__file__).resolve().parent.parent
LAMBDAS = REPO / "lambdas"
REGION = "us-east-1"

MODELS = (
    "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
    "us.anthropic.claude-haiku-4-5-20251001-v1:0",
    "amazon.nova-lite-v1:0",
)
PRICES = (
    '{"us.anthropic.claude-sonnet-4-5-20250929-v1:0": {"input_per_1k": 0.003, "output_per_1k": 0.015},'
    ' "us.anthropic.claude-haiku-4-5-20251001-v1:0": {"input_per_1k": 0.001, "output_per_1k": 0.005}}'
)
CACHE_TABLE = "bench-chat-cache"


def ensure_paths() -> None:
    """`lambdas/` is the code root of every Lambda; the repo root holds tests/ (fakes) and infra/."""
    for path in (str(LAMBDAS), str(REPO)):
        if path not in sys.path:
            sys.path.insert(0, path)


def offline_environment() -> dict[str, str]:
    """Never reach a real account; never trace (no X-Ray daemon here); log at the deployed level."""
    return {
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_EC2_METADATA_DISABLED": "true",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_SERVICE_NAME": "chatbot",
        "POWERTOOLS_LOG_LEVEL": "INFO",
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        "JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION": "1",
        "CDK_DISABLE_VERSION_CHECK": "1",
    }


def chat_environment() -> dict[str, str]:
    """The chatbot's contract environment (the same values as the tests)."""
    return {
        "MODEL_ID": MODELS[0],
        "ALLOWED_MODEL_IDS": ",".join(MODELS),
        "CACHE_TABLE_NAME": CACHE_TABLE,
        "CACHE_TTL_SECONDS": "3600",
        "MAX_MESSAGE_CHARS": "8000",
        "MODEL_PRICES": PRICES,
        "BEDROCK_MAX_ATTEMPTS": "2",
    }


def apply_environment() -> None:
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_ENDPOINT_URL"):
        os.environ.pop(name, None)
    os.environ.update(offline_environment())
    os.environ.update(chat_environment())
    ensure_paths()


class _Unbuffered:
    """What Lambda's bootstrap puts in `sys.stdout`: every write is flushed (one syscall or more)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, data: str) -> int:
        written = self.stream.write(data)
        self.stream.flush()
        return written

    def writelines(self, lines: Any) -> None:
        self.stream.writelines(lines)
        self.stream.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


@contextmanager
def lambda_stdout(target: str = os.devnull) -> Iterator[None]:
    """fd 1 -> `target` (a real file descriptor), `sys.stdout` unbuffered as in Lambda; restored after."""
    sys.stdout.flush()
    saved = os.dup(1)
    sink = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(sink, 1)
    os.close(sink)
    original = sys.stdout
    sys.stdout = _Unbuffered(original)
    try:
        yield
    finally:
        original.flush()
        sys.stdout = original
        os.dup2(saved, 1)
        os.close(saved)


def create_cache_table(endpoint: str, name: str = CACHE_TABLE) -> None:
    import boto3

    from shared.table_schema import CACHE_PARTITION_KEY

    dynamodb = boto3.client("dynamodb", endpoint_url=endpoint, region_name=REGION)
    existing = dynamodb.list_tables().get("TableNames", [])
    if name in existing:
        return
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": CACHE_PARTITION_KEY, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": CACHE_PARTITION_KEY, "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
