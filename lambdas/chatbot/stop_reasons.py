"""How a live answer ended, in the terms the API and the metrics need.

ConverseStream's `messageStop.stopReason` values (Bedrock Runtime API reference, `StopReason`): end_turn,
tool_use, max_tokens, stop_sequence, guardrail_intervened, content_filtered,
model_context_window_exceeded (and possibly more later). The gateway adds its own, `deadline`: it stopped
reading because the HTTP API would give up soon (chatbot.deadline).
"""

from __future__ import annotations

DEADLINE = "deadline"

# Only an answer the model finished on its own is complete: the only kind worth caching.
COMPLETE = frozenset({"end_turn", "stop_sequence"})
# Cut short: by the output cap, by the model's context window, or by the gateway's deadline.
TRUNCATING = frozenset({"max_tokens", "model_context_window_exceeded", DEADLINE})
# Stopped by a Bedrock guardrail or the model provider's content filter.
FILTERING = frozenset({"guardrail_intervened", "content_filtered"})


def is_complete(stop_reason: str | None) -> bool:
    return stop_reason in COMPLETE


def is_truncated(stop_reason: str | None) -> bool:
    """TruncatedAnswers = 1: cut short for any reason."""
    return stop_reason in TRUNCATING


def cut_at_deadline(stop_reason: str | None) -> bool:
    """The answer's `"truncated"` (the contract, "Answers within the API's time"): true only when the gateway
    stopped reading at its deadline; an answer that finished in time carries false, whatever its stop reason
    (`max_tokens` included: `stop_reason` says so)."""
    return stop_reason == DEADLINE


def is_filtered(stop_reason: str | None) -> bool:
    """FilteredAnswers = 1."""
    return stop_reason in FILTERING
