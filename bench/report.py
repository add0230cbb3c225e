"""Figures (baseline, measured, ratio, target, met?) and the tables they print as, in text and Markdown."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench.stats import fmt_ratio, fmt_seconds

BENCH_START = "<!-- bench -->"
BENCH_END = "<!-- /bench -->"


def _fmt_value(value: float | None, unit: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if unit == "s":
        return fmt_seconds(value)
    if unit == "MB":
        return f"{value:,.1f} MB"
    if unit == "USD":
        return f"${value:,.2f}"
    if unit == "bytes":
        return f"{value:,.0f} bytes"
    if unit == "count":
        return f"{value:,.0f}"
    return f"{value:,.3g} {unit}".strip()


@dataclass(slots=True)
class Figure:
    """One printed figure. `ratio` is measured/baseline, or baseline/measured when `speedup` (x faster)."""

    part: str
    name: str
    baseline_name: str
    baseline: float | None
    measured: float | None
    unit: str = "s"
    speedup: bool = False
    target: str = "report"
    met: bool | None = None  # None: a reported figure without a pass/fail target
    note: str = ""
    ratio_override: float | None = None
    speedup_word: str = "faster"
    miss: str = ""  # when the target is missed: the reason and the next step

    @property
    def ratio(self) -> float | None:
        if self.ratio_override is not None:
            return self.ratio_override
        if self.baseline is None or self.measured is None:
            return None
        if self.speedup:
            return self.baseline / self.measured if self.measured else math.nan
        return self.measured / self.baseline if self.baseline else math.nan

    def cells(self) -> list[str]:
        ratio = fmt_ratio(self.ratio)
        if self.speedup and self.ratio is not None:
            ratio += f" {self.speedup_word}"
        met = "n/a (report)" if self.met is None else ("yes" if self.met else "**NO**")
        baseline = (
            f"{self.baseline_name}: {_fmt_value(self.baseline, self.unit)}" if self.baseline_name else ""
        )
        return [self.part, self.name, baseline, _fmt_value(self.measured, self.unit), ratio, self.target, met]


HEADER = ["part", "figure", "baseline", "measured", "ratio", "target", "met?"]


@dataclass(slots=True)
class Table:
    title: str
    header: list[str]
    rows: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def figures_table(title: str, figures: Sequence[Figure]) -> Table:
    table = Table(title, list(HEADER), [f.cells() for f in figures])
    table.notes = [f"{f.part} {f.name}: {f.note}" for f in figures if f.note]
    return table


def render_text(table: Table) -> str:
    widths = [len(h) for h in table.header]
    for row in table.rows:
        widths = [max(w, len(c.replace("**", ""))) for w, c in zip(widths, row, strict=True)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.replace("**", "").ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    out = [table.title, "=" * len(table.title), line(table.header), line(["-" * w for w in widths])]
    out += [line(row) for row in table.rows]
    out += [f"  * {note}" for note in table.notes]
    return "\n".join(out)


def _md_escape(cell: str) -> str:
    return cell.replace("|", "\\|")


def render_markdown(table: Table, *, heading: str = "####") -> str:
    out = [f"{heading} {table.title}", "", "| " + " | ".join(table.header) + " |"]
    out.append("|" + "|".join("---" for _ in table.header) + "|")
    out += ["| " + " | ".join(_md_escape(c) for c in row) + " |" for row in table.rows]
    if table.notes:
        out.append("")
        out += [f"- {_md_escape(note)}" for note in table.notes]
    return "\n".join(out)


def replace_between_markers(text: str, body: str) -> str:
    """`text` with everything between the bench markers replaced by `body` (markers kept)."""
    pattern = re.compile(re.escape(BENCH_START) + r".*?" + re.escape(BENCH_END), re.DOTALL)
    if not pattern.search(text):
        raise ValueError(f"{BENCH_START} ... {BENCH_END} not found")
    replacement = f"{BENCH_START}\n{body.strip()}\n{BENCH_END}"
    return pattern.sub(lambda _: replacement, text, count=1)


def update_docs_page(path: Path, body: str, read: Callable[[Path], str] = Path.read_text) -> None:
    """Rewrite only the bench section of docs/benchmarks.md (the page's other text is written by hand)."""
    text = read(path)
    path.write_text(replace_between_markers(text, body))


@dataclass(slots=True)
class PartResult:
    """What one benchmark part produced: its figures, extra tables, and data other parts may use."""

    figures: list[Figure] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    data: dict[str, object] = field(default_factory=dict)
