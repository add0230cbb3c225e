"""CALLER_LIMITS: the document's shape, the merge of default and caller entries, and errors naming the key."""

from __future__ import annotations

import pytest

from chatbot.caller_limits import (
    CallerLimitsError,
    caller_limits_from_env,
    parse_caller_limits,
    valid_caller,
)

ALICE = "arn:aws:iam::123456789012:user/alice"
AGENT = "arn:aws:sts::123456789012:assumed-role/agent-runner/session-7"


def test_given_empty_or_unset_when_parsed_then_no_limits_for_anyone() -> None:
    for raw in (None, "", "  "):
        assert not caller_limits_from_env(raw).for_caller(ALICE)


def test_given_default_and_caller_entry_when_merged_then_the_entry_replaces_key_by_key() -> None:
    limits = parse_caller_limits(
        {
            "default": {"day_tokens": 2_000_000, "day_usd": 20},
            "callers": {AGENT: {"day_usd": None, "hour_tokens": 50_000}},
        }
    )
    agent = limits.for_caller(AGENT)
    assert dict(agent.values) == {"day_tokens": 2_000_000, "hour_tokens": 50_000}
    assert agent.get("day", "usd") is None
    assert dict(limits.for_caller(ALICE).values) == {"day_tokens": 2_000_000, "day_usd": 20.0}


@pytest.mark.parametrize(
    ("document", "key"),
    [
        ({"default": {"week_tokens": 5}}, "CALLER_LIMITS.default.week_tokens"),
        ({"default": {"day_tokens": -1}}, "CALLER_LIMITS.default.day_tokens"),
        ({"default": {"day_tokens": 0}}, "CALLER_LIMITS.default.day_tokens"),
        ({"default": {"day_tokens": 1.5}}, "CALLER_LIMITS.default.day_tokens"),
        ({"default": {"day_usd": "20"}}, "CALLER_LIMITS.default.day_usd"),
        ({"default": {"day_usd": True}}, "CALLER_LIMITS.default.day_usd"),
        ({"callers": {"alice": {"day_usd": 1}}}, "CALLER_LIMITS.callers.alice"),
        ({"callers": {ALICE: {"day_usd": -2}}}, f"CALLER_LIMITS.callers.{ALICE}.day_usd"),
        ({"callers": [ALICE]}, "CALLER_LIMITS.callers"),
        ({"callers": []}, "CALLER_LIMITS.callers"),
        ({"default": []}, "CALLER_LIMITS.default"),
        ({"defaults": {}}, "CALLER_LIMITS.defaults"),
        ([], "CALLER_LIMITS"),
    ],
)
def test_given_a_malformed_document_when_parsed_then_the_error_names_the_key(
    document: object, key: str
) -> None:
    with pytest.raises(CallerLimitsError) as caught:
        parse_caller_limits(document)
    assert caught.value.key == key
    assert str(caught.value).startswith(f"{key}: ")


def test_given_invalid_json_in_the_environment_when_parsed_then_the_error_names_the_variable() -> None:
    with pytest.raises(CallerLimitsError) as caught:
        caller_limits_from_env("{not json")
    assert caught.value.key == "CALLER_LIMITS"


@pytest.mark.parametrize(
    ("caller", "valid"),
    [
        (ALICE, True),
        (AGENT, True),
        ("arn:aws:iam::123456789012:root", True),
        ("arn:aws:sts::123456789012:federated-user/bob", True),
        ("anonymous", True),
        ("arn:aws-cn:iam::123456789012:user/alice", False),
        ("arn:aws:iam::12345:user/alice", False),
        ("arn:aws:iam::123456789012:role/agent-runner", False),
        ("alice", False),
    ],
)
def test_given_a_caller_key_when_checked_then_only_signing_principals_are_callers(
    caller: str, valid: bool
) -> None:
    assert valid_caller(caller) is valid
