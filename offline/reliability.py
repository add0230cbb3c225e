"""`make reliability`: run every property and every fault scenario, print what they measured.

Starts moto's server, the loopback Bedrock and the three vendor fakes on 127.0.0.1 (like `make demo`),
then runs exactly what `tests/reliability` runs:

- the property targets of `tests/reliability/properties/` (1000 generated inputs each): chat events,
  bodies and model/cache behaviours; LaunchDarkly, Perf and Flashback payloads through each collector's
  parsing and the CloudWatch writer's validation;
- the fault matrix of `tests/reliability/scenarios/`: vendor faults, PutMetricData and DynamoDB
  faults, runs at once, redelivered events, killed runs, cache and Bedrock failures, each read back from
  CloudWatch and compared with the fakes' ground truth.

Nothing in the table is typed in: every number is counted while the scenarios run. The exit status is 1
when anything crashed, was lost, was counted twice beyond the documented bound or failed a check.
Usage: `python -m offline.reliability [--examples N] [--only SUBSTRING]`.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "lambdas"))
sys.path.insert(0, str(ROOT))

COMPONENTS = ("chatbot", "launchdarkly", "perf", "flashback", "cloudwatch writer", "checkpoints")


@dataclass
class Row:
    inputs: int = 0
    faults: int = 0
    crashes: int = 0
    lost: int = 0
    double: int = 0  # beyond the documented bound
    bounded: int = 0  # repeats the documented bound allows (a run killed between publish and commit)
    checks: int = 0
    cases: list[str] = field(default_factory=list)


def _progress(text: str) -> None:
    print(text, file=sys.__stderr__, flush=True)


def run(examples: int, only: str) -> tuple[dict[str, Row], list[str], float]:
    from tests.reliability.lab import prepare_process

    prepare_process()
    from tests.reliability.lab import Lab, captured_output
    from tests.reliability.properties import chat_harness, chat_properties, collector_properties, run_property
    from tests.reliability.scenarios import SCENARIOS

    rows: dict[str, Row] = defaultdict(Row)
    details: list[str] = []
    started = time.monotonic()
    with captured_output():  # the product's own log lines and EMF would drown the table
        with chat_harness():
            props = chat_properties()
        for prop in [*props, *collector_properties()]:
            if only and only not in f"{prop.component} {prop.name}":
                continue
            _progress(f"property  {prop.component}: {prop.name}")
            if prop.component == "chatbot":
                with chat_harness():
                    result = run_property(prop, examples)
            else:
                result = run_property(prop, examples)
            row = rows[prop.component]
            row.inputs += result.inputs
            row.crashes += result.crashes
            row.checks += result.broken
            labels = ", ".join(f"{k} {v}" for k, v in sorted((result.labels or {}).items()))
            details.append(
                f"  property  {prop.component:12} {prop.name:42} inputs {result.inputs:5}  crashes "
                f"{result.crashes}  broken rules {result.broken}  ({labels})"
            )
            if result.first_failure:
                details.append(f"            first failure: {result.first_failure}")
        with Lab.start() as lab:
            for name, scenario in SCENARIOS.items():
                if only and only not in name:
                    continue
                _progress(f"scenario  {name}")
                outcome = scenario(lab)
                row = rows[outcome.component]
                row.inputs += outcome.inputs
                row.faults += outcome.faults
                row.crashes += outcome.crashes
                row.lost += outcome.lost
                row.double += max(0, outcome.double - outcome.bound)
                row.bounded += min(outcome.double, outcome.bound)
                row.checks += len(outcome.checks)
                bound = f" (bound {outcome.bound})" if outcome.bound else ""
                verdict = "ok" if outcome.ok else "FAILED"
                details.append(
                    f"  {verdict:6}    {outcome.component:17} {outcome.name:52}"
                    f" runs/requests {outcome.inputs:2}"
                    f"  lost {outcome.lost}  double {outcome.double}{bound}"
                )
                details.extend(f"            check failed: {check}" for check in outcome.checks)
    return rows, details, time.monotonic() - started


def table(rows: dict[str, Row]) -> list[str]:
    header = ("component", "inputs tried", "faults injected", "crashes", "lost", "double-counted",
              "bounded repeats")  # fmt: skip
    lines = [header]
    totals = Row()
    for component in COMPONENTS:
        row = rows.get(component, Row())
        lines.append(
            (
                component,
                str(row.inputs),
                str(row.faults),
                str(row.crashes),
                str(row.lost),
                str(row.double),
                str(row.bounded),
            )
        )
        for name in ("inputs", "faults", "crashes", "lost", "double", "bounded", "checks"):
            setattr(totals, name, getattr(totals, name) + getattr(row, name))
    lines.append(
        (
            "total",
            str(totals.inputs),
            str(totals.faults),
            str(totals.crashes),
            str(totals.lost),
            str(totals.double),
            str(totals.bounded),
        )
    )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = []
    for index, line in enumerate(lines):
        cells = [
            line[0].ljust(widths[0]),
            *(cell.rjust(width) for cell, width in zip(line[1:], widths[1:], strict=True)),
        ]
        out.append("| " + " | ".join(cells) + " |")
        if index == 0:
            out.append(
                "|"
                + "|".join("-" * (w + 2) if i == 0 else "-" * (w + 1) + ":" for i, w in enumerate(widths))
                + "|"
            )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=1000, help="generated inputs per property (1000)")
    parser.add_argument("--only", default="", help="run only the properties/scenarios whose name has this")
    args = parser.parse_args(argv)

    rows, details, seconds = run(args.examples, args.only)
    print("Reliability: every property and fault scenario of tests/reliability, measured now")
    print()
    print("\n".join(table(rows)))
    print()
    print("Bounded repeats: the documented at-least-once window (collectors/common/checkpoints.py): a run")
    print("killed, or whose checkpoint commit failed, after CloudWatch accepted its batch; after the lease")
    print("the next run republishes that batch, once. Each case checks the repeats equal that batch.")
    print()
    print("Detail:")
    print("\n".join(details))
    failed = sum(r.crashes + r.lost + r.double + r.checks for r in rows.values())
    print()
    print(f"{'FAILED' if failed else 'OK'}: {sum(r.inputs for r in rows.values())} inputs, "
          f"{sum(r.faults for r in rows.values())} faults in {seconds:.0f} s")  # fmt: skip
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
