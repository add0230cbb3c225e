"""The reliability lab: moto, the loopback Bedrock and vendor fakes, and one clean case at a time.

Used by the reliability tests (through `conftest.py`) and by `make reliability` (`offline/reliability.py`),
so both run exactly the same scenarios. A `Case` is a clean moto account (checkpoint table, cache table,
one secret per vendor holding a distinctive planted token), reset fakes, the collectors' and chatbot's
environment, fresh boto3 clients, and one frozen clock shared by the collectors' runner and the vendor
fakes (so "now", "today" and the windows due cannot move under a test). Everything is undone on exit.

Faults at the AWS edge are real botocore errors: `fail_aws` registers a `before-send` hook on the
product's own (cached) boto3 client that answers chosen calls with an AWS error response, which botocore
parses and retries exactly as it would a real one.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.retries.standard import ExponentialBackoff

from offline.environment import MODELS as MODELS  # the lab's chat models, for the scenarios
from offline.environment import (
    apply_offline_environment,
    chat_environment,
    create_cache_table,
    create_checkpoint_table,
)
from tests.reliability.aws_faults import AwsFault
from tests.reliability.capture import captured_output as captured_output  # imported from here by many
from tests.reliability.cloudwatch_readback import Key, readback, series_totals

HOUR = 3600
FAST_BACKOFF = {"throttling_base_scale": 0.02, "non_throttling_base_scale": 0.005}
# Distinctive tokens planted in Secrets Manager: the security scans look for them in every output.
PLANTED = {
    "launchdarkly": "api-5ec7e7a1-0b5e-4c1d-9e0f-pl4nted1d70k3n",
    "perf": "pk_live_PL4NTEDperfK3Y0000000000007",
    "flashback": "fb_live_PL4NTEDflashbackK3Y00000009",
}
SECRET_ENV = {
    "launchdarkly": "LAUNCHDARKLY_API_TOKEN_SECRET_ARN",
    "perf": "PERF_API_KEY_SECRET_ARN",
    "flashback": "FLASHBACK_API_KEY_SECRET_ARN",
}
CHECKPOINT_TABLE = "reliability-checkpoints"
CACHE_TABLE = "reliability-chat-cache"
PROJECT, CONFIG, ENVIRONMENT = "ai-gateway", "support-chatbot", "production"
COLLECTOR_ENV = {
    "CHECKPOINT_TABLE_NAME": CHECKPOINT_TABLE,
    "COLLECTOR_HTTP_CONNECT_TIMEOUT_SECONDS": "0.5",
    "COLLECTOR_HTTP_READ_TIMEOUT_SECONDS": "1.2",  # loopback answers in ms; 1.2 s survives a loaded machine
    "COLLECTOR_HTTP_MAX_ATTEMPTS": "3",
    "COLLECTOR_HTTP_BACKOFF_SECONDS": "0.01",
    "COLLECTOR_HTTP_BACKOFF_MAX_SECONDS": "0.05",
    "COLLECTOR_HTTP_RETRY_AFTER_MAX_SECONDS": "0.2",
    "COLLECTOR_HTTP_RATE_LIMIT_WAIT_MAX_SECONDS": "0.2",
    "COLLECTOR_TIME_RESERVE_SECONDS": "1",
    "LAUNCHDARKLY_PROJECT_KEY": PROJECT,
    "LAUNCHDARKLY_AI_CONFIG_KEYS": CONFIG,
    "LAUNCHDARKLY_ENVIRONMENT_KEYS": ENVIRONMENT,
    "LAUNCHDARKLY_LOOKBACK_SECONDS": str(3 * HOUR),
    "LAUNCHDARKLY_USAGE_SERIES": "total-mau",
    "LAUNCHDARKLY_USAGE_LOOKBACK_DAYS": "3",
    "LAUNCHDARKLY_USAGE_LAG_SECONDS": "0",  # the truth counts yesterday as due at any hour of the day
    "PERF_DAILY_LOOKBACK_DAYS": "3",
    "FLASHBACK_AI_LLM_IDS": "",
    # The faults are checked against the per-key series `*` publishes beside the aggregate (which the
    # scenarios check too); the budget's levels and exactly-once: tests/*/collectors/test_metric_budget*.py.
    "LAUNCHDARKLY_DETAIL_KEYS": "*",
    "FLASHBACK_DETAIL_IDS": "*",
    "PERF_SERIES": "*",
}
CHAT_ENV = chat_environment(CACHE_TABLE)


def prepare_process() -> None:
    """What `tests/conftest.py` does at import, for a process that is not pytest (the tool)."""
    apply_offline_environment()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)


class SharedClock:
    """Frozen epoch seconds, moved only by `shift`: the runner's `clock` and the fakes' `wall_clock`."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def freeze(self, at: float) -> None:
        self.now = at

    def shift(self, seconds: float) -> None:
        self.now += seconds


def default_t0(real_now: float | None = None) -> float:
    """Half past the previous hour: at least 25 minutes from any hour or day boundary either way, so the
    windows due and "today" stay put for every shift a scenario makes (a lease is 10 minutes)."""
    now = time.time() if real_now is None else real_now
    return now - now % HOUR - HOUR / 2


# --- the lab ------------------------------------------------------------------------------------------
@dataclass
class Lab:
    """Long-lived servers; `case()` hands out one clean, isolated scenario at a time."""

    moto: Any
    bedrock: Any
    ld: Any
    perf: Any
    fb: Any
    clock: SharedClock

    @classmethod
    @contextmanager
    def start(cls, moto: Any = None, bedrock: Any = None) -> Iterator[Lab]:
        """Start whatever servers were not given (the tool starts all; pytest passes its session ones)."""
        from tests.fakes.bedrock_server import FakeBedrock
        from tests.fakes.flashback_server import FakeFlashback
        from tests.fakes.launchdarkly_server import FakeLaunchDarkly
        from tests.fakes.moto_server import MotoServer
        from tests.fakes.perf_server import FakePerf

        clock = SharedClock()
        with ExitStack() as stack:
            moto = moto or stack.enter_context(MotoServer())
            bedrock = bedrock or stack.enter_context(FakeBedrock())
            # A client that gave up (the read-timeout case) makes the fake's write fail: not worth a
            # traceback on stderr.
            bedrock._server.handle_error = lambda *args: None
            ld = stack.enter_context(FakeLaunchDarkly(token=PLANTED["launchdarkly"], wall_clock=clock))
            perf = stack.enter_context(
                FakePerf(token=PLANTED["perf"], rate_limit_per_minute=None, wall_clock=clock)
            )
            fb = stack.enter_context(FakeFlashback(token=PLANTED["flashback"], wall_clock=clock))
            yield cls(moto, bedrock, ld, perf, fb, clock)

    @contextmanager
    def case(self, t0: float | None = None, **env: str) -> Iterator[Case]:
        from chatbot import chatbot_handler
        from chatbot.settings import get_settings
        from collectors.common import runner, secrets
        from collectors.common.http import pool_manager
        from shared.aws_clients import reset_clients

        self.clock.freeze(default_t0() if t0 is None else t0)
        with pytest.MonkeyPatch.context() as mp:
            self.moto.reset()
            for fake in (self.ld, self.perf, self.fb):
                fake.reset()
            self.bedrock.reset()
            self.ld.add_ai_config(PROJECT, CONFIG, ENVIRONMENT, generations_per_hour=360)
            mp.setenv("AWS_ENDPOINT_URL", self.moto.endpoint)
            mp.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", self.bedrock.endpoint)
            mp.delenv("AWS_ENDPOINT_URL_DYNAMODB", raising=False)
            for name, value in {
                **COLLECTOR_ENV,
                **CHAT_ENV,
                "LAUNCHDARKLY_API_BASE_URL": self.ld.endpoint,
                "PERF_API_BASE_URL": self.perf.endpoint,
                "FLASHBACK_API_BASE_URL": self.fb.endpoint,
                **env,
            }.items():
                mp.setenv(name, value)
            mp.setattr(runner, "clock", self.clock)
            mp.setattr(runner, "crash_point", None)
            # Time compression only: botocore's standard retry still decides what to retry and how often,
            # but waits milliseconds instead of its 1 s throttling / 25-50 ms base backoff.
            mp.setattr(ExponentialBackoff, "_DEFAULT_BACKOFF_CONFIG", FAST_BACKOFF)
            mp.setattr(ExponentialBackoff, "_SERVICE_BACKOFF_CONFIG", {})

            def fresh() -> None:
                reset_clients()
                secrets.clear_cache()
                pool_manager().clear()
                get_settings.cache_clear()
                chatbot_handler.dependencies.cache_clear()

            fresh()
            case = Case(self, mp, self.moto.endpoint)
            case.create_resources()
            try:
                yield case
            finally:
                # A delayed request still sleeping in a fake would take the next case's faults when it
                # wakes (the fakes pick a fault after the delay): let it finish first.
                time.sleep(max(0.0, case.quiet_until() - time.monotonic()))
                fresh()


@dataclass
class Case:
    lab: Lab
    mp: pytest.MonkeyPatch
    endpoint: str
    arns: dict[str, str] = field(default_factory=dict)
    aws_faults: list[AwsFault] = field(default_factory=list)
    delayed: list[tuple[Any, float]] = field(default_factory=list)

    def delay(self, fake: Any, seconds: float, times: int = 1, path_prefix: str | None = None) -> None:
        """`fake.delay_next`, remembered so the case does not end before those requests are answered."""
        fake.delay_next(seconds, times=times, path_prefix=path_prefix)
        self.delayed.append((fake, seconds))

    def quiet_until(self) -> float:
        """Monotonic time by which every delayed request has been answered: a delayed request arrived
        no later than the fake's last request (the fakes stamp arrivals with time.monotonic)."""
        until = 0.0
        for fake, seconds in self.delayed:
            arrivals = [request.time for request in fake.requests]
            if arrivals:
                until = max(until, max(arrivals) + seconds + 0.05)
        return until

    def aws(self, service: str) -> Any:
        """A test-side client (not the product's): set-up and read-backs."""
        return boto3.client(service, endpoint_url=self.endpoint)

    def create_resources(self) -> None:
        dynamodb = self.aws("dynamodb")
        create_checkpoint_table(dynamodb, CHECKPOINT_TABLE)
        create_cache_table(dynamodb, CACHE_TABLE)
        sm = self.aws("secretsmanager")
        for source, token in PLANTED.items():
            arn = sm.create_secret(Name=f"reliability/{source}", SecretString=token)["ARN"]
            self.arns[source] = arn
            self.mp.setenv(SECRET_ENV[source], arn)

    # --- faults ---------------------------------------------------------------------------------
    def fail_aws(
        self,
        service: str,
        operation: str,
        code: str,
        status: int,
        which: Callable[[int, bytes], bool],
        client_options: dict[str, Any],
    ) -> AwsFault:
        """Inject `code` into the product's cached client for `service` (built with `client_options`)."""
        from shared.aws_clients import client

        product_client = client(service, **client_options)
        metadata = product_client.meta.service_model.metadata
        fault = AwsFault(operation, code, status, which, "awsQueryCompatible" in metadata)
        event = f"before-send.{product_client.meta.service_model.service_id.hyphenize()}.{operation}"
        product_client.meta.events.register(event, fault)
        self.aws_faults.append(fault)
        return fault

    def put_secret(self, source: str, value: str) -> None:
        self.aws("secretsmanager").put_secret_value(SecretId=self.arns[source], SecretString=value)

    # --- read-backs -----------------------------------------------------------------------------
    def readback(self, namespace: str, days: float = 15) -> dict[Key, tuple[float, int]]:
        now = self.lab.clock()
        return readback(self.aws("cloudwatch"), namespace, now - days * 86400, now + 3 * HOUR)

    def totals(
        self, namespace: str, hours: float = 2
    ) -> dict[tuple[str, tuple[tuple[str, str], ...]], tuple[float, int]]:
        now = self.lab.clock()
        return series_totals(self.aws("cloudwatch"), namespace, now - hours * HOUR, now + HOUR)

    def health(self, source: str) -> dict[str, float]:
        """Sums of the health metrics of `source` in AIGateway/Collectors."""
        from shared import metric_catalogue as mc

        totals = dict.fromkeys((metric.name for metric in mc.COLLECTOR_METRICS), 0.0)
        for (name, dims, _), (total, _count) in self.readback(mc.NS_COLLECTORS, days=1).items():
            if dims == ((mc.DIM_SOURCE, source),) and name in totals:
                totals[name] += total
        return totals


def minute(ms: int) -> int:
    return ms - ms % 60_000


def iso(epoch_seconds: float) -> str:
    return datetime.fromtimestamp(epoch_seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def days_ago(now: float, days: int) -> datetime:
    return datetime.fromtimestamp(now, tz=UTC) - timedelta(days=days)
