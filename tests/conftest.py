"""Test-wide setup: offline AWS credentials, moto's server and the loopback Bedrock on 127.0.0.1."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

# Before any product module is imported: never reach a real account, never trace, never page.
for _name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_ENDPOINT_URL"):
    os.environ.pop(_name, None)
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_SERVICE_NAME": "chatbot",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        "JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION": "1",
    }
)

from chatbot import chatbot_handler  # noqa: E402
from chatbot.settings import get_settings  # noqa: E402
from shared.aws_clients import reset_clients  # noqa: E402
from tests.fakes.bedrock_server import FakeBedrock  # noqa: E402
from tests.fakes.moto_server import MotoServer  # noqa: E402

MODELS = (
    "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
    "us.anthropic.claude-haiku-4-5-20251001-v1:0",
    "amazon.nova-lite-v1:0",
)
PRICES = (
    '{"us.anthropic.claude-sonnet-4-5-20250929-v1:0": {"input_per_1k": 0.003, "output_per_1k": 0.015},'
    ' "us.anthropic.claude-haiku-4-5-20251001-v1:0": {"input_per_1k": 0.001, "output_per_1k": 0.005}}'
)


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    with MotoServer() as server:
        yield server


@pytest.fixture(scope="session")
def fake_bedrock() -> Iterator[FakeBedrock]:
    with FakeBedrock() as bedrock:
        yield bedrock


@pytest.fixture
def aws(moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[MotoServer]:
    """A clean moto account reached over HTTP; fresh boto3 clients."""
    moto_server.reset()
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server.endpoint)
    reset_clients()
    yield moto_server
    reset_clients()


@pytest.fixture
def bedrock(fake_bedrock: FakeBedrock, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeBedrock]:
    fake_bedrock.reset()
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", fake_bedrock.endpoint)
    reset_clients()
    yield fake_bedrock
    fake_bedrock.reset()


@pytest.fixture
def chat_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The chatbot's contract environment; settings and dependencies rebuilt for each test."""
    monkeypatch.setenv("MODEL_ID", MODELS[0])
    monkeypatch.setenv("ALLOWED_MODEL_IDS", ",".join(MODELS))
    monkeypatch.setenv("CACHE_TABLE_NAME", "chat-cache")
    monkeypatch.setenv("CACHE_TTL_SECONDS", "3600")
    monkeypatch.setenv("MAX_MESSAGE_CHARS", "8000")
    monkeypatch.setenv("MODEL_PRICES", PRICES)
    monkeypatch.setenv("BEDROCK_MAX_ATTEMPTS", "2")
    get_settings.cache_clear()
    chatbot_handler.dependencies.cache_clear()
    yield
    get_settings.cache_clear()
    chatbot_handler.dependencies.cache_clear()
