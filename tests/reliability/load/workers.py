"""Concurrent Lambda containers on one machine: forked processes, each serving its requests one at a time.

A Lambda execution environment serves one request at a time, and the handler's module state (the
Powertools resolver's current event, the Metrics buffer, the Logger's keys) is per environment, so
concurrency is processes, as in Lambda, not threads in one interpreter. The processes are forked from the
caller once everything is imported and the handler's clients are built (no connection is open yet), so a
worker starts in milliseconds and opens its own connections; all are released together by a barrier.
moto and the loopback Bedrock stay in the parent, serving every worker over TCP.

Each worker reports per request: status, body, headers, the EMF documents its stdout carried during that
request (a worker is single-threaded where it prints: one invocation's output is that request's), and
start/end readings of the system-wide monotonic clock, so the parent computes throughput over the whole
run and each request's latency.
"""

from __future__ import annotations

import json
import multiprocessing
import queue as queue_module
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

START_TIMEOUT_SECONDS = 60.0
RESULT_TIMEOUT_SECONDS = 120.0


@dataclass
class Result:
    index: int
    status: int
    body: dict[str, Any]
    headers: dict[str, str]
    documents: list[dict[str, Any]] = field(default_factory=list)
    started: float = 0.0
    ended: float = 0.0
    error: str = ""  # an exception out of the handler (a crash), by type and message

    @property
    def seconds(self) -> float:
        return self.ended - self.started


def _fresh_container() -> None:
    """What a forked worker must not share with its parent: the metering's background read threads (the
    parent's threads do not exist in the child, but its executor would still count them)."""
    from concurrent.futures import ThreadPoolExecutor

    from chatbot import metering

    metering._READS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="usage-read")


def _chatbot_worker(items: Sequence[tuple[int, dict[str, Any]]], barrier: Any, results: Any) -> None:
    from chatbot import chatbot_handler
    from tests.reliability.capture import captured_output
    from tests.support import FakeLambdaContext, emf_documents

    _fresh_container()
    barrier.wait(START_TIMEOUT_SECONDS)
    for index, event in items:
        started = time.monotonic()
        error = ""
        with captured_output() as out:
            try:
                response = chatbot_handler.handler(event, FakeLambdaContext())
            except Exception as exc:  # a crash: reported, never raised out of the worker
                error = f"{type(exc).__name__}: {exc}"
                response = {"statusCode": 0, "body": "{}", "headers": {}}
        ended = time.monotonic()
        try:
            body = json.loads(response.get("body") or "{}")
        except ValueError:
            body = {"unparsable": response.get("body")}
        results.put(
            Result(
                index,
                int(response.get("statusCode", 0)),
                body,
                dict(response.get("headers") or {}),
                emf_documents(out.getvalue()),
                started,
                ended,
                error,
            )
        )


def _bare_worker(items: Sequence[tuple[int, dict[str, Any]]], barrier: Any, results: Any) -> None:
    """The baseline: a bare `converse_stream` on the handler's own Bedrock client, stream consumed."""
    from chatbot import chatbot_handler

    bedrock = chatbot_handler._bedrock()
    barrier.wait(START_TIMEOUT_SECONDS)
    for index, request in items:
        started = time.monotonic()
        error, status = "", 200
        try:
            for _ in bedrock.converse_stream(**request)["stream"]:
                pass
        except Exception as exc:
            error, status = f"{type(exc).__name__}: {exc}", 0
        results.put(Result(index, status, {}, {}, [], started, time.monotonic(), error))


def close_connections(*clients: Any) -> None:
    """Close the clients' pooled connections (what a forked worker must not share), keeping everything
    botocore built on their first calls (endpoint rules, parsers): workers start warm, as a container
    that has served a request does."""
    for client in clients:
        client._endpoint.http_session.close()


def _split(items: Sequence[Any], workers: int) -> list[list[Any]]:
    return [list(items[w::workers]) for w in range(workers) if items[w::workers]]


def run_forked(
    target: Callable[[Sequence[Any], Any, Any], None], items: Sequence[Any], workers: int
) -> list[Result]:
    """`items` (index, payload) served by `workers` forked processes at once; a result per item."""
    context = multiprocessing.get_context("fork")
    shares = _split(items, workers)
    barrier = context.Barrier(len(shares))
    results = context.Queue()
    processes = [
        context.Process(target=target, args=(share, barrier, results), daemon=True) for share in shares
    ]
    for process in processes:
        process.start()
    collected: list[Result] = []
    deadline = time.monotonic() + RESULT_TIMEOUT_SECONDS
    try:
        while len(collected) < len(items):
            try:
                collected.append(results.get(timeout=max(0.1, deadline - time.monotonic())))
            except queue_module.Empty:
                break
    finally:
        for process in processes:
            process.join(5)
            if process.is_alive():
                process.kill()
                process.join()
    return sorted(collected, key=lambda result: result.index)


def chatbot_load(events: Sequence[tuple[int, dict[str, Any]]], workers: int) -> list[Result]:
    return run_forked(_chatbot_worker, events, workers)


def bare_load(requests: Sequence[tuple[int, dict[str, Any]]], workers: int) -> list[Result]:
    return run_forked(_bare_worker, requests, workers)
