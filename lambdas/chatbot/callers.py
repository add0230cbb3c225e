"""Who is asking: the caller of a request (contract: "Callers: attribution, metering and limits").

The caller is the IAM principal that signed the request, as API Gateway verified it: the HTTP API
event's `requestContext.authorizer.iam.userArn` (an assumed role's ARN carries its session name, so each
session is its own caller). Nothing the client sends (a header, a body field) can name or change it. An
event without that context (only possible with the route's IAM auth turned off) is `anonymous`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.metric_catalogue import ANONYMOUS_CALLER

# An IAM ARN is at most 2,048 characters; anything longer is not one and would not fit a DynamoDB key.
MAX_CALLER_CHARS = 2048


def _member(value: Any, name: str) -> Any:
    return value.get(name) if isinstance(value, Mapping) else None


def caller_of(event: Any) -> str:
    """The caller of a raw Lambda event (any shape: this runs before the event is validated)."""
    iam = _member(_member(_member(event, "requestContext"), "authorizer"), "iam")
    arn = _member(iam, "userArn")
    if not isinstance(arn, str) or not arn.strip() or len(arn) > MAX_CALLER_CHARS:
        return ANONYMOUS_CALLER
    return arn.strip()
