"""Lambda SnapStart runtime hooks: `register_before_snapshot` and `register_after_restore`.

In Lambda's managed Python runtimes (3.12 and later) they come from the runtime's own `snapshot_restore_py`
library (1.0.0): the runtime runs the before-snapshot hooks, in reverse order of registration, when it
publishes a version with SnapStart on, and the after-restore hooks, in order of registration, in every
execution environment it restores from that snapshot. Anywhere else (tests, the benchmark, a function
without SnapStart) the library is absent and a registry of the same shape takes the hooks, so the module
that registers them imports the same way everywhere; `run_before_snapshot` and `run_after_restore` then
play the runtime's part, in the runtime's order.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from types import ModuleType
from typing import Any

LIBRARY = "snapshot_restore_py"

Hook = tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]


class Registry:
    """What `snapshot_restore_py` 1.0.0 offers, kept in this process (the library's own API and order)."""

    def __init__(self) -> None:
        self._before: list[Hook] = []
        self._after: list[Hook] = []

    def register_before_snapshot(
        self, func: Callable[..., Any], *args: Any, **kwargs: Any
    ) -> Callable[..., Any]:
        self._before.append((func, args, kwargs))
        return func

    def register_after_restore(
        self, func: Callable[..., Any], *args: Any, **kwargs: Any
    ) -> Callable[..., Any]:
        self._after.append((func, args, kwargs))
        return func

    def get_before_snapshot(self) -> list[Hook]:
        return self._before

    def get_after_restore(self) -> list[Hook]:
        return self._after


def load(name: str = LIBRARY) -> ModuleType | Registry:
    """The runtime's hook library where it is installed, else a registry of this process."""
    try:
        return importlib.import_module(name)
    except ImportError:
        return Registry()


HOOKS = load()


def register_before_snapshot(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Callable[..., Any]:
    return HOOKS.register_before_snapshot(func, *args, **kwargs)


def register_after_restore(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Callable[..., Any]:
    return HOOKS.register_after_restore(func, *args, **kwargs)


def registered(hooks: ModuleType | Registry = HOOKS) -> tuple[list[Hook], list[Hook]]:
    """(before-snapshot hooks, after-restore hooks), each in order of registration."""
    return list(hooks.get_before_snapshot()), list(hooks.get_after_restore())


def run_before_snapshot(hooks: ModuleType | Registry = HOOKS) -> None:
    """What the runtime does before it takes the snapshot: the hooks in reverse order of registration."""
    for func, args, kwargs in reversed(registered(hooks)[0]):
        func(*args, **kwargs)


def run_after_restore(hooks: ModuleType | Registry = HOOKS) -> None:
    """What the runtime does in each restored copy: the hooks in order of registration."""
    for func, args, kwargs in registered(hooks)[1]:
        func(*args, **kwargs)
