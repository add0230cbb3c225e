"""Property-based: whatever sequence of live answers, model failures and cache hits several callers make,
the usage table holds exactly what their answers cost, no reservation is left behind, a request is
refused exactly when its worst case would not fit, and no limit is ever passed while the model reports
an input within the estimate.

The target (`properties/limits.py`, shared with `make reliability`) runs the real handler, service, meter
and usage store against moto's DynamoDB and the loopback Bedrock in one case of the reliability lab;
its oracle keeps its own ledger per caller, written from the contract.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from tests.reliability.lab import Lab
from tests.reliability.properties.limits import LimitsHarness, check_limits, limit_steps, limits_harness


@pytest.fixture
def metered_chat(lab: Lab) -> Iterator[LimitsHarness]:
    with limits_harness(lab) as harness:
        yield harness


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(sequence=limit_steps())
def test_given_any_sequence_of_answers_failures_and_cache_hits_then_usage_is_exact_and_no_limit_passed(
    metered_chat: LimitsHarness, sequence: list[dict[str, Any]]
) -> None:
    check_limits(sequence)
