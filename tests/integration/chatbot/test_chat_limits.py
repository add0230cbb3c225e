"""Callers through the real handler: attribution, metering, limits and fail modes, against moto's DynamoDB
(the usage table) and the loopback Bedrock, with HTTP API 2.0 events signed by IAM callers."""

from __future__ import annotations

import json
import math
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

import pytest

from chatbot import chatbot_handler, metering, service
from chatbot.request import ChatError, ChatRequest
from chatbot.settings import get_settings
from chatbot.tokens import estimate_tokens
from chatbot.usage_store import holds
from chatbot.windows import windows_at
from shared import metric_catalogue as mc
from shared.aws_clients import reset_clients
from tests.conftest import MODELS
from tests.fakes.aws_fault_proxy import AwsFaultProxy
from tests.fakes.bedrock_server import THROTTLE, Behavior, FakeBedrock
from tests.fakes.chat_fakes import ManualClock
from tests.reliability.lab import captured_output
from tests.support import USAGE_TABLE, FakeLambdaContext, emf_documents, http_api_event, validate_emf

SONNET = MODELS[0]
ALICE = "arn:aws:iam::123456789012:user/alice"
BOB = "arn:aws:iam::123456789012:user/bob"
AGENT = "arn:aws:sts::123456789012:assumed-role/agents/runaway-loop"
NOW = 1_796_664_000.0  # 2026-12-07T17:20:00Z
HOUR, DAY, MONTH = windows_at(NOW)
MESSAGE = "Summarise the caller limits in one line"  # 39 characters: 10 tokens by the estimate rule
ESTIMATE = estimate_tokens(MESSAGE)
SONNET_PRICE = (0.003, 0.015)  # tests.conftest.PRICES, per 1,000 tokens


@dataclass
class Metered:
    clock: ManualClock
    dynamodb: Any
    operations: list[str] = field(default_factory=list)

    def item(self, window_id: str, caller: str = ALICE) -> dict[str, Any]:
        key = {"caller": {"S": caller}, "window": {"S": window_id}}
        return self.dynamodb.get_item(TableName=USAGE_TABLE, Key=key, ConsistentRead=True).get("Item", {})

    def n(self, window_id: str, name: str, caller: str = ALICE) -> Decimal:
        item = self.item(window_id, caller)
        return Decimal(item[name]["N"]) if name in item else Decimal(0)

    def calls(self) -> list[str]:
        taken, self.operations[:] = list(self.operations), []
        return sorted(taken)


@pytest.fixture
def metered(stack: FakeBedrock, usage_table: Any) -> Iterator[Callable[..., Metered]]:
    """`metered(limits, fail_mode=..., table=...)`: the handler's own dependencies built from that
    environment, its meter on a manual wall clock (NOW), its DynamoDB calls recorded by operation."""
    build = chatbot_handler.dependencies.__wrapped__  # type: ignore[attr-defined]
    with pytest.MonkeyPatch.context() as mp:

        def install(limits: dict[str, Any] | str | None = None, **env: str) -> Metered:
            raw = limits if isinstance(limits, str) else json.dumps(limits) if limits is not None else ""
            mp.setenv("CALLER_LIMITS", raw)
            for name, value in env.items():
                mp.setenv(name, value)
            get_settings.cache_clear()
            metering.parsed_caller_limits.cache_clear()
            deps = build()
            state = Metered(ManualClock(NOW), usage_table)
            deps = replace(deps, meter=replace(deps.meter, wall=state.clock))
            mp.setattr(chatbot_handler, "dependencies", lambda: deps)

            def record(request: Any, **_: Any) -> None:
                state.operations.append(request.headers["X-Amz-Target"].decode().split(".")[-1])

            chatbot_handler._dynamodb().meta.events.register("before-send.dynamodb", record)
            return state

        yield install
    get_settings.cache_clear()


def _call(body: dict[str, Any], caller: str | None = ALICE) -> tuple[int, dict[str, Any], dict[str, str]]:
    response = chatbot_handler.handler(http_api_event(body, caller=caller), FakeLambdaContext())
    return response["statusCode"], json.loads(response["body"]), response["headers"]


def _emf(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    docs = emf_documents(capsys.readouterr().out)
    for doc in docs:
        validate_emf(doc)
    return docs


def _answers(bedrock: FakeBedrock, output_tokens: int, input_tokens: int = ESTIMATE) -> None:
    bedrock.set_default(SONNET, Behavior(text="ok " * output_tokens, input_tokens=input_tokens,
                                         output_tokens=output_tokens))  # fmt: skip


def _cost(input_tokens: int, output_tokens: int) -> Decimal:
    cost = (input_tokens * SONNET_PRICE[0] + output_tokens * SONNET_PRICE[1]) / 1000
    return Decimal(repr(cost)).quantize(Decimal("1e-12"))


# --- attribution ---------------------------------------------------------------------------------------


def test_given_signed_requests_when_answered_then_caller_on_emf_and_log_lines_and_never_carried_over(
    metered: Callable[..., Metered], stack: FakeBedrock
) -> None:
    metered()
    chatbot_handler.logger.setLevel("INFO")
    try:
        with captured_output() as out:
            assert _call({"message": MESSAGE, "use_cache": False}, caller=AGENT)[0] == 200
            assert _call({"message": MESSAGE, "use_cache": False}, caller=None)[0] == 200
            stack.set_default(SONNET, Behavior(kind=THROTTLE))  # the service's own warning line too
            assert _call({"message": MESSAGE, "use_cache": False}, caller=BOB)[0] == 429
    finally:
        chatbot_handler.logger.setLevel("WARNING")
    lines = [json.loads(line) for line in out.getvalue().splitlines() if line.startswith("{")]
    docs, logs = [d for d in lines if "_aws" in d], [d for d in lines if "_aws" not in d]
    assert [d[mc.PROP_CALLER] for d in docs] == [AGENT, mc.ANONYMOUS_CALLER, BOB]
    assert [d["_aws"]["CloudWatchMetrics"][0]["Dimensions"] for d in docs] == [[[mc.DIM_MODEL_ID]]] * 3
    answered = [log for log in logs if log.get("message") == "answered"]
    assert [log["caller"] for log in answered] == [AGENT, mc.ANONYMOUS_CALLER]
    failed = [log for log in logs if log.get("message") in ("model call failed", "request failed")]
    assert len(failed) == 2 and {log["caller"] for log in failed} == {BOB}


def test_given_caller_claimed_in_a_header_when_answered_then_only_the_signature_counts(
    metered: Callable[..., Metered], capsys: pytest.CaptureFixture[str]
) -> None:
    metered()
    event = http_api_event({"message": MESSAGE, "use_cache": False}, caller=BOB)
    event["headers"]["x-caller"] = ALICE
    assert chatbot_handler.handler(event, FakeLambdaContext())["statusCode"] == 200
    (doc,) = _emf(capsys)
    assert doc[mc.PROP_CALLER] == BOB


def test_given_unexpected_error_when_answered_then_its_emf_document_names_the_caller(
    metered: Callable[..., Metered], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    state = metered({"default": {"hour_tokens": 10_000}})

    def broken(*_: Any) -> float:
        raise RuntimeError("a bug")

    monkeypatch.setattr(service, "estimated_cost", broken)
    status, body, _ = _call({"message": MESSAGE, "use_cache": False, "max_tokens": 50})
    assert (status, body["error"]) == (502, "internal_error")
    (doc,) = _emf(capsys)
    assert (doc[mc.PROP_CALLER], doc["ModelErrors"]) == (ALICE, [1])
    assert holds(state.item(HOUR.id)) == {}, "the hold of a request that failed unexpectedly is released"
    assert state.n(HOUR.id, "reserved_tokens") == state.n(HOUR.id, "charged_tokens") == 0


# --- metering and the limits block ----------------------------------------------------------------------


def test_given_caller_with_limits_when_live_answer_then_limits_block_metrics_and_two_writes_one_read(
    metered: Callable[..., Metered], stack: FakeBedrock, capsys: pytest.CaptureFixture[str]
) -> None:
    state = metered({"default": {"hour_tokens": 1000, "day_usd": 2.5}})
    _answers(stack, output_tokens=40)
    status, body, _ = _call({"message": MESSAGE, "use_cache": False, "max_tokens": 100})
    assert status == 200
    cost = _cost(ESTIMATE, 40)
    assert body["limits"] == {
        "hour_tokens": {"limit": 1000, "used": ESTIMATE + 40, "resets_at": "2026-12-07T18:00:00Z"},
        "day_usd": {"limit": 2.5, "used": float(cost), "resets_at": "2026-12-08T00:00:00Z"},
    }
    assert state.calls() == ["BatchGetItem", "TransactWriteItems", "TransactWriteItems"]
    (doc,) = _emf(capsys)
    assert doc[mc.LIMIT_REJECTIONS.name] == [0]
    assert doc[mc.CALLER_LIMIT_USAGE.name] == [pytest.approx((ESTIMATE + 40) / 10)]
    assert mc.LIMIT_CHECK_ERRORS.name not in doc
    for window in (HOUR, DAY, MONTH):  # every window charged; reserved back to what was charged
        assert state.n(window.id, "charged_tokens") == state.n(window.id, "reserved_tokens") == ESTIMATE + 40
        assert state.n(window.id, "charged_usd") == state.n(window.id, "reserved_usd") == cost
        assert holds(state.item(window.id)) == {}


def test_given_caller_without_limits_when_answered_then_metered_in_one_write_and_no_block(
    metered: Callable[..., Metered], stack: FakeBedrock, capsys: pytest.CaptureFixture[str]
) -> None:
    state = metered({"callers": {BOB: {"day_tokens": 5}}})
    _answers(stack, output_tokens=7)
    status, body, _ = _call({"message": MESSAGE, "use_cache": False})
    assert status == 200 and "limits" not in body
    assert state.calls() == ["TransactWriteItems"]
    assert "inferenceConfig" not in stack.calls[-1].body, "no cap added for a caller without limits"
    (doc,) = _emf(capsys)
    assert doc[mc.LIMIT_REJECTIONS.name] == [0] and mc.CALLER_LIMIT_USAGE.name not in doc
    assert [state.n(w.id, "charged_tokens") for w in (HOUR, DAY, MONTH)] == [ESTIMATE + 7] * 3


def test_given_no_max_tokens_when_caller_has_limits_then_the_model_is_capped_at_the_default_max_output(
    metered: Callable[..., Metered], stack: FakeBedrock
) -> None:
    metered({"default": {"day_tokens": 100_000}}, DEFAULT_MAX_OUTPUT_TOKENS="500")
    assert _call({"message": MESSAGE, "use_cache": False})[0] == 200
    assert stack.calls[-1].body["inferenceConfig"] == {"maxTokens": 500}


# --- refusals -------------------------------------------------------------------------------------------


def test_given_caller_at_its_limit_when_asking_then_429_with_retry_after_and_the_model_never_called(
    metered: Callable[..., Metered], stack: FakeBedrock, capsys: pytest.CaptureFixture[str]
) -> None:
    state = metered({"default": {"hour_tokens": 2 * (ESTIMATE + 100)}})
    _answers(stack, output_tokens=100)
    for _ in range(2):
        assert _call({"message": MESSAGE, "use_cache": False, "max_tokens": 100})[0] == 200
    _emf(capsys)
    state.clock.now = NOW + 0.25  # 2,399.75 s before the hour resets
    status, body, headers = _call({"message": MESSAGE, "use_cache": False, "max_tokens": 100})
    assert (status, body["error"]) == (429, "limit_exceeded")
    assert headers["Retry-After"] == "2400"
    assert body["message"] == (
        f"{ALICE} has used {2 * (ESTIMATE + 100)} tokens of its hour_tokens limit of {2 * (ESTIMATE + 100)} "
        f"tokens (this request needs up to {ESTIMATE + 100} tokens); the hour window resets at "
        "2026-12-07T18:00:00Z"
    )
    assert len(stack.calls) == 2, "a refused request never reaches the model"
    (doc,) = _emf(capsys)
    assert (doc[mc.LIMIT_REJECTIONS.name], doc[mc.CALLER_LIMIT_USAGE.name]) == ([1], [100])
    assert not {"InputTokens", "TotalTokens", "ModelErrors"} & set(doc)
    assert (doc[mc.PROP_CALLER], doc["ErrorCode"]) == (ALICE, "limit_exceeded")
    assert holds(state.item(HOUR.id)) == {}


def test_given_other_callers_when_one_is_refused_then_they_keep_getting_answers(
    metered: Callable[..., Metered], stack: FakeBedrock
) -> None:
    metered({"default": {"day_tokens": ESTIMATE + 100}})
    _answers(stack, output_tokens=100)
    statuses = [_call({"message": MESSAGE, "use_cache": False, "max_tokens": 100}, caller=c)[0]
                for c in (AGENT, AGENT, ALICE, BOB, AGENT)]  # fmt: skip
    assert statuses == [200, 429, 200, 200, 429]


def test_given_request_larger_than_the_limit_when_asking_then_429_saying_so(
    metered: Callable[..., Metered], stack: FakeBedrock
) -> None:
    state = metered({"default": {"month_tokens": 50}})
    status, body, headers = _call({"message": MESSAGE, "max_tokens": 100})
    assert (status, body["error"]) == (429, "limit_exceeded")
    assert "more than its month_tokens limit of 50 tokens by itself" in body["message"]
    assert int(headers["Retry-After"]) == math.ceil(MONTH.end - NOW)
    assert stack.calls == [] and state.item(MONTH.id) == {}


def test_given_caller_over_its_limit_when_cached_answer_then_served_with_the_block_and_charged_nothing(
    metered: Callable[..., Metered], stack: FakeBedrock, capsys: pytest.CaptureFixture[str]
) -> None:
    state = metered({"default": {"hour_tokens": ESTIMATE + 100}})
    _answers(stack, output_tokens=100)
    assert _call({"message": MESSAGE, "max_tokens": 100})[0] == 200  # cached (complete answer)
    assert _call({"message": MESSAGE, "max_tokens": 100, "use_cache": False})[0] == 429
    state.calls()
    status, body, _ = _call({"message": MESSAGE, "max_tokens": 100})
    assert (status, body["cached"]) == (200, True)
    assert body["limits"]["hour_tokens"]["used"] == ESTIMATE + 100
    assert state.calls() == ["BatchGetItem", "GetItem"], "the cache read and one read of the usage"
    assert state.n(HOUR.id, "charged_tokens") == ESTIMATE + 100
    assert _emf(capsys)[-1][mc.LIMIT_REJECTIONS.name] == [0]


def test_given_cached_answer_when_caller_has_no_limits_then_no_usage_read(
    metered: Callable[..., Metered],
) -> None:
    state = metered()
    _call({"message": MESSAGE})
    state.calls()
    status, body, _ = _call({"message": MESSAGE})
    assert (status, body["cached"], "limits" in body) == (200, True, False)
    assert state.calls() == ["GetItem"]


def test_given_throttled_model_when_caller_has_limits_then_hold_released_and_not_a_rejection(
    metered: Callable[..., Metered], stack: FakeBedrock, capsys: pytest.CaptureFixture[str]
) -> None:
    state = metered({"default": {"hour_tokens": 1000}})
    stack.set_default(SONNET, Behavior(kind=THROTTLE))
    status, body, _ = _call({"message": MESSAGE, "use_cache": False, "max_tokens": 100})
    assert (status, body["error"]) == (429, "throttled")
    (doc,) = _emf(capsys)
    assert (doc["ModelErrors"], doc[mc.LIMIT_REJECTIONS.name]) == ([1], [0])
    assert state.n(HOUR.id, "reserved_tokens") == state.n(HOUR.id, "charged_tokens") == 0
    assert holds(state.item(HOUR.id)) == {}


# --- configuration and fail modes ---------------------------------------------------------------------


def test_given_malformed_caller_limits_when_asking_then_500_naming_the_key_and_counted(
    metered: Callable[..., Metered], stack: FakeBedrock, capsys: pytest.CaptureFixture[str]
) -> None:
    metered('{"default": {"day_usd": -3}}')
    status, body, _ = _call({"message": MESSAGE})
    assert (status, body["error"]) == (500, "configuration_error")
    assert body["message"].startswith("CALLER_LIMITS.default.day_usd: must be positive")
    assert stack.calls == []
    (doc,) = _emf(capsys)
    assert doc[mc.LIMIT_CHECK_ERRORS.name] == [1] and "ModelErrors" not in doc
    assert doc[mc.PROP_CALLER] == ALICE


def test_given_limits_but_no_usage_table_when_asking_then_500_naming_the_variable(
    metered: Callable[..., Metered], stack: FakeBedrock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("USAGE_TABLE_NAME")
    metered({"default": {"day_usd": 1}})
    status, body, _ = _call({"message": MESSAGE})
    assert (status, body["error"]) == (500, "configuration_error")
    assert body["message"].startswith("USAGE_TABLE_NAME")


@pytest.mark.parametrize("mode", ["open", "closed"])
def test_given_usage_table_missing_when_asking_then_fail_mode_decides(
    metered: Callable[..., Metered], stack: FakeBedrock, capsys: pytest.CaptureFixture[str], mode: str
) -> None:
    metered({"default": {"day_tokens": 10_000}}, USAGE_TABLE_NAME="no-such-table", LIMITS_FAIL_MODE=mode)
    status, body, _ = _call({"message": MESSAGE, "use_cache": False})
    (doc,) = _emf(capsys)
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
    status, body, _ = _call({"message": MESSAGE})
    assert (status, body["error"]) == (503, "limits_unavailable")
    assert stack.calls == []
    (refused,) = _emf(capsys)
    assert (refused[mc.LIMIT_CHECK_ERRORS.name], refused["CacheErrors"]) == ([1], [1])
    assert "ModelErrors" not in refused


def test_given_usage_table_missing_when_closed_then_a_cached_answer_is_still_served_and_counted(
    metered: Callable[..., Metered], stack: FakeBedrock, capsys: pytest.CaptureFixture[str]
) -> None:
    metered({"default": {"day_tokens": 10_000}})
    assert _call({"message": MESSAGE})[0] == 200  # answered and cached while the table is there
    metered({"default": {"day_tokens": 10_000}}, USAGE_TABLE_NAME="no-such-table", LIMITS_FAIL_MODE="closed")
    _emf(capsys)
    status, body, _ = _call({"message": MESSAGE})
    assert (status, body["cached"], "limits" in body) == (200, True, False)
    (served,) = _emf(capsys)
    assert served[mc.LIMIT_CHECK_ERRORS.name] == [1] and mc.CALLER_LIMIT_USAGE.name not in served
    assert len(stack.calls) == 1


def test_given_killed_request_when_its_hold_expires_then_swept_and_the_caller_admitted_again(
    metered: Callable[..., Metered], stack: FakeBedrock, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = metered({"default": {"hour_tokens": ESTIMATE + 100}})
    _answers(stack, output_tokens=100)
    with monkeypatch.context() as killed:  # the function dies after the model answered: no settle
        killed.setattr(metering.Tab, "settle", lambda self, *a, **k: None)
        assert _call({"message": MESSAGE, "use_cache": False, "max_tokens": 100})[0] == 200
    (leaked,) = holds(state.item(HOUR.id)).values()
    assert leaked[1] == NOW + FakeLambdaContext().remaining_ms / 1000 + 60  # deadline + margin
    state.clock.now = leaked[1] - 1
    assert _call({"message": MESSAGE, "use_cache": False, "max_tokens": 100})[0] == 429
    state.clock.now = leaked[1] + 1
    assert _call({"message": MESSAGE, "use_cache": False, "max_tokens": 100})[0] == 200
    assert holds(state.item(HOUR.id)) == {}
    assert state.n(HOUR.id, "reserved_tokens") == state.n(HOUR.id, "charged_tokens") == ESTIMATE + 100


# --- the overshoot bound --------------------------------------------------------------------------------


def test_given_input_within_the_estimate_when_asking_until_refused_then_the_limit_is_never_passed(
    metered: Callable[..., Metered], stack: FakeBedrock
) -> None:
    limit = 1_000
    state = metered({"default": {"hour_tokens": limit}})
    _answers(stack, output_tokens=60)  # worst case ESTIMATE + 100, actual ESTIMATE + 60
    answered = 0
    while _call({"message": MESSAGE, "use_cache": False, "max_tokens": 100})[0] == 200:
        answered += 1
    assert state.n(HOUR.id, "charged_tokens") == answered * (ESTIMATE + 60) <= limit
    assert limit - state.n(HOUR.id, "charged_tokens") < ESTIMATE + 100, "refused only when it could not fit"


def test_given_input_above_the_estimate_when_asking_then_the_overshoot_is_at_most_that_excess(
    metered: Callable[..., Metered], stack: FakeBedrock
) -> None:
    limit, excess = 950, 30  # admitted while charged <= 950 - 110: the 7th answer ends at 7 * 140 = 980
    state = metered({"default": {"hour_tokens": limit}})
    _answers(stack, output_tokens=100, input_tokens=ESTIMATE + excess)  # a tokenizer above the rule
    while _call({"message": MESSAGE, "use_cache": False, "max_tokens": 100})[0] == 200:
        pass
    charged = state.n(HOUR.id, "charged_tokens")
    assert limit < charged <= limit + excess
    assert charged == 7 * (ESTIMATE + excess + 100)


# --- concurrency ------------------------------------------------------------------------------------------


def _concurrently(deps: Any, requests: int, caller: str = ALICE, max_tokens: int = 100) -> list[int]:
    """`requests` answers of one caller through the service at once (threads released together)."""
    request = ChatRequest(
        message=MESSAGE, model_id=SONNET, system=None, max_tokens=max_tokens, use_cache=False
    )
    start = threading.Barrier(requests)

    def one(index: int) -> int:
        start.wait()
        try:
            request_id = f"req-{index}-{uuid.uuid4().hex[:8]}"  # unique, as API Gateway's
            service.answer_chat(
                request, deps, time.perf_counter(), request_id, caller=caller, hold_seconds=90
            )
        except ChatError as refused:
            return refused.status
        return 200

    with ThreadPoolExecutor(max_workers=requests) as pool:
        return list(pool.map(one, range(requests)))


def test_given_24_concurrent_requests_at_the_limit_when_answered_then_exactly_what_it_admits_and_no_leak(
    metered: Callable[..., Metered], stack: FakeBedrock
) -> None:
    admitted = 5
    state = metered({"default": {"hour_tokens": admitted * (ESTIMATE + 100), "day_usd": 1.0}})
    _answers(stack, output_tokens=100)  # every answer costs exactly its worst case
    records: list[Any] = []
    deps = replace(chatbot_handler.dependencies(), publish=records.append)
    statuses = _concurrently(deps, 24)
    assert sorted(statuses) == [200] * admitted + [429] * (24 - admitted)
    assert len(stack.calls) == admitted, "a refused request never reached the model"
    assert [r.limit_rejected for r in records].count(True) == 24 - admitted
    for window in (HOUR, DAY, MONTH):
        charged = state.n(window.id, "charged_tokens")
        assert charged == state.n(window.id, "reserved_tokens") == admitted * (ESTIMATE + 100)
        assert (
            state.n(window.id, "charged_usd")
            == state.n(window.id, "reserved_usd")
            == admitted * _cost(ESTIMATE, 100)
        )
        assert holds(state.item(window.id)) == {}


def test_given_concurrent_requests_answering_below_their_worst_case_then_the_limit_is_never_passed(
    metered: Callable[..., Metered], stack: FakeBedrock
) -> None:
    limit = 1_000
    state = metered({"default": {"hour_tokens": limit}})
    _answers(stack, output_tokens=30)  # actual ESTIMATE + 30 of a reserved ESTIMATE + 100
    deps = replace(chatbot_handler.dependencies(), publish=lambda record: None)
    answered = sum(status == 200 for status in _concurrently(deps, 24) + _concurrently(deps, 24))
    charged = state.n(HOUR.id, "charged_tokens")
    assert charged == answered * (ESTIMATE + 30) <= limit
    assert charged == state.n(HOUR.id, "reserved_tokens") and holds(state.item(HOUR.id)) == {}


@pytest.mark.parametrize(
    ("limits", "written"),
    [({"default": {"hour_tokens": 1000}}, "the reservation"), ({}, "the settle of a caller without limits")],
)
def test_given_metering_write_whose_answer_is_lost_when_botocore_resends_it_then_applied_once(
    metered: Callable[..., Metered], stack: FakeBedrock, aws: Any, monkeypatch: pytest.MonkeyPatch,
    limits: dict[str, Any], written: str,
) -> None:  # fmt: skip
    with AwsFaultProxy(aws.endpoint) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", proxy.endpoint)
        reset_clients()
        state = metered(limits)
        _answers(stack, output_tokens=40)
        proxy.lose_answer("TransactWriteItems", hold=0)  # applied, then the connection closes
        assert _call({"message": MESSAGE, "use_cache": False, "max_tokens": 100})[0] == 200
        assert proxy.fates("TransactWriteItems")[:2] == ["answer lost", "forwarded"], written
    assert state.n(HOUR.id, "reserved_tokens") == state.n(HOUR.id, "charged_tokens") == ESTIMATE + 40
    assert holds(state.item(HOUR.id)) == {}
