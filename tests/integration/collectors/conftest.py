"""Collectors against moto (Secrets Manager, DynamoDB, CloudWatch) and the loopback vendor fakes.

Every test gets: a clean moto account with the checkpoint table and one secret per vendor, the
collectors' environment with small HTTP timeouts and backoffs (the suite stays fast), reset fakes, and a
capture of the collectors' log records (`logs`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import pytest

from collectors import flashback_collector, launchdarkly_collector, perf_collector
from collectors.common import runner, secrets
from collectors.common.http import pool_manager
from offline.environment import create_checkpoint_table
from shared.aws_clients import reset_clients
from tests.fakes.aws_fault_proxy import AwsFaultProxy
from tests.fakes.flashback_server import FakeFlashback
from tests.fakes.launchdarkly_server import FakeLaunchDarkly
from tests.fakes.moto_server import MotoServer
from tests.fakes.perf_server import FakePerf

TABLE = "collector-checkpoints"
PROJECT = "ai-gateway"
CONFIG = "support-chatbot"
ENV = "production"
# The suites' budget is `*`: each collected LaunchDarkly or Flashback datapoint goes out twice, as its key's
# own series and as a datapoint of the aggregate (contract "Metric budget"), so datums and calls double.
STAR_COPIES = 2


class LogCapture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def messages(self, level: int = logging.DEBUG) -> list[str]:
        return [r.getMessage() for r in self.records if r.levelno >= level]

    def find(self, text: str) -> list[logging.LogRecord]:
        return [r for r in self.records if text in r.getMessage()]


@pytest.fixture(scope="session")
def ld_server() -> Iterator[FakeLaunchDarkly]:
    with FakeLaunchDarkly() as fake:
        yield fake


@pytest.fixture(scope="session")
def perf_server() -> Iterator[FakePerf]:
    with FakePerf(rate_limit_per_minute=None) as fake:
        yield fake


@pytest.fixture(scope="session")
def flashback_server() -> Iterator[FakeFlashback]:
    with FakeFlashback() as fake:
        yield fake


@pytest.fixture
def collector_aws(aws: MotoServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """Checkpoint table, one secret per vendor, the collectors' environment; fresh caches."""
    dynamodb = boto3.client("dynamodb", endpoint_url=aws.endpoint)
    create_checkpoint_table(dynamodb, TABLE)
    sm = boto3.client("secretsmanager", endpoint_url=aws.endpoint)
    arns = {
        "LAUNCHDARKLY_API_TOKEN_SECRET_ARN": sm.create_secret(
            Name="ld-token", SecretString=FakeLaunchDarkly.DEFAULT_TOKEN
        )["ARN"],
        "PERF_API_KEY_SECRET_ARN": sm.create_secret(Name="perf-key", SecretString=FakePerf.DEFAULT_TOKEN)[
            "ARN"
        ],
        "FLASHBACK_API_KEY_SECRET_ARN": sm.create_secret(
            Name="flashback-key", SecretString=FakeFlashback.DEFAULT_TOKEN
        )["ARN"],
    }
    env = {
        "CHECKPOINT_TABLE_NAME": TABLE,
        **arns,
        "COLLECTOR_HTTP_CONNECT_TIMEOUT_SECONDS": "0.5",
        "COLLECTOR_HTTP_READ_TIMEOUT_SECONDS": "1.5",  # loopback: ms; 1.5 s survives a loaded machine
        "COLLECTOR_HTTP_MAX_ATTEMPTS": "3",
        "COLLECTOR_HTTP_BACKOFF_SECONDS": "0.01",
        "COLLECTOR_HTTP_BACKOFF_MAX_SECONDS": "0.05",
        "COLLECTOR_HTTP_RETRY_AFTER_MAX_SECONDS": "0.3",
        "COLLECTOR_HTTP_RATE_LIMIT_WAIT_MAX_SECONDS": "0.3",
        "COLLECTOR_TIME_RESERVE_SECONDS": "1",
        # These suites test the collectors' mechanics at the per-key series (`*`: every key's own, the
        # aggregate beside them: STAR_COPIES); the budget's levels are tested in test_metric_budget*.py.
        "LAUNCHDARKLY_DETAIL_KEYS": "*",
        "FLASHBACK_DETAIL_IDS": "*",
        "PERF_SERIES": "*",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    secrets.clear_cache()
    pool_manager().clear()
    yield {"endpoint": aws.endpoint, "arns": arns, "sm": sm, "dynamodb": dynamodb}
    secrets.clear_cache()


@pytest.fixture
def logs() -> Iterator[LogCapture]:
    capture = LogCapture()
    # One std logger per service name (in tests every collector shares POWERTOOLS_SERVICE_NAME).
    loggers = list(
        {
            id(m.logger._logger): m.logger._logger
            for m in (launchdarkly_collector, perf_collector, flashback_collector)
        }.values()
    )
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.addHandler(capture)
        lg.setLevel(logging.DEBUG)
    yield capture
    for lg, level in zip(loggers, levels, strict=True):
        lg.removeHandler(capture)
        lg.setLevel(level)


@pytest.fixture
def ld(
    ld_server: FakeLaunchDarkly, collector_aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> FakeLaunchDarkly:
    """One AI Config in one environment, three hours of look-back, no usage series unless a test adds them."""
    ld_server.reset()
    ld_server.add_ai_config(PROJECT, CONFIG, ENV, generations_per_hour=360)
    monkeypatch.setenv("LAUNCHDARKLY_API_BASE_URL", ld_server.endpoint)
    monkeypatch.setenv("LAUNCHDARKLY_PROJECT_KEY", PROJECT)
    monkeypatch.setenv("LAUNCHDARKLY_AI_CONFIG_KEYS", CONFIG)
    monkeypatch.setenv("LAUNCHDARKLY_ENVIRONMENT_KEYS", ENV)
    monkeypatch.setenv("LAUNCHDARKLY_LOOKBACK_SECONDS", str(3 * 3600))
    monkeypatch.setenv("LAUNCHDARKLY_USAGE_SERIES", "")
    return ld_server


@pytest.fixture
def perf(perf_server: FakePerf, collector_aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> FakePerf:
    perf_server.reset()
    perf_server.serve_generated_daily()
    monkeypatch.setenv("PERF_API_BASE_URL", perf_server.endpoint)
    return perf_server


@pytest.fixture
def flashback(
    flashback_server: FakeFlashback, collector_aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> FakeFlashback:
    flashback_server.reset()
    monkeypatch.setenv("FLASHBACK_API_BASE_URL", flashback_server.endpoint)
    monkeypatch.setenv("FLASHBACK_AI_LLM_IDS", "")
    return flashback_server


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Any:
    """`clock.shift(seconds)` moves the collectors' notion of now (the runner's clock) forward."""

    class Shift:
        offset = 0.0

        def shift(self, seconds: float) -> None:
            self.offset += seconds

    shift = Shift()
    import time

    monkeypatch.setattr(runner, "clock", lambda: time.time() + shift.offset)
    return shift


@contextmanager
def _through_fault_proxy(
    service: str, collector_aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> Iterator[AwsFaultProxy]:
    """The collectors' calls to one AWS service go through a fault-injecting proxy in front of moto."""
    with AwsFaultProxy(collector_aws["endpoint"]) as proxy:
        monkeypatch.setenv(f"AWS_ENDPOINT_URL_{service}", proxy.endpoint)
        reset_clients()
        yield proxy
    reset_clients()


@pytest.fixture
def edge(collector_aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Iterator[AwsFaultProxy]:
    """The collectors' CloudWatch calls go through a fault-injecting proxy; everything else to moto."""
    with _through_fault_proxy("CLOUDWATCH", collector_aws, monkeypatch) as proxy:
        yield proxy


@pytest.fixture
def dynamodb_edge(collector_aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Iterator[AwsFaultProxy]:
    """The collectors' DynamoDB calls go through a fault-injecting proxy; everything else to moto."""
    with _through_fault_proxy("DYNAMODB", collector_aws, monkeypatch) as proxy:
        yield proxy
