"""The loopback Bedrock's own meter: every call it served, counted the way Bedrock counts in AWS/Bedrock.

Amazon Bedrock meters each call itself, whoever made it; the gateway sees only its own. The fake keeps
that meter so the demo and the tests can set Bedrock's view beside the gateway's (contract "Bedrock's own
view beside ours"); `offline.local_bedrock_meter` publishes it as AWS/Bedrock datapoints.

How a call counts, as AWS documents the runtime metrics: a throttled request is neither an invocation nor
an error (InvocationThrottles only); an accepted request is one Invocation, and one InvocationServerErrors
or InvocationClientErrors if it failed; tokens are those of the usage the call reported (a call that
failed before its usage reports none). The input tokens exclude the prompt-cache reads and writes, which
count apart, exactly as ConverseStream's `usage` splits them. EstimatedTPMQuotaUsage is AWS's on-demand
estimate: input + cache writes + output x the model's burndown rate; cache reads do not count.

Each call is stamped with the meter's clock at arrival; `at()` fixes that clock (the demo replays an hour
of traffic in seconds and stamps each call with the request's replayed arrival, as the gateway's EMF is).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

OK = "ok"
THROTTLED = "throttled"
SERVER_ERROR = "server_error"
CLIENT_ERROR = "client_error"

# AWS's "Token burndown rate for Anthropic Claude 4 models": their output tokens count 5 times against
# the tokens-per-minute quota (Claude 3.7 Sonnet and the Claude 4 family); other models count 1.
_FIVE_TIMES = re.compile(r"anthropic\.claude-(3-7-sonnet|(sonnet|opus|haiku)-4|4)")


def burndown_rate(model_id: str) -> int:
    return 5 if _FIVE_TIMES.search(model_id) else 1


@dataclass(frozen=True, slots=True)
class MeteredCall:
    model_id: str
    at: float  # epoch seconds: the meter's clock when the call arrived
    outcome: str  # OK, THROTTLED, SERVER_ERROR or CLIENT_ERROR
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_input_tokens: int | None = None  # None: the call reported no prompt-cache read
    cache_write_input_tokens: int | None = None
    latency_ms: float | None = None  # request to the last token sent (answered calls)
    ttft_ms: float | None = None  # request to the first token sent (answered calls)

    @property
    def tokens(self) -> int:
        """Every token the call reported: input, output and both prompt-cache counts."""
        cached = (self.cache_read_input_tokens or 0) + (self.cache_write_input_tokens or 0)
        return self.input_tokens + self.output_tokens + cached

    @property
    def estimated_tpm_quota_usage(self) -> int:
        writes = self.cache_write_input_tokens or 0
        return self.input_tokens + writes + self.output_tokens * burndown_rate(self.model_id)


@dataclass
class BedrockMeter:
    clock: Callable[[], float] = time.time
    _fixed: float | None = None
    _calls: list[MeteredCall] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def at(self, epoch_seconds: float | None) -> None:
        """Stamp the following calls with this time (None: the clock again)."""
        self._fixed = epoch_seconds

    def now(self) -> float:
        return self._fixed if self._fixed is not None else self.clock()

    def record(self, call: MeteredCall) -> None:
        with self._lock:
            self._calls.append(call)

    @property
    def calls(self) -> list[MeteredCall]:
        with self._lock:
            return list(self._calls)

    def reset(self) -> None:
        with self._lock:
            self._calls.clear()
        self._fixed = None
