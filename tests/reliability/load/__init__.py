"""The chatbot under load: many requests of several callers at once, on moto and the loopback Bedrock.

`chat_load(lab, requests, containers)` runs, in one clean case of the reliability lab:

1. the baseline: `requests` bare `converse_stream` calls (the handler's own Bedrock client, the stream
   consumed) from `containers` processes at once, the same message and answer sizes, no fault;
2. the load: `requests` complete HTTP API (payload 2.0) events with each caller's IAM authorizer context
   through `chatbot_handler.handler`, from `containers` processes at once (`workers.py`): four callers,
   two of them with limits tight enough to refuse some requests, one without limits; about one in ten
   requests carries a fault the fake Bedrock injects (throttling on every attempt, an error event or a
   dropped connection mid-stream), one in five asks a question already asked (`plan.py`);
3. the checks (`checks.py`): statuses, one EMF document per request, the usage table against the EMF
   charges, no limit passed.

The meter's wall clock is fixed (every request in the same hour, day and month windows). The chatbot's
DynamoDB client gets patient timeouts (5 s connect, 30 s read, 3 attempts; deployed: 1 s, 2 s, 2): moto
serves every container from one Python process, seconds behind DynamoDB when hundreds of calls arrive at
once, and a timeout would put the meter in its fail mode, which the fault matrix tests on its own. The
throughput (requests over the span from the first start to the last end) and the latency percentiles of
both runs are reported, with their ratios (`Figures`).

The tests run a small load (`test_load.py`); `make reliability` runs 200 requests from 200 containers.
"""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

import pytest

from tests.reliability.lab import MODELS, Lab, captured_output
from tests.reliability.load.checks import Items, check, statuses, usage_items
from tests.reliability.load.plan import FAULTS, MAX_TOKENS, NOW, Plan, plan
from tests.reliability.load.workers import Result, bare_load, chatbot_load, close_connections
from tests.reliability.scenarios.harness import Outcome

__all__ = ["Figures", "LoadReport", "chat_load", "plan"]

USAGE_TABLE = "reliability-usage"
PATIENT_DYNAMODB = {"max_attempts": 3, "connect_timeout": 5.0, "read_timeout": 30.0}
WARM_CALLER = "arn:aws:iam::123456789012:user/warm-up"


@dataclass(frozen=True)
class Figures:
    requests: int
    containers: int
    seconds: float  # first start to last end
    p50: float
    p99: float

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0

    @classmethod
    def of(cls, results: list[Result], containers: int) -> Figures:
        from bench.stats import percentile

        latencies = [result.seconds for result in results] or [0.0]
        span = max((r.ended for r in results), default=0.0) - min((r.started for r in results), default=0.0)
        return cls(len(results), containers, span, percentile(latencies, 50), percentile(latencies, 99))


@dataclass
class LoadReport:
    outcome: Outcome
    chatbot: Figures
    bare: Figures
    plan: Plan
    results: list[Result]  # the load's (the baseline's are only timed)
    items: Items  # the usage table after the load

    @property
    def statuses(self) -> Counter[str]:
        return statuses(self.results)

    @property
    def throughput_ratio(self) -> float:
        return self.chatbot.throughput / self.bare.throughput if self.bare.throughput else 0.0

    @property
    def p99_ratio(self) -> float:
        return self.chatbot.p99 / self.bare.p99 if self.bare.p99 else 0.0

    def lines(self) -> list[str]:
        c, b = self.chatbot, self.bare
        return [
            f"{c.requests} requests from {c.containers} containers at once: "
            + ", ".join(f"{count} x {status}" for status, count in sorted(self.statuses.items())),
            f"chatbot handler:      {c.throughput:7.1f} requests/s, p50 {c.p50 * 1000:7.0f} ms, "
            f"p99 {c.p99 * 1000:7.0f} ms",
            f"bare converse_stream: {b.throughput:7.1f} requests/s, p50 {b.p50 * 1000:7.0f} ms, "
            f"p99 {b.p99 * 1000:7.0f} ms",
            f"ratio chatbot/bare:   throughput {self.throughput_ratio:.2f}x, p99 {self.p99_ratio:.2f}x",
        ]


@contextmanager
def _containers(lab: Lab, load: Plan) -> Iterator[Any]:
    """One case of the lab with the usage table, CALLER_LIMITS and the faults; the handler's dependencies
    built and warmed in this process, connections closed, objects frozen (forked workers share them)."""
    from chatbot import chatbot_handler
    from chatbot.settings import get_settings
    from shared.aws_clients import client
    from tests.fakes.chat_fakes import ManualClock
    from tests.reliability.load.plan import install_faults
    from tests.support import FakeLambdaContext, create_usage_table, http_api_event

    env = {"USAGE_TABLE_NAME": USAGE_TABLE, "CALLER_LIMITS": load.caller_limits}
    with lab.case(None, **env) as case, pytest.MonkeyPatch.context() as mp:  # undone before the case ends
        dynamodb = case.aws("dynamodb")
        create_usage_table(dynamodb, USAGE_TABLE)
        patient = client("dynamodb", **PATIENT_DYNAMODB)
        mp.setattr(chatbot_handler, "_dynamodb", lambda: patient)
        get_settings.cache_clear()
        deps = chatbot_handler.dependencies.__wrapped__()
        deps = replace(deps, meter=replace(deps.meter, wall=ManualClock(NOW)))
        mp.setattr(chatbot_handler, "dependencies", lambda: deps)
        install_faults(lab.bedrock, MODELS[0])
        with captured_output():  # every call the workers make, made once here (a warm container)
            for index in range(2):
                body = {"message": f"warm-up {index}", "use_cache": True, "max_tokens": MAX_TOKENS}
                chatbot_handler.handler(http_api_event(body, caller=WARM_CALLER), FakeLambdaContext())
        close_connections(chatbot_handler._bedrock(), patient)
        gc.collect()
        gc.freeze()  # the workers' garbage collections leave the shared objects' pages alone
        try:
            yield dynamodb
        finally:
            gc.unfreeze()


def chat_load(lab: Lab, requests: int, containers: int) -> LoadReport:
    from chatbot.bedrock import converse_request

    load = plan(requests)
    with _containers(lab, load) as dynamodb:
        bare_requests = [
            (r.index, converse_request(MODELS[0], _without_fault(r.body["message"]), None, MAX_TOKENS))
            for r in load.requests
        ]
        bare = bare_load(bare_requests, containers)
        results = chatbot_load([(r.index, r.event()) for r in load.requests], containers)
        items = usage_items(dynamodb, USAGE_TABLE)
    outcome = check(load, results, items)
    outcome.expect(len(bare) == requests and not any(r.error for r in bare), "the baseline failed")
    return LoadReport(
        outcome, Figures.of(results, containers), Figures.of(bare, containers), load, results, items
    )


def _without_fault(message: str) -> str:
    for marker in FAULTS:
        message = message.replace(marker, "[" + "x" * (len(marker) - 2) + "]")
    return message
