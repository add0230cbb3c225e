"""Flashback's documented example response (`flashback-llm-stats-api.md`), byte for byte, and its totals."""

from __future__ import annotations

FLASHBACK_SEED_JSON = """{
  "success": true,
  "stats": [
    {
      "aiLlmId": "550e8400-e29b-41d4-a716-446655440000",
      "totalApiCalls": "1523",
      "totalTokensIn": "45678",
      "totalTokensOut": "89012",
      "totalLlmTokensIn": "43210",
      "totalLlmTokensOut": "87654",
      "totalPolicyViolations": "3",
      "totalAlerts": "5",
      "totalBlocks": "2"
    }
  ]
}"""

FLASHBACK_SEED_ID = "550e8400-e29b-41d4-a716-446655440000"
FLASHBACK_FIELDS = (
    "totalApiCalls",
    "totalTokensIn",
    "totalTokensOut",
    "totalLlmTokensIn",
    "totalLlmTokensOut",
    "totalPolicyViolations",
    "totalAlerts",
    "totalBlocks",
)
FLASHBACK_SEED_TOTALS: dict[str, int] = {
    "totalApiCalls": 1523,
    "totalTokensIn": 45678,
    "totalTokensOut": 89012,
    "totalLlmTokensIn": 43210,
    "totalLlmTokensOut": 87654,
    "totalPolicyViolations": 3,
    "totalAlerts": 5,
    "totalBlocks": 2,
}
