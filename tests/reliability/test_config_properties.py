"""Property-based: the collectors' environment and the report's options, fuzzed. A broken setting gives a
clear error naming it, never a traceback, and (collectors) nothing published, no checkpoint written, no
vendor called. Targets: `properties/collector_config.py`, `properties/report_config.py` (shared with
`make reliability`, which runs more examples)."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings

from offline.environment import LAMBDAS
from tests.reliability.lab import Lab
from tests.reliability.properties.collector_config import (
    ConfigHarness,
    collector_config_properties,
    config_harness,
)
from tests.reliability.properties.collector_env import COMMON, VENDOR
from tests.reliability.properties.core import Property
from tests.reliability.properties.report_config import report_harness, report_property

EXAMPLES = 60  # each example is a real invocation on moto: make reliability runs more
COLLECTORS = {p.component: p for p in collector_config_properties()}


def test_given_the_collectors_code_then_the_oracle_lists_every_variable_it_reads() -> None:
    """A variable added to a collector without a rule here would never be fuzzed."""
    variable = re.compile(r"(LAUNCHDARKLY|PERF|FLASHBACK|COLLECTOR|CHECKPOINT|POWERTOOLS)_[A-Z0-9_]+")
    sources = [*(LAMBDAS / "collectors").rglob("*.py"), LAMBDAS / "shared" / "env.py"]
    read = {
        node.value
        for path in sources
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and variable.fullmatch(node.value)
    }
    listed = {s.name for s in COMMON} | {s.name for settings in VENDOR.values() for s in settings}
    assert read == listed


@pytest.fixture
def harness(lab: Lab) -> Iterator[ConfigHarness]:
    with config_harness(lab) as installed:
        yield installed


@pytest.mark.parametrize("name", list(COLLECTORS))
def test_given_any_collector_environment_when_a_run_starts_then_it_runs_or_fails_naming_the_setting(
    harness: ConfigHarness, name: str
) -> None:
    prop: Property = COLLECTORS[name]

    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(prop.strategy)
    def check(example: object) -> None:
        prop.check(example)

    check()


def test_given_any_report_command_line_then_a_report_a_usage_error_naming_the_option_or_a_clear_failure(
    lab: Lab,
) -> None:
    prop = report_property()

    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(prop.strategy)
    def check(example: object) -> None:
        prop.check(example)

    with report_harness(lab):
        check()
