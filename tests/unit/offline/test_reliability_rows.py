"""`make reliability`'s table is built from row sources (`offline/reliability_rows.py`): a source yields
entries, a new component adds a row, and anything broken makes the run fail."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from offline import reliability, reliability_rows
from offline.reliability_rows import Context, Entry


def _alarms(context: Context) -> Iterator[Entry]:
    yield Entry("dead-letter queue", "5xx rate alarm fires", inputs=3, faults=1, detail="  alarms ok",
                figures=["Alarms: 1 fired of 1"])  # fmt: skip


def _broken(context: Context) -> Iterator[Entry]:
    yield Entry("scanners", "checkov", inputs=1, broken=2, detail="  2 failed checks")


def test_given_a_source_with_a_new_component_then_the_table_gains_its_row_after_the_known_ones() -> None:
    row = reliability.Row()
    row.add(Entry("dead-letter queue", "x", inputs=3, faults=1))
    lines = reliability.table({"dead-letter queue": row, "chatbot": reliability.Row()})
    names = [line.split("|")[1].strip() for line in lines[2:]]
    assert names == [*reliability_rows.KNOWN_ROWS, "dead-letter queue", "total"]
    assert lines[-2].split("|")[2].strip() == "3"


def test_given_registered_sources_when_make_reliability_runs_then_rows_figures_and_exit_status(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(reliability_rows, "ROWS", [_alarms])
    assert reliability.main([]) == 0
    out = capsys.readouterr().out
    assert "| dead-letter queue " in out and "Alarms: 1 fired of 1" in out and "  alarms ok" in out

    monkeypatch.setattr(reliability_rows, "ROWS", [_alarms, _broken])
    assert reliability.main([]) == 1
    assert "| scanners " in capsys.readouterr().out
