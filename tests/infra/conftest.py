"""Synthesizes the app once per session: the default stack (cdk.json context, as `cdk synth` builds it)
and a second stack with a customized config, both checked by cdk-nag in the same synth."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Template

from infra.application import create_app
from infra.config import load_config
from infra.stack import AIGatewayStack

ROOT = Path(__file__).resolve().parents[2]
CUSTOM_CONTEXT: dict[str, Any] = {
    "models": {
        "default": "global.anthropic.claude-sonnet-4-5-20250929-v1:0",
        "allowed": ["global.anthropic.claude-sonnet-4-5-20250929-v1:0", "amazon.titan-text-lite-v1"],
        "prices": {
            "global.anthropic.claude-sonnet-4-5-20250929-v1:0": {
                "input_per_1k": 0.003,
                "output_per_1k": 0.015,
            }
        },
    },
    # Different anomaly widths, so a test can tell which setting each band reads.
    "alarms": {
        "emails": ["oncall@example.com", "finance@example.com"],
        "token_anomaly_std_devs": 2,
        "cost_anomaly_std_devs": 4.5,
        "caller_limit_usage_percent": 90,
        # The optional alarm on, at a rate of its own (the default stack has none).
        "filtered_answer_alarm": {"enabled": True, "rate_percent": 2.5},
    },
    # One caller's own hour cap over the default day caps (which it keeps), and metering that fails closed.
    "chatbot": {
        "caller_limits": {
            "callers": {"arn:aws:sts::123456789012:assumed-role/agents/loop-7": {"hour_tokens": 500}}
        },
        "limits_fail_mode": "closed",
        "reserved_concurrency": 50,
        "snap_start": False,  # turned off: the version and alias stay, the snapshot goes
    },
    # The service alarms read their own thresholds (names carry them).
    "service_alarms": {"api_5xx_rate_percent": 2, "function_duration_percent_of_timeout": 90},
    # A quota for one model only (the other gets no quota alarm), and thresholds other than the defaults.
    "bedrock": {
        "tpm_quotas": {"global.anthropic.claude-sonnet-4-5-20250929-v1:0": 150000},
        "quota_alarm_percent": 90,
        "untracked_margin_percent": 25,
        "untracked_min_tokens": 50000,
    },
    # One AI Config watched closely (its own series and error-rate alarm beside the aggregate ones).
    "metric_budget": {"launchdarkly_detail_keys": ["support-bot"]},
    "collectors": {
        "launchdarkly": {"ai_config_keys": ["support-bot"], "environment_keys": ["production", "staging"]},
        "flashback": {"llm_ids": ["llm-1", "llm-2"], "schedule_minutes": 30},
    },
}


@dataclass(frozen=True)
class Synth:
    stack: AIGatewayStack
    template: Template
    json: dict[str, Any]
    outdir: Path

    def resources(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.json["Resources"].items() if v["Type"] == resource_type}

    def one(self, resource_type: str) -> dict[str, Any]:
        found = list(self.resources(resource_type).values())
        assert len(found) == 1, f"expected one {resource_type}, found {len(found)}"
        return found[0]["Properties"]


@dataclass(frozen=True)
class Assembly:
    default: Synth
    custom: Synth
    outdir: Path


def render(value: Any) -> str:
    """A CloudFormation string value with its intrinsics replaced by `${Ref}` / `${Resource.Attr}`."""
    if isinstance(value, str):
        return value
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(render(part) for part in parts)
    if "Ref" in value:
        return "${" + value["Ref"] + "}"
    if "Fn::GetAtt" in value:
        return "${" + ".".join(value["Fn::GetAtt"]) + "}"
    return json.dumps(value)


def cdk_context() -> dict[str, Any]:
    return json.loads((ROOT / "cdk.json").read_text())["context"]


@pytest.fixture(scope="session")
def assembly(tmp_path_factory: pytest.TempPathFactory) -> Assembly:
    outdir = tmp_path_factory.mktemp("cdk.out")
    app, stack = create_app(context=cdk_context(), outdir=str(outdir))
    custom = AIGatewayStack(app, "AIGatewayCustom", config=load_config(CUSTOM_CONTEXT))
    cloud_assembly = app.synth()  # cdk-nag runs here: an unacknowledged finding raises

    def synth(s: AIGatewayStack) -> Synth:
        template = cloud_assembly.get_stack_by_name(s.stack_name).template
        return Synth(s, Template.from_json(template), template, outdir)

    return Assembly(synth(stack), synth(custom), outdir)


@pytest.fixture(scope="session")
def default(assembly: Assembly) -> Synth:
    return assembly.default


@pytest.fixture(scope="session")
def custom(assembly: Assembly) -> Synth:
    return assembly.custom
