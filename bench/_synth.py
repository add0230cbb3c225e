"""Run by `bench.cost` in its own interpreter: synthesize the stack for each variant, summarize what bills.

Usage: python bench/_synth.py <result.json> (`synthesize()` runs it and reads the result back)
Each variant is built through `infra.config.load_config` (the same API `cdk synth` uses, with the
variant's overrides) and `aws_cdk.assertions.Template`. The summary keeps only what the cost model
needs: every alarm's metric definition, the dashboards, the schedules, the memory sizes and the
configuration the counts derive from. A separate process keeps jsii's node runtime out of the benchmark.
"""

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.cost_budget import EVERY_KEY

REPO = Path(__file__).resolve().parent.parent

ALARM_KEYS = (
    "MetricName",
    "Namespace",
    "Dimensions",
    "Period",
    "Metrics",
    "ThresholdMetricId",
    "ExtendedStatistic",
    "Statistic",
)

EXTRA_MODELS = (
    "amazon.nova-micro-v1:0",
    "amazon.nova-pro-v1:0",
    "meta.llama3-1-8b-instruct-v1:0",
    "meta.llama3-1-70b-instruct-v1:0",
    "mistral.mistral-large-2407-v1:0",
    "cohere.command-r-plus-v1:0",
    "us.anthropic.claude-3-5-haiku-20241022-v1:0",
)


def variant_overrides(defaults: dict[str, Any]) -> dict[str, Any]:
    """10 models (the 3 defaults + 7 more, all priced) and 100 AI configs."""
    models = list(defaults["models"]["allowed"]) + list(EXTRA_MODELS)
    prices = dict(defaults["models"]["prices"])
    for model in EXTRA_MODELS:
        prices[model] = {"input_per_1k": 0.001, "output_per_1k": 0.004}
    return {
        "models": {"allowed": models, "prices": prices},
        "collectors": {"launchdarkly": {"ai_config_keys": [f"bench-config-{i:03d}" for i in range(100)]}},
    }


def dashboard_metrics(body: Any) -> int:
    """Metrics (and expressions) a dashboard's widgets graph: the free tier covers 3 dashboards of up to
    50 metrics. The body is a CloudFormation string, often an Fn::Join around tokens (the region)."""
    if isinstance(body, dict) and "Fn::Join" in body:
        separator, parts = body["Fn::Join"]
        body = separator.join(part if isinstance(part, str) else "X" for part in parts)
    widgets = json.loads(body).get("widgets", []) if isinstance(body, str) else []
    return sum(len(w.get("properties", {}).get("metrics", [])) for w in widgets)


def scale_overrides(defaults: dict[str, Any]) -> dict[str, Any]:
    """The 10-model variant with 1,000 AI Configs in two environments (the metric budget's target)."""
    overrides = variant_overrides(defaults)
    overrides["collectors"] = {
        "launchdarkly": {
            "ai_config_keys": [f"bench-config-{i:04d}" for i in range(1000)],
            "environment_keys": ["production", "staging"],
        }
    }
    return overrides


def every_key_overrides(defaults: dict[str, Any]) -> dict[str, Any]:
    """The 100-config variant with every key its own series (`*`): the stack as before the metric budget.
    (The 1,000 x 2 variant has no such twin: its 2,000 per-config alarms alone pass CloudFormation's 500
    resources per stack.)"""
    overrides = variant_overrides(defaults)
    overrides["metric_budget"] = {
        "launchdarkly_detail_keys": ["*"],
        "flashback_detail_ids": ["*"],
        "perf_series": ["*"],
    }
    return overrides


VARIANTS = (
    ("default", None),
    ("10 models / 100 AI configs", variant_overrides),
    ("10 models / 1,000 AI configs x 2 envs", scale_overrides),
    ("10 models / 100 AI configs" + EVERY_KEY, every_key_overrides),
)


def summarize(template: dict[str, Any], config: Any) -> dict[str, Any]:
    resources = template.get("Resources", {})
    alarms = []
    dashboards = insight_rules = kms_keys = 0
    graphed: list[int] = []
    schedules: list[str] = []
    functions: dict[str, int] = {}
    for logical_id, resource in resources.items():
        kind = resource.get("Type")
        props = resource.get("Properties", {})
        if kind == "AWS::CloudWatch::Alarm":
            alarms.append({"id": logical_id, **{k: props[k] for k in ALARM_KEYS if k in props}})
        elif kind == "AWS::CloudWatch::CompositeAlarm":
            alarms.append({"id": logical_id, "Composite": True})
        elif kind == "AWS::CloudWatch::Dashboard":
            dashboards += 1
            graphed.append(dashboard_metrics(props.get("DashboardBody")))
        elif kind == "AWS::CloudWatch::InsightRule":
            insight_rules += 1
        elif kind == "AWS::KMS::Key":
            kms_keys += 1
        elif kind == "AWS::Scheduler::Schedule":
            schedules.append(str(props.get("ScheduleExpression")))
        elif kind == "AWS::Lambda::Function":
            functions[str(props.get("Handler"))] = int(props.get("MemorySize", 128))
    ld = config.collectors.launchdarkly
    limits = config.chatbot.caller_limits
    entries = [limits.default, *limits.callers.values()]
    return {
        "alarms": alarms,
        "dashboards": dashboards,
        "dashboard_metrics": graphed,
        "insight_rules": insight_rules,
        "kms_keys": kms_keys,
        "schedules": schedules,
        "functions": functions,
        "config": {
            "models": list(config.models.allowed),
            "priced_models": sorted(config.models.prices),
            "ai_config_keys": len(ld.ai_config_keys),
            "environment_keys": len(ld.environment_keys),
            "usage_series": list(ld.usage_series),
            "flashback_llm_ids": len(config.collectors.flashback.llm_ids),
            # the metric budget (contract "Metric budget"): which keys get series of their own
            "ld_detail_keys": list(config.metric_budget.launchdarkly_detail_keys),
            "flashback_detail_ids": list(config.metric_budget.flashback_detail_ids),
            "perf_series": list(config.metric_budget.perf_series),
            "schedule_minutes": {
                "launchdarkly": ld.schedule_minutes,
                "perf": config.collectors.perf.schedule_minutes,
                "flashback": config.collectors.flashback.schedule_minutes,
            },
            "chatbot_memory_mb": config.chatbot.memory_mb,
            # UTC windows some caller has a limit in: each is one usage item a reservation writes
            "limited_windows": sorted(
                {key.split("_")[0] for entry in entries for key, value in entry.items() if value is not None}
            ),
        },
    }


def synthesize() -> tuple[dict[str, Any] | None, str]:
    """Every variant's template summary, or None and why not."""
    from offline.environment import offline_environment

    env = dict(os.environ)
    env.update(offline_environment())
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "lambdas"), str(REPO)])
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "synth.json")
        try:
            completed = subprocess.run(
                [sys.executable, str(REPO / "bench" / "_synth.py"), out],
                env=env,
                cwd=str(REPO),
                capture_output=True,
                text=True,
                timeout=300,
            )
        except subprocess.TimeoutExpired:
            return None, "cdk synth timed out"
        if completed.returncode != 0 or not os.path.exists(out):
            tail = (completed.stderr or completed.stdout).strip().splitlines()[-1:] or ["?"]
            return None, f"the stack did not synthesize: {tail[0][:200]}"
        with open(out) as handle:
            return json.load(handle), "synthesized templates (aws_cdk.assertions.Template)"


def main() -> None:
    from aws_cdk import App
    from aws_cdk.assertions import Template

    from infra.config import DEFAULTS, load_config
    from infra.stack import AIGatewayStack

    out: dict[str, Any] = {}
    for name, build in VARIANTS:
        config = load_config(build(DEFAULTS) if build else None)
        app = App()
        stack = AIGatewayStack(app, "BenchCost", config=config)
        out[name] = summarize(dict(Template.from_stack(stack).to_json()), config)
    with open(sys.argv[1], "w") as handle:
        json.dump(out, handle)


if __name__ == "__main__":
    main()
