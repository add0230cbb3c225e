"""checkov skips: each in its resource's own metadata with a specific reason from infra/scanner_skips.py, and
docs/security.md lists exactly those (`make scan` runs checkov itself on the synthesized template)."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from infra.scanner_skips import METADATA_KEY, SKIPS, docs_table
from tests.infra.conftest import ROOT, Assembly, Synth

SECURITY_PAGE = ROOT / "docs" / "security.md"
MARKERS = ("<!-- checkov-skips -->", "<!-- /checkov-skips -->")


@pytest.fixture(scope="module", params=["default", "custom"])
def synth(request: pytest.FixtureRequest, assembly: Assembly) -> Synth:
    return getattr(assembly, request.param)


def _skips(synth: Synth) -> list[tuple[str, str, str, str]]:
    """(logical id, resource type, check id, comment) of every checkov skip in the template."""
    return [
        (name, resource["Type"], entry["id"], entry.get("comment", ""))
        for name, resource in synth.json["Resources"].items()
        for entry in resource.get("Metadata", {}).get(METADATA_KEY, {}).get("skip", [])
    ]


def test_given_the_template_when_read_then_every_checkov_skip_names_a_check_and_a_catalogued_reason(
    synth: Synth,
) -> None:
    reasons = {s.reason for s in SKIPS}
    skips = _skips(synth)

    assert skips
    for name, _, check, comment in skips:
        assert re.fullmatch(r"CKV2?_AWS_\d+", check), f"{name}: {check}"
        assert len(comment) > 80, f"{name} skips {check} without a specific reason"
        assert comment in reasons, f"{name} skips {check} for a reason docs/security.md does not list"
    # A resource skips a check once.
    assert [k for k, n in Counter((name, check) for name, _, check, _ in skips).items() if n > 1] == []


def test_given_the_catalogue_when_compared_with_the_template_then_each_skip_sits_on_its_resources_only(
    synth: Synth,
) -> None:
    skips = _skips(synth)
    functions = synth.resources("AWS::Lambda::Function")
    expected = {
        "chatbot function": [k for k, f in functions.items() if k.startswith("ChatApiChatbotFunction")],
        "each collector function": [k for k in functions if k.startswith("Collectors")],
        "collector dead-letter queue": list(synth.resources("AWS::SQS::Queue")),
        "collector checkpoint table": [
            k for k in synth.resources("AWS::DynamoDB::Table") if k.startswith("CollectorsCheckpoint")
        ],
    }

    for entry in SKIPS:
        carriers = sorted(name for name, kind, check, comment in skips if comment == entry.reason)
        assert carriers == sorted(expected[entry.where]), entry.where
        assert {kind for name, kind, _, _ in skips if name in carriers} == {entry.resource_type}
        assert {check for _, _, check, comment in skips if comment == entry.reason} == {entry.check}
    assert len(expected["each collector function"]) == 3


def test_given_the_security_page_when_read_then_its_skip_table_is_the_catalogue() -> None:
    text = SECURITY_PAGE.read_text()
    start, end = (text.index(marker) for marker in MARKERS)

    shown = text[start + len(MARKERS[0]) : end].strip()

    assert shown == docs_table(), (
        "docs/security.md's checkov table differs from infra/scanner_skips.py; paste the output of "
        "`.venv/bin/python -c 'from infra.scanner_skips import docs_table; print(docs_table())'`"
    )
