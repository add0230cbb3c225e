"""Every AWS call a function makes is allowed by its role in the synthesized stack.

moto enforces no IAM: a function calling an operation its role lacks passes every offline test and is
denied in AWS (the LaunchDarkly collector's checkpoint BatchGetItem was). Each test drives one function
through a representative run against moto and the loopback fakes (the integration suites' fixtures),
records the calls its own clients make (tests.infra.iam_calls.CallRecorder, a botocore hook on the
session every product client is built from), and checks each call's IAM actions against that function's
role statements in the default stack's template (the session synth of tests/infra):
- the action, wildcards included (`dynamodb:Get*`); a transaction's items each by their own action;
- the resource: a table or secret the call named is found through the function's environment (the
  variable holding it at run time holds a Ref to its resource in the template) and the statement must list
  that resource's ARN (`${Table.Arn}`, a secret's `${Ref}`) or `*`; a model call's statement must list an
  ARN ending in the model id;
- the conditions the roles use: `cloudwatch:namespace` (StringEquals, the datum's namespace) and
  `dynamodb:LeadingKeys` (ForAllValues:StringEquals, the partition keys of every item the call touched);
  any other operator fails the test until it is taught.
Each run also asserts the operations it meant to exercise were made, so a run that silently does less
cannot pass for one that is covered.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from chatbot import chatbot_handler, metering
from chatbot.settings import get_settings
from collectors import flashback_collector, launchdarkly_collector, perf_collector
from shared import aws_clients
from tests.fakes.bedrock_server import THROTTLE, Behavior, FakeBedrock
from tests.fakes.flashback_server import FakeFlashback
from tests.fakes.launchdarkly_server import FakeLaunchDarkly
from tests.fakes.perf_server import FakePerf
from tests.fakes.vendor_data import FLASHBACK_SEED_ID
from tests.infra.conftest import Synth
from tests.infra.iam_calls import CallRecorder, RoleAccess, accesses, recording_session
from tests.integration import conftest as integration_fixtures
from tests.integration.chatbot.limits_support import (
    AGENT,
    ALICE,
    BOB,
    ESTIMATE,
    MESSAGE,
    SONNET,
    answers,
    call,
)
from tests.integration.collectors import conftest as collector_fixtures
from tests.integration.collectors.helpers import Context, scheduled_event

# The integration suites' fixtures (moto tables and secrets, the loopback vendors and Bedrock), reused here
# so that this module shares the session synth of tests/infra (one xdist unit) instead of synthesizing again.
cache_table = integration_fixtures.cache_table
stack = integration_fixtures.stack
usage_table = integration_fixtures.usage_table
collector_aws = collector_fixtures.collector_aws
clock = collector_fixtures.clock
ld_server, ld = collector_fixtures.ld_server, collector_fixtures.ld
perf_server, perf = collector_fixtures.perf_server, collector_fixtures.perf
flashback_server, flashback = collector_fixtures.flashback_server, collector_fixtures.flashback

CHATBOT_HANDLER = "chatbot/chatbot_handler.handler"


@pytest.fixture
def recorder(aws: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[CallRecorder]:
    """Records every call of the clients `shared.aws_clients` builds from here on (clients reset first)."""
    calls = CallRecorder()
    original = aws_clients._session.__wrapped__
    monkeypatch.setattr(aws_clients, "_session", recording_session(original, calls))
    aws_clients.reset_clients()
    yield calls
    aws_clients.reset_clients()


def assert_role_covers(
    synth: Synth, handler: str, recorder: CallRecorder, expected: set[tuple[str, str]]
) -> None:
    calls = recorder.take()
    made = {(c.service, c.operation) for c in calls}
    assert expected <= made, f"the run did not exercise {sorted(expected - made)} (made {sorted(made)})"
    role = RoleAccess(synth, handler)
    partition_keys = role.partition_keys()
    refusals = sorted({
        reason
        for c in calls
        for access in accesses(c, partition_keys)
        if (reason := role.refusal(access, c.service)) is not None
    })  # fmt: skip
    assert not refusals, f"{handler} ({role.function_id}) calls what its role does not allow:\n" + "\n".join(
        refusals
    )


# --- the chatbot -------------------------------------------------------------------------------------


def limits(monkeypatch: pytest.MonkeyPatch, document: dict[str, Any] | None) -> None:
    """CALLER_LIMITS for the next requests; the handler's settings and dependencies rebuilt from it."""
    monkeypatch.setenv("CALLER_LIMITS", json.dumps(document) if document is not None else "")
    get_settings.cache_clear()
    metering.parsed_caller_limits.cache_clear()
    chatbot_handler.dependencies.cache_clear()


def test_given_chatbot_answers_cache_hits_and_refusals_when_calls_are_checked_then_its_role_allows_each(
    default: Synth,
    recorder: CallRecorder,
    usage_table: Any,
    stack: FakeBedrock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    answers(stack, output_tokens=100)
    # No caller limits: a live answer (cache miss, model call, cache write), then the same from the cache.
    limits(monkeypatch, None)
    assert call({"message": MESSAGE, "max_tokens": 100}, caller=ALICE)[0] == 200
    assert call({"message": MESSAGE, "max_tokens": 100}, caller=ALICE)[1]["cached"] is True
    # Caller limits: metered answers, a refused caller, a cache hit under limits, a model failure released.
    limits(monkeypatch, {"default": {"day_tokens": ESTIMATE + 100}})
    assert call({"message": MESSAGE, "max_tokens": 100, "use_cache": False}, caller=AGENT)[0] == 200
    assert call({"message": MESSAGE, "max_tokens": 100, "use_cache": False}, caller=AGENT)[0] == 429
    assert call({"message": MESSAGE, "max_tokens": 100}, caller=ALICE)[1]["cached"] is True
    stack.set_default(SONNET, Behavior(kind=THROTTLE))
    assert call({"message": MESSAGE, "max_tokens": 100, "use_cache": False}, caller=BOB)[0] == 429

    assert_role_covers(default, CHATBOT_HANDLER, recorder, {
        ("bedrock-runtime", "ConverseStream"),
        ("dynamodb", "GetItem"),
        ("dynamodb", "PutItem"),
        ("dynamodb", "BatchGetItem"),
        ("dynamodb", "TransactWriteItems"),
    })  # fmt: skip


# --- the collectors ----------------------------------------------------------------------------------

COLLECTOR_CALLS = {
    ("secretsmanager", "GetSecretValue"),
    ("cloudwatch", "PutMetricData"),
    ("dynamodb", "UpdateItem"),
}


def twice(
    handler: Callable[..., dict[str, Any]],
    clock: Any,
    seconds: float,
    between: Callable[[], None] = lambda: None,
) -> None:
    """A first run (baselines, first checkpoints) and the next one after `seconds` (committed windows)."""
    handler(scheduled_event(), Context())
    between()
    clock.shift(seconds)
    handler(scheduled_event(), Context())


def test_given_launchdarkly_runs_with_ai_configs_and_usage_when_calls_are_checked_then_its_role_allows_each(
    default: Synth, recorder: CallRecorder, ld: FakeLaunchDarkly, clock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAUNCHDARKLY_USAGE_SERIES", "total-mau")
    monkeypatch.setenv("LAUNCHDARKLY_USAGE_LAG_SECONDS", "0")
    twice(launchdarkly_collector.handler, clock, 3600)
    assert_role_covers(default, "collectors/launchdarkly_collector.handler", recorder,
                       COLLECTOR_CALLS | {("dynamodb", "BatchGetItem")})  # fmt: skip


def test_given_perf_runs_when_its_calls_are_checked_then_its_role_allows_each(
    default: Synth, recorder: CallRecorder, perf: FakePerf, clock: Any
) -> None:
    twice(perf_collector.handler, clock, 86_400)
    assert_role_covers(
        default, "collectors/perf_collector.handler", recorder, COLLECTOR_CALLS | {("dynamodb", "GetItem")}
    )


def test_given_flashback_runs_when_its_calls_are_checked_then_its_role_allows_each(
    default: Synth, recorder: CallRecorder, flashback: FakeFlashback, clock: Any
) -> None:
    # The first run sets the baseline; the vendor's totals grow; the next run commits the increase.
    grow = lambda: flashback.advance(FLASHBACK_SEED_ID, totalApiCalls=100, totalBlocks=2)  # noqa: E731
    twice(flashback_collector.handler, clock, 60, between=grow)
    assert_role_covers(default, "collectors/flashback_collector.handler", recorder,
                       COLLECTOR_CALLS | {("dynamodb", "BatchGetItem"),
                                          ("dynamodb", "TransactWriteItems")})  # fmt: skip
