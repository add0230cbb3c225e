"""The catalogue's vocabulary: units, the metric definition, namespaces, dimension names and sources."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Unit(StrEnum):
    """CloudWatch units used by this product (values are CloudWatch's own spelling)."""

    COUNT = "Count"
    MILLISECONDS = "Milliseconds"
    NONE = "None"
    PERCENT = "Percent"
    SECONDS = "Seconds"


@dataclass(frozen=True, slots=True)
class MetricDef:
    """One metric: where it lives, how it is measured and what it means."""

    namespace: str
    name: str
    unit: Unit
    dimensions: tuple[str, ...]
    description: str
    otel_name: str = ""


# --- Namespaces -------------------------------------------------------------------------------
NS_TOKEN_USAGE = "AIGateway/TokenUsage"  # noqa: S105 - a namespace, not a secret
NS_LAUNCHDARKLY = "AIGateway/LaunchDarkly"
NS_LAUNCHDARKLY_USAGE = "AIGateway/LaunchDarklyUsage"
NS_PERF = "AIGateway/Perf"
NS_FLASHBACK = "AIGateway/Flashback"
NS_COLLECTORS = "AIGateway/Collectors"

COLLECTOR_NAMESPACES: tuple[str, ...] = (
    NS_LAUNCHDARKLY,
    NS_LAUNCHDARKLY_USAGE,
    NS_PERF,
    NS_FLASHBACK,
    NS_COLLECTORS,
)

# --- Dimension names --------------------------------------------------------------------------
DIM_MODEL_ID = "ModelId"
DIM_SOURCE = "Source"
DIM_PROJECT_KEY = "ProjectKey"
DIM_AI_CONFIG_KEY = "AIConfigKey"
DIM_ENVIRONMENT = "Environment"
DIM_SERIES = "Series"
DIM_AI_LLM_ID = "AiLlmId"
DIM_MODEL = "Model"
DIM_PROVIDER = "Provider"
DIM_FAILURE_MODE = "FailureMode"
DIM_TASK_TYPE = "TaskType"

# Collector health `Source` values.
SOURCE_LAUNCHDARKLY = "launchdarkly"
SOURCE_PERF = "perf"
SOURCE_FLASHBACK = "flashback"
SOURCES: tuple[str, ...] = (SOURCE_LAUNCHDARKLY, SOURCE_PERF, SOURCE_FLASHBACK)
