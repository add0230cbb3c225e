"""Part 3 (continued): the first answer of a new execution environment, with and without SnapStart.

Each probe is a fresh interpreter (`bench/_restore_probe.py`) with the deployed shape of the chatbot: the
Lambda-like environment of part 3 (active tracing), a response cache and a usage table on moto, a default
limit for every caller (every live answer is metered), the loopback Bedrock. It answers
`REQUESTS` live questions in a row:
- SnapStart: the hooks run first, as Lambda runs them around a snapshot (before-snapshot, after-restore):
  the local stand-in for an environment restored from a snapshot. The figure is its first answer against
  its warm answers (target 1.3 or less);
- without SnapStart: the first answer of a fresh process (after its import) against its warm answers.
Warm: the median of answers 3 to REQUESTS of the same process (the second still settles one-time state of
moto's usage items); each figure is the median over twice part 3's repeats of processes. The wall time
includes moto's and the fake model's own time (as a real answer includes DynamoDB's and Bedrock's); the
CPU time of the handler's process (in the note) is the part the code itself controls. A restored
environment also opens new connections and fetches credentials on its first answer, as the probe's does:
on 127.0.0.1 both cost little (moto starts a thread per connection), against AWS each TLS handshake adds
tens of milliseconds that no snapshot can keep.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from typing import Any

from bench.cold_start import lambda_environment
from bench.env import CACHE_TABLE
from bench.limits import LIMITS, USAGE_TABLE, create_usage_table
from bench.report import Figure
from bench.stats import fmt_seconds, median
from offline.environment import REGION, REPO, create_cache_table

PROBE = REPO / "bench" / "_restore_probe.py"
REQUESTS = 8
WARM_FROM = 2  # answers [WARM_FROM:] are the warm ones
TARGET_RATIO = 1.3


@dataclass(frozen=True, slots=True)
class Run:
    import_s: float
    hooks_s: float
    first_wall: float
    warm_wall: float
    first_cpu: float
    warm_cpu: float


def _probe(mode: str, env: dict[str, str]) -> Run:
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "result.json")
        args = [sys.executable, str(PROBE), out, mode, str(REQUESTS)]
        completed = subprocess.run(args, env=env, cwd=str(REPO), capture_output=True, text=True, timeout=180)
        if completed.returncode != 0 or not os.path.exists(out):
            tail = (completed.stderr or completed.stdout)[-2000:]
            raise RuntimeError(f"restore probe ({mode}) failed (exit {completed.returncode}): {tail}")
        with open(out) as handle:
            data: dict[str, Any] = json.load(handle)
    if any(status != 200 for status in data["statuses"]):
        raise RuntimeError(f"restore probe ({mode}) answered {data['statuses']}")
    return Run(
        float(data["import_s"]),
        float(data["hooks_s"]),
        data["wall"][0],
        median(data["wall"][WARM_FROM:]),
        data["cpu"][0],
        median(data["cpu"][WARM_FROM:]),
    )


def environment(memory_mb: int, moto_endpoint: str, bedrock_endpoint: str) -> dict[str, str]:
    """The probes' variables: part 3's Lambda-like environment plus the deployed tables and limits."""
    import boto3

    dynamodb = boto3.client("dynamodb", endpoint_url=moto_endpoint, region_name=REGION)
    create_cache_table(dynamodb, CACHE_TABLE)
    create_usage_table(moto_endpoint)
    return lambda_environment(
        memory_mb,
        {
            "AWS_ENDPOINT_URL": moto_endpoint,
            "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": bedrock_endpoint,
            "USAGE_TABLE_NAME": USAGE_TABLE,
            "CALLER_LIMITS": json.dumps(LIMITS),
        },
    )


def figures(env: dict[str, str], repeats: int) -> tuple[list[Figure], dict[str, Any]]:
    """Twice part 3's repeats: each process gives one first answer, the noisiest sample of the part."""
    _probe("fresh", env)  # warm-up run (page cache, .pyc)
    runs: dict[str, list[Run]] = {"snapstart": [], "fresh": []}
    repeats *= 2
    for _ in range(repeats):  # interleaved
        for mode, found in runs.items():
            found.append(_probe(mode, env))
    out: list[Figure] = []
    data: dict[str, Any] = {}
    for mode, label in (("snapstart", "after the SnapStart hooks"), ("fresh", "of a fresh process")):
        found = runs[mode]
        first, warm = median([r.first_wall for r in found]), median([r.warm_wall for r in found])
        first_cpu, warm_cpu = median([r.first_cpu for r in found]), median([r.warm_cpu for r in found])
        imported = median([r.import_s for r in found])
        note = (
            f"CPU time of the handler's process: first {fmt_seconds(first_cpu)} vs warm "
            f"{fmt_seconds(warm_cpu)} ({first_cpu / warm_cpu:.2f}x); median of {repeats} processes, "
            f"warm = answers {WARM_FROM + 1}-{REQUESTS} of each"
        )
        if mode == "snapstart":
            hooks = median([r.hooks_s for r in found])
            note += f"; the hooks took {fmt_seconds(hooks)} before the snapshot (paid once per deploy)"
        else:
            cold = imported + first
            note += (
                f"; with its import ({fmt_seconds(imported)}) a new environment answers in "
                f"{fmt_seconds(cold)} = {cold / warm:.1f}x a warm answer"
            )
        ratio = first / warm
        out.append(
            Figure(
                "3 cold start",
                f"first answer {label} (chatbot)",
                "warm answer",
                warm,
                first,
                target=f"<= {TARGET_RATIO}x" if mode == "snapstart" else "report",
                met=ratio <= TARGET_RATIO if mode == "snapstart" else None,
                note=note,
            )
        )
        data[mode] = {"first_s": first, "warm_s": warm, "first_cpu_s": first_cpu, "warm_cpu_s": warm_cpu,
                      "import_s": imported}  # fmt: skip
    if out[0].met is False:
        out[0].miss = (
            "what the first answer after a restore still does that a warm one does not: the profile of "
            "bench/_restore_probe.py's first request names it; credentials and connections stay per copy"
        )
    return out, data
