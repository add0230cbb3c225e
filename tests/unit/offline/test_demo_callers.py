"""The demo's callers: several IAM users and assumed-role sessions sign the replayed traffic, the runaway
agent loop is one session, and the demo's limits are ones that session reaches."""

from __future__ import annotations

from collections import Counter

import pytest

from chatbot.caller_limits import valid_caller
from chatbot.events import HttpApiEvent
from infra.config import load_config
from offline import demo_callers as callers
from offline.demo_collectors import demo_context
from offline.traffic import SPIKE_REQUESTS, build_plan, chat_event

PAYLOAD_2_IAM_FIELDS = {
    "accessKey",
    "accountId",
    "callerId",
    "cognitoIdentity",
    "principalOrgId",
    "userArn",
    "userId",
}


def test_given_the_demo_plan_when_built_then_users_and_sessions_ask_and_the_loop_is_one_session() -> None:
    plan = build_plan(spike=True)
    spike = [r for r in plan.requests if r.behavior and r.behavior.input_tokens == 45_000]
    everyday = [r for r in plan.requests if r not in spike]

    assert len(spike) == SPIKE_REQUESTS
    assert {r.caller for r in spike} == {callers.RUNAWAY}
    assert callers.RUNAWAY.session == "nightly-refactor-loop"
    senders = Counter(r.caller for r in everyday)
    assert set(senders) == {caller for caller, _ in callers.EVERYDAY}
    assert any(":user/" in c.arn for c in senders) and any(":assumed-role/" in c.arn for c in senders)
    assert callers.RUNAWAY not in senders


def test_given_the_callers_when_seeded_then_the_plans_bodies_and_times_do_not_depend_on_them() -> None:
    """Callers come from their own random stream: the traffic the demo always sent is unchanged."""
    plan = build_plan(spike=True)
    again = build_plan(spike=True)

    assert [(r.body, r.offset_s, r.caller) for r in plan.requests] == [
        (r.body, r.offset_s, r.caller) for r in again.requests
    ]
    assert callers.everyday_callers(5, seed=7) != callers.everyday_callers(5, seed=8)


@pytest.mark.parametrize("caller", callers.CALLERS, ids=lambda c: c.arn.rsplit(":", 1)[1])
def test_given_a_demo_caller_when_its_event_is_built_then_it_has_payload_2_iam_context_the_chatbot_accepts(
    caller: callers.Caller,
) -> None:
    event = chat_event({"message": "hi"}, 1_796_000_000_000, caller)

    iam = event["requestContext"]["authorizer"]["iam"]
    assert set(iam) == PAYLOAD_2_IAM_FIELDS
    assert iam["userArn"] == caller.arn and iam["accountId"] == callers.ACCOUNT
    assert HttpApiEvent.model_validate(event).requestContext.authorizer.iam.userArn == caller.arn  # type: ignore[union-attr]
    assert valid_caller(caller.arn)  # the ARN shape CALLER_LIMITS accepts for a per-caller entry
    if caller.session:
        assert iam["callerId"] == iam["userId"] == f"{caller.unique_id}:{caller.session}"
        assert caller.unique_id.startswith("AROA") and iam["accessKey"].startswith("ASIA")
    else:
        assert iam["callerId"] == iam["userId"] == caller.unique_id
        assert caller.unique_id.startswith("AIDA") and iam["accessKey"].startswith("AKIA")


def test_given_the_demo_limits_when_synthesized_then_only_the_runaway_session_has_its_own_day_cap() -> None:
    context = demo_context()
    config = load_config(callers.with_demo_limits(context)["aigateway"])
    limits = config.chatbot.caller_limits

    assert dict(limits.for_caller(callers.RUNAWAY.arn).values) == {"day_tokens": 1_000_000, "day_usd": 10.0}
    assert dict(limits.for_caller(callers.ALICE.arn).values) == {"day_tokens": 2_000_000, "day_usd": 10.0}
    assert "chatbot" not in context["aigateway"]  # the vendor context it extends is left as it was
    assert config.collectors.flashback.llm_ids  # and kept


def test_given_the_loops_charges_when_added_up_then_it_passes_80_percent_then_its_cap_before_it_stops() -> (
    None
):
    """The story needs the loop to reach its limit: the alarm's 80% first, then 429s for what is left."""
    spike = [r for r in build_plan(spike=True).requests if r.caller is callers.RUNAWAY]
    charges = [r.behavior.input_tokens + r.behavior.output_tokens for r in spike if r.behavior]  # type: ignore[operator]
    running = [sum(charges[: index + 1]) for index in range(len(charges))]

    approaching = next(i for i, used in enumerate(running) if used >= 0.8 * callers.RUNAWAY_DAY_TOKENS)
    capped = next(i for i, used in enumerate(running) if used >= callers.RUNAWAY_DAY_TOKENS)
    assert approaching < capped < len(spike) - 10  # a good part of the loop is left to refuse
    everyday = sum(
        (r.behavior.input_tokens or 0) + (r.behavior.output_tokens or 0)
        for r in build_plan(spike=True).requests
        if r.caller is not callers.RUNAWAY and r.behavior
    )
    assert everyday < 0.1 * 2_000_000  # nobody else comes near the default day cap
