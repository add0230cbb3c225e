"""LaunchDarkly's AI Config metrics fields, as its reference lists them."""

from __future__ import annotations

# The AI Config metrics fields, in the reference's order (`launchdarkly-ai-config-metrics-api.md`).
AI_CONFIG_METRIC_FIELDS = (
    "generationCount",
    "generationSuccessCount",
    "generationErrorCount",
    "inputTokens",
    "outputTokens",
    "totalTokens",
    "inputCost",
    "outputCost",
    "durationMs",
    "timeToFirstTokenMs",
    "thumbsUp",
    "thumbsDown",
)
