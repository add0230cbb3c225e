"""The metric budget's `*` (contract "Metric budget"): every key's own series AND the aggregate series, so
the aggregate alarms and graphs stay whatever the budget; `*` adds per-config alarms for the listed AI
Configs and the per-key graphs."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk import App
from aws_cdk.assertions import Template

from infra.config import load_config
from infra.stack import AIGatewayStack
from shared import metric_catalogue as mc
from tests.infra.conftest import render

ENVS = ("production", "staging")
CONFIGS = ("support-bot", "sql-bot")
LD_ALARM = "LaunchDarkly-"


def _template(name: str, ai_config_keys: tuple[str, ...]) -> dict[str, Any]:
    config = load_config(
        {
            "metric_budget": {"launchdarkly_detail_keys": ["*"], "flashback_detail_ids": ["*"]},
            "collectors": {
                "launchdarkly": {"ai_config_keys": list(ai_config_keys), "environment_keys": list(ENVS)}
            },
        }
    )
    return Template.from_stack(AIGatewayStack(App(), name, config=config)).to_json()


@pytest.fixture(scope="module")
def listed() -> dict[str, Any]:
    return _template("AIGatewayStarListed", CONFIGS)


@pytest.fixture(scope="module")
def unlisted() -> dict[str, Any]:
    return _template("AIGatewayStarUnlisted", ())


def _alarms(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        r["Properties"]["AlarmName"]: r["Properties"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::CloudWatch::Alarm"
    }


def _ld_alarm_names(template: dict[str, Any], stack: str) -> set[str]:
    prefix = f"{stack}-{LD_ALARM}"
    return {name.removeprefix(prefix) for name in _alarms(template) if name.startswith(prefix)}


def _aggregate_names() -> set[str]:
    return {f"GenerationErrorRate-above-5pct-default-{env}-all-configs" for env in ENVS} | {
        f"Cost-above-10USD-per-hour-default-{env}" for env in ENVS
    }


def test_given_star_and_listed_configs_when_synthesized_then_aggregate_alarms_and_one_per_config_exist(
    listed: dict[str, Any],
) -> None:
    per_config = {f"GenerationErrorRate-above-5pct-{c}-{env}" for c in CONFIGS for env in ENVS}

    assert _ld_alarm_names(listed, "AIGatewayStarListed") == _aggregate_names() | per_config


def test_given_star_and_no_listed_configs_when_synthesized_then_the_aggregate_alarms_watch_every_config(
    unlisted: dict[str, Any],
) -> None:
    names = _ld_alarm_names(unlisted, "AIGatewayStarUnlisted")

    assert names == _aggregate_names()  # no project-wide count stands in any more: the aggregate is there
    rate = _alarms(unlisted)[
        f"AIGatewayStarUnlisted-{LD_ALARM}GenerationErrorRate-above-5pct-default-production-all-configs"
    ]
    (generations,) = [m for m in rate["Metrics"] if m["Id"] == "generations"]
    assert generations["MetricStat"]["Metric"]["Dimensions"] == [
        {"Name": mc.DIM_ENVIRONMENT, "Value": "production"},
        {"Name": mc.DIM_PROJECT_KEY, "Value": "default"},
    ]


def _widget(template: dict[str, Any], title: str) -> dict[str, Any]:
    (dashboard,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::CloudWatch::Dashboard"]
    body = json.loads(render(dashboard["Properties"]["DashboardBody"]))
    (widget,) = [w["properties"] for w in body["widgets"] if w["properties"].get("title") == title]
    return widget


def _schemas(widget: dict[str, Any], metric: str) -> set[str]:
    expressions = [m[0]["expression"] for m in widget["metrics"] if isinstance(m[0], dict)]
    return {e.split("'")[1].split(" ")[0] for e in expressions if f'MetricName="{metric}"' in e}


@pytest.mark.parametrize(
    ("title", "metric", "aggregate", "per_key"),
    [
        (
            "LaunchDarkly generations",
            mc.LD_GENERATION_COUNT,
            ",".join((mc.NS_LAUNCHDARKLY, *mc.LD_AGGREGATE_DIMENSIONS)),
            ",".join((mc.NS_LAUNCHDARKLY, *mc.LD_GENERATION_COUNT.dimensions)),
        ),
        (
            "Flashback policy violations, alerts and blocks",
            mc.FLASHBACK_BLOCKS,
            mc.NS_FLASHBACK,
            f"{mc.NS_FLASHBACK},{mc.DIM_AI_LLM_ID}",
        ),
    ],
)
def test_given_star_when_the_dashboard_is_built_then_it_graphs_the_aggregate_and_every_key(
    unlisted: dict[str, Any], title: str, metric: mc.MetricDef, aggregate: str, per_key: str
) -> None:
    assert _schemas(_widget(unlisted, title), metric.name) == {f"{{{aggregate}}}", f"{{{per_key}}}"}
