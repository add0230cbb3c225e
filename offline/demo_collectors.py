"""The demo's collector part: vendor fakes, the stack's collector configuration, simulated schedule ticks.

The three collector handlers run unchanged, with the environment the synthesized template gives them
(vendor base URLs pointed at the loopback fakes, as `AWS_ENDPOINT_URL` points AWS at moto). A schedule
tick is simulated by setting the collectors' clock (their documented test seam) and the fakes' wall
clock to the tick's time and passing Scheduler's `{"time": ...}` input, so two ticks 15 minutes apart
take seconds.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from offline.template_resources import TemplateResources
from tests.fakes.flashback_server import REALISTIC_IDS, FakeFlashback
from tests.fakes.launchdarkly_server import (
    REALISTIC_AI_CONFIGS,
    REALISTIC_ENVIRONMENTS,
    REALISTIC_PROJECT,
    FakeLaunchDarkly,
)
from tests.fakes.perf_server import FakePerf
from tests.fakes.vendor_base import ManualClock
from tests.support import FakeLambdaContext

HANDLERS = {
    "launchdarkly": "collectors/launchdarkly_collector.handler",
    "perf": "collectors/perf_collector.handler",
    "flashback": "collectors/flashback_collector.handler",
}
BASE_URL_ENV = {
    "launchdarkly": "LAUNCHDARKLY_API_BASE_URL",
    "perf": "PERF_API_BASE_URL",
    "flashback": "FLASHBACK_API_BASE_URL",
}
SECRET_ENV = {
    "launchdarkly": "LAUNCHDARKLY_API_TOKEN_SECRET_ARN",
    "perf": "PERF_API_KEY_SECRET_ARN",
    "flashback": "FLASHBACK_API_KEY_SECRET_ARN",
}
# Logging is the demo's own summary; the handlers' JSON logs would drown it.
DROPPED_ENV = ("POWERTOOLS_LOG_LEVEL",)


@dataclass
class VendorFakes:
    launchdarkly: FakeLaunchDarkly
    perf: FakePerf
    flashback: FakeFlashback
    wall: ManualClock

    def by_source(self) -> dict[str, Any]:
        return {"launchdarkly": self.launchdarkly, "perf": self.perf, "flashback": self.flashback}


def start_vendor_fakes(stack: ExitStack, start: float) -> VendorFakes:
    wall = ManualClock(start)
    return VendorFakes(
        launchdarkly=stack.enter_context(FakeLaunchDarkly.realistic(token="ld-demo-token-7f3a")),  # noqa: S106
        perf=stack.enter_context(FakePerf.realistic(token="pk_demo_perf_91c2", wall_clock=wall)),  # noqa: S106
        flashback=stack.enter_context(FakeFlashback.realistic(token="fb-demo-token-5e88", wall_clock=wall)),  # noqa: S106
        wall=wall,
    )


def demo_context() -> dict[str, Any]:
    """The cdk.json `aigateway` overrides a team with these vendor accounts would set."""
    return {
        "aigateway": {
            "collectors": {
                "launchdarkly": {
                    "project_key": REALISTIC_PROJECT,
                    "environment_keys": list(REALISTIC_ENVIRONMENTS),
                    "ai_config_keys": list(REALISTIC_AI_CONFIGS),
                },
                "flashback": {"llm_ids": list(REALISTIC_IDS)},
            }
        }
    }


def plant_secrets(resources: TemplateResources, fakes: VendorFakes, secretsmanager: Any) -> None:
    """What `aws secretsmanager put-secret-value` does after deploy: each secret holds its vendor token."""
    for source, fake in fakes.by_source().items():
        arn = resources.environment(HANDLERS[source])[SECRET_ENV[source]]
        secretsmanager.put_secret_value(SecretId=arn, SecretString=fake.token)


# The demo's one change to the collectors' settings: retries of a vendor that is down wait 0.05 s instead
# of the deployed 0.5-4 s (the same retries, counted the same; the demo just does not sleep through them).
DEMO_BACKOFF = {"COLLECTOR_HTTP_BACKOFF_SECONDS": "0.05", "COLLECTOR_HTTP_BACKOFF_MAX_SECONDS": "0.2"}


def collector_environment(resources: TemplateResources, source: str, endpoint: str) -> dict[str, str]:
    env = resources.environment(HANDLERS[source])
    env[BASE_URL_ENV[source]] = endpoint
    for name in DROPPED_ENV:
        env.pop(name, None)
    env.update(DEMO_BACKOFF)
    return env


def _handler(source: str) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    from collectors import flashback_collector, launchdarkly_collector, perf_collector

    return {
        "launchdarkly": launchdarkly_collector.handler,
        "perf": perf_collector.handler,
        "flashback": flashback_collector.handler,
    }[source]


def run_tick(resources: TemplateResources, fakes: VendorFakes, at: float) -> dict[str, dict[str, Any]]:
    """One schedule tick at epoch `at`: each collector once; returns each run's summary (or its error)."""
    from collectors.common import runner

    fakes.wall.set(at)
    original_clock = runner.clock
    runner.clock = lambda: at
    results: dict[str, dict[str, Any]] = {}
    event = {"time": datetime.fromtimestamp(at, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
    try:
        for source, fake in fakes.by_source().items():
            os.environ.update(collector_environment(resources, source, fake.endpoint))
            try:
                timeout_ms = int(resources.function(HANDLERS[source]).get("Timeout", 300)) * 1000
                context = FakeLambdaContext(function_name=f"{source}-collector", remaining_ms=timeout_ms)
                results[source] = _handler(source)(event, context)
            except Exception as exc:  # the Lambda would fail the invocation; Scheduler would retry it
                results[source] = {"failed": f"{type(exc).__name__}: {exc}"}
    finally:
        runner.clock = original_clock
    return results


def describe_tick(label: str, results: dict[str, dict[str, Any]]) -> list[str]:
    lines = [label]
    for source, summary in results.items():
        if "failed" in summary:
            lines.append(f"  {source:<12} run FAILED (Scheduler retries it): {summary['failed'][:140]}")
            continue
        published, calls = summary["datapoints_published"], summary["put_metric_data_calls"]
        counts = (
            f"datapoints {published:>5} ({calls} PutMetricData)"
            f"  http {summary['http_calls']} calls, {summary['http_retries']} retries"
            f"  vendor errors {summary['vendor_errors']}"
        )
        lines.append(f"  {source:<12} {counts}  series {summary['series']}")
    return lines
