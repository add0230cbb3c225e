"""The chatbot's SnapStart hooks: a first request's work before the snapshot, fresh per-copy state after.

With SnapStart (`chatbot.snap_start`, docs/deploy.md) Lambda initializes the function once per published
version, runs the before-snapshot hooks, snapshots the execution environment and restores every new
execution environment from that snapshot instead of importing and initializing again. Whatever the first
request would otherwise do lazily is worth doing before the snapshot; whatever must differ between
restored copies must not be in it.

Before the snapshot (`before_snapshot`), two requests go through the real handler (below its Logger and
Tracer decorators, whose cold-start flags belong to the first real invocation): a live answer and the
same question again, a cache hit. That builds the settings, the dependencies and both botocore clients,
loads their service models and endpoint rules, builds and signs every request, parses the answers (the
model's event stream too), runs pydantic's validators, the resolver, the metering and the EMF
serializer. Nothing leaves the process: every AWS request is answered in the process (`chatbot.canned`)
and signed with placeholder credentials (the real ones are never fetched), so the snapshot holds no
credentials and no connection. The two EMF documents go nowhere (they are not metrics of any request)
and the warm-up logs only warnings (a failed warm-up is logged, and the snapshot is still taken: a less
warm snapshot beats a failed deploy).

After each restore (`after_restore`): Python's `random` is reseeded from the OS (every copy would
otherwise draw the same retry jitter and log sampling), the credentials are forgotten and the clients'
connection pools closed, so each copy fetches its own credentials and opens its own connections. (The
operating system's randomness, which uuid4 and the X-Ray ids draw from, is the managed runtime's to make
unique per copy; what Python keeps in memory is this module's.)

`register()` is called once at import of the handler module; the hooks run only where the runtime runs
them (the runtime: never outside a SnapStart publish or restore; shared.runtime_hooks plays its part in
tests and the bench).
"""

from __future__ import annotations

import io
import json
import logging
import os
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass, field
from inspect import unwrap
from typing import Any

from chatbot import canned
from shared import aws_clients, runtime_hooks

WARM_UP_CALLER = "arn:aws:iam::000000000000:user/snapshot-warm-up"
WARM_UP_ID = "snapshot-warm-up"  # not unique, on purpose: the same in every copy, never a real request's
WARM_UP_QUESTION = "SnapStart warm-up: not a real request"
# X-Ray's "Subsegment ... discarded due to Lambda worker still initializing" for every AWS call: true, noise.
XRAY_LOGGER = "aws_xray_sdk"
# Lambda sets it per invocation; a snapshot is taken outside any (the bench's Lambda-like environment has
# one: without it, the Tracer treats the warm-up as an invocation and refuses its annotation).
TRACE_HEADER = "_X_AMZN_TRACE_ID"


@dataclass
class WarmUp:
    """What the before-snapshot warm-up did: each request's status and cached flag, the AWS operations it
    answered in the process, and the error that cut it short (None: it ran through)."""

    answers: list[tuple[int, bool | None]] = field(default_factory=list)
    operations: list[str] = field(default_factory=list)
    error: str | None = None


@dataclass
class _Context:
    """The Lambda context of a warm-up request (what the handler and Powertools read)."""

    function_name: str = "chatbot"
    function_version: str = "snapshot"
    memory_limit_in_mb: int = 0
    invoked_function_arn: str = f"arn:aws:lambda:::function:{WARM_UP_ID}"
    aws_request_id: str = WARM_UP_ID
    log_group_name: str = ""
    log_stream_name: str = ""

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


def warm_up_event() -> dict[str, Any]:
    """A complete HTTP API (payload 2.0) `POST /chat` event, signed by the warm-up caller."""
    return {
        "version": "2.0",
        "routeKey": "POST /chat",
        "rawPath": "/chat",
        "rawQueryString": "",
        "headers": {"content-type": "application/json", "host": "snapshot.invalid"},
        "requestContext": {
            "accountId": "000000000000",
            "apiId": WARM_UP_ID,
            "domainName": "snapshot.invalid",
            "domainPrefix": "snapshot",
            "http": {
                "method": "POST",
                "path": "/chat",
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": WARM_UP_ID,
            },
            "requestId": WARM_UP_ID,
            "routeKey": "POST /chat",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime()),
            "timeEpoch": int(time.time() * 1000),
            "authorizer": {
                "iam": {
                    "accessKey": "PLACEHOLDER",
                    "accountId": "000000000000",
                    "callerId": "PLACEHOLDER",
                    "cognitoIdentity": None,
                    "principalOrgId": None,
                    "userArn": WARM_UP_CALLER,
                    "userId": "PLACEHOLDER",
                }
            },
        },
        "body": json.dumps({"message": WARM_UP_QUESTION}),
        "isBase64Encoded": False,
    }


@contextmanager
def _quieter(levels: dict[str, int]) -> Iterator[None]:
    """Each named logger (and its children) at least at its given level inside the block."""
    loggers = {logging.getLogger(name): level for name, level in levels.items()}
    saved = {each: each.level for each in loggers}
    for each, level in loggers.items():
        each.setLevel(max(level, each.getEffectiveLevel()))
    try:
        yield
    finally:
        for each, level in saved.items():
            each.setLevel(level)


@contextmanager
def _outside_any_invocation() -> Iterator[None]:
    header = os.environ.pop(TRACE_HEADER, None)
    try:
        yield
    finally:
        if header is not None:
            os.environ[TRACE_HEADER] = header


def before_snapshot() -> WarmUp:
    """Run a first request's work (see the module's docstring); never raises."""
    from chatbot import chatbot_handler as handler  # imported by now: the hooks run after the import

    done = WarmUp()
    raw_handler = unwrap(handler.handler)  # below @logger.inject_lambda_context and @tracer.capture_...
    try:
        clients = [handler._dynamodb(), handler._bedrock()]
        with (
            _outside_any_invocation(),
            _quieter({handler.logger.name: logging.WARNING, XRAY_LOGGER: logging.ERROR}),
            redirect_stdout(io.StringIO()),  # the warm-up's EMF documents
            aws_clients.credentials().standing_in(),
            canned.answering(clients) as aws,
        ):
            for _ in range(2):  # a live answer, then the same question: a cache hit
                response = raw_handler(warm_up_event(), _Context())
                body = json.loads(response.get("body") or "{}")
                done.answers.append((int(response["statusCode"]), body.get("cached")))
            done.operations = list(aws.calls)
    except Exception as exc:  # a warm-up that fails must not fail the publish
        done.error = type(exc).__name__
    finally:
        handler.logger.remove_keys(["caller"])  # the handler appends the caller of each request
    if done.error or any(status != 200 for status, _ in done.answers):
        handler.logger.warning(
            "snapshot warm-up incomplete", extra={"error": done.error, "answers": done.answers}
        )
    return done


def after_restore() -> None:
    """Make this copy's own: random seed, credentials, connections."""
    random.seed()  # from os.urandom
    aws_clients.forget_credentials()
    aws_clients.close_connections()


_REGISTERED: list[bool] = []


def register() -> None:
    """Register both hooks with the runtime, once per process."""
    if _REGISTERED:
        return
    runtime_hooks.register_before_snapshot(before_snapshot)
    runtime_hooks.register_after_restore(after_restore)
    _REGISTERED.append(True)
