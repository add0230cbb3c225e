"""Part 5 (continued): what Lambda SnapStart costs the chatbot per month, next to the INIT it replaces.

- Snapshot cache: one version of the chatbot exists at a time (a deploy deletes the version it replaces,
  infra/constructs/python_function.py), cached all month: memory GB x 730 h x the cache price; each deploy
  adds at most the new version's 3-hour minimum (`DEPLOYS_PER_MONTH`, an assumption).
- Restores: one per new execution environment, memory GB x the restore price. How many environments a
  month's traffic creates is an assumption (`NEW_ENVIRONMENT_SHARE` of the answers: the share AWS's own
  pricing example uses; new environments come with traffic jumps and after idle periods).
- What a restore replaces: a fresh environment's INIT (the import and the module's own initialization),
  billed as duration since 2025-08-01: the import time part 3 measured (else `ASSUMED_INIT_SECONDS`) x GB
  x the arm64 duration price. Lambda's own runtime start is in both and left out.
The collectors stay without SnapStart; what they would pay is shown for the record. Prices: bench/prices.py.
"""

from __future__ import annotations

from collections.abc import Mapping

from bench import prices
from bench.report import Figure, PartResult, Table
from bench.stats import fmt_seconds, fmt_usd

ANSWERS_PER_MONTH = 1_000_000  # as part 5's EMF line
NEW_ENVIRONMENT_SHARE = 0.01
DEPLOYS_PER_MONTH = 20
ASSUMED_INIT_SECONDS = 0.5  # when part 3 did not run: about the chatbot's import on this machine
SECONDS_PER_MONTH = prices.HOURS_PER_MONTH * 3600


def cache_usd(memory_mb: int, deploys: int = DEPLOYS_PER_MONTH) -> float:
    """One version cached all month, plus each deploy's new version's minimum (an upper bound)."""
    gb = memory_mb / 1024
    cached_seconds = SECONDS_PER_MONTH + deploys * prices.SNAPSTART_CACHE_MIN_SECONDS
    return gb * cached_seconds * prices.SNAPSTART_CACHE_GB_SECOND


def restore_usd(memory_mb: int, restores: float) -> float:
    return memory_mb / 1024 * restores * prices.SNAPSTART_RESTORE_PER_GB


def init_usd(memory_mb: int, inits: float, init_seconds: float) -> float:
    """The INIT duration fresh environments bill instead (arm64)."""
    return memory_mb / 1024 * inits * init_seconds * prices.LAMBDA_ARM64_GB_SECOND


def _configuration() -> tuple[int, bool, dict[str, int]]:
    from infra.config import load_config

    config = load_config(None)
    collectors = config.collectors
    memory = {
        "launchdarkly": collectors.launchdarkly.memory_mb,
        "perf": collectors.perf.memory_mb,
        "flashback": collectors.flashback.memory_mb,
    }
    return config.chatbot.memory_mb, config.chatbot.snap_start, memory


def extend(result: PartResult, measured: object = None) -> PartResult:
    """Part 5's result with the SnapStart table and figure added (`measured`: part 3's first-request data)."""
    memory_mb, enabled, collector_memory = _configuration()
    fresh = measured.get("fresh") if isinstance(measured, Mapping) else None
    if isinstance(fresh, Mapping) and "import_s" in fresh:
        init_seconds = float(fresh["import_s"])
        source = f"the import part 3 measured ({fmt_seconds(init_seconds)})"
    else:
        init_seconds, source = ASSUMED_INIT_SECONDS, f"assumed ({fmt_seconds(ASSUMED_INIT_SECONDS)})"
    restores = ANSWERS_PER_MONTH * NEW_ENVIRONMENT_SHARE
    cache, restore = cache_usd(memory_mb), restore_usd(memory_mb, restores)
    replaced = init_usd(memory_mb, restores, init_seconds)
    table = Table(
        f"5 SnapStart on the chatbot per month ({prices.REGION} list prices, bench/prices.py)",
        ["item", "quantity", "USD/month"],
    )
    table.rows += [
        [
            "snapshot cache",
            f"{memory_mb} MB x 730 h + {DEPLOYS_PER_MONTH} deploys x 3 h minimum",
            fmt_usd(cache),
        ],
        ["restores", f"{restores:,.0f} new environments x {memory_mb} MB", fmt_usd(restore)],
        ["SnapStart total", "on" if enabled else "off (chatbot.snap_start)", fmt_usd(cache + restore)],
        [
            "INIT it replaces",
            f"{restores:,.0f} x {fmt_seconds(init_seconds)} x {memory_mb} MB",
            fmt_usd(replaced),
        ],
    ]
    for name, mb in collector_memory.items():
        table.rows.append(
            [f"{name} collector, if it had SnapStart (it has not)", f"{mb} MB cache", fmt_usd(cache_usd(mb))]
        )
    table.notes += [
        f"new environments: {NEW_ENVIRONMENT_SHARE:.0%} of {ANSWERS_PER_MONTH:,} answers (an assumption; "
        "traffic jumps and idle periods make them); each restore also bills its Billed Restore Duration "
        "(the runtime's load and the after-restore hook) as duration, and each deploy the snapshot's "
        "initialization (import + the before-snapshot warm-up) once: fractions of a cent",
        f"INIT it replaces: {source} at the arm64 duration price; a restore costs "
        f"{fmt_usd(restore_usd(memory_mb, 1) * 1000)} per 1,000, the INIT it saves "
        f"{fmt_usd(init_usd(memory_mb, 1, init_seconds) * 1000)} per 1,000: SnapStart buys latency, "
        "not savings",
        "turn it off with chatbot.snap_start = false (docs/deploy.md): the version and the live alias stay",
    ]
    result.tables.append(table)
    result.figures.append(
        Figure(
            "5 cost",
            f"SnapStart per month (chatbot, {memory_mb} MB)",
            "the INIT it replaces",
            replaced,
            cache + restore if enabled else 0.0,
            unit="USD",
            target="report",
            note=f"{restores:,.0f} new environments a month (assumed); cache {fmt_usd(cache)}, restores "
            f"{fmt_usd(restore)}",
        )
    )
    result.data["snapstart_usd"] = cache + restore
    return result
