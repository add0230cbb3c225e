"""SnapStart's hooks around the real handler, botocore clients, moto and the loopback Bedrock: before the
snapshot a first request's work happens without the network and leaves nothing unique; after a restore
the copy's own state is fresh; and the next request is answered as any other."""

from __future__ import annotations

import json
import os
import random
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from chatbot import chatbot_handler, snapshot, token_metrics
from shared import aws_clients, runtime_hooks
from tests.fakes.bedrock_server import FakeBedrock
from tests.reliability.capture import captured_output
from tests.support import FakeLambdaContext, cache_items, emf_documents, http_api_event

ROOT = Path(__file__).resolve().parents[3]
CALLER = "arn:aws:iam::123456789012:user/alice"
LIMITS = {"default": {"day_tokens": 10**9, "day_usd": 10**6}}


@pytest.fixture
def metered_stack(stack: FakeBedrock, usage_table: Any, monkeypatch: pytest.MonkeyPatch) -> FakeBedrock:
    """The deployed shape: a response cache, a usage table and a default limit for every caller."""
    monkeypatch.setenv("CALLER_LIMITS", json.dumps(LIMITS))
    return stack


@contextmanager
def refused_network() -> Iterator[list[Any]]:
    """Every outgoing connection or datagram of this process refused and recorded inside the block."""
    attempts: list[Any] = []

    def refuse(self: socket.socket, address: Any, *args: Any) -> Any:
        attempts.append(address)
        raise ConnectionRefusedError(f"no network before the snapshot: {address}")

    patched = {name: getattr(socket.socket, name) for name in ("connect", "connect_ex", "sendto")}
    for name in patched:
        setattr(socket.socket, name, refuse)
    try:
        yield attempts
    finally:
        for name, original in patched.items():
            setattr(socket.socket, name, original)


def _pools(each: Any) -> int:
    # botocore's own pool manager (private; the number of pools is the number of hosts with a connection)
    return len(each._endpoint.http_session._manager.pools)



def test_given_a_fresh_interpreter_when_the_handler_is_imported_then_both_hooks_are_registered() -> None:
    # Nothing but the handler's import, as the runtime does it: the runtime's library must hold both hooks.
    code = (
        "import chatbot.chatbot_handler\n"
        "import snapshot_restore_py as hooks\n"
        "print([f.__module__ + '.' + f.__qualname__ for f, a, k in hooks.get_before_snapshot()],"
        " [f.__module__ + '.' + f.__qualname__ for f, a, k in hooks.get_after_restore()])\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "lambdas"), str(ROOT)])}
    result = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60, check=False
    )

    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == (
        "['chatbot.snapshot.before_snapshot'] ['chatbot.snapshot.after_restore']"
    )


def test_given_the_before_snapshot_hook_when_run_then_a_first_request_is_done_without_the_network(
    metered_stack: FakeBedrock, cache_table: Any
) -> None:
    with refused_network() as attempts:
        warm = snapshot.before_snapshot()

    assert warm.error is None
    assert warm.answers == [(200, False), (200, True)]  # a live answer, then a cache hit
    assert warm.operations[:2] == ["GetItem", "TransactWriteItems"]  # the cache, then the reservation
    assert {"ConverseStream", "PutItem", "BatchGetItem"} <= set(warm.operations)
    assert attempts == []
    assert metered_stack.calls == []
    assert cache_items(cache_table) == []


def test_given_the_before_snapshot_hook_when_done_then_nothing_unique_is_left_in_the_process(
    metered_stack: FakeBedrock,
) -> None:
    chatbot_handler.logger.setLevel("INFO")
    try:
        with captured_output() as out:
            warm = snapshot.before_snapshot()
    finally:
        chatbot_handler.logger.setLevel("WARNING")

    assert warm.answers == [(200, False), (200, True)]
    clients = [chatbot_handler._dynamodb(), chatbot_handler._bedrock()]
    assert aws_clients.credentials().resolved is False  # no credentials: never fetched, the stand-in gone
    assert [_pools(each) for each in clients] == [0, 0]  # no connection
    assert "caller" not in chatbot_handler.logger.get_current_keys()  # no request's caller on the logger
    assert chatbot_handler.app.context == {}
    assert token_metrics.metrics.metric_set == {} and token_metrics.metrics.metadata_set == {}
    assert emf_documents(out.getvalue()) == []  # the warm-up's metrics went nowhere
    assert "answered" not in out.getvalue()  # nor its log lines (INFO)


def test_given_a_restored_copy_when_after_restore_runs_then_seed_credentials_and_connections_are_its_own(
    metered_stack: FakeBedrock,
) -> None:
    dynamodb = chatbot_handler._dynamodb()
    dynamodb.list_tables()  # a credential fetched and a connection open, as a snapshot must not hold
    random.seed(1234)  # the state every copy of one snapshot would share
    shared_draw = random.random()
    random.seed(1234)

    runtime_hooks.run_after_restore()

    assert random.random() != shared_draw
    assert aws_clients.credentials().resolved is False
    assert _pools(dynamodb) == 0


def test_given_both_hooks_ran_when_a_request_arrives_then_it_is_answered_from_the_fakes(
    metered_stack: FakeBedrock, cache_table: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    snapshot.before_snapshot()
    snapshot.after_restore()
    capsys.readouterr()

    event = http_api_event({"message": "What does SnapStart restore?"}, caller=CALLER)
    response = chatbot_handler.handler(event, FakeLambdaContext())

    body = json.loads(response["body"])
    assert response["statusCode"] == 200, body
    assert body["cached"] is False and body["answer"] != "warm"
    assert body["limits"] is not None  # metered against the usage table on moto
    assert len(metered_stack.calls) == 1
    assert len(cache_items(cache_table)) == 1
    (document,) = emf_documents(capsys.readouterr().out)
    assert document["Caller"] == CALLER


def test_given_a_warm_up_that_fails_when_run_then_it_never_raises_and_still_leaves_nothing(
    metered_stack: FakeBedrock, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken() -> bytes:
        raise RuntimeError("a canned answer that cannot be built")

    monkeypatch.setattr(snapshot.canned, "converse_stream", broken)

    with refused_network() as attempts:
        warm = snapshot.before_snapshot()

    assert warm.answers[0][0] == 502  # the handler answered its own way: internal_error
    assert attempts == []
    assert aws_clients.credentials().resolved is False
    response = chatbot_handler.handler(http_api_event({"message": "and now?"}), FakeLambdaContext())
    assert response["statusCode"] == 200  # the canned answers are gone: the real Bedrock fake answers


def _fresh_interpreter(code: str) -> subprocess.CompletedProcess[str]:
    """`code` in a fresh interpreter with Lambda's variables and Powertools' Tracer enabled, as the stack
    deploys (tracing is decided when the handler module is imported), and a trace header as the bench sets
    one. Its endpoint is never reached: the warm-up answers every AWS request in the process."""
    env = {
        **{k: v for k, v in os.environ.items() if k != "POWERTOOLS_TRACE_DISABLED"},
        "PYTHONPATH": os.pathsep.join([str(ROOT / "lambdas"), str(ROOT)]),
        "LAMBDA_TASK_ROOT": str(ROOT / "lambdas"),
        "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR",
        "_X_AMZN_TRACE_ID": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
        "MODEL_ID": "amazon.nova-lite-v1:0",
        "CACHE_TABLE_NAME": "chat-cache",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
    }
    result = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result


def test_given_active_tracing_as_deployed_when_the_warm_up_runs_then_both_requests_are_answered() -> None:
    result = _fresh_interpreter(
        "from chatbot import chatbot_handler, snapshot\n"
        "assert not chatbot_handler.tracer.disabled\n"
        "print(snapshot.before_snapshot())\n"
    )

    assert "answers=[(200, False), (200, True)]" in result.stdout, result.stdout[-2000:]
    assert "discarded" not in result.stderr  # X-Ray's "still initializing" warning for every AWS call


def test_given_the_warm_up_when_the_first_real_invocation_comes_then_it_is_still_the_cold_start() -> None:
    # The warm-up runs below the Logger's and Tracer's decorators: their cold-start flags are the first
    # real invocation's (an event that is not HTTP API 2.0 logs a warning carrying the Logger's keys).
    result = _fresh_interpreter(
        "from chatbot import chatbot_handler, snapshot\n"
        "from tests.support import FakeLambdaContext\n"
        "assert snapshot.before_snapshot().answers == [(200, False), (200, True)]\n"
        "for _ in range(2):\n"
        "    chatbot_handler.handler({'version': '1.0'}, FakeLambdaContext())\n"
    )

    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    warnings = [line for line in lines if line.get("message") == "not an HTTP API payload 2.0 event"]
    assert [line["cold_start"] for line in warnings] == [True, False]
