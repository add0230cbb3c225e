"""SnapStart's hook API: the runtime's `snapshot_restore_py` where it is installed, a registry of the same
shape where it is not, both run in the runtime's order."""

from __future__ import annotations

import sys
import types
from typing import Any

import pytest

from shared import runtime_hooks
from shared.runtime_hooks import LIBRARY, Registry


def _library_stand_in() -> types.ModuleType:
    """A module with snapshot_restore_py 1.0.0's API (the real one keeps its lists in module globals)."""
    module = types.ModuleType(LIBRARY)
    before: list[Any] = []
    after: list[Any] = []

    def register_before_snapshot(func: Any, *args: Any, **kwargs: Any) -> Any:
        before.append((func, args, kwargs))
        return func

    def register_after_restore(func: Any, *args: Any, **kwargs: Any) -> Any:
        after.append((func, args, kwargs))
        return func

    module.register_before_snapshot = register_before_snapshot  # type: ignore[attr-defined]
    module.register_after_restore = register_after_restore  # type: ignore[attr-defined]
    module.get_before_snapshot = lambda: before  # type: ignore[attr-defined]
    module.get_after_restore = lambda: after  # type: ignore[attr-defined]
    return module


def test_given_the_runtime_library_when_loaded_then_hooks_go_to_it(monkeypatch: pytest.MonkeyPatch) -> None:
    library = _library_stand_in()
    monkeypatch.setitem(sys.modules, LIBRARY, library)

    hooks = runtime_hooks.load()

    assert hooks is library
    hooks.register_before_snapshot(print, "x")
    assert runtime_hooks.registered(hooks) == ([(print, ("x",), {})], [])


def test_given_no_runtime_library_when_loaded_then_a_registry_of_this_process_takes_the_hooks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, LIBRARY, None)  # None in sys.modules: the import raises ImportError

    assert isinstance(runtime_hooks.load(), Registry)


@pytest.mark.parametrize("make", [Registry, _library_stand_in], ids=["registry", "library"])
def test_given_hooks_when_run_then_before_snapshot_in_reverse_and_after_restore_in_registration_order(
    make: Any,
) -> None:
    hooks = make()
    calls: list[str] = []
    for name in ("first", "second"):
        hooks.register_before_snapshot(calls.append, f"before {name}")
        hooks.register_after_restore(
            lambda label, **kw: calls.append(f"{label} {kw['n']}"), f"after {name}", n=1
        )

    runtime_hooks.run_before_snapshot(hooks)
    runtime_hooks.run_after_restore(hooks)

    assert calls == ["before second", "before first", "after first 1", "after second 1"]


def test_given_the_real_library_when_the_handler_is_imported_then_its_registry_holds_the_hooks() -> None:
    library = pytest.importorskip(LIBRARY)  # requirements-dev.txt pins it; Lambda's runtime ships it
    from chatbot import chatbot_handler, snapshot  # noqa: F401 - the import registers the hooks

    assert runtime_hooks.HOOKS is library
    assert snapshot.before_snapshot in [func for func, _, _ in library.get_before_snapshot()]
    assert snapshot.after_restore in [func for func, _, _ in library.get_after_restore()]
