"""The caller comes from the verified request context only, never from what the client sends."""

from __future__ import annotations

from typing import Any

import pytest

from chatbot.callers import caller_of
from shared.metric_catalogue import ANONYMOUS_CALLER
from tests.support import http_api_event

ALICE = "arn:aws:iam::123456789012:user/alice"
SESSION = "arn:aws:sts::123456789012:assumed-role/agents/run-42"


def test_given_signed_event_when_attributed_then_the_user_arn() -> None:
    assert caller_of(http_api_event({"message": "hi"}, caller=ALICE)) == ALICE


def test_given_assumed_role_session_when_attributed_then_each_session_its_own_caller() -> None:
    assert caller_of(http_api_event({"message": "hi"}, caller=SESSION)) == SESSION


def test_given_no_authorizer_when_attributed_then_anonymous() -> None:
    assert caller_of(http_api_event({"message": "hi"})) == ANONYMOUS_CALLER


def test_given_caller_claims_in_headers_and_body_when_attributed_then_ignored() -> None:
    event = http_api_event({"message": "hi", "caller": ALICE, "userArn": ALICE})
    event["headers"].update({"x-caller": ALICE, "x-amzn-user-arn": ALICE, "authorization": ALICE})
    assert caller_of(event) == ANONYMOUS_CALLER


@pytest.mark.parametrize(
    "event",
    [
        None,
        [],
        {"requestContext": None},
        {"requestContext": {"authorizer": "iam"}},
        {"requestContext": {"authorizer": {"iam": None}}},
        {"requestContext": {"authorizer": {"iam": {"userArn": None}}}},
        {"requestContext": {"authorizer": {"iam": {"userArn": 42}}}},
        {"requestContext": {"authorizer": {"iam": {"userArn": "  "}}}},
        {"requestContext": {"authorizer": {"iam": {"userArn": "x" * 2049}}}},
    ],
)
def test_given_malformed_context_when_attributed_then_anonymous(event: Any) -> None:
    assert caller_of(event) == ANONYMOUS_CALLER
