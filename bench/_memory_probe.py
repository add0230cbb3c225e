"""Run in a fresh interpreter by `bench.limits`: memory the chatbot keeps per distinct caller.

Usage: python bench/_memory_probe.py <result.json> <callers>
The environment names the usage table, the limits and the endpoints (moto, the loopback Bedrock) of the
parent. Imports the handler, answers 100 live requests of distinct callers (warm-up: first-use caches,
connection pools, the background read's threads), then two runs of `callers` more distinct callers
under tracemalloc, with a snapshot after each. Per caller is the growth between the two snapshots
divided by `callers`: what the last request leaves referenced (its event, its response) is in both, so
only what accumulates per caller remains. Writes {"bytes_per_caller", "first_run_bytes", "top": [...],
"statuses": {...}} to <result.json>. Only this process is traced: moto and the fakes run in the parent.
Stdout belongs to the handler (EMF and logs).
"""

import gc
import json
import sys
import tracemalloc
import uuid
from collections import Counter


def main() -> None:
    out, callers = sys.argv[1], int(sys.argv[2])
    from chatbot import chatbot_handler
    from tests.support import FakeLambdaContext, http_api_event

    run = uuid.uuid4().hex[:6]
    context = FakeLambdaContext()
    statuses: Counter[int] = Counter()

    def answer(index: int) -> None:
        caller = f"arn:aws:iam::123456789012:user/mem-{run}-{index}"
        event = http_api_event({"message": "How much memory does one caller cost?", "use_cache": False},
                               caller=caller)  # fmt: skip
        statuses[chatbot_handler.handler(event, context)["statusCode"]] += 1

    for index in range(100):
        answer(index)
    tracemalloc.start(25)
    ignore = [tracemalloc.Filter(False, tracemalloc.__file__)]
    snapshots = []
    for run_start in (100, 100 + callers, 100 + 2 * callers):
        gc.collect()
        snapshots.append(tracemalloc.take_snapshot().filter_traces(ignore))
        if len(snapshots) == 3:
            break
        for index in range(run_start, run_start + callers):
            answer(index)
    tracemalloc.stop()
    start, middle, end = snapshots
    stats = end.compare_to(middle, "traceback")
    grown = sorted((s for s in stats if s.size_diff > 0), key=lambda s: s.size_diff, reverse=True)[:3]
    result = {
        "bytes_per_caller": sum(stat.size_diff for stat in stats) / callers,
        "first_run_bytes": sum(stat.size_diff for stat in middle.compare_to(start, "filename")),
        "top": [
            f"{s.size_diff / callers:+.1f} B/caller at {s.traceback[-1].filename.rsplit('/', 2)[-1]}:"
            f"{s.traceback[-1].lineno}"
            for s in grown
        ],
        "statuses": dict(statuses),
    }
    with open(out, "w") as handle:
        json.dump(result, handle)


if __name__ == "__main__":
    main()
