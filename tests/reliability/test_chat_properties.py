"""Property-based: whatever arrives and whatever the model and cache do, the chat handler answers
well-formed JSON with a contract status and never crashes.

The real handler, resolver, validation, service and EMF publisher run; the cache and Bedrock are
in-memory fakes (speed: 1000 examples per property), counting model calls and published records so an
invalid request provably never reaches the model nor the metrics, and every request that does gets
exactly one valid EMF document. An answer of `internal_error` (the handler's last-resort catch) fails
the property too: it means an exception escaped the domain code. Targets live in `properties/`
(shared with `make reliability`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from tests.reliability.properties import (
    ChatHarness,
    _events,
    _model_behaviours,
    _near_valid_bodies,
    _raw_bodies,
    chat_harness,
    check_chat_body,
    check_chat_event,
    check_chat_model,
    check_chat_raw,
)

EXAMPLES = settings(  # the example count is the profile's (tests/conftest.py)
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def harness() -> Iterator[ChatHarness]:
    with chat_harness() as installed:
        yield installed


@EXAMPLES
@given(body=_near_valid_bodies())
def test_given_any_near_valid_body_when_chatting_then_model_called_iff_valid(
    harness: ChatHarness, body: dict[str, Any]
) -> None:
    check_chat_body(body)


@EXAMPLES
@given(payload=_raw_bodies())
def test_given_any_raw_body_when_chatting_then_json_answer_and_no_model_call_unless_valid(
    harness: ChatHarness, payload: tuple[str, bool]
) -> None:
    check_chat_raw(payload)


@EXAMPLES
@given(payload=_events())
def test_given_any_event_when_invoked_then_never_raises(harness: ChatHarness, payload: Any) -> None:
    check_chat_event(payload)


@EXAMPLES
@given(behaviour=_model_behaviours())
def test_given_any_model_and_cache_behaviour_when_chatting_then_contract_status_one_emf_and_no_bad_cache(
    harness: ChatHarness, behaviour: dict[str, Any]
) -> None:
    check_chat_model(behaviour)
