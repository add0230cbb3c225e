"""A local stand-in for what the platform records about an invocation, whatever the function's code did:
Lambda's `AWS/Lambda` metrics and API Gateway's `AWS/ApiGateway` metrics. Used by the demo and tests only.

In AWS a chatbot that cannot even start (a bad layer, an import or init error) writes no EMF, yet Lambda
counts the failed invocation and API Gateway answers 500 and counts a 5xx; the service alarms
(infra/constructs/service_monitoring.py) read exactly those. The demo runs the handler in-process, so
nothing would record them: `LocalLambdaPlatform.invoke` does, as the services would.

- It loads the handler from the function's `Handler` setting the way the Python runtime does
  (`chatbot/chatbot_handler.handler` -> module `chatbot.chatbot_handler`, attribute `handler`). A cold
  invocation imports the module again, as a new execution environment would; `missing_modules` leaves
  packages out of that environment (a layer that lacks them), so the import fails with the runtime's
  own `Runtime.ImportModuleError: Unable to import module '<path>': No module named '<name>'`. The
  process's modules are restored afterwards, whatever happened.
- Per invocation it records, at the event's `requestContext.timeEpoch` (when API Gateway received it):
  Invocations = 1, Errors = 1 or 0, Duration (ms) for the function; Count = 1, 4xx and 5xx = 1 or 0,
  IntegrationLatency and Latency (ms) for the API and stage. A function error (the handler raised, or
  could not be imported) is answered 500 `{"message":"Internal Server Error"}`, as HTTP APIs answer a
  failed Lambda integration.
- `flush()` writes what it recorded with PutMetricData, in batches, to the (moto) CloudWatch.

- `fault=` replays a failure of the platform itself, before our code runs, as the services record it
  (the handler is not called, so none of our code runs and no EMF is written):
  `THROTTLED`: Lambda refuses the invoke for lack of concurrency (Throttles = 1, no Invocations) and the
  HTTP API answers 500, as API Gateway answers a Lambda 429 it cannot pass on; `TIMED_OUT`: the
  invocation hangs until Lambda stops it at the function's timeout (Errors = 1, Duration = the timeout,
  `Task timed out after N seconds`) and the API answers 503 at its 30 s integration limit if that comes
  first, else 500; `NOT_INVOKED`: API Gateway cannot invoke the function at all (its permission gone with
  a bad deploy) and answers 500, Lambda records nothing.

Not modelled: concurrency (ConcurrentExecutions), a handler actually cut short mid-run (a local call
cannot be stopped; `TIMED_OUT` is a hang from the start), API Gateway's own refusals (403, 429).
"""

from __future__ import annotations

import importlib
import importlib.abc
import json
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import ModuleType
from typing import Any

from shared import metric_catalogue as mc

MAX_DATUMS_PER_CALL = 1000
IMPORT_ERROR = "Runtime.ImportModuleError"
THROTTLE_ERROR = "TooManyRequestsException"  # what Lambda answers the API's Invoke
INTERNAL_SERVER_ERROR = {"message": "Internal Server Error"}
SERVICE_UNAVAILABLE = {"message": "Service Unavailable"}
THROTTLED, TIMED_OUT, NOT_INVOKED = "throttled", "timed out", "not invoked"  # the platform's own failures
FAULTS = (THROTTLED, TIMED_OUT, NOT_INVOKED)
API_INTEGRATION_TIMEOUT_MS = 30_000.0  # an HTTP API stops waiting for its integration after 30 s
DEFAULT_TIMEOUT_SECONDS = 3.0  # Lambda's default function timeout
# What API Gateway adds around the integration (routing, IAM authorization, the response): a local
# stand-in's constant, only so Latency > IntegrationLatency as in AWS.
GATEWAY_OVERHEAD_MS = 5.0


@dataclass(frozen=True, slots=True)
class Invocation:
    """One request as the caller saw it: the HTTP status and body API Gateway answered, and the
    function error Lambda recorded (`<errorType>: <errorMessage>`), if any."""

    status: int
    body: Any
    error: str | None
    duration_ms: float
    received_at: datetime


class _MissingModules(importlib.abc.MetaPathFinder):
    """A finder that says what an environment without these packages says: No module named ..."""

    def __init__(self, names: Sequence[str]) -> None:
        self._names = tuple(names)

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> None:
        if any(fullname == name or fullname.startswith(f"{name}.") for name in self._names):
            raise ModuleNotFoundError(f"No module named '{fullname}'", name=fullname)
        return None


def _owned(name: str, packages: Sequence[str]) -> bool:
    return any(name == package or name.startswith(f"{package}.") for package in packages)


@contextmanager
def new_environment(module_name: str, missing_modules: Sequence[str] = ()) -> Iterator[None]:
    """While inside: `module_name` is imported afresh and `missing_modules` cannot be imported at all.
    On exit the process's modules are as they were (the handler module object, the package attribute
    and every hidden module)."""
    hidden = {name: module for name, module in sys.modules.items() if _owned(name, missing_modules)}
    saved = sys.modules.get(module_name)
    parent_name, _, child = module_name.rpartition(".")
    parent = sys.modules.get(parent_name) if parent_name else None
    parent_attr = getattr(parent, child, None) if parent is not None else None
    finder = _MissingModules(missing_modules)
    for name in hidden:
        del sys.modules[name]
    sys.modules.pop(module_name, None)
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)
        for name in [n for n in sys.modules if _owned(n, missing_modules)]:
            del sys.modules[name]
        sys.modules.update(hidden)
        if saved is not None:
            sys.modules[module_name] = saved
        else:
            sys.modules.pop(module_name, None)
        if parent is not None:
            if parent_attr is not None:
                setattr(parent, child, parent_attr)
            elif hasattr(parent, child):
                delattr(parent, child)


def module_of(handler: str) -> tuple[str, str, str]:
    """(file path as the runtime names it, module name, attribute) of a `Handler` setting."""
    path, _, attribute = handler.rpartition(".")
    return path, path.replace("/", "."), attribute


@dataclass
class LocalLambdaPlatform:
    """Invokes one function behind one HTTP API stage and records what Lambda and API Gateway would."""

    cloudwatch: Any
    handler: str  # the function's Handler setting, e.g. chatbot/chatbot_handler.handler
    function_name: str
    api_id: str
    stage: str = mc.DEFAULT_STAGE
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS  # the function's Timeout setting
    recorded: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (namespace, MetricDatum)
    invocations: list[Invocation] = field(default_factory=list)

    def invoke(
        self,
        event: dict[str, Any],
        context: Any,
        *,
        cold: bool = False,
        missing_modules: Sequence[str] = (),
        fault: str | None = None,
    ) -> Invocation:
        """Run the handler for an HTTP API event (a `cold` start imports it again, without
        `missing_modules`) and record the platform's metrics of the invocation; with a `fault` (one of
        `FAULTS`) the platform fails before the handler and records that instead."""
        received_at = datetime.fromtimestamp(int(event["requestContext"]["timeEpoch"]) / 1000, tz=UTC)
        if fault is not None:
            return self._platform_fault(fault, received_at)
        started = time.perf_counter()
        error: str | None = None
        response: Any = None
        try:
            function = self._load(cold, missing_modules)
        except Exception as exc:  # what the runtime reports when the handler module cannot be imported
            path, _, _ = module_of(self.handler)
            error = f"{IMPORT_ERROR}: Unable to import module '{path}': {exc}"
        else:
            try:
                response = function(event, context)
            except Exception as exc:  # an exception the handler let out: a function error
                error = f"{type(exc).__name__}: {exc}"
        duration_ms = (time.perf_counter() - started) * 1000.0
        if error is None and isinstance(response, dict) and "statusCode" in response:
            status, body = int(response["statusCode"]), response.get("body")
        else:  # a function error, or a response API Gateway cannot use
            error = error or "Runtime.InvalidResponse: the function returned no statusCode"
            status, body = 500, json.dumps(INTERNAL_SERVER_ERROR)
        recorded = {mc.LAMBDA_INVOCATIONS: 1.0, mc.LAMBDA_ERRORS: float(error is not None),
                    mc.LAMBDA_DURATION: duration_ms}  # fmt: skip
        self._record(received_at, status, recorded, duration_ms)
        return self._answered(Invocation(status, body, error, duration_ms, received_at))

    def _answered(self, invocation: Invocation) -> Invocation:
        self.invocations.append(invocation)
        return invocation

    def _platform_fault(self, fault: str, at: datetime) -> Invocation:
        """What Lambda and API Gateway record when the platform fails before our handler runs."""
        internal = json.dumps(INTERNAL_SERVER_ERROR)
        if fault == THROTTLED:
            self._record(at, 500, {mc.LAMBDA_THROTTLES: 1.0}, None)
            return self._answered(Invocation(500, internal, f"{THROTTLE_ERROR}: Rate Exceeded.", 0.0, at))
        if fault == TIMED_OUT:
            timeout_ms = self.timeout_seconds * 1000.0
            function = {mc.LAMBDA_INVOCATIONS: 1.0, mc.LAMBDA_ERRORS: 1.0, mc.LAMBDA_DURATION: timeout_ms}
            if timeout_ms > API_INTEGRATION_TIMEOUT_MS:  # the API gives up first and answers 503
                status, body, waited = 503, json.dumps(SERVICE_UNAVAILABLE), API_INTEGRATION_TIMEOUT_MS
            else:
                status, body, waited = 500, internal, timeout_ms
            self._record(at, status, function, waited)
            error = f"Task timed out after {self.timeout_seconds:.2f} seconds"
            return self._answered(Invocation(status, body, error, timeout_ms, at))
        if fault == NOT_INVOKED:
            self._record(at, 500, {}, None)
            return self._answered(Invocation(500, internal, None, 0.0, at))
        raise ValueError(f"unknown platform fault {fault!r}; one of {FAULTS}")

    def _load(self, cold: bool, missing_modules: Sequence[str]) -> Callable[..., Any]:
        _, module_name, attribute = module_of(self.handler)
        if not cold:
            return getattr(importlib.import_module(module_name), attribute)
        with new_environment(module_name, missing_modules):
            module: ModuleType = importlib.import_module(module_name)
            return getattr(module, attribute)

    def _record(
        self,
        at: datetime,
        status: int,
        lambda_metrics: dict[mc.MetricDef, float],
        integration_ms: float | None,
    ) -> None:
        """Lambda's metrics as given; the API's per request (IntegrationLatency only when the function
        was invoked: `integration_ms` is how long the API waited for it)."""
        function = {mc.DIM_FUNCTION_NAME: self.function_name}
        api = {mc.DIM_API_ID: self.api_id, mc.DIM_STAGE: self.stage}  # the alarms' dimension order
        waited = integration_ms or 0.0
        series: list[tuple[mc.MetricDef, dict[str, str], float]] = [
            *((definition, function, value) for definition, value in lambda_metrics.items()),
            (mc.API_COUNT, api, 1.0),
            (mc.API_4XX, api, float(400 <= status < 500)),
            (mc.API_5XX, api, float(status >= 500)),
            (mc.API_LATENCY, api, waited + GATEWAY_OVERHEAD_MS),
        ]
        if integration_ms is not None:
            series.append((mc.API_INTEGRATION_LATENCY, api, integration_ms))
        for definition, dims, value in series:
            datum = {
                "MetricName": definition.name,
                "Dimensions": [{"Name": name, "Value": value_} for name, value_ in dims.items()],
                "Timestamp": at,
                "Value": value,
                "Unit": definition.unit.value,
            }
            self.recorded.append((definition.namespace, datum))

    def flush(self) -> int:
        """PutMetricData of everything recorded since the last flush; the number of datapoints."""
        by_namespace: dict[str, list[dict[str, Any]]] = {}
        for namespace, datum in self.recorded:
            by_namespace.setdefault(namespace, []).append(datum)
        written = 0
        for namespace, datums in by_namespace.items():
            for start in range(0, len(datums), MAX_DATUMS_PER_CALL):
                batch = datums[start : start + MAX_DATUMS_PER_CALL]
                self.cloudwatch.put_metric_data(Namespace=namespace, MetricData=batch)
                written += len(batch)
        self.recorded.clear()
        return written
