"""`make reliability`: run every property, fault scenario and load, print what they measured.

Starts moto's server, the loopback Bedrock and the three vendor fakes on 127.0.0.1 (like `make demo`),
then runs exactly what `tests/reliability` runs, source by source (`offline/reliability_rows.py`, where a
new row is added):

- the property targets of `tests/reliability/properties/` (1000 generated inputs each unless a property
  caps it for its cost): chat events, bodies and model/cache behaviours, callers' limits on moto;
  LaunchDarkly, Perf and Flashback payloads through each collector's parsing and the CloudWatch writer's
  validation; every environment variable of the collectors and every option of the report;
- the fault matrix of `tests/reliability/scenarios/`: vendor faults, PutMetricData and DynamoDB
  faults, runs at once, redelivered events, killed runs, cache and Bedrock failures, each read back from
  CloudWatch and compared with the fakes' ground truth;
- the chatbot under load (`tests/reliability/load/`): 200 requests of four callers from 200 containers at
  once, against bare converse_stream calls on the same fake.
- the service alarms (`offline/reliability_platform.py`): each failure before our code runs (no layer,
  throttled, timed out, not invoked) replayed through the platform stand-in against the default
  template's alarms, which must fire with no EMF written;
- the scanners: checkov on the default template and bandit on `lambdas/` and `infra/`, as `make scan`.

Nothing in the table is typed in: every number is counted while the scenarios run. The exit status is 1
when anything crashed, was lost, was counted twice beyond the documented bound or broke a rule or check.
Usage: `python -m offline.reliability [--examples N] [--only SUBSTRING]`.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "lambdas"))
sys.path.insert(0, str(ROOT))

TOTALS = ("inputs", "faults", "crashes", "lost", "double", "bounded", "broken")


@dataclass
class Row:
    inputs: int = 0
    faults: int = 0
    crashes: int = 0
    lost: int = 0
    double: int = 0  # beyond the documented bound
    bounded: int = 0  # repeats the documented bound allows (a run killed between publish and commit)
    broken: int = 0  # rules or checks that failed

    def add(self, entry: Any) -> None:
        for name in TOTALS:
            setattr(self, name, getattr(self, name) + getattr(entry, name))


def run(examples: int, only: str) -> tuple[dict[str, Row], list[str], list[str], float]:
    """Every source of `offline.reliability_rows.ROWS`: the rows, the detail lines, the figures."""
    from tests.reliability.lab import prepare_process

    prepare_process()
    from offline.reliability_rows import ROWS, Context
    from tests.reliability.lab import Lab, captured_output

    rows: dict[str, Row] = {}
    details: list[str] = []
    figures: list[str] = []
    started = time.monotonic()
    with captured_output(), Lab.start() as lab:  # the product's own log lines and EMF would drown the table
        context = Context(lab, examples, only)
        for source in ROWS:
            for entry in source(context):
                rows.setdefault(entry.component, Row()).add(entry)
                details.append(entry.detail)
                figures.extend(entry.figures)
    return rows, details, figures, time.monotonic() - started


def table(rows: dict[str, Row]) -> list[str]:
    """The known rows first (`KNOWN_ROWS`, shown even when empty), then any other in the order first seen."""
    from offline.reliability_rows import KNOWN_ROWS

    header = ("component", "inputs tried", "faults injected", "crashes", "lost", "double-counted",
              "bounded repeats", "broken rules")  # fmt: skip
    order = [*KNOWN_ROWS, *(name for name in rows if name not in KNOWN_ROWS)]
    totals = Row()
    lines: list[tuple[str, ...]] = [header]
    for component in order:
        row = rows.get(component, Row())
        lines.append((component, *(str(getattr(row, name)) for name in TOTALS)))
        totals.add(row)
    lines.append(("total", *(str(getattr(totals, name)) for name in TOTALS)))
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
    parser.add_argument("--only", default="", help="run only the rows' entries whose name has this")
    args = parser.parse_args(argv)

    rows, details, figures, seconds = run(args.examples, args.only)
    print("Reliability: every property, fault scenario and load of tests/reliability, measured now")
    print()
    print("\n".join(table(rows)))
    print()
    print("Bounded repeats: the documented at-least-once window (collectors/common/checkpoints.py): a run")
    print("killed, or whose checkpoint commit failed, after CloudWatch accepted its batch; after the lease")
    print("the next run republishes that batch, once. Each case checks the repeats equal that batch.")
    if figures:
        print()
        print("\n".join(figures))
    print()
    print("Detail:")
    print("\n".join(details))
    failed = sum(r.crashes + r.lost + r.double + r.broken for r in rows.values())
    print()
    print(f"{'FAILED' if failed else 'OK'}: {sum(r.inputs for r in rows.values())} inputs, "
          f"{sum(r.faults for r in rows.values())} faults in {seconds:.0f} s")  # fmt: skip
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
