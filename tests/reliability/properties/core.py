"""A `Property` (a hypothesis strategy and a check) and `run_property`, which runs one counting outcomes
instead of stopping at the first failure (for `make reliability`)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st


@dataclass(frozen=True)
class Property:
    component: str
    name: str
    strategy: st.SearchStrategy[Any]
    check: Callable[[Any], str]
    # `make reliability`'s examples for a property whose example is a real run on moto (seconds, not ms)
    max_examples: int | None = None


@dataclass
class PropertyRun:
    component: str
    name: str
    inputs: int = 0
    crashes: int = 0
    broken: int = 0  # a rule (AssertionError) broken
    labels: Counter[str] | None = None
    first_failure: str = ""


def run_property(prop: Property, examples: int = 1000) -> PropertyRun:
    """Run `examples` generated inputs through the check, counting outcomes instead of stopping."""
    result = PropertyRun(prop.component, prop.name, labels=Counter())

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(prop.strategy)
    def body(example: Any) -> None:
        result.inputs += 1
        try:
            label = prop.check(example)
        except AssertionError as exc:
            result.broken += 1
            result.first_failure = result.first_failure or f"{exc!r} on {example!r}"[:300]
            return
        except Exception as exc:
            result.crashes += 1
            result.first_failure = result.first_failure or f"{type(exc).__name__}: {exc} on {example!r}"[:300]
            return
        assert result.labels is not None
        result.labels[label] += 1

    body()
    return result
