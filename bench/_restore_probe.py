"""Run in a fresh interpreter by `bench.first_request`: the chatbot's first request against its later ones.

Usage: python bench/_restore_probe.py <result.json> <snapstart|fresh> <requests>
Imports the handler (timed); with `snapstart`, then runs the hooks as Lambda does around a snapshot
(`shared.runtime_hooks`: before-snapshot, then after-restore: the local stand-in for an execution
environment restored from a snapshot); then answers `requests` live questions (distinct messages, so no
cache hit; a caller with limits, so every answer is metered), each timed in wall and CPU time. Writes
{"import_s", "hooks_s", "wall": [...], "cpu": [...], "statuses": [...]} to <result.json>. The environment
(endpoints, tables, limits) comes from the parent; stdout belongs to the handler (EMF and logs).
"""

import json
import sys
import time

CALLER = "arn:aws:iam::123456789012:user/bench-restore"


def main() -> None:
    out, mode, requests = sys.argv[1], sys.argv[2], int(sys.argv[3])
    started = time.perf_counter()
    from chatbot import chatbot_handler

    result: dict[str, object] = {"import_s": time.perf_counter() - started, "hooks_s": 0.0}
    from shared import runtime_hooks
    from tests.support import FakeLambdaContext, http_api_event

    if mode == "snapstart":
        started = time.perf_counter()
        runtime_hooks.run_before_snapshot()
        runtime_hooks.run_after_restore()
        result["hooks_s"] = time.perf_counter() - started
    wall, cpu, statuses = [], [], []
    run = time.time_ns()
    for index in range(requests):
        event = http_api_event({"message": f"Restore probe {run} question {index}?"}, caller=CALLER)
        started, cpu_started = time.perf_counter(), time.process_time()
        response = chatbot_handler.handler(event, FakeLambdaContext())
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - cpu_started)
        statuses.append(response["statusCode"])
    result.update(wall=wall, cpu=cpu, statuses=statuses)
    with open(out, "w") as handle:
        json.dump(result, handle)


if __name__ == "__main__":
    main()
