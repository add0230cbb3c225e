"""Property targets: what arbitrary input must never do, written once for the tests and `make reliability`.

A `Property` is a hypothesis strategy and a check. The check runs the product's own code on one example
and raises (AssertionError for a broken rule, anything else for a crash) or returns a label of what
happened ("published", "rejected", ...). The tests (`test_chat_properties.py`,
`test_collector_properties.py`) run each with the suite's hypothesis profile (200 examples;
`deep`: 1,000); the tool runs the same objects with `run_property`, counting instead of stopping.

Collectors: the vendor's body arrives as bytes through the real `HttpClient` (its JSON decoding and
error typing, on a stub connection pool), then the collector's parsing function, then the CloudWatch
writer's validation: what would be published is checked against CloudWatch's own rules (finite values
within +/-2^360, timestamps inside the 14-day / 2-hour window, at most 30 dimensions of printable ASCII
with a non-blank value, names 1..255 and values 1..1024 characters), written here independently of the
writer. Every field the body offers must end up published, dropped-and-counted or reported as invalid.
Layout: `wild_json.py` (the strategies), `publishable.py` (CloudWatch's rules and the real HttpClient),
one module per parser (`launchdarkly.py`, `perf.py`, `flashback.py`), the chat handler's in
`chat_doubles.py` (its in-memory model and cache) and `chat.py`, and `core.py` (`Property`,
`run_property`). The names below are those the tests and the tool import.
"""

from __future__ import annotations

import functools

from tests.reliability.properties.chat import (
    _events,
    _model_behaviours,
    _near_valid_bodies,
    _raw_bodies,
    chat_properties,
    check_chat_body,
    check_chat_event,
    check_chat_model,
    check_chat_raw,
    valid_body,
)
from tests.reliability.properties.chat_doubles import ChatHarness, chat_harness, chat_models, current
from tests.reliability.properties.core import Property, PropertyRun, run_property
from tests.reliability.properties.flashback import _fb_payloads, check_flashback
from tests.reliability.properties.launchdarkly import (
    _ld_ai_bodies,
    _ld_usage_bodies,
    check_ld_ai_config,
    check_ld_usage,
)
from tests.reliability.properties.perf import PERF_ENDPOINTS, _perf_bodies, check_perf
from tests.reliability.properties.publishable import cloudwatch_accepts, fetch, publishable
from tests.reliability.properties.wild_json import Raw, mutated, render, wild

__all__ = [
    "ChatHarness",
    "Property",
    "PropertyRun",
    "Raw",
    "_events",
    "_model_behaviours",
    "_near_valid_bodies",
    "_raw_bodies",
    "chat_harness",
    "chat_models",
    "chat_properties",
    "check_chat_body",
    "check_chat_event",
    "check_chat_model",
    "check_chat_raw",
    "check_flashback",
    "check_ld_ai_config",
    "check_ld_usage",
    "check_perf",
    "cloudwatch_accepts",
    "collector_properties",
    "current",
    "fetch",
    "mutated",
    "publishable",
    "render",
    "run_property",
    "valid_body",
    "wild",
]


def collector_properties() -> list[Property]:
    props = [
        Property("launchdarkly", "AI Config metrics bodies", _ld_ai_bodies(), check_ld_ai_config),
        Property("launchdarkly", "usage SeriesListRep bodies", _ld_usage_bodies(), check_ld_usage),
        Property("flashback", "stats bodies", _fb_payloads(), check_flashback),
    ]
    for endpoint in PERF_ENDPOINTS:
        props.append(
            Property(
                "perf",
                f"/v1/metrics/{endpoint} bodies",
                _perf_bodies(endpoint),
                functools.partial(check_perf, endpoint),
            )
        )
    return props
