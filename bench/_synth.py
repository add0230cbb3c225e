"""Run by `bench.cost` in its own interpreter: synthesize the stack for each variant, summarize what bills.

Usage: python bench/_synth.py <result.json>
Each variant is built through `infra.config.load_config` (the same API `cdk synth` uses, with the
variant's overrides) and `aws_cdk.assertions.Template`. The summary keeps only what the cost model
needs: every alarm's metric definition, the dashboards, the schedules, the memory sizes and the
configuration the counts derive from. A separate process keeps jsii's node runtime out of the benchmark.
"""

import json
import sys
from typing import Any

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


def summarize(template: dict[str, Any], config: Any) -> dict[str, Any]:
    resources = template.get("Resources", {})
    alarms = []
    dashboards = 0
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
        elif kind == "AWS::Scheduler::Schedule":
            schedules.append(str(props.get("ScheduleExpression")))
        elif kind == "AWS::Lambda::Function":
            functions[str(props.get("Handler"))] = int(props.get("MemorySize", 128))
    ld = config.collectors.launchdarkly
    return {
        "alarms": alarms,
        "dashboards": dashboards,
        "schedules": schedules,
        "functions": functions,
        "config": {
            "models": list(config.models.allowed),
            "priced_models": sorted(config.models.prices),
            "ai_config_keys": len(ld.ai_config_keys),
            "environment_keys": len(ld.environment_keys),
            "usage_series": list(ld.usage_series),
            "flashback_llm_ids": len(config.collectors.flashback.llm_ids),
            "schedule_minutes": {
                "launchdarkly": ld.schedule_minutes,
                "perf": config.collectors.perf.schedule_minutes,
                "flashback": config.collectors.flashback.schedule_minutes,
            },
            "chatbot_memory_mb": config.chatbot.memory_mb,
        },
    }


def main() -> None:
    from aws_cdk import App
    from aws_cdk.assertions import Template

    from infra.config import DEFAULTS, load_config
    from infra.stack import AIGatewayStack

    out: dict[str, Any] = {}
    for name, overrides in (("default", None), ("10 models / 100 AI configs", variant_overrides(DEFAULTS))):
        config = load_config(overrides)
        app = App()
        stack = AIGatewayStack(app, "BenchCost", config=config)
        out[name] = summarize(dict(Template.from_stack(stack).to_json()), config)
    with open(sys.argv[1], "w") as handle:
        json.dump(out, handle)


if __name__ == "__main__":
    main()
