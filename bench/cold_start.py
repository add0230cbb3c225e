"""Part 3: cold start. Importing each Lambda module in a fresh interpreter vs a bare `import boto3`.

Each probe is a new `python bench/_probe.py <module>` process with a Lambda-like environment:
`LAMBDA_TASK_ROOT` set (the X-Ray SDK then takes its Lambda path instead of building a botocore client
for centralized sampling), tracing NOT disabled (the stack deploys with active tracing, so Powertools'
Tracer patches botocore at import, as in production), and a trace header for the one
invocation. The timed figure is the import itself (perf_counter around `import_module` inside the
probe); the process wall time (interpreter start + import + exit) is shown in the notes.

`python -X importtime` of the chatbot module explains where the time goes: the cumulative import time of
each module the handler imports directly (the first importer of a shared dependency pays for it).
Peak memory: the peak RSS (Linux VmHWM; see `_probe.peak_rss_kb` for why not ru_maxrss) of a probe
that imports the handler and answers one request (cache miss: GetItem,
ConverseStream, PutItem, EMF) against moto and the loopback Bedrock. The first answer of a new environment,
restored from a SnapStart snapshot or fresh, against a warm one: `bench.first_request`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from typing import Any

from bench.env import bench_environment
from bench.report import Figure, PartResult, Table
from bench.stats import fmt_seconds, median
from offline.environment import LAMBDAS, REPO

PROBE = REPO / "bench" / "_probe.py"
TARGET_RATIO = 1.3
RSS_SHARE_LIMIT = 0.5  # "well under the configured memory": at most half of it

MODULES = {
    "chatbot": "chatbot.chatbot_handler",
    "launchdarkly collector": "collectors.launchdarkly_collector",
    "perf collector": "collectors.perf_collector",
    "flashback collector": "collectors.flashback_collector",
}

LABELS = {
    "shared.aws_clients": "botocore (first imported by shared.aws_clients)",
    "chatbot.snapshot": "chatbot.snapshot, the SnapStart hooks (first importer of botocore)",
    "aws_lambda_powertools.utilities.parser": (
        "Powertools Parser (event model) + pydantic's first model build"
    ),
    "aws_lambda_powertools.event_handler": "Powertools event handler (also imports AppSync, asyncio)",
    "aws_lambda_powertools": "Powertools Logger/Tracer/Metrics",
    "aws_xray_sdk.core": "X-Ray SDK recorder (Tracer)",
    "requests.exceptions": "requests (X-Ray patch_all patches it: this venv has it as a dev dependency)",
    "chatbot.service": "chatbot.service (+ bedrock, cache, token_metrics, catalogue)",
    "chatbot.request": "chatbot.request (pydantic request model)",
}


def lambda_environment(memory_mb: int, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AWS_", "POWERTOOLS_", "LAMBDA_", "_X_AMZN"))
    }
    env.update(bench_environment())
    env.pop("POWERTOOLS_TRACE_DISABLED", None)  # deployed with active tracing
    env.update(
        {
            "PYTHONPATH": os.pathsep.join([str(LAMBDAS), str(REPO)]),
            "LAMBDA_TASK_ROOT": str(LAMBDAS),
            "AWS_LAMBDA_FUNCTION_NAME": "chatbot",
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory_mb),
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.14",
            "_X_AMZN_TRACE_ID": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
            "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR",
        }
    )
    env.update(extra or {})
    return env


@dataclass(slots=True)
class Probe:
    import_s: float
    wall_s: float
    data: dict[str, Any]


def probe(module: str, env: dict[str, str], *, invoke: bool = False, importtime: bool = False) -> Probe:
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "result.json")
        flags = ["-X", "importtime"] if importtime else []
        args = [sys.executable, *flags, str(PROBE), module, out] + (["invoke"] if invoke else [])
        started = time.perf_counter()
        completed = subprocess.run(args, env=env, cwd=str(REPO), capture_output=True, text=True, timeout=120)
        wall = time.perf_counter() - started
        if completed.returncode != 0 or not os.path.exists(out):
            tail = (completed.stderr or completed.stdout)[-2000:]
            raise RuntimeError(f"probe of {module} failed (exit {completed.returncode}): {tail}")
        with open(out) as handle:
            data = json.load(handle)
        if importtime:
            data["importtime"] = completed.stderr
        return Probe(float(data["import_s"]), wall, data)


def importable(module: str, env: dict[str, str]) -> str | None:
    """None if `module` imports in a fresh interpreter, else the reason."""
    try:
        probe(module, env)
    except (RuntimeError, subprocess.TimeoutExpired) as exc:
        return str(exc).strip().splitlines()[-1][:200]
    return None


def parse_importtime(stderr: str, target: str) -> tuple[list[tuple[str, float]], float, float]:
    """(direct imports of `target` with their cumulative seconds, target's self seconds, cumulative)."""
    rows: list[tuple[int, str, float, float]] = []
    for line in stderr.splitlines():
        if not line.startswith("import time:"):
            continue
        parts = line[len("import time:") :].split("|")
        if len(parts) != 3 or not parts[0].strip().isdigit():
            continue  # the header line, or something else on stderr
        raw_name = parts[2].rstrip()
        depth = (len(raw_name) - len(raw_name.lstrip(" ")) - 1) // 2
        rows.append((depth, raw_name.strip(), int(parts[0]) / 1e6, int(parts[1]) / 1e6))
    for index, (depth, name, self_s, cumulative_s) in enumerate(rows):
        if depth == 0 and name == target:
            children: list[tuple[str, float]] = []
            back = index - 1
            while back >= 0 and rows[back][0] > 0:
                if rows[back][0] == 1:
                    children.append((rows[back][1], rows[back][3]))
                back -= 1
            return sorted(children, key=lambda c: -c[1]), self_s, cumulative_s
    raise ValueError(f"{target} is not in the importtime output")


def configured_memory() -> tuple[int, int, str]:
    """(chatbot MB, collector MB, where from): the infra config defaults, else 512/256 MB."""
    try:
        from infra.config import load_config

        config = load_config(None)
        return config.chatbot.memory_mb, config.collectors.launchdarkly.memory_mb, "infra.config defaults"
    except Exception as exc:  # infra is built by another issue: fall back, and say so
        return 512, 256, f"assumed (infra.config unavailable: {type(exc).__name__})"


def run(moto_endpoint: str, bedrock_endpoint: str, *, repeats: int = 5) -> PartResult:
    chatbot_mb, collector_mb, memory_source = configured_memory()
    env = lambda_environment(chatbot_mb)
    modules = {"boto3": "boto3"}
    skipped: dict[str, str] = {}
    for label, module in MODULES.items():
        reason = importable(module, env)  # doubles as the warm-up run (page cache, .pyc)
        if reason is None:
            modules[label] = module
        else:
            skipped[label] = reason
    probe("boto3", env)

    samples: dict[str, list[Probe]] = {label: [] for label in modules}
    for _ in range(repeats):  # interleaved rounds
        for label, module in modules.items():
            samples[label].append(probe(module, env))

    boto3_import = median([p.import_s for p in samples["boto3"]])
    boto3_wall = median([p.wall_s for p in samples["boto3"]])
    boto3_rss = median([p.data["rss_after_import_kb"] for p in samples["boto3"]]) / 1024
    figures: list[Figure] = []
    for label in modules:
        if label == "boto3":
            continue
        imp = median([p.import_s for p in samples[label]])
        wall = median([p.wall_s for p in samples[label]])
        rss = median([p.data["rss_after_import_kb"] for p in samples[label]]) / 1024
        ratio = imp / boto3_import
        figure = Figure(
            "3 cold start",
            f"import {modules[label]}",
            "import boto3",
            boto3_import,
            imp,
            target="<= 1.3x",
            met=ratio <= TARGET_RATIO,
            note=(
                f"process wall {fmt_seconds(wall)} vs {fmt_seconds(boto3_wall)} ({wall / boto3_wall:.2f}x); "
                f"RSS after import {rss:.0f} MB vs {boto3_rss:.0f} MB; median of {repeats} fresh interpreters"
            ),
        )
        figures.append(figure)

    tables: list[Table] = []
    data: dict[str, Any] = {"skipped": skipped}
    if "chatbot" in modules:
        explained = probe(MODULES["chatbot"], env, importtime=True)
        children, self_s, cumulative_s = parse_importtime(explained.data["importtime"], MODULES["chatbot"])
        table = Table(
            "3 cold start: where importing chatbot.chatbot_handler goes (python -X importtime, one run)",
            ["direct import of the handler", "cumulative", "share"],
        )
        shown = 0.0
        for name, seconds in children[:9]:
            table.rows.append([LABELS.get(name, name), fmt_seconds(seconds), f"{seconds / cumulative_s:.0%}"])
            shown += seconds
        rest = cumulative_s - shown - self_s
        table.rows.append(
            ["the handler module's own body", fmt_seconds(self_s), f"{self_s / cumulative_s:.0%}"]
        )
        table.rows.append(["everything else", fmt_seconds(rest), f"{rest / cumulative_s:.0%}"])
        table.rows.append(["total (importtime inflates absolute times)", fmt_seconds(cumulative_s), "100%"])
        table.notes.append(
            "the first module to import a shared dependency pays for it: boto3's share shows under "
            "shared.aws_clients, pydantic's machinery under the Parser"
        )
        tables.append(table)
        data["importtime_children"] = children

        # Peak memory of one invocation (cache miss: GetItem, ConverseStream, PutItem, EMF).
        invoke_env = lambda_environment(
            chatbot_mb,
            {"AWS_ENDPOINT_URL": moto_endpoint, "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": bedrock_endpoint},
        )
        invoked = probe(MODULES["chatbot"], invoke_env, invoke=True)
        if invoked.data.get("status") != 200:
            raise RuntimeError(f"the RSS probe's request answered {invoked.data.get('status')}")
        peak_mb = float(invoked.data["maxrss_kb"]) / 1024
        share = peak_mb / chatbot_mb
        figures.append(
            Figure(
                "3 cold start",
                "peak RSS, import + one invocation (chatbot)",
                f"configured memory ({memory_source})",
                float(chatbot_mb),
                peak_mb,
                unit="MB",
                target="well under (<= 50%)",
                met=share <= RSS_SHARE_LIMIT,
                note=(
                    f"{share:.0%} of {chatbot_mb} MB; a bare `import boto3` process peaks at "
                    f"{boto3_rss:.0f} MB; first invocation took {fmt_seconds(invoked.data['invoke_s'])} "
                    "(new clients, connections)"
                ),
            )
        )
        data["chatbot_peak_mb"] = peak_mb

        # The first answer of a new environment, restored from a snapshot or fresh (bench.first_request).
        from bench import first_request

        restore_env = first_request.environment(chatbot_mb, moto_endpoint, bedrock_endpoint)
        restore_figures, data["first_request"] = first_request.figures(restore_env, repeats)
        figures.extend(restore_figures)
    data["collector_memory_mb"] = collector_mb
    for label, reason in skipped.items():
        figures.append(
            Figure(
                "3 cold start",
                f"import {MODULES[label]}",
                "import boto3",
                boto3_import,
                None,
                target="<= 1.3x",
                met=None,
                note=f"not importable yet: {reason}",
            )
        )
    for figure in figures:
        if figure.met is not False or figure.unit != "s":
            continue
        if figure.name.endswith(MODULES["chatbot"]):
            figure.miss = (
                "the handler needs botocore plus Powertools (Tracer with active tracing patches botocore, "
                "the event handler also loads AppSync and asyncio, the Parser loads its event models) and "
                "pydantic: together more than boto3 itself (see the importtime breakdown), all used by the "
                "first request (the resolver does not reject what it cannot route, so the event model "
                "stays). With SnapStart (chatbot.snap_start, on by default) a new environment does not "
                "import: it resumes from the snapshot, and its first answer is the figure 'first answer "
                "after the SnapStart hooks' below"
            )
        elif figure.name.startswith("import collectors."):
            figure.miss = (
                f"{figure.ratio:.2f}x: on top of boto3 the collector imports Powertools (Logger, and "
                "Parameters for the token, with jmespath), urllib3's pool manager and the metric catalogue, "
                "all used by every run. SnapStart would take it out of most runs (a 15-minute schedule "
                "starts cold), at a snapshot cache charge per collector (part 5's SnapStart table prices "
                "it): a scheduled run waits for nobody, so the collectors stay without; no cheap code change"
            )
    return PartResult(figures=figures, tables=tables, data=data)
