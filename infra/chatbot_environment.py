"""The chatbot Lambda's environment: built in one place for the stack (chat_api.py) and sized at synth.

Lambda refuses a function whose environment variables together exceed 4 KB (4096 bytes, measured on the
variables as JSON: names, values and quoting count). `CALLER_LIMITS` grows with every per-caller entry,
so `infra.config` measures the whole environment at synth, each table name CloudFormation will generate
counted at DynamoDB's longest (255 characters), and stops with an error naming `chatbot.caller_limits`
rather than letting a deploy fail half-way.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from chatbot.caller_limits import CallerLimits
from infra.config_defaults import CONTEXT_KEY
from infra.config_model import StackConfig

LAMBDA_ENVIRONMENT_LIMIT_BYTES = 4096
TABLE_NAME_MAX_CHARS = 255  # DynamoDB's longest table name: a generated name is unknown at synth


def caller_limits_json(limits: CallerLimits) -> str:
    """The compact `CALLER_LIMITS` document (null keys kept: a caller's null lifts a default limit)."""
    document: dict[str, object] = {}
    if limits.default:
        document["default"] = dict(limits.default)
    if limits.callers:
        document["callers"] = {caller: dict(entry) for caller, entry in limits.callers.items()}
    return json.dumps(document, separators=(",", ":"), sort_keys=True)


def chatbot_environment(
    config: StackConfig, *, cache_table_name: str, usage_table_name: str
) -> dict[str, str]:
    chatbot = config.chatbot
    return {
        "MODEL_ID": config.models.default,
        "ALLOWED_MODEL_IDS": ",".join(config.models.allowed),
        "CACHE_TABLE_NAME": cache_table_name,
        "CACHE_TTL_SECONDS": str(chatbot.cache_ttl_seconds),
        "MAX_MESSAGE_CHARS": str(chatbot.max_message_chars),
        "MAX_BODY_BYTES": str(chatbot.max_body_bytes),
        "MODEL_PRICES": json.dumps(
            {model: price.as_json() for model, price in config.models.prices.items()},
            separators=(",", ":"),
            sort_keys=True,
        ),
        "BEDROCK_MAX_ATTEMPTS": str(chatbot.bedrock_max_attempts),
        "BEDROCK_READ_TIMEOUT_SECONDS": str(chatbot.bedrock_read_timeout_seconds),
        "USAGE_TABLE_NAME": usage_table_name,
        "CALLER_LIMITS": caller_limits_json(chatbot.caller_limits),
        "LIMITS_FAIL_MODE": chatbot.limits_fail_mode,
        "ANSWER_DEADLINE_SECONDS": str(chatbot.answer_deadline_seconds),
        "POWERTOOLS_SERVICE_NAME": "chatbot",
        "POWERTOOLS_LOG_LEVEL": config.log_level,
        # Answers and errors carry the user's text: X-Ray never gets them (the code says so too; this
        # also covers any traced method added later).
        "POWERTOOLS_TRACER_CAPTURE_RESPONSE": "false",
        "POWERTOOLS_TRACER_CAPTURE_ERROR": "false",
    }


def environment_bytes(environment: Mapping[str, str]) -> int:
    """What Lambda measures against its 4 KB limit: the variables as one JSON object."""
    return len(json.dumps(dict(environment), separators=(",", ":"), ensure_ascii=False).encode())


def environment_size_error(config: StackConfig) -> str | None:
    """The error naming the key when the chatbot's environment could pass Lambda's limit, else None."""
    longest = "t" * TABLE_NAME_MAX_CHARS
    environment = chatbot_environment(config, cache_table_name=longest, usage_table_name=longest)
    size = environment_bytes(environment)
    if size <= LAMBDA_ENVIRONMENT_LIMIT_BYTES:
        return None
    own = len(environment["CALLER_LIMITS"].encode())
    return (
        f"{CONTEXT_KEY}.chatbot.caller_limits makes the chatbot's environment {size} bytes "
        f"(CALLER_LIMITS alone {own}), over Lambda's {LAMBDA_ENVIRONMENT_LIMIT_BYTES}-byte limit for all "
        f"variables together (table names counted at their longest, {TABLE_NAME_MAX_CHARS} characters): "
        "give callers that share limits one default, or drop entries that repeat the default"
    )
