"""The collectors' configuration fuzzed: whatever their environment holds, a collector run either gets past
its configuration or fails with a clear error naming a setting the oracle (`collector_env.py`) finds
broken, and then publishes no vendor datapoint, writes no checkpoint and calls no vendor.

Each example is one real invocation of the collector's handler in one case of the reliability lab (moto,
the planted secrets, the vendor fakes), with a working environment in which up to four settings were
replaced or removed. The Lambda context has no time left, so a run that gets past its configuration stops
before its first vendor call (the time budget refuses it) and every example stays cheap. Observed: the
product's own CloudWatch and DynamoDB clients (every API call and its parameters), the vendor fake's
request log, and everything printed or logged (no traceback, no "collector crashed").

Rules checked per example:
- broken settings: the run raises `CollectorRunFailed` caused by a configuration error (`ValueError`) or
  an unreadable secret (`SecretUnavailable`), whose message names one of them; the only AWS call after it
  besides reading the secret is the health PutMetricData (AIGateway/Collectors); no vendor request;
- a valid environment: the run is not failed for its configuration.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from tests.reliability.properties.collector_env import (
    ENDPOINT,
    SECRET_ARN,
    SECRET_NAME,
    Changes,
    apply,
    changes,
    oracle,
    settings_of,
)
from tests.reliability.properties.core import Property

SOURCES = ("launchdarkly", "perf", "flashback")
WRITES = {"UpdateItem", "PutItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"}


@dataclass
class ConfigHarness:
    lab: Any
    base: dict[str, dict[str, str]]  # source -> its working environment
    secrets: dict[str, tuple[str, str]]  # source -> what its secret setting may name (ARN, name)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (operation, params)

    def record(self, model: Any = None, params: Any = None, **_: Any) -> None:
        self.calls.append((model.name, dict(params or {})))

    def fake(self, source: str) -> Any:
        return {"launchdarkly": self.lab.ld, "perf": self.lab.perf, "flashback": self.lab.fb}[source]


_harness: list[ConfigHarness] = []


@contextmanager
def config_harness(lab: Any) -> Iterator[ConfigHarness]:
    """One lab case for a whole property run; the runner's own clients recorded."""
    import os

    from shared.aws_clients import client
    from tests.reliability.lab import PLANTED, SECRET_ENV
    from tests.reliability.scenarios.harness import COLLECTOR_CLOUDWATCH, COLLECTOR_DYNAMODB

    with lab.case() as case:
        base = {
            source: {s.name: os.environ[s.name] for s in settings_of(source) if s.name in os.environ}
            for source in SOURCES
        }
        secrets = {source: (str(case.arns[source]), f"reliability/{source}") for source in SOURCES}
        assert set(PLANTED) == set(SECRET_ENV) == set(SOURCES)
        harness = ConfigHarness(lab, base, secrets)
        for service, options in (("cloudwatch", COLLECTOR_CLOUDWATCH), ("dynamodb", COLLECTOR_DYNAMODB)):
            events = client(service, **options).meta.events
            events.register(f"before-parameter-build.{service}", harness.record)
        _harness.append(harness)
        try:
            yield harness
        finally:
            _harness.pop()


def current() -> ConfigHarness:
    assert _harness, "inside config_harness() only"
    return _harness[-1]


def check_collector_env(source: str, drawn: Changes) -> str:
    import pytest

    from collectors import flashback_collector, launchdarkly_collector, perf_collector
    from collectors.common import secrets
    from collectors.common.runner import CollectorRunFailed
    from collectors.common.secrets import SecretUnavailable
    from shared import metric_catalogue as mc
    from tests.integration.collectors.helpers import Context, scheduled_event
    from tests.reliability.lab import captured_output

    modules = (launchdarkly_collector, perf_collector, flashback_collector)
    handler = dict(zip(SOURCES, modules, strict=True))
    harness = current()
    fake = harness.fake(source)
    arn, name = harness.secrets[source]
    env = apply(harness.base[source], drawn, {SECRET_ARN: arn, SECRET_NAME: name, ENDPOINT: fake.endpoint})
    bad = oracle(source, env, harness.secrets[source])
    vendor_calls, first_call = fake.request_count(), len(harness.calls)
    failure: CollectorRunFailed | None = None
    with pytest.MonkeyPatch.context() as mp, captured_output() as out:
        for setting in settings_of(source):
            mp.delenv(setting.name, raising=False)
        for name, value in env.items():
            mp.setenv(name, value)
        secrets.clear_cache()
        try:
            handler[source].handler(scheduled_event(), Context(remaining_ms=0))
        except CollectorRunFailed as exc:
            failure = exc
    _no_traceback(out.getvalue())
    configuration = failure is not None and isinstance(failure.__cause__, ValueError | SecretUnavailable)
    if not bad:
        assert not configuration, f"a valid environment refused: {failure}"
        return "accepted"
    outcome = f"failed: {failure}" if failure else "ran"
    assert configuration, f"broken {sorted(bad)} but the run {outcome}"
    assert any(name in str(failure) for name in bad), f"{failure} names none of {sorted(bad)}"
    calls = harness.calls[first_call:]
    writes = [operation for operation, _ in calls if operation in WRITES]
    published = [params.get("Namespace") for operation, params in calls if operation == "PutMetricData"]
    assert not writes, f"checkpoint writes with a broken configuration: {writes}"
    assert published in ([], [mc.NS_COLLECTORS]), f"published with a broken configuration: {published}"
    assert fake.request_count() == vendor_calls, "the vendor was called with a broken configuration"
    return "refused"


def _no_traceback(printed: str) -> None:
    """Neither a traceback printed nor a log record carrying one (an echoed value is quoted: never a line
    of its own, never a record's `exception`)."""
    import json

    for line in printed.splitlines():
        assert not line.startswith("Traceback (most recent call last)"), printed[-2000:]
        if line.startswith("{"):
            try:
                record = json.loads(line)
            except ValueError:
                continue
            crashed = record.get("message") == "collector crashed" or "exception" in record
            assert not crashed, line[:2000]


def collector_config_properties() -> list[Property]:
    """One property per collector; run inside `config_harness`."""
    return [
        Property(
            f"{source} settings",
            "every environment variable, fuzzed",
            changes(source),
            functools.partial(check_collector_env, source),
            max_examples=300,
        )
        for source in SOURCES
    ]
