"""A quick mutation sampling: small, realistic bugs put into the code one at a time, each against the tests
that cover its module. A mutant the tests let pass is a test that cannot tell; the kill rate is reported.

    .venv/bin/python -m tests.mutation_sample            # every mutant
    .venv/bin/python -m tests.mutation_sample 3 7        # only those numbers

Not part of `make test` (each mutant runs a test subset: minutes in all). The source file is restored
after each mutant, also when interrupted.
"""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHAT_TESTS = ("tests/unit/chatbot", "tests/integration/chatbot")
WRITER_TESTS = ("tests/unit/collectors",)
COLLECTOR_TESTS = ("tests/unit/collectors", "tests/integration/collectors")
DEADLINE_TESTS = (
    "tests/unit/chatbot/test_deadline.py",
    "tests/unit/chatbot/test_answer_outcome_metrics.py",
    "tests/integration/chatbot/test_chat_deadline.py",
    "tests/integration/chatbot/test_chat_answer_outcomes.py",
)
ALARM_TESTS = (
    "tests/infra/test_alarms.py",
    "tests/infra/test_alarm_eval.py",
    "tests/infra/test_dashboards.py",
)


@dataclass(frozen=True)
class Mutant:
    path: str
    old: str
    new: str
    tests: tuple[str, ...]
    why: str


MUTANTS = (
    Mutant(
        "lambdas/chatbot/bedrock.py",
        '"servicequotaexceededexception",',
        "",
        CHAT_TESTS,
        "a quota error is no longer a 429",
    ),
    Mutant(
        "lambdas/chatbot/tokens.py",
        "math.ceil(characters / CHARS_PER_TOKEN)",
        "characters // CHARS_PER_TOKEN",
        CHAT_TESTS,
        "floor instead of ceil",
    ),
    Mutant(
        "lambdas/chatbot/tokens.py",
        'return len(system or "") + len(message)',
        "return len(message)",
        CHAT_TESTS,
        "the system prompt left out of the estimate",
    ),
    Mutant(
        "lambdas/chatbot/tokens.py",
        'return len(system or "") + len(message)',
        'return len(system or "") + len(message) + (1 if system else 0)',
        CHAT_TESTS,
        "a separator counted",
    ),
    Mutant(
        "lambdas/chatbot/cache.py",
        "expires_at > self._now()",
        "expires_at >= self._now()",
        CHAT_TESTS,
        "an entry served at its TTL",
    ),
    Mutant(
        "lambdas/chatbot/cache.py",
        "now + self._ttl",
        "now + self._ttl + 60",
        CHAT_TESTS,
        "entries live a minute longer",
    ),
    Mutant(
        "lambdas/chatbot/request.py",
        'size = len(raw.encode("utf-8", "surrogatepass"))',
        "size = len(raw)",
        CHAT_TESTS,
        "the body limit counts characters",
    ),
    Mutant(
        "lambdas/chatbot/request.py",
        "if size > settings.max_body_bytes:",
        "if size > settings.max_body_bytes + 1:",
        CHAT_TESTS,
        "off by one at the body limit",
    ),
    Mutant(
        "lambdas/chatbot/arrival.py",
        "ARRIVAL_MAX_AGE_MS = 40_000",
        "ARRIVAL_MAX_AGE_MS = 400_000",
        ("tests/unit/chatbot",),
        "a stale timeEpoch taken as the arrival",
    ),
    Mutant(
        "lambdas/chatbot/arrival.py",
        "max(0, now_ms - epoch) / 1000.0",
        "max(0, now_ms - epoch) / 100.0",
        CHAT_TESTS,
        "arrival in the wrong unit",
    ),
    Mutant(
        "lambdas/chatbot/arrival.py",
        "return RequestTiming(arrived, LATENCY_FROM_ARRIVAL, stamp)",
        "return RequestTiming(handler_started, LATENCY_FROM_ARRIVAL, stamp)",
        CHAT_TESTS,
        "latency from the handler although the arrival is known",
    ),
    Mutant(
        "lambdas/chatbot/service.py",
        '(429, "throttled") if failure.throttled',
        '(503, "throttled") if failure.throttled',
        CHAT_TESTS,
        "throttling answered 503",
    ),
    Mutant(
        "lambdas/chatbot/token_metrics.py",
        "_add(mc.CACHED_RESPONSES, 1 if record.cached else 0)",
        "_add(mc.CACHED_RESPONSES, 1 if record.cached else 0) if record.cached else None",
        CHAT_TESTS,
        "a live answer writes no CachedResponses 0 (hit rate over hits only)",
    ),
    Mutant(
        "lambdas/chatbot/token_metrics.py",
        "    elif not record.refused:\n        _add(mc.MODEL_ERRORS, 1)",
        "",
        CHAT_TESTS,
        "failures write no ModelErrors",
    ),
    Mutant(
        "lambdas/chatbot/token_metrics.py",
        "_add(mc.TRUNCATED_ANSWERS, 1 if is_truncated(record.stop_reason) else 0)",
        "_add(mc.TRUNCATED_ANSWERS, 1 if record.stop_reason == 'max_tokens' else 0)",
        DEADLINE_TESTS,
        "an answer cut at the deadline or the context window is not counted truncated",
    ),
    Mutant(
        "lambdas/chatbot/deadline.py",
        "if watch.deadline.allows_attempt(wait=delay):",
        "if True:",
        DEADLINE_TESTS,
        "a retry is started although its back-off ends past the deadline",
    ),
    Mutant(
        "lambdas/chatbot/deadline.py",
        'context["read_timeout"] = max(_SMALLEST_TIMEOUT, min(configured, watch.deadline.remaining()))',
        "pass",
        DEADLINE_TESTS,
        "an attempt waits for Bedrock's response past the deadline",
    ),
    Mutant(
        "lambdas/chatbot/service.py",
        "usage = live.usage or estimated_usage(request.message, request.system, live.text)",
        "usage = live.usage or estimated_usage(request.message, request.system, '')",
        DEADLINE_TESTS,
        "an answer stopped at the deadline is charged no output",
    ),
    Mutant(
        "lambdas/collectors/common/cloudwatch_writer.py",
        "MAX_FUTURE_MS = 2 * 3600 * 1000",
        "MAX_FUTURE_MS = 2 * 3600",
        WRITER_TESTS,
        "the 2 h future limit in seconds",
    ),
    Mutant(
        "lambdas/collectors/common/cloudwatch_writer.py",
        "MAX_DATUMS_PER_CALL = 1000",
        "MAX_DATUMS_PER_CALL = 1001",
        WRITER_TESTS,
        "one datum over PutMetricData's limit",
    ),
    Mutant(
        "lambdas/collectors/common/cloudwatch_writer.py",
        "MAX_AGE_MS = 14 * 24 * 3600 * 1000",
        "MAX_AGE_MS = 15 * 24 * 3600 * 1000",
        WRITER_TESTS,
        "datapoints CloudWatch rejects are sent",
    ),
    Mutant(
        "lambdas/shared/aws_clients.py",
        "return False if caught_exception is not None",
        "return None if caught_exception is not None",
        COLLECTOR_TESTS,
        "a lost PutMetricData answer is resent",
    ),
    Mutant(
        "lambdas/collectors/common/runner.py",
        "needed = call_seconds + self.reserve_seconds",
        "needed = call_seconds",
        COLLECTOR_TESTS,
        "the time reserve ignored",
    ),
    Mutant(
        "lambdas/collectors/common/checkpoints.py",
        "            if not (now.version == new_version and now.pending and now.pending.run_id == run_id):\n"
        "                raise",
        "            raise",
        COLLECTOR_TESTS,
        "a claim whose answer was lost is given up",
    ),
    Mutant(
        "lambdas/collectors/common/runner.py",
        'if s["failed"] > 0 and s["ok"] + s["partial"] == 0:',
        'if s["failed"] > 0 and s["ok"] == 0:',
        COLLECTOR_TESTS,
        "partly published series counted as all failed",
    ),
    Mutant(
        "lambdas/collectors/flashback.py",
        "if value < last:",
        "if value <= last:",
        COLLECTOR_TESTS,
        "an unchanged total taken as a reset",
    ),
    Mutant(
        "lambdas/collectors/flashback.py",
        "if last is None:",
        "if not last:",
        COLLECTOR_TESTS,
        "a total of 0 taken as first sight",
    ),
    Mutant(
        "infra/constructs/alarms.py",
        "            datapoints=2,",
        "            datapoints=1,",
        ALARM_TESTS,
        "an alarm fires on one datapoint instead of 2 of 2",
    ),
    Mutant(
        "tools/cloudwatch_retention.py",
        "(timedelta(days=15), 300),",
        "(timedelta(days=16), 300),",
        ("tests/unit/tools",),
        "1-minute periods asked for 15-16 days back",
    ),
    Mutant(
        "offline/alarm_eval.py",
        '"ignore"',
        '"notBreaching"',
        ALARM_TESTS,
        "missing data 'ignore' evaluated as not breaching",
    ),
)


def _run(mutant: Mutant) -> tuple[bool, float]:
    path = ROOT / mutant.path
    original = path.read_text()
    if original.count(mutant.old) < 1:
        raise SystemExit(f"{mutant.path}: the text to mutate is gone, update the sample: {mutant.old!r}")
    started = time.monotonic()
    try:
        path.write_text(original.replace(mutant.old, mutant.new, 1))
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *mutant.tests],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        path.write_text(original)
    return result.returncode != 0, time.monotonic() - started


def main(argv: list[str]) -> int:
    chosen = [int(arg) for arg in argv] or list(range(1, len(MUTANTS) + 1))
    killed = 0
    for number in chosen:
        mutant = MUTANTS[number - 1]
        dead, seconds = _run(mutant)
        killed += dead
        verdict = "killed" if dead else "SURVIVED"
        print(f"{number:>2} {verdict:<8} {seconds:5.0f}s  {mutant.path}: {mutant.why}", flush=True)
    print(f"kill rate: {killed}/{len(chosen)} = {killed / len(chosen):.0%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
