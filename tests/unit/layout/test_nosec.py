"""bandit exemptions (`make scan` runs `bandit -r lambdas infra`): each `# nosec` names the one test it
silences and says why, and docs/security.md lists every test id silenced."""

from __future__ import annotations

import re

from tests.unit.layout.sources import REPO, python_files

NOSEC = re.compile(r"#\s*nosec\b(.*)$")
# `# nosec B311 # <reason>`: one bandit test id, then the reason in a comment of its own (bandit reads
# everything up to the next `#` as test ids); a ruff noqa with its reason may carry it.
JUSTIFIED = re.compile(r"^ (B\d{3}) # (?:noqa: [A-Z0-9, ]+ - )?(.{12,})$")


def _exemptions() -> list[tuple[str, int, str]]:
    """(file, line number, what follows `nosec`) for every exemption in lambdas/ and infra/."""
    found = []
    for path in python_files("lambdas", "infra"):
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            match = NOSEC.search(line)
            if match:
                found.append((str(path.relative_to(REPO)), number, match.group(1)))
    return found


def test_given_the_sources_when_scanned_then_each_nosec_names_one_bandit_test_and_a_reason() -> None:
    exemptions = _exemptions()

    assert exemptions, "bandit exemptions are expected (see docs/security.md)"
    for where, number, rest in exemptions:
        assert JUSTIFIED.match(rest), f"{where}:{number}: `# nosec{rest}` needs `# nosec BXXX # <why>`"


def test_given_the_exempted_tests_when_the_security_page_is_read_then_it_lists_each_one() -> None:
    page = (REPO / "docs" / "security.md").read_text()
    silenced = {JUSTIFIED.match(rest).group(1) for _, _, rest in _exemptions() if JUSTIFIED.match(rest)}

    assert silenced
    assert {test for test in silenced if f"`{test}`" not in page} == set()
