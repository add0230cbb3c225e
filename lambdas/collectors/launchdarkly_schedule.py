"""LaunchDarkly at scale: the order AI Config series are read in, and how far behind they are.

Contract "Metric budget": when LaunchDarkly's rate limits (the client waits when `X-Ratelimit-*-Remaining`
reaches 0, `collectors.common.http`) and the run's time budget cannot cover every due window in one run,
the oldest windows go first and none is skipped. So before reading, a run loads every series' checkpoint
(strongly consistent BatchGetItem, 100 per request: 20 requests for 1,000 AI Configs x 2 environments)
and orders the series by their first unpublished window, oldest first (a new series starts at the
look-back, so a series that fell behind goes before it). A run cut short leaves the newest windows for
the next one, which starts again from the oldest. The listing of AI Configs goes through the same client,
so its pages count against the same limits (`launchdarkly_listing`).

That read is the run's only read of those checkpoints: it gets the whole items, and the runner claims
from them without a GetItem of its own (1,000 AI Configs x 2 environments: 20 BatchGetItem requests,
where the runner's own loads added 2,000 GetItems). However old a read is when its series' turn comes,
the claim is conditional on the version it read, so a series another run claimed or committed since is
lost (`claims_lost`), never published twice. When the batch read fails, the listed order stands and the
runner loads each series' checkpoint itself.

After the run, `oldest_unpublished_age_s` is how old the oldest closed window not yet published is: per
series, the first window after the mark its commit set this run (else the loaded one), if it is due (its
end + the ingestion lag has passed); the age is now minus that window's end, the maximum over series,
0 when every series is caught up. It is published as OldestUnpublishedWindowAge (dimension Source).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from collectors.common.checkpoint_items import read_items
from collectors.common.checkpoints import Checkpoint, CheckpointUnavailable, parse_checkpoint

ALIGN_MS = 300_000
Checkpoints = Mapping[str, Checkpoint]  # series name -> its checkpoint as the run read it


class WindowSettings(Protocol):
    @property
    def project_key(self) -> str: ...
    @property
    def ingestion_lag_ms(self) -> int: ...
    @property
    def window_ms(self) -> int: ...
    @property
    def lookback_ms(self) -> int: ...


def series_name(project: str, config_key: str, env_key: str) -> str:
    return f"ai-config/{project}/{config_key}/{env_key}"


def load_checkpoints(run: Any, names: list[str]) -> Checkpoints:
    """Every series' whole checkpoint, read once for the run: the order below and the runner's claim
    (`Run.process_series(checkpoint=...)`) both use it; {} when they cannot be read (listed order, and the
    runner loads each series itself)."""
    if not names:
        return {}
    try:
        if hasattr(run.store, "client"):
            items = read_items(run.store, run.source, names)
            return {n: parse_checkpoint(run.source, n, items.get(n)) for n in names}
        return {n: run.store.load(run.source, n) for n in names}
    except CheckpointUnavailable as exc:
        run.log.warning("checkpoints unavailable: series read in listed order", extra={"error": str(exc)})
        return {}


def marks(checkpoints: Checkpoints) -> dict[str, int | None]:
    """Each series' mark (None: never published)."""
    return {name: checkpoint.mark for name, checkpoint in checkpoints.items()}


def first_unpublished_start(mark: int | None, now_ms: int, settings: WindowSettings) -> int:
    limit = now_ms - settings.ingestion_lag_ms
    limit -= limit % ALIGN_MS
    if mark is not None:
        return mark
    start = limit - settings.lookback_ms
    return start - start % settings.window_ms


def oldest_first(
    pairs: Iterable[tuple[str, str]], marks: Mapping[str, int | None], now_ms: int, settings: WindowSettings
) -> list[tuple[str, str]]:
    """The (config, environment) pairs ordered by their first unpublished window, oldest first (stable)."""
    listed = list(pairs)
    if not marks:
        return listed

    def start(pair: tuple[str, str]) -> int:
        name = series_name(settings.project_key, *pair)
        return first_unpublished_start(marks.get(name), now_ms, settings)

    return sorted(listed, key=start)


def oldest_unpublished_age_s(
    names: Iterable[str],
    marks: Mapping[str, int | None],
    committed: Mapping[str, int | None],
    now_ms: int,
    settings: WindowSettings,
) -> float:
    """Seconds since the end of the oldest due window not yet published (0: caught up)."""
    limit = now_ms - settings.ingestion_lag_ms
    oldest_end: int | None = None
    for name in names:
        if name not in marks and name not in committed:
            continue  # never loaded (checkpoints unavailable): unknown, not counted
        mark = committed[name] if committed.get(name) is not None else marks.get(name)
        end = first_unpublished_start(mark, now_ms, settings) + settings.window_ms
        if end <= limit and (oldest_end is None or end < oldest_end):
            oldest_end = end
    return 0.0 if oldest_end is None else max(0.0, (now_ms - oldest_end) / 1000)
