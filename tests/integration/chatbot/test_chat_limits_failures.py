"""Callers through the real handler when things fail: malformed limits, the usage table missing or
unreachable (both fail modes), a killed request's hold, and the overshoot bound."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from chatbot import metering
from chatbot.usage_store import holds
from shared import metric_catalogue as mc
from shared.aws_clients import reset_clients
from tests.fakes.bedrock_server import FakeBedrock
from tests.integration.chatbot.limits_support import (
    ALICE,
    ESTIMATE,
    HOUR,
    MESSAGE,
    NOW,
    Metered,
    answers,
    call,
    emf_of,
)
from tests.support import FakeLambdaContext


def test_given_malformed_caller_limits_when_asking_then_500_naming_the_key_and_counted(
    metered: Callable[..., Metered], stack: FakeBedrock, capsys: pytest.CaptureFixture[str]
) -> None:
    metered('{"default": {"day_usd": -3}}')
    status, body, _ = call({"message": MESSAGE})
    assert (status, body["error"]) == (500, "configuration_error")
    assert body["message"].startswith("CALLER_LIMITS.default.day_usd: must be positive")
    assert stack.calls == []
    (doc,) = emf_of(capsys)
    assert doc[mc.LIMIT_CHECK_ERRORS.name] == [1] and "ModelErrors" not in doc
    assert doc[mc.PROP_CALLER] == ALICE


def test_given_limits_but_no_usage_table_when_asking_then_500_naming_the_variable(
    metered: Callable[..., Metered], stack: FakeBedrock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("USAGE_TABLE_NAME")
    metered({"default": {"day_usd": 1}})
    status, body, _ = call({"message": MESSAGE})
    assert (status, body["error"]) == (500, "configuration_error")
    assert body["message"].startswith("USAGE_TABLE_NAME")


@pytest.mark.parametrize("mode", ["open", "closed"])
def test_given_usage_table_missing_when_asking_then_fail_mode_decides(
    metered: Callable[..., Metered], stack: FakeBedrock, capsys: pytest.CaptureFixture[str], mode: str
) -> None:
    metered({"default": {"day_tokens": 10_000}}, USAGE_TABLE_NAME="no-such-table", LIMITS_FAIL_MODE=mode)
    status, body, _ = call({"message": MESSAGE, "use_cache": False})
    (doc,) = emf_of(capsys)
    assert doc[mc.LIMIT_CHECK_ERRORS.name] == [1], "counted once, however many steps failed"
    if mode == "open":
        assert status == 200 and "limits" not in body and len(stack.calls) == 1
        assert mc.CALLER_LIMIT_USAGE.name not in doc
    else:
        assert (status, body["error"]) == (503, "limits_unavailable")
        assert stack.calls == [] and "ModelErrors" not in doc


def test_given_dynamodb_unreachable_when_closed_then_503_and_the_model_never_called(
    metered: Callable[..., Metered], stack: FakeBedrock, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:9")  # nothing listens there
    reset_clients()
    metered({"default": {"day_tokens": 10_000}}, LIMITS_FAIL_MODE="closed")
    status, body, _ = call({"message": MESSAGE})
    assert (status, body["error"]) == (503, "limits_unavailable")
    assert stack.calls == []
    (refused,) = emf_of(capsys)
    assert (refused[mc.LIMIT_CHECK_ERRORS.name], refused["CacheErrors"]) == ([1], [1])
    assert "ModelErrors" not in refused


def test_given_usage_table_missing_when_closed_then_a_cached_answer_is_still_served_and_counted(
    metered: Callable[..., Metered], stack: FakeBedrock, capsys: pytest.CaptureFixture[str]
) -> None:
    metered({"default": {"day_tokens": 10_000}})
    assert call({"message": MESSAGE})[0] == 200  # answered and cached while the table is there
    metered({"default": {"day_tokens": 10_000}}, USAGE_TABLE_NAME="no-such-table", LIMITS_FAIL_MODE="closed")
    emf_of(capsys)
    status, body, _ = call({"message": MESSAGE})
    assert (status, body["cached"], "limits" in body) == (200, True, False)
    (served,) = emf_of(capsys)
    assert served[mc.LIMIT_CHECK_ERRORS.name] == [1] and mc.CALLER_LIMIT_USAGE.name not in served
    assert len(stack.calls) == 1


def test_given_killed_request_when_its_hold_expires_then_swept_and_the_caller_admitted_again(
    metered: Callable[..., Metered], stack: FakeBedrock, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = metered({"default": {"hour_tokens": ESTIMATE + 100}})
    answers(stack, output_tokens=100)
    with monkeypatch.context() as killed:  # the function dies after the model answered: no settle
        killed.setattr(metering.Tab, "settle", lambda self, *a, **k: None)
        assert call({"message": MESSAGE, "use_cache": False, "max_tokens": 100})[0] == 200
    (leaked,) = holds(state.item(HOUR.id)).values()
    assert leaked[1] == NOW + FakeLambdaContext().remaining_ms / 1000 + 60  # deadline + margin
    state.clock.now = leaked[1] - 1
    assert call({"message": MESSAGE, "use_cache": False, "max_tokens": 100})[0] == 429
    state.clock.now = leaked[1] + 1
    assert call({"message": MESSAGE, "use_cache": False, "max_tokens": 100})[0] == 200
    assert holds(state.item(HOUR.id)) == {}
    assert state.n(HOUR.id, "reserved_tokens") == state.n(HOUR.id, "charged_tokens") == ESTIMATE + 100


# --- the overshoot bound --------------------------------------------------------------------------------


def test_given_input_within_the_estimate_when_asking_until_refused_then_the_limit_is_never_passed(
    metered: Callable[..., Metered], stack: FakeBedrock
) -> None:
    limit = 1_000
    state = metered({"default": {"hour_tokens": limit}})
    answers(stack, output_tokens=60)  # worst case ESTIMATE + 100, actual ESTIMATE + 60
    answered = 0
    while call({"message": MESSAGE, "use_cache": False, "max_tokens": 100})[0] == 200:
        answered += 1
    assert state.n(HOUR.id, "charged_tokens") == answered * (ESTIMATE + 60) <= limit
    assert limit - state.n(HOUR.id, "charged_tokens") < ESTIMATE + 100, "refused only when it could not fit"


def test_given_input_above_the_estimate_when_asking_then_the_overshoot_is_at_most_that_excess(
    metered: Callable[..., Metered], stack: FakeBedrock
) -> None:
    limit, excess = 950, 30  # admitted while charged <= 950 - 110: the 7th answer ends at 7 * 140 = 980
    state = metered({"default": {"hour_tokens": limit}})
    answers(stack, output_tokens=100, input_tokens=ESTIMATE + excess)  # a tokenizer above the rule
    while call({"message": MESSAGE, "use_cache": False, "max_tokens": 100})[0] == 200:
        pass
    charged = state.n(HOUR.id, "charged_tokens")
    assert limit < charged <= limit + excess
    assert charged == 7 * (ESTIMATE + excess + 100)


# --- concurrency ------------------------------------------------------------------------------------------
