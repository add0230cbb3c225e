"""`python -m bench` (`make bench`): run every part, print every figure with its baseline and ratio.

Parts: 1 EMF vs PutMetricData, 2 the chatbot's hot path, 3 cold start and memory, 4 collector scale,
5 the monitoring's own cost, 6 callers' limits (metering's round trips and memory). Everything runs
locally: moto's server and the loopback Bedrock and vendor fakes on 127.0.0.1; no AWS account.
Benchmarks report and exit 0 even when a target is missed (they are not tests); a part that cannot run
prints why and the others still run (exit 1 then).

`--write-docs` rewrites only the section of docs/benchmarks.md between `<!-- bench -->` and `<!-- /bench -->`.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.env import apply_environment
from bench.report import (
    Figure,
    PartResult,
    Table,
    figures_table,
    render_markdown,
    render_text,
    update_docs_page,
)
from offline.environment import REPO

PARTS = ("emf", "hot", "cold", "collectors", "cost", "limits")
COMMAND = "make bench"


def _say(text: str = "") -> None:
    print(text, flush=True)


class Runner:
    def __init__(self, quick: bool) -> None:
        self.quick = quick
        self.results: dict[str, PartResult] = {}
        self.errors: dict[str, str] = {}
        self.durations: dict[str, float] = {}

    def part(self, name: str, title: str, fn: Callable[[], PartResult]) -> None:
        _say(f"\n>>> part {title}")
        started = time.perf_counter()
        try:
            result = fn()
        except Exception as exc:
            self.errors[name] = f"{type(exc).__name__}: {exc}"
            _say(f"!!! part {title} could not run: {self.errors[name]}")
            traceback.print_exc(file=sys.stderr)
            return
        finally:
            self.durations[name] = time.perf_counter() - started
        self.results[name] = result
        _say(render_text(figures_table(title, result.figures)))
        for table in result.tables:
            _say()
            _say(render_text(table))
        _say(f"(part {title}: {self.durations[name]:.0f} s)")

    @property
    def figures(self) -> list[Figure]:
        return [f for r in self.results.values() for f in r.figures]

    @property
    def tables(self) -> list[Table]:
        return [t for r in self.results.values() for t in r.tables]


def _missed(figures: list[Figure]) -> list[str]:
    return [
        f"**{f.part}, {f.name}**: {f.miss or f.note or 'see the table'}" for f in figures if f.met is False
    ]


def _markdown(runner: Runner, elapsed: float, argv: list[str]) -> str:
    machine = f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}"
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    command = f"`{COMMAND}`" + (f" (here `python -m bench {' '.join(argv)}`)" if argv else "")
    lines = [
        f"Latest figures: {command} on {when}, {machine}, {elapsed / 60:.1f} min. Every timed figure "
        "is the median of several repeats, next to a baseline measured in the same run (absolute times "
        "drift on a shared machine; the ratios are what to compare). Everything runs on 127.0.0.1 "
        "(moto's server, the loopback Bedrock and vendor fakes): no AWS account. Benchmarks report; they "
        "never fail `make test`. Refresh this section with `.venv/bin/python -m bench --write-docs`; "
        "run one part with `--parts emf|hot|cold|collectors|cost|limits` (comma list), a smoke run with "
        "`--quick`; "
        "the import breakdown comes from `python -X importtime bench/_probe.py chatbot.chatbot_handler "
        "/tmp/out.json` (PYTHONPATH=lambdas:., LAMBDA_TASK_ROOT set).",
        "",
        render_markdown(figures_table("Figures", runner.figures)),
    ]
    for table in runner.tables:
        lines += ["", render_markdown(table)]
    missed = _missed(runner.figures)
    lines += ["", "#### Missed targets: reason and next step", ""]
    lines += [f"- {item}" for item in missed] or ["- none"]
    if runner.errors:
        lines += ["", "#### Parts that could not run", ""]
        lines += [f"- {name}: {error}" for name, error in runner.errors.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--parts", default=",".join(PARTS), help=f"comma list of {', '.join(PARTS)}")
    parser.add_argument("--quick", action="store_true", help="fewer repeats and smaller sizes (a smoke run)")
    parser.add_argument("--write-docs", action="store_true", help="rewrite docs/benchmarks.md's figures")
    parser.add_argument("--out", default=str(REPO / "out" / "bench"), help="where results.md is written")
    args_list = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(args_list)
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    unknown = sorted(set(parts) - set(PARTS))
    if unknown:
        parser.error(f"unknown parts {unknown}; known: {', '.join(PARTS)}")

    apply_environment()  # before any product module is imported
    from tests.fakes.bedrock_server import FakeBedrock
    from tests.fakes.moto_server import MotoServer

    started = time.perf_counter()
    runner = Runner(args.quick)
    repeats = 3 if args.quick else 5
    with MotoServer() as moto, FakeBedrock() as bedrock:
        os.environ["AWS_ENDPOINT_URL"] = moto.endpoint
        os.environ["AWS_ENDPOINT_URL_BEDROCK_RUNTIME"] = bedrock.endpoint
        _say(
            f"bench: moto on {moto.endpoint}, loopback Bedrock on {bedrock.endpoint}; "
            f"parts: {', '.join(parts)}"
        )

        if "emf" in parts:
            from bench import emf

            calls = (500, 20) if args.quick else (2000, 60)
            runner.part(
                "emf",
                "1: EMF vs PutMetricData",
                lambda: emf.run(repeats=repeats, emf_calls=calls[0], pmd_calls=calls[1]),
            )
        if "hot" in parts:
            from bench import hot_path

            runner.part(
                "hot",
                "2: the chatbot's hot path",
                lambda: hot_path.run(moto.endpoint, repeats=repeats, calls=15 if args.quick else 30),
            )
        if "cold" in parts:
            from bench import cold_start

            runner.part(
                "cold",
                "3: cold start and memory",
                lambda: cold_start.run(moto.endpoint, bedrock.endpoint, repeats=repeats),
            )
        if "collectors" in parts:
            from bench import collector_scale

            sizes = (10, 20, 50) if args.quick else (50, 100, 250, 500)
            ids = 10 if args.quick else 50
            runner.part(
                "collectors",
                "4: collector scale",
                lambda: collector_scale.run(moto, sizes=sizes, flashback_ids=ids, freshness=not args.quick),
            )
        if "cost" in parts:
            from bench import cost, cost_snapstart

            def cost_part() -> PartResult:
                observed = cost.Observed()
                scale = runner.results.get("collectors")
                if scale is not None:
                    observed = cost.Observed(
                        perf_series=dict(scale.data["perf_series"]),  # type: ignore[call-overload]
                        usage_series=dict(scale.data["usage_series"]),  # type: ignore[call-overload]
                        rates={**cost.ASSUMED, **scale.data["rates"]},  # type: ignore[dict-item]
                        source="measured by part 4 (collectors against the loopback fakes' data)",
                    )
                emf_result = runner.results.get("emf")
                emf_bytes: Any = emf_result.data["emf_bytes"] if emf_result else 740.0
                result = cost.run(emf_bytes=float(emf_bytes), observed=observed)
                cold = runner.results.get("cold")
                return cost_snapstart.extend(result, cold.data.get("first_request") if cold else None)

            runner.part("cost", "5: the monitoring's own cost", cost_part)
        if "limits" in parts:
            from bench import limits

            runner.part(
                "limits",
                "6: callers' limits",
                lambda: limits.run(
                    moto.endpoint,
                    bedrock,
                    repeats=repeats,
                    calls=15 if args.quick else 30,
                    callers=200 if args.quick else 1000,
                ),
            )

    elapsed = time.perf_counter() - started
    _say()
    _say(
        render_text(
            figures_table(f"Summary: every figure ({COMMAND}, {elapsed / 60:.1f} min)", runner.figures)
        )
    )
    missed = _missed(runner.figures)
    _say("\nMissed targets: reason and next step")
    for item in missed or ["none"]:
        _say(f"  - {item.replace('**', '')}")
    for name, error in runner.errors.items():
        _say(f"  ! part {name} did not run: {error}")

    markdown = _markdown(runner, elapsed, args_list)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.md").write_text(markdown + "\n")
    _say(f"\nMarkdown for docs/benchmarks.md: {out / 'results.md'}")
    if args.write_docs:
        update_docs_page(REPO / "docs" / "benchmarks.md", markdown)
        _say("docs/benchmarks.md: the bench section was rewritten")
    return 1 if runner.errors else 0


if __name__ == "__main__":
    sys.exit(main())
