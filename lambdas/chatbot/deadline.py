"""Every request's deadline: the answer must reach the caller before the HTTP API gives up (30 s).

The deadline is the request's arrival (`requestContext.timeEpoch`, else the handler's start: see
chatbot.arrival) plus ANSWER_DEADLINE_SECONDS (default 25: chatbot.platform_limits says why). It is
enforced on the Bedrock client with botocore's own hooks, so nothing here loops or sleeps:

- an attempt (the first, or a retry) is started only when DEADLINE_MIN_ATTEMPT_SECONDS remain after its
  wait: the retry decision stays botocore's standard mode (same retryable errors, same back-off, same
  retry quota), wrapped by `_RetryWithin`, which refuses a retry whose back-off plus that minimum would
  end past the deadline; the caller then gets the last error at once (429 or 502, as without a deadline);
- each attempt waits for Bedrock's response at most until the deadline: `before-send` sets the request
  context's `read_timeout`, botocore's per-request read timeout (boto/botocore#3770; the pinned 1.44.5
  honours it, URLLib3Session._get_request_timeout); a botocore without it ignores the key and waits its
  client read timeout, which the function timeout covers (infra.config: the retry budget);
- while the answer streams, every socket read may wait at most until the deadline (`Watch.bound`): the
  stream's urllib3 response comes from the `after-call` event, and its socket's timeout is set to the
  time left before each read. At the deadline chatbot.bedrock stops reading and closes the stream.

The deadline of the call in progress travels in a context variable (a Lambda container serves one request
at a time; tests run requests on several threads, each with its own context).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any
from weakref import WeakSet

from aws_lambda_powertools import Logger
from botocore.retries import standard

from chatbot.platform_limits import DEADLINE_MIN_ATTEMPT_SECONDS

logger = Logger(child=True)

# botocore registers its standard retry handler under this unique id (botocore.retries.standard
# .register_retry_handler): the id is how `guard` swaps it for the deadline-aware wrapper.
_RETRY_HANDLER_ID = "retry-config-{service}"
_SMALLEST_TIMEOUT = 0.001  # a socket timeout of 0 would mean "non-blocking", not "expired"


@dataclass(frozen=True, slots=True)
class Deadline:
    """A point on `clock` (time.perf_counter by default) by which the answer must be on its way."""

    at: float
    clock: Callable[[], float] = time.perf_counter

    def remaining(self) -> float:
        return self.at - self.clock()

    @property
    def passed(self) -> bool:
        return self.remaining() <= 0

    def allows_attempt(self, wait: float = 0.0) -> bool:
        """An attempt started after `wait` seconds would still have its minimum time before the deadline."""
        return self.remaining() - wait >= DEADLINE_MIN_ATTEMPT_SECONDS


NO_DEADLINE = Deadline(math.inf)


def deadline_after(
    started: float, seconds: float, clock: Callable[[], float] = time.perf_counter
) -> Deadline:
    """The deadline `seconds` after `started` (a `clock` reading: the request's arrival)."""
    return Deadline(started + seconds, clock)


@dataclass(slots=True)
class Watch:
    """The deadline of the model call running in this context, and what the hooks learn about it."""

    deadline: Deadline
    response: Any = None  # the stream's urllib3 response, once botocore has it (`after-call`)
    refused_retry: bool = False
    _socket: Any = field(default=None, repr=False)
    _timeout: float | None = None  # the socket's own timeout, restored when the call ends

    def bound(self) -> None:
        """Let the next socket read wait at most until the deadline (a no-op without a real socket, or
        without a deadline)."""
        if math.isinf(self.deadline.at):
            return
        sock = self._socket
        if sock is None:
            connection = getattr(self.response, "connection", None)  # urllib3 HTTPResponse.connection
            sock = getattr(connection, "sock", None)
            if sock is None:
                return
            self._socket, self._timeout = sock, sock.gettimeout()
        # Never longer than the read timeout urllib3 gave the socket (the client's, or the time left when
        # the attempt was sent): the deadline only ever shortens a wait.
        left = max(self.deadline.remaining(), _SMALLEST_TIMEOUT)
        with suppress(OSError):  # closed under us: the read will say so
            sock.settimeout(left if self._timeout is None else min(left, self._timeout))

    def release(self) -> None:
        """Give a connection that goes back to the pool its own timeout again."""
        if self._socket is not None:
            with suppress(OSError):
                self._socket.settimeout(self._timeout)


_ACTIVE: ContextVar[Watch | None] = ContextVar("chatbot_deadline", default=None)


@contextmanager
def watching(deadline: Deadline) -> Iterator[Watch]:
    """Run a model call under `deadline`: the hooks of a guarded client read it from here."""
    watch = Watch(deadline)
    token = _ACTIVE.set(watch)
    try:
        yield watch
    finally:
        _ACTIVE.reset(token)
        watch.release()


class _RetryWithin:
    """botocore's standard retry handler, asked first; a retry it grants is refused when its back-off plus
    the attempt's minimum time would end past the deadline (returning False stops botocore's loop)."""

    def __init__(self, standard_handler: Any) -> None:
        self._standard = standard_handler

    def needs_retry(self, **kwargs: Any) -> float | bool | None:
        delay = self._standard.needs_retry(**kwargs)
        watch = _ACTIVE.get()
        if not isinstance(delay, int | float) or isinstance(delay, bool) or watch is None:
            return delay
        if watch.deadline.allows_attempt(wait=delay):
            return delay
        # The retry quota botocore took for this retry is returned by the next success, as after any
        # retry that failed.
        watch.refused_retry = True
        logger.warning(
            "retry not started: it could not finish before the deadline",
            extra={
                "attempt": kwargs.get("attempts"),
                "backoff_s": round(delay, 3),
                "left_s": round(watch.deadline.remaining(), 3),
            },
        )
        return False


def _bound_attempt(request: Any, **_: Any) -> None:
    """`before-send`: this attempt waits for Bedrock's response at most until the deadline."""
    watch = _ACTIVE.get()
    context = getattr(request, "context", None)
    if watch is None or context is None:
        return
    configured = context.get("client_config").read_timeout if context.get("client_config") else math.inf
    context["read_timeout"] = max(_SMALLEST_TIMEOUT, min(configured, watch.deadline.remaining()))


def _keep_response(http_response: Any = None, **_: Any) -> None:
    """`after-call`: the stream's urllib3 response, whose socket `Watch.bound` limits."""
    watch = _ACTIVE.get()
    if watch is not None and http_response is not None and http_response.status_code < 300:
        watch.response = http_response.raw


_GUARDED: WeakSet[Any] = WeakSet()
_GUARDING = threading.Lock()


def guard(client: Any) -> Any:
    """Make a botocore client (standard retry mode) honour the deadline of the call in progress; once per
    client, so the handler may call it on every request."""
    with _GUARDING:
        if client in _GUARDED:
            return client
        events = client.meta.events
        service = client.meta.service_model.service_id.hyphenize()
        retries = client.meta.config.retries or {}
        if retries.get("mode") != "standard":
            raise ValueError(f"{service}: the deadline wraps botocore's standard retry mode only")
        event, unique_id = f"needs-retry.{service}", _RETRY_HANDLER_ID.format(service=service)
        # botocore's own standard handler, built again by botocore's own factory (so the policy stays
        # botocore's), then wrapped: unregister botocore's, register a fresh one, swap it for the wrapper.
        events.unregister(event, unique_id=unique_id)
        handler = standard.register_retry_handler(client, max_attempts=retries.get("total_max_attempts"))
        events.unregister(event, unique_id=unique_id)
        events.register(event, _RetryWithin(handler).needs_retry, unique_id=unique_id)
        events.register(f"before-send.{service}", _bound_attempt, unique_id=f"deadline-read-{service}")
        events.register(f"after-call.{service}", _keep_response, unique_id=f"deadline-stream-{service}")
        _GUARDED.add(client)
        return client
