"""The fault matrix: one function per fault, each returning what it measured (an `Outcome`).

Each scenario runs the real handlers in a clean `Case` (moto + loopback fakes, see `lab.py`), injects
one fault, lets the system recover the way production would (the schedule's next tick, its retry of the
same event, a new container), then reads CloudWatch back and compares it with the fakes' ground truth:

- `lost`: a datapoint the truth has and CloudWatch does not (or holds with another value);
- `double`: every extra sample of a (metric, dimensions, minute) beyond the first. Flashback's truth is a
  cumulative growth, so there a (id, field) whose CloudWatch sum exceeds the fake's growth is double
  counted, and one whose sum falls short is lost;
- `bound`: the duplicates the documented guarantee allows for this case (a run killed, or a commit lost,
  between publishing and committing: that run's batch, see `collectors/common/checkpoints.py`);
- `checks`: expectations that failed (health metrics that do not say what happened, a run that should have
  raised and did not, a fault that never fired, a cache that kept a failed answer).

Truths: LaunchDarkly `expected_ai_config_metrics` per window and `expected_usage` per day; Perf
`daily_entry` per day plus, for the ~100 gauge series, a fault-free reference run of the same tick
(anchored on seed values); Flashback `totals` growth; the chatbot, the fake Bedrock's scripted usage and
the answers the client got. `test_fault_matrix.py` asserts every outcome is clean; `make reliability`
prints them.

Layout: `harness.py` (the `Outcome`, the `Harness` and `scenario()`), one module per component
(`launchdarkly.py`, `perf.py`, `flashback.py`, `chat.py`) with its truth and its faults, and the registry
below, in the order the matrix runs and prints.
"""

from __future__ import annotations

from collections.abc import Callable

from tests.reliability.lab import Lab
from tests.reliability.scenarios.chat import (
    chat_bedrock_throttled,
    chat_bedrock_throttled_once,
    chat_cache_throttled,
    chat_cache_unreachable,
    chat_connection_dropped,
    chat_mid_stream_error,
    chat_read_timeout,
)
from tests.reliability.scenarios.flashback import (
    fb_429_retry_after,
    fb_500,
    fb_503_whole_run,
    fb_auth_failure,
    fb_grow,
    fb_killed_before_commit,
    fb_malformed,
    fb_non_numeric,
    fb_put_metric_data_fails_mid_series,
    fb_redelivered_event,
    fb_runs_at_once,
    fb_setup,
    fb_timeout,
)
from tests.reliability.scenarios.harness import Harness, Invocation, Outcome, scenario
from tests.reliability.scenarios.launchdarkly import (
    ld_429_retry_after,
    ld_500_transient,
    ld_503_whole_run,
    ld_auth_failure,
    ld_checkpoint_throttled,
    ld_commit_fails_after_publish,
    ld_killed_before_commit,
    ld_malformed,
    ld_put_metric_data_fails_mid_series,
    ld_put_metric_data_throttled,
    ld_redelivered_event,
    ld_runs_at_once,
    ld_timeout,
    ld_window_fails_midway,
)
from tests.reliability.scenarios.perf import (
    perf_429_retry_after,
    perf_500_one_endpoint,
    perf_503_whole_run,
    perf_auth_failure,
    perf_killed_before_commit,
    perf_malformed,
    perf_put_metric_data_fails,
    perf_redelivered_event,
    perf_timeout,
)

__all__ = ["SCENARIOS", "Harness", "Invocation", "Outcome", "fb_grow", "fb_setup", "scenario"]

# --- the registry -----------------------------------------------------------------------------------
SCENARIOS: dict[str, Callable[[Lab], Outcome]] = {
    fn.__name__: fn
    for fn in (
        chat_cache_unreachable,
        chat_cache_throttled,
        chat_bedrock_throttled_once,
        chat_bedrock_throttled,
        chat_mid_stream_error,
        chat_connection_dropped,
        chat_read_timeout,
        ld_redelivered_event,
        ld_429_retry_after,
        ld_500_transient,
        ld_503_whole_run,
        ld_timeout,
        ld_malformed,
        ld_auth_failure,
        ld_window_fails_midway,
        perf_redelivered_event,
        perf_429_retry_after,
        perf_503_whole_run,
        perf_500_one_endpoint,
        perf_timeout,
        perf_malformed,
        perf_auth_failure,
        fb_redelivered_event,
        fb_429_retry_after,
        fb_500,
        fb_503_whole_run,
        fb_timeout,
        fb_malformed,
        fb_auth_failure,
        fb_non_numeric,
        ld_put_metric_data_throttled,
        ld_put_metric_data_fails_mid_series,
        perf_put_metric_data_fails,
        fb_put_metric_data_fails_mid_series,
        ld_runs_at_once,
        fb_runs_at_once,
        ld_checkpoint_throttled,
        ld_commit_fails_after_publish,
        ld_killed_before_commit,
        perf_killed_before_commit,
        fb_killed_before_commit,
    )
}
