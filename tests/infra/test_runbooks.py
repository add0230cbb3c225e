"""Every alarm names its runbook page (docs/runbooks/<kind>.md), and the page agrees with the alarm.

The alarm's description carries its first check (infra/constructs/alarm_kit.py `Runbook`); the page
repeats that sentence word for word as its first check, then the next two, the queries to run and how
to tune or silence the alarm. Reading the sentence from the synthesized template keeps the two from
drifting apart: change one and this test asks for the other.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from aws_cdk import App
from aws_cdk.assertions import Template

from infra.config import load_config
from infra.constructs.caller_insights import QUERIES
from infra.stack import AIGatewayStack
from tests.infra.conftest import ROOT, Synth, render

RUNBOOKS = ROOT / "docs" / "runbooks"
RUNBOOK_LINK = re.compile(r"Runbook: (docs/runbooks/([a-z0-9-]+)\.md)\.")
SECTIONS = ("## What it means", "## First three checks", "## Queries", "## Tune or silence")
# CloudWatch's AlarmDescription limit; a `${Token}` left by render() stands for a deploy-time value
# (the dashboard URL's region): count it at the longest a region name gets, with room to spare.
DESCRIPTION_LIMIT = 1024
TOKEN_WORST_CASE = "x" * 20


def _alarms(synth: Synth) -> dict[str, dict[str, Any]]:
    return {
        a["Properties"]["AlarmName"]: a["Properties"]
        for a in synth.resources("AWS::CloudWatch::Alarm").values()
    }


def _normalized(text: str) -> str:
    """Markdown and description alike: no backticks or bold, whitespace collapsed."""
    return " ".join(text.replace("`", "").replace("**", "").split())


def _first_check(description: str) -> str:
    return description.split("First check: ", 1)[1].split(" Missing data: ", 1)[0]


@pytest.mark.parametrize("stack", ["default", "custom"])
def test_given_any_stack_when_synthesized_then_every_alarm_names_one_existing_runbook_page(
    stack: str, request: pytest.FixtureRequest
) -> None:
    synth: Synth = request.getfixturevalue(stack)

    for name, alarm in _alarms(synth).items():
        description = render(alarm["AlarmDescription"])
        links = RUNBOOK_LINK.findall(description)
        assert len(links) == 1, f"{name}: {len(links)} runbook links in {description!r}"
        ((path, _kind),) = links
        assert (ROOT / path).is_file(), f"{name} names {path}, which does not exist"


@pytest.mark.parametrize("stack", ["default", "custom"])
def test_given_any_stack_when_synthesized_then_every_description_fits_cloudwatchs_limit(
    stack: str, request: pytest.FixtureRequest
) -> None:
    synth: Synth = request.getfixturevalue(stack)

    for name, alarm in _alarms(synth).items():
        description = re.sub(r"\$\{[^}]*\}", TOKEN_WORST_CASE, render(alarm["AlarmDescription"]))
        assert len(description) <= DESCRIPTION_LIMIT, f"{name}: {len(description)} characters"


def test_given_the_default_stack_when_an_alarm_pages_then_its_runbook_page_repeats_its_first_check(
    default: Synth,
) -> None:
    for name, alarm in _alarms(default).items():
        description = render(alarm["AlarmDescription"])
        ((path, _kind),) = RUNBOOK_LINK.findall(description)
        page = _normalized((ROOT / path).read_text())
        first_check = _normalized(_first_check(description))
        checks = page.split("## First three checks", 1)[1]
        assert first_check in checks, f"{path} does not repeat the first check of {name}: {first_check!r}"


def _star_stack_alarms() -> list[dict[str, Any]]:
    """The alarms of a stack whose budget keeps every AI Config as its own series (`*`, no keys listed)."""
    config = load_config({"metric_budget": {"launchdarkly_detail_keys": ["*"]}})
    template = Template.from_stack(AIGatewayStack(App(), "AIGatewayStar", config=config)).to_json()
    return [r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::CloudWatch::Alarm"]


def test_given_the_runbook_pages_when_read_then_each_has_the_four_sections_and_serves_an_alarm(
    default: Synth, custom: Synth
) -> None:
    every = [*_alarms(default).values(), *_alarms(custom).values(), *_star_stack_alarms()]
    kinds = {
        kind for alarm in every for _path, kind in RUNBOOK_LINK.findall(render(alarm["AlarmDescription"]))
    }
    pages = {page.stem for page in RUNBOOKS.glob("*.md")} - {"index"}

    assert pages == kinds, f"pages without an alarm: {pages - kinds}; alarms without a page: {kinds - pages}"
    for kind in sorted(pages):
        text = (RUNBOOKS / f"{kind}.md").read_text()
        positions = [text.find(section) for section in SECTIONS]
        missing = [section for section, at in zip(SECTIONS, positions, strict=True) if at < 0]
        assert not missing, f"{kind}.md lacks {missing}"
        assert positions == sorted(positions), f"{kind}.md: sections out of order"
        assert f"({kind}.md)" in (RUNBOOKS / "index.md").read_text(), f"runbooks/index.md omits {kind}.md"


def test_given_an_alarm_description_over_1024_characters_when_the_stack_is_built_then_it_stops() -> None:
    # Each key within CloudWatch's 255 characters for a dimension value; the two together too long.
    keys = {"ai_config_keys": ["support-bot-" + "x" * 240], "environment_keys": ["production-" + "y" * 240]}
    config = load_config(
        {
            "collectors": {"launchdarkly": keys},
            "metric_budget": {"launchdarkly_detail_keys": keys["ai_config_keys"]},
        }
    )

    with pytest.raises(ValueError, match=r"alarm description has \d+ characters, CloudWatch accepts 1024"):
        AIGatewayStack(App(), "AIGatewayLongKeys", config=config)


def test_given_the_saved_queries_when_the_operations_page_is_read_then_each_is_shown_as_deployed() -> None:
    page = (ROOT / "docs" / "operations.md").read_text()

    for name, query in QUERIES.items():
        assert f"### {name}\n\n```\n{query}\n```" in page, f"docs/operations.md: saved query {name!r} differs"
