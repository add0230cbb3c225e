"""Property-based: whatever a vendor answers, each collector's parsing gives a clear error or a counted
skip, never a crash, and never a NaN, an infinity or anything else CloudWatch would refuse to publish.

Targets (`properties/`): LaunchDarkly AI Config metrics and usage `SeriesListRep` bodies, each of
Perf's six endpoints (the seed payload with values replaced at any depth, or anything at all), Flashback
`/ai/llm/stats` bodies with any previous totals. Every body goes through the real HttpClient decoding,
the collector's parser and the writer's validation; the profile's examples per target
(tests/conftest.py: 200, `deep` 1,000).
"""

from __future__ import annotations

import pytest
from hypothesis import given

from tests.reliability.properties import Property, collector_properties

PROPERTIES = {f"{p.component}: {p.name}": p for p in collector_properties()}


@pytest.mark.parametrize("name", list(PROPERTIES))
def test_given_any_vendor_payload_when_parsed_then_a_clear_error_or_only_publishable_datapoints(
    name: str,
) -> None:
    prop: Property = PROPERTIES[name]

    @given(prop.strategy)
    def check(example: object) -> None:
        prop.check(example)

    check()
