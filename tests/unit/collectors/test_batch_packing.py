"""The writer's packing for the runner's shared batching: whole pieces per PutMetricData call, within the
datum and byte limits, one namespace per call."""

from __future__ import annotations

import math
from typing import Any

from collectors.common.cloudwatch_writer import CloudWatchWriter, Datapoint, datum_size
from tests.unit.collectors.runner_support import (
    FIELDS,
    NOW,
    NOW_MS,
)


def datums(n: int, name: str = "M") -> list[dict[str, Any]]:
    writer = CloudWatchWriter(lambda: None, clock=lambda: NOW)
    out = []
    for i in range(n):
        datum, _ = writer.validate(Datapoint(FIELDS[0], i, NOW_MS, (("D", name),)), NOW_MS)
        assert datum is not None
        out.append(datum)
    return out


def test_given_whole_pieces_when_packed_then_no_piece_is_split_and_calls_stay_under_the_limits() -> None:
    writer = CloudWatchWriter(lambda: None)
    pieces = [(i, "NS/A", datums(12)) for i in range(200)]  # 2,400 datums in pieces of 12

    calls = writer.pack(pieces)

    assert [len(c.datums) for c in calls] == [996, 996, 408]  # 83 whole pieces fill a call
    assert [tag for c in calls for tag, _ in c.parts] == list(range(200))  # in order, each once
    assert all(count == 12 for c in calls for _, count in c.parts)


def test_given_an_oversize_piece_when_packed_then_it_gets_consecutive_calls_and_the_rest_follows() -> None:
    writer = CloudWatchWriter(lambda: None)

    calls = writer.pack(
        [("small", "NS/A", datums(10)), ("big", "NS/A", datums(2500)), ("after", "NS/A", datums(5))]
    )

    assert [len(c.datums) for c in calls] == [10, 1000, 1000, 505]
    assert [c.parts for c in calls] == [
        [("small", 10)],
        [("big", 1000)],
        [("big", 1000)],
        [("big", 500), ("after", 5)],
    ]


def test_given_two_namespaces_when_packed_then_each_call_holds_one_namespace() -> None:
    writer = CloudWatchWriter(lambda: None)

    calls = writer.pack([(0, "NS/A", datums(600)), (1, "NS/B", datums(3)), (2, "NS/A", datums(600))])

    assert [(c.namespace, len(c.datums)) for c in calls] == [("NS/A", 600), ("NS/A", 600), ("NS/B", 3)]


def test_given_big_datums_when_packed_then_the_byte_limit_closes_calls_too() -> None:
    writer = CloudWatchWriter(lambda: None, max_bytes=50_000)
    piece = datums(10)
    per_piece = sum(datum_size(d) for d in piece)

    calls = writer.pack([(i, "NS/A", piece) for i in range(40)])

    assert all(c.size <= 50_000 for c in calls)
    assert len(calls) == math.ceil(40 / ((50_000 - 200 - len("NS/A")) // per_piece))
    assert [tag for c in calls for tag, _ in c.parts] == list(range(40))  # each piece in one call only
    assert all(count == 10 for c in calls for _, count in c.parts)  # whole: the byte limit split none
