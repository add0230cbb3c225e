"""Every metric and namespace name is spelled once, in the catalogue (`shared.metric_catalogue`).

The Lambdas, the CDK app, the commands, the offline run and the benchmark name a metric through its
`MetricDef` (`mc.TOTAL_TOKENS.name`) and a namespace through its constant (`mc.NS_PERF`), so renaming
one is one edit and a typo cannot create a second metric. Docstrings may mention names; code may not
spell them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from shared import metric_catalogue as mc
from tests.unit.layout.sources import REPO, python_files, string_constants

CHECKED = ("lambdas", "infra", "tools", "offline", "bench")
CATALOGUE = Path("lambdas", "shared", "metric_catalogue")
# The AWS services' own namespaces and metric names count too, once the product names them
# (`shared.metric_catalogue.services`): an alarm or a stand-in spells them through the catalogue as well.
# API Gateway's `Count` is also CloudWatch's unit and Contributor Insights' AggregateOn value: a word,
# not only a metric name, so it is not looked for.
AMBIGUOUS = frozenset({mc.API_COUNT.name})
NAMESPACES = frozenset({mc.NS_TOKEN_USAGE, *mc.COLLECTOR_NAMESPACES, *mc.SERVICE_NAMESPACES, mc.NS_BEDROCK})
METRIC_NAMES = frozenset(
    {metric.name for metric in (*mc.all_metrics(), *mc.collector_metrics())}
    | {metric.name for metric in mc.service_metrics()} - AMBIGUOUS
    | {mc.ld_usage_metric(path).name for path in mc.LD_USAGE_SERIES}
)


def spelled_names(*directories: str, root: Path = REPO) -> list[str]:
    """`path:line 'value'` of each string constant outside the catalogue that is a metric or namespace
    name, or holds a namespace (a title such as "Perf (AIGateway/Perf)")."""
    found = []
    for path in python_files(*directories, root=root):
        relative = path.relative_to(root)
        if relative.is_relative_to(CATALOGUE):
            continue
        for line, value in string_constants(path):
            if value in METRIC_NAMES or any(namespace in value for namespace in NAMESPACES):
                found.append(f"{relative.as_posix()}:{line} {value!r}")
    return found


def test_given_names_spelled_outside_the_catalogue_when_scanned_then_each_is_reported(tmp_path: Path) -> None:
    module = tmp_path / "tools" / "spelled.py"
    module.parent.mkdir()
    module.write_text(
        '"""Reads AIGateway/Perf and CollectorRuns (a docstring may name them)."""\n'
        'RUNS = "CollectorRuns"\n'
        'TITLE = f"Perf (AIGateway/Perf) at {RUNS}"\n'
        'PROSE = "collector runs"\n'
        'ERRORS = {"Namespace": "AWS/Lambda", "MetricName": "Errors"}\n'
    )
    catalogue = tmp_path / CATALOGUE / "core.py"
    catalogue.parent.mkdir(parents=True)
    catalogue.write_text('NS_PERF = "AIGateway/Perf"\n')

    assert spelled_names("tools", "lambdas", root=tmp_path) == [
        "tools/spelled.py:2 'CollectorRuns'",
        "tools/spelled.py:3 'Perf (AIGateway/Perf) at '",
        "tools/spelled.py:5 'AWS/Lambda'",
        "tools/spelled.py:5 'Errors'",
    ]


@pytest.mark.parametrize("directory", CHECKED)
def test_given_the_code_when_scanned_then_no_metric_or_namespace_name_is_spelled_outside_the_catalogue(
    directory: str,
) -> None:
    assert spelled_names(directory) == []
