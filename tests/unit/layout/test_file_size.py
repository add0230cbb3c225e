"""No source file over 400 lines: a module that grows past it is split by responsibility."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.layout.sources import REPO, python_files

LIMIT = 400
CHECKED = ("lambdas", "infra", "tools", "offline", "bench", "tests")
# Every file fits: nothing may be added (the tests below name any file that grows past the limit).
KNOWN_OVERSIZED_TESTS: frozenset[str] = frozenset()


def line_count(path: Path) -> int:
    return len(path.read_text().splitlines())


def oversized(*directories: str, root: Path = REPO) -> dict[str, int]:
    return {
        path.relative_to(root).as_posix(): count
        for path in python_files(*directories, root=root)
        if (count := line_count(path)) > LIMIT
    }


def test_given_a_file_over_the_limit_when_scanned_then_it_is_reported(tmp_path: Path) -> None:
    (tmp_path / "tools").mkdir()
    (tmp_path / "tools" / "big.py").write_text("x = 1\n" * (LIMIT + 1))
    (tmp_path / "tools" / "fits.py").write_text("x = 1\n" * LIMIT)

    assert oversized("tools", root=tmp_path) == {"tools/big.py": LIMIT + 1}


@pytest.mark.parametrize("directory", CHECKED)
def test_given_the_repository_when_scanned_then_no_source_file_is_over_400_lines(directory: str) -> None:
    found = {path: count for path, count in oversized(directory).items() if path not in KNOWN_OVERSIZED_TESTS}

    assert not found, f"over {LIMIT} lines, split by responsibility: {found}"


def test_given_the_allow_list_when_its_files_are_scanned_then_each_is_still_over_the_limit() -> None:
    counts = {name: line_count(REPO / name) for name in KNOWN_OVERSIZED_TESTS if (REPO / name).exists()}
    gone = sorted(KNOWN_OVERSIZED_TESTS - counts.keys())
    fits = sorted(name for name, count in counts.items() if count <= LIMIT)

    assert not gone and not fits, f"remove from KNOWN_OVERSIZED_TESTS: {gone + fits}"
