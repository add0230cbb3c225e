"""What `make reliability` runs, as a list of row sources (`ROWS`), and what each contributes (`Entry`).

A source is a function that takes the run's `Context` (the started lab, the example count, the `--only`
filter) and yields one `Entry` per property, scenario or measurement it ran. An entry's `component` names
the table row it adds to: a component no row has yet adds a row (after the known ones, in the order first
seen). To add rows, e.g. for the service alarms or the scanners: write a source that measures (never types
in a number) and yields entries, and append it to `ROWS`; put `broken` checks in the entry when something
is wrong (the run's exit status is then 1) and any headline figures in `figures` (printed under the table).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

# The order of the table's rows; a component not listed here follows them in the order first seen.
KNOWN_ROWS = (
    "chatbot",
    "chatbot under load",
    "launchdarkly",
    "perf",
    "flashback",
    "cloudwatch writer",
    "checkpoints",
    "collector settings",
    "report settings",
    "service alarms",
    "scanners",
)
LOAD_REQUESTS = LOAD_CONTAINERS = 200


@dataclass
class Entry:
    component: str  # the table row it adds to
    name: str
    inputs: int = 0
    faults: int = 0
    crashes: int = 0
    lost: int = 0
    double: int = 0  # beyond the documented bound
    bounded: int = 0  # repeats the documented bound allows
    broken: int = 0  # rules broken (property examples) or checks failed (scenarios); said in `detail`
    detail: str = ""  # its line in the Detail section
    figures: list[str] = field(default_factory=list)  # headline lines printed under the table

    @property
    def failed(self) -> bool:
        return bool(self.crashes or self.lost or self.double or self.broken)


@dataclass
class Context:
    lab: Any  # tests.reliability.lab.Lab, started
    examples: int  # generated inputs per property (a property may cap it: `Property.max_examples`)
    only: str = ""

    def wants(self, *names: str) -> bool:
        return not self.only or any(self.only in name for name in names)


def progress(text: str) -> None:
    print(text, file=sys.__stderr__, flush=True)


def _property_entry(context: Context, prop: Any, component: str | None = None) -> Entry:
    from tests.reliability.properties import run_property

    examples = min(context.examples, prop.max_examples or context.examples)
    progress(f"property  {prop.component}: {prop.name} ({examples} examples)")
    result = run_property(prop, examples)
    labels = ", ".join(f"{k} {v}" for k, v in sorted((result.labels or {}).items()))
    detail = (
        f"  property  {prop.component:20} {prop.name:48} inputs {result.inputs:5}  crashes "
        f"{result.crashes}  broken rules {result.broken}  ({labels})"
    )
    if result.first_failure:
        detail += f"\n            first failure: {result.first_failure}"
    return Entry(component or prop.component, prop.name, inputs=result.inputs, crashes=result.crashes,
                 broken=result.broken, detail=detail)  # fmt: skip


def chat_properties(context: Context) -> Iterator[Entry]:
    """The chat handler's properties (in-memory model and cache), then the callers' limits on moto."""
    from tests.reliability.properties import chat_harness, chat_properties
    from tests.reliability.properties.limits import limits_harness, limits_property

    with chat_harness():
        props = chat_properties()
    for prop in props:
        if context.wants(f"{prop.component} {prop.name}"):
            with chat_harness():
                yield _property_entry(context, prop)
    prop = limits_property()
    if context.wants(f"{prop.component} {prop.name}"):
        with limits_harness(context.lab):
            yield _property_entry(context, prop)


def vendor_payload_properties(context: Context) -> Iterator[Entry]:
    from tests.reliability.properties import collector_properties

    for prop in collector_properties():
        if context.wants(f"{prop.component} {prop.name}"):
            yield _property_entry(context, prop)


def configuration_properties(context: Context) -> Iterator[Entry]:
    """Every environment variable of the three collectors and every option of the report, fuzzed."""
    from tests.reliability.properties.collector_config import collector_config_properties, config_harness
    from tests.reliability.properties.report_config import report_harness, report_property

    props = [p for p in collector_config_properties() if context.wants(f"{p.component} {p.name}")]
    if props:
        with config_harness(context.lab):
            for prop in props:
                yield _property_entry(context, prop, "collector settings")
    prop = report_property()
    if context.wants(f"{prop.component} {prop.name}"):
        with report_harness(context.lab):
            yield _property_entry(context, prop)


def fault_matrix(context: Context) -> Iterator[Entry]:
    from tests.reliability.scenarios import SCENARIOS

    for name, scenario in SCENARIOS.items():
        if not context.wants(name):
            continue
        progress(f"scenario  {name}")
        outcome = scenario(context.lab)
        yield _outcome_entry(outcome)


def _outcome_entry(outcome: Any, figures: list[str] | None = None) -> Entry:
    bound = f" (bound {outcome.bound})" if outcome.bound else ""
    verdict = "ok" if outcome.ok else "FAILED"
    detail = (
        f"  {verdict:6}    {outcome.component:20} {outcome.name:52} runs/requests {outcome.inputs:3}"
        f"  lost {outcome.lost}  double {outcome.double}{bound}"
    )
    detail += "".join(f"\n            check failed: {check}" for check in outcome.checks)
    return Entry(
        outcome.component,
        outcome.name,
        inputs=outcome.inputs,
        faults=outcome.faults,
        crashes=outcome.crashes,
        lost=outcome.lost,
        double=max(0, outcome.double - outcome.bound),
        bounded=min(outcome.double, outcome.bound),
        broken=len(outcome.checks),
        detail=detail,
        figures=figures or [],
    )


def chat_load(context: Context) -> Iterator[Entry]:
    """200 requests of four callers from 200 containers at once, against bare converse_stream."""
    from tests.reliability.load import chat_load as run_load

    if not context.wants("chatbot under load"):
        return
    progress(f"load      chatbot: {LOAD_REQUESTS} requests from {LOAD_CONTAINERS} containers at once")
    report = run_load(context.lab, LOAD_REQUESTS, LOAD_CONTAINERS)
    heading = "Load (chatbot under load, tests/reliability/load):"
    yield _outcome_entry(report.outcome, [heading, *(f"  {line}" for line in report.lines())])


def service_alarms(context: Context) -> Iterator[Entry]:
    """Failures before our code runs, replayed against the template's alarms (reliability_platform)."""
    from offline.reliability_platform import service_alarms as run_service_alarms

    yield from run_service_alarms(context)


def scanners(context: Context) -> Iterator[Entry]:
    """checkov on the default template and bandit on lambdas/ and infra/ (offline/reliability_platform)."""
    from offline.reliability_platform import scanners as run_scanners

    yield from run_scanners(context)


# Run in this order; each yields entries for one or more rows (see the module docstring to add one).
ROWS: list[Callable[[Context], Iterator[Entry]]] = [
    chat_properties,
    vendor_payload_properties,
    configuration_properties,
    fault_matrix,
    chat_load,
    service_alarms,
    scanners,
]
