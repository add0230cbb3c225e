"""The mutation sample (`python -m tests.mutation_sample`) stays runnable: each mutant's text is still in its
file exactly once, so a refactor that moves the code makes this fail instead of silently shrinking it."""

from __future__ import annotations

from tests.mutation_sample import MUTANTS, ROOT


def test_given_the_mutation_sample_when_checked_then_every_mutant_still_applies_once() -> None:
    stale = [
        (number, mutant.path)
        for number, mutant in enumerate(MUTANTS, 1)
        if not (ROOT / mutant.path).exists() or (ROOT / mutant.path).read_text().count(mutant.old) != 1
    ]
    assert not stale, f"update tests/mutation_sample.py: {stale}"
    assert all(mutant.old != mutant.new for mutant in MUTANTS)
