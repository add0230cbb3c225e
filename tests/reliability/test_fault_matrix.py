"""The fault matrix (`scenarios/`): every fault, every component, read back from CloudWatch.

Each case must end with no crash, no datapoint lost and none counted twice beyond the documented bound
(a run killed, or a commit lost, between publishing and committing), and with health metrics that say
what happened. The same scenarios feed `make reliability`'s table.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.reliability.lab import Lab
from tests.reliability.scenarios import SCENARIOS, Outcome


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_given_a_fault_when_the_system_recovers_then_nothing_is_lost_or_counted_twice(
    lab: Lab, name: str
) -> None:
    run: Callable[[Lab], Outcome] = SCENARIOS[name]

    outcome = run(lab)

    assert outcome.faults >= 1 and outcome.inputs >= 1, outcome.describe()
    assert outcome.crashes == 0, outcome.describe()
    assert outcome.lost == 0, outcome.describe()
    assert outcome.double <= outcome.bound, outcome.describe()
    assert outcome.checks == [], outcome.describe()
