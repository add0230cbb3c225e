"""Reading and validating a `POST /chat` body: every rejection names the field and never reaches the model."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, ValidationError

from chatbot.platform_limits import MAX_OUTPUT_TOKENS_LIMIT
from chatbot.settings import ChatbotSettings

MAX_TOKENS_LIMIT = MAX_OUTPUT_TOKENS_LIMIT


class ChatError(Exception):
    """A request that ends in an error response: HTTP status, short code, human message (and headers)."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


class ChatRequestBody(BaseModel):
    """The contract's request body. Strict types: `"5"` is not an integer and `1` is not a boolean."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    message: StrictStr
    model_id: StrictStr | None = None
    system: StrictStr | None = None
    max_tokens: StrictInt | None = Field(default=None, ge=1, le=MAX_TOKENS_LIMIT)
    use_cache: StrictBool = True


@dataclass(frozen=True, slots=True)
class ChatRequest:
    """A validated request with its defaults applied."""

    message: str
    model_id: str
    system: str | None
    max_tokens: int | None
    use_cache: bool


def _short(value: object, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _first_error(exc: ValidationError) -> ChatError:
    error = exc.errors(include_url=False)[0]
    field = ".".join(str(part) for part in error["loc"]) or "body"
    if error["type"] == "extra_forbidden":
        text = f"{field}: unknown field"
    elif error["type"] == "missing":
        text = f"{field}: field required"
    else:
        text = f"{field}: {error['msg']}"
    return ChatError(400, "invalid_request", text)


def parse_body(raw: str | None, settings: ChatbotSettings) -> ChatRequest:
    """Turn the raw HTTP body into a ChatRequest or raise ChatError (400 or 413)."""
    if raw is None or not raw.strip():
        raise ChatError(400, "invalid_json", "body: a JSON object is required")
    size = len(raw.encode("utf-8", "surrogatepass"))
    if size > settings.max_body_bytes:
        raise ChatError(
            413, "payload_too_large", f"body: {size} bytes is over the {settings.max_body_bytes}-byte limit"
        )
    try:
        data: Any = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise ChatError(400, "invalid_json", f"body: not valid JSON ({_short(str(exc), 120)})") from None
    if not isinstance(data, dict):
        raise ChatError(400, "invalid_request", f"body: must be a JSON object, got {type(data).__name__}")
    try:
        body = ChatRequestBody.model_validate(data)
    except ValidationError as exc:
        raise _first_error(exc) from None
    return _apply_rules(body, settings)


def _apply_rules(body: ChatRequestBody, settings: ChatbotSettings) -> ChatRequest:
    message = body.message.strip()
    if not message:
        raise ChatError(400, "invalid_request", "message: must not be blank")
    if len(message) > settings.max_message_chars:
        raise ChatError(
            400,
            "invalid_request",
            f"message: {len(message)} characters is over the {settings.max_message_chars}-character limit",
        )
    model_id = settings.model_id if body.model_id is None else body.model_id.strip()
    if model_id not in settings.allowed_model_ids:
        raise ChatError(
            400,
            "invalid_request",
            f"model_id: {_short(model_id)} is not allowed; allowed: {', '.join(settings.allowed_model_ids)}",
        )
    system = body.system.strip() if body.system is not None else None
    return ChatRequest(
        message=message,
        model_id=model_id,
        system=system or None,
        max_tokens=body.max_tokens,
        use_cache=body.use_cache,
    )
