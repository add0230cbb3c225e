"""The catalogue's units (which the stack's alarms, dashboards and every publisher use) against the
contract's own words: the unit column of its `Metrics` tables, read literally, not the catalogue's
values."""

from __future__ import annotations

import re

import pytest

from shared import metric_catalogue as mc
from tests.infra.conftest import ROOT

CONTRACT = ROOT.parent / "shared" / "spec" / "contract.md"
UNITS = {"Count", "None", "Milliseconds", "Seconds", "Percent", "Bytes"}


def _metrics_section() -> str:
    if not CONTRACT.exists():
        pytest.skip(f"the product contract is not beside the repo ({CONTRACT}); nothing to compare with")
    text = CONTRACT.read_text()
    start = text.index("\n## Metrics\n")
    return text[start : text.index("\n## ", start + 1)]


def _rows(section: str, heading: str) -> list[list[str]]:
    """The body rows of the first table after `heading`, as stripped cells."""
    lines = section[section.index(heading) :].splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("|"))
    table = []
    for line in lines[first + 2 :]:  # past the header and its |---| line
        if not line.startswith("|"):
            break
        table.append([cell.strip() for cell in line.strip("|").split("|")])
    return table


def contract_units() -> dict[tuple[str, str], str]:
    """(namespace, metric) -> unit, as the contract writes them."""
    section = _metrics_section()
    units: dict[tuple[str, str], str] = {}
    # `AIGateway/TokenUsage`: | metric[, metric] | unit | ...  ("None (USD)" is the unit None)
    for cells in _rows(section, "### `AIGateway/TokenUsage`"):
        unit = cells[1].split()[0]
        for name in cells[0].split(","):
            units[(mc.NS_TOKEN_USAGE, name.strip())] = unit
    # Collectors: "A, B, C (Count); D, E (None, USD); ..." in the metrics cell of each namespace row.
    for cells in _rows(section, "### Collectors"):
        namespace = cells[0].strip("`")
        for names, unit in re.findall(r"([A-Z][\w, ]*?)\s*\((\w+)[^)]*\)", cells[2]):
            if unit not in UNITS:
                continue
            for name in names.split(","):
                units[(namespace, name.strip())] = unit
    return units


def test_given_the_contract_when_parsed_then_its_tables_give_every_chatbot_and_vendor_metric_a_unit() -> None:
    units = contract_units()

    assert units[(mc.NS_TOKEN_USAGE, "ResponseLatency")] == "Milliseconds"
    assert units[(mc.NS_TOKEN_USAGE, "CacheWriteInputTokens")] == "Count"
    assert units[(mc.NS_TOKEN_USAGE, "EstimatedCost")] == "None"
    assert units[(mc.NS_LAUNCHDARKLY, "OutputCost")] == "None"
    assert units[(mc.NS_LAUNCHDARKLY, "TimeToFirstTokenMs")] == "Milliseconds"
    assert units[(mc.NS_FLASHBACK, "Blocks")] == "Count"
    per_namespace = {ns: len([key for key in units if key[0] == ns]) for ns, _ in units}
    # 10 rows' metrics (CacheErrors, which the catalogue adds, is not in the contract's table), 12 AI
    # Config fields, 8 Flashback counters: the parser read every table row.
    assert per_namespace == {mc.NS_TOKEN_USAGE: 10, mc.NS_LAUNCHDARKLY: 12, mc.NS_FLASHBACK: 8}


def test_given_the_catalogue_when_compared_with_the_contract_then_every_unit_is_the_contracts() -> None:
    wrong = {
        f"{namespace}/{name}": (mc.metric_by_name(namespace, name).unit.value, unit)
        for (namespace, name), unit in contract_units().items()
        if mc.metric_by_name(namespace, name).unit.value != unit
    }

    assert wrong == {}, "catalogue unit vs contract unit"
