"""Lambda SnapStart runtime hooks, held by the runtime's own library, and a local stand-in for the runtime.

`snapshot_restore_py` (1.0.0) ships in Lambda's managed Python runtimes (3.12 and later) and is pinned in
requirements-dev.txt, so the module that registers hooks imports the same way in Lambda, the tests and the
bench. In Lambda the runtime runs the before-snapshot hooks, in reverse order of registration, when it
publishes a version with SnapStart on, and the after-restore hooks, in order of registration, in every
execution environment it restores from that snapshot. Nowhere else does anything run them:
`run_before_snapshot` and `run_after_restore` play the runtime's part (tests, the bench), in its order.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from snapshot_restore_py import (
    get_after_restore,
    get_before_snapshot,
    register_after_restore,
    register_before_snapshot,
)

__all__ = [
    "register_after_restore",
    "register_before_snapshot",
    "registered",
    "run_after_restore",
    "run_before_snapshot",
]

Hook = tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]


def registered() -> tuple[list[Hook], list[Hook]]:
    """(before-snapshot hooks, after-restore hooks), each in order of registration."""
    return list(get_before_snapshot()), list(get_after_restore())


def run_before_snapshot() -> None:
    """The runtime's part before it takes the snapshot: the hooks in reverse order of registration."""
    for func, args, kwargs in reversed(registered()[0]):
        func(*args, **kwargs)


def run_after_restore() -> None:
    """The runtime's part in each restored copy: the hooks in order of registration."""
    for func, args, kwargs in registered()[1]:
        func(*args, **kwargs)
