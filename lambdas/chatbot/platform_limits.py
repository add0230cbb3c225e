"""The chatbot's fixed platform limits (client timeouts, payload sizes): one source for the Lambda code,
the synth-time validation (`infra.config` imports this module) and the numbers docs/configuration.md quotes.

Pure constants and arithmetic: nothing here imports boto3 or Powertools, so infra can import it.
"""

from __future__ import annotations

# botocore client settings of the chatbot's two clients (shared.aws_clients builds them).
BEDROCK_CONNECT_TIMEOUT_SECONDS = 3
CACHE_MAX_ATTEMPTS = 2
CACHE_CONNECT_TIMEOUT_SECONDS = 1.0
CACHE_READ_TIMEOUT_SECONDS = 2.0  # fail fast: a slow cache must not eat the answer's time

# botocore's standard retry mode never waits longer than this between two attempts
# (botocore.retries.standard.ExponentialBackoff._MAX_BACKOFF). Counting every back-off at this cap
# over-covers the real waits (1 s, 2 s, 4 s ... plus up to 5 s for an x-amz-retry-after header) for
# every allowed attempt count (at most 10).
BOTOCORE_MAX_BACKOFF_SECONDS = 20

# --- The answer's deadline (chatbot.deadline; contract: "Answers within the API's time") -----------------
# An HTTP API waits at most 30 s for its Lambda integration (API Gateway quotas: "Maximum integration
# timeout", 30 s for HTTP APIs, not raisable), then answers the caller 503 itself while the function
# goes on. Every request gets a deadline, counted from its arrival (requestContext.timeEpoch), after which
# the gateway stops waiting for the model and answers with what it has.
HTTP_API_TIMEOUT_SECONDS = 30
# Default 25 s: the 5 s left after it cover what runs after the deadline (closing the stream, settling the
# caller's reservation in the usage table, printing the EMF document, Lambda returning the response to API
# Gateway: tens of milliseconds normally) even when one usage-table write times out once
# (CACHE_CONNECT_TIMEOUT_SECONDS + CACHE_READ_TIMEOUT_SECONDS = 3 s) before its retry succeeds, and the
# arrival stamp being up to ARRIVAL_MAX_SKEW_MS early. A longer deadline gives long answers more text and
# less margin.
ANSWER_DEADLINE_DEFAULT_SECONDS = 25
# What must remain after the deadline for the answer to reach API Gateway (the largest deadline allowed is
# HTTP_API_TIMEOUT_SECONDS minus this), and what the function timeout must exceed the deadline by.
ANSWER_AFTER_DEADLINE_MIN_SECONDS = 2
# A model attempt (the first, or a retry after botocore's back-off) is started only when this much time
# remains before the deadline: less would charge the prompt for a reply that could hardly hold a word
# (a first token typically takes 0.3-2 s on Bedrock).
DEADLINE_MIN_ATTEMPT_SECONDS = 2
# The shortest deadline: one attempt's connect timeout plus the time an attempt needs.
ANSWER_DEADLINE_MIN_SECONDS = BEDROCK_CONNECT_TIMEOUT_SECONDS + DEADLINE_MIN_ATTEMPT_SECONDS
ANSWER_DEADLINE_MAX_SECONDS = HTTP_API_TIMEOUT_SECONDS - ANSWER_AFTER_DEADLINE_MIN_SECONDS

# The largest `max_tokens` a request may ask for (the contract), and the largest default output cap.
MAX_OUTPUT_TOKENS_LIMIT = 4096

# Lambda's longest function timeout: no invocation runs longer. A metering hold (chatbot.usage_store) of a
# request lives until its invocation's deadline plus this margin, which covers clock skew between the
# hosts and the time between reading the deadline and writing the hold.
LAMBDA_MAX_TIMEOUT_SECONDS = 900
HOLD_MARGIN_SECONDS = 60

# Lambda's synchronous invocation request limit (the whole event JSON, not just the body).
LAMBDA_SYNC_REQUEST_BYTES = 6_291_456
# What the HTTP API event adds around the body: headers (the HTTP API caps them at 10 KB), request
# context, JSON escaping of the body string. 64 KiB leaves ample room.
EVENT_ENVELOPE_RESERVE_BYTES = 65_536
# The largest MAX_BODY_BYTES whose bodies always reach the function, even base64-encoded (4/3 larger).
MAX_BODY_BYTES_LIMIT = (LAMBDA_SYNC_REQUEST_BYTES - EVENT_ENVELOPE_RESERVE_BYTES) * 3 // 4
# UTF-8 needs at most 4 bytes per character (code point).
UTF8_MAX_BYTES_PER_CHAR = 4


def bedrock_retry_budget_seconds(max_attempts: int, read_timeout_seconds: int) -> int:
    """Worst case of the initial ConverseStream call with botocore's retries: every attempt times out
    (connect + read) and every back-off is botocore's longest. The function timeout must be at least
    this, or Lambda kills the request in the middle of a retry."""
    per_attempt = BEDROCK_CONNECT_TIMEOUT_SECONDS + read_timeout_seconds
    return max_attempts * per_attempt + (max_attempts - 1) * BOTOCORE_MAX_BACKOFF_SECONDS
