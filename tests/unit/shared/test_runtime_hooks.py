"""SnapStart's hooks: held by the runtime's `snapshot_restore_py`, run locally in the runtime's order."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import snapshot_restore_py

from shared import runtime_hooks


@pytest.fixture
def empty_registry() -> Iterator[list[str]]:
    """The library's registries emptied for one test (they are module globals), then put back."""
    before, after = snapshot_restore_py.get_before_snapshot(), snapshot_restore_py.get_after_restore()
    saved = (list(before), list(after))
    before.clear()
    after.clear()
    try:
        yield []
    finally:
        before[:], after[:] = saved


def test_given_hooks_registered_through_us_when_listed_then_the_runtime_library_holds_them(
    empty_registry: list[str],
) -> None:
    runtime_hooks.register_before_snapshot(empty_registry.append, "x")

    assert snapshot_restore_py.get_before_snapshot() == [(empty_registry.append, ("x",), {})]
    assert runtime_hooks.registered() == ([(empty_registry.append, ("x",), {})], [])


def test_given_hooks_when_run_then_before_snapshot_in_reverse_and_after_restore_in_registration_order(
    empty_registry: list[str],
) -> None:
    calls = empty_registry
    for name in ("first", "second"):
        runtime_hooks.register_before_snapshot(calls.append, f"before {name}")
        runtime_hooks.register_after_restore(
            lambda label, **kw: calls.append(f"{label} {kw['n']}"), f"after {name}", n=1
        )

    runtime_hooks.run_before_snapshot()
    runtime_hooks.run_after_restore()

    assert calls == ["before second", "before first", "after first 1", "after second 1"]


def test_given_the_handler_module_when_imported_then_the_runtime_library_holds_both_hooks() -> None:
    from chatbot import chatbot_handler, snapshot  # noqa: F401 - the import registers the hooks

    assert snapshot.before_snapshot in [func for func, _, _ in snapshot_restore_py.get_before_snapshot()]
    assert snapshot.after_restore in [func for func, _, _ in snapshot_restore_py.get_after_restore()]
