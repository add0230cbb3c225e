"""What part 4 (`bench.collector_scale`) measures around one scheduled collector invocation.

`CollectorBench` gives each run an empty moto account (checkpoint table, one secret per vendor) and calls
the real `handler` with a Lambda context whose remaining time counts down from the function timeout;
`AwsMeter` counts and times every AWS SDK call of the collectors' own boto3 clients (PutMetricData calls
and datums per namespace); `RunResult` is one run's figures: wall time, vendor HTTP calls and retries,
429s served, AWS calls, retries and time, and the bytes the run logged.
"""

from __future__ import annotations

import math
import os
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bench.env import lambda_stdout
from offline.environment import REGION, create_checkpoint_table

CHECKPOINT_TABLE = "bench-collector-checkpoints"
FUNCTION_TIMEOUT_S = 300


class DeadlineContext:
    """A Lambda context whose remaining time runs down in real time from the function timeout."""

    def __init__(self, timeout_s: float, name: str) -> None:
        self._deadline = time.monotonic() + timeout_s
        self.function_name = name
        self.memory_limit_in_mb = 256
        self.invoked_function_arn = f"arn:aws:lambda:{REGION}:123456789012:function:{name}"
        self.aws_request_id = str(uuid.uuid4())

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


@dataclass(slots=True)
class AwsMeter:
    """Counts and times every AWS SDK call of the collectors' (shared, cached) boto3 clients."""

    calls: Counter[str] = field(default_factory=Counter)
    attempts: int = 0
    seconds: float = 0.0
    put_metric_data: list[tuple[str, int]] = field(default_factory=list)  # (namespace, datums)

    def reset(self) -> None:
        self.calls.clear()
        self.attempts = 0
        self.seconds = 0.0
        self.put_metric_data.clear()

    def attach(self, client: Any) -> None:
        events = client.meta.events
        events.register("before-call", self._before)
        events.register("after-call", self._after)
        events.register("after-call-error", self._after)
        events.register("before-send", self._send)
        events.register("provide-client-params.cloudwatch.PutMetricData", self._put)

    def _before(self, context: dict[str, Any], model: Any, **_: Any) -> None:
        context["bench_started"] = time.perf_counter()
        self.calls[model.name] += 1

    def _after(self, context: dict[str, Any], **_: Any) -> None:
        started = context.pop("bench_started", None)
        if started is not None:
            self.seconds += time.perf_counter() - started

    def _send(self, **_: Any) -> None:
        self.attempts += 1

    def _put(self, params: dict[str, Any], **_: Any) -> None:
        self.put_metric_data.append((str(params.get("Namespace")), len(params.get("MetricData") or [])))

    def minimum_put_calls(self) -> int:
        by_namespace: Counter[str] = Counter()
        for namespace, datums in self.put_metric_data:
            by_namespace[namespace] += datums
        return sum(math.ceil(n / 1000) for n in by_namespace.values())

    @property
    def datapoints(self) -> int:
        return sum(n for _, n in self.put_metric_data)


@dataclass(slots=True)
class RunResult:
    label: str
    units: int  # AI configs, LLM ids, ...
    series: int
    wall_s: float
    summary: dict[str, Any]
    http_calls: int
    retries: int
    served_429: int
    put_calls: int
    put_minimum: int
    datapoints: int
    aws_calls: int
    aws_retries: int
    aws_seconds: float
    log_bytes: int
    put_by_namespace: Counter[str] = field(default_factory=Counter)
    aws_by_operation: Counter[str] = field(default_factory=Counter)  # e.g. GetItem, BatchGetItem
    error: str = ""


class CollectorBench:
    def __init__(self, moto: Any) -> None:
        from collectors.common import secrets
        from collectors.common.http import pool_manager
        from shared.aws_clients import client

        self.moto = moto
        self.meter = AwsMeter()
        self._secrets = secrets
        self._pool = pool_manager
        # The very clients the collectors use (shared.aws_clients caches them by these arguments).
        for service, attempts in (("cloudwatch", 5), ("dynamodb", 4)):
            self.meter.attach(client(service, max_attempts=attempts, connect_timeout=2.0, read_timeout=5.0))
        self.meter.attach(client("secretsmanager", max_attempts=3, connect_timeout=2.0, read_timeout=5.0))

    def fresh_account(self, tokens: dict[str, str]) -> None:
        """Empty moto, the checkpoint table and one secret per vendor; the collectors' env and caches."""
        import boto3

        self.moto.reset()
        dynamodb = boto3.client("dynamodb", endpoint_url=self.moto.endpoint, region_name=REGION)
        create_checkpoint_table(dynamodb, CHECKPOINT_TABLE)
        sm = boto3.client("secretsmanager", endpoint_url=self.moto.endpoint, region_name=REGION)
        os.environ["CHECKPOINT_TABLE_NAME"] = CHECKPOINT_TABLE
        for env_name, token in tokens.items():
            arn = sm.create_secret(Name=f"bench-{env_name.lower()}", SecretString=token)["ARN"]
            os.environ[env_name] = arn
        self._secrets.clear_cache()
        self._pool().clear()

    def invoke(
        self,
        label: str,
        units: int,
        series: int,
        handler: Callable[..., Any],
        fake: Any,
        *,
        shift_s: float = 0.0,
    ) -> RunResult:
        """One scheduled invocation; `shift_s` moves the schedule (event time and the runner's clock)."""
        from collectors.common import runner

        self.meter.reset()
        served_before = fake.rate_limited_count
        when = datetime.fromtimestamp(time.time() + shift_s, tz=UTC)
        event = {"time": when.strftime("%Y-%m-%dT%H:%M:%SZ"), "detail-type": "Scheduled Event"}
        saved_clock = runner.clock
        if shift_s:
            runner.clock = lambda: time.time() + shift_s
        context = DeadlineContext(FUNCTION_TIMEOUT_S, label)
        summary: dict[str, Any] = {}
        error = ""
        with tempfile.TemporaryDirectory() as tmp:
            log = os.path.join(tmp, "stdout.log")
            with lambda_stdout(log):
                started = time.perf_counter()
                try:
                    summary = handler(event, context)
                except Exception as exc:  # a failed run is a result too
                    error = f"{type(exc).__name__}: {exc}"[:300]
                wall = time.perf_counter() - started
                runner.clock = saved_clock
            log_bytes = os.path.getsize(log)
        meter = self.meter
        aws_calls = sum(meter.calls.values())
        return RunResult(
            label=label,
            units=units,
            series=series,
            wall_s=wall,
            summary=summary,
            http_calls=int(summary.get("http_calls", 0)),
            retries=int(summary.get("http_retries", 0)),
            served_429=fake.rate_limited_count - served_before,
            put_calls=meter.calls["PutMetricData"],
            put_minimum=meter.minimum_put_calls(),
            datapoints=meter.datapoints,
            aws_calls=aws_calls,
            aws_retries=max(0, meter.attempts - aws_calls),
            aws_seconds=meter.seconds,
            log_bytes=log_bytes,
            put_by_namespace=Counter(ns for ns, _ in meter.put_metric_data),
            aws_by_operation=Counter(meter.calls),
            error=error,
        )

    def unique_series(self, namespace: str) -> set[tuple[str, tuple[tuple[str, str], ...]]]:
        """Distinct (metric name, dimensions) in `namespace` (moto lists a metric once per datapoint)."""
        import boto3

        cloudwatch = boto3.client("cloudwatch", endpoint_url=self.moto.endpoint, region_name=REGION)
        found: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
        for page in cloudwatch.get_paginator("list_metrics").paginate(Namespace=namespace):
            for metric in page.get("Metrics", []):
                dims = tuple(sorted((d["Name"], d["Value"]) for d in metric.get("Dimensions", [])))
                found.add((metric["MetricName"], dims))
        return found

