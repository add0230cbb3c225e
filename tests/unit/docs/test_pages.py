"""The README stays a landing page a newcomer reads in two minutes, and every page it points to exists.

The rest of the documentation lives in docs/ and is built by `make docs` (mkdocs-material, strict), which
checks the links between pages; these tests check what that build does not see: the README itself.
"""

from __future__ import annotations

import re
from pathlib import Path

from bench.report import replace_between_markers

ROOT = Path(__file__).resolve().parents[3]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
README_MAX_LINES = 200
LINK = re.compile(r"\]\(([^)\s]+)\)")


def _relative_links(text: str) -> list[str]:
    return [target for target in LINK.findall(text) if not re.match(r"[a-z]+:", target)]


def test_given_the_readme_when_its_lines_are_counted_then_there_are_at_most_200() -> None:
    lines = README.read_text().splitlines()

    assert len(lines) <= README_MAX_LINES, f"README.md has {len(lines)} lines: move detail into docs/"


def test_given_the_readme_when_its_links_are_followed_then_every_target_exists() -> None:
    links = _relative_links(README.read_text())

    assert links, "the README links no page"
    for target in links:
        path = ROOT / target.split("#", 1)[0]
        assert path.is_file(), f"README.md links {target}, which does not exist"


def test_given_the_docs_pages_when_the_readme_is_read_then_it_links_each_top_level_page() -> None:
    linked = {target.split("#", 1)[0] for target in _relative_links(README.read_text())}
    pages = {f"docs/{page.name}" for page in DOCS.glob("*.md")} - {"docs/index.md"}

    assert pages <= linked, f"README.md does not link {sorted(pages - linked)}"
    assert "docs/runbooks/index.md" in linked


def test_given_the_benchmarks_page_when_the_bench_rewrites_it_then_its_markers_are_found() -> None:
    text = (DOCS / "benchmarks.md").read_text()

    updated = replace_between_markers(text, "figures")

    assert "<!-- bench -->\nfigures\n<!-- /bench -->" in updated
    assert updated.split("<!-- bench -->")[0] == text.split("<!-- bench -->")[0]
