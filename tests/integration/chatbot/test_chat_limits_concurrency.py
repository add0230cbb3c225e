"""Callers through the real handler under concurrency: many requests of one caller at its limit never
pass it together, no hold leaks, and a metering write whose answer is lost is applied once."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

import pytest

from chatbot import chatbot_handler, service
from chatbot.request import ChatError, ChatRequest
from chatbot.usage_store import holds
from shared.aws_clients import reset_clients
from tests.fakes.aws_fault_proxy import AwsFaultProxy
from tests.fakes.bedrock_server import FakeBedrock
from tests.integration.chatbot.limits_support import (
    ALICE,
    DAY,
    ESTIMATE,
    HOUR,
    MESSAGE,
    MONTH,
    SONNET,
    Metered,
    answers,
    call,
    cost_of,
)


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
    answers(stack, output_tokens=100)  # every answer costs exactly its worst case
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
            == admitted * cost_of(ESTIMATE, 100)
        )
        assert holds(state.item(window.id)) == {}


def test_given_concurrent_requests_answering_below_their_worst_case_then_the_limit_is_never_passed(
    metered: Callable[..., Metered], stack: FakeBedrock
) -> None:
    limit = 1_000
    state = metered({"default": {"hour_tokens": limit}})
    answers(stack, output_tokens=30)  # actual ESTIMATE + 30 of a reserved ESTIMATE + 100
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
        answers(stack, output_tokens=40)
        proxy.lose_answer("TransactWriteItems", hold=0)  # applied, then the connection closes
        assert call({"message": MESSAGE, "use_cache": False, "max_tokens": 100})[0] == 200
        assert proxy.fates("TransactWriteItems")[:2] == ["answer lost", "forwarded"], written
    assert state.n(HOUR.id, "reserved_tokens") == state.n(HOUR.id, "charged_tokens") == ESTIMATE + 40
    assert holds(state.item(HOUR.id)) == {}
