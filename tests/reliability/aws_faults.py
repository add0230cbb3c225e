"""Faults at the AWS edge for the reliability lab: real botocore errors from a `before-send` hook on the
product's own boto3 client (registered by `Case.fail_aws` in `lab.py`), parsed and retried by botocore
exactly as a real error would be."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any


class _RawBody:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


@dataclass
class AwsFault:
    """Answers the `operation` sends selected by `which(n, body)` (n counts sends from 1, body is the
    request's bytes) with an AWS error."""

    operation: str
    code: str
    status: int
    which: Callable[[int, bytes], bool]
    query_compatible: bool = False
    sends: int = 0
    injected: int = 0

    def __call__(self, request: Any, **_: Any) -> Any:
        from botocore.awsrequest import AWSResponse

        self.sends += 1
        body = request.body if isinstance(request.body, bytes) else str(request.body or "").encode()
        if not self.which(self.sends, body):
            return None
        content_type = request.headers.get("Content-Type", b"")
        content_type = content_type.decode() if isinstance(content_type, bytes) else str(content_type)
        assert "json" in content_type, f"fault hook speaks the JSON protocols only, got {content_type!r}"
        self.injected += 1
        body = json.dumps({"__type": self.code, "message": f"injected {self.code}"}).encode()
        headers = {"Content-Type": content_type}
        if self.query_compatible:  # CloudWatch: the error code travels in this header too
            headers["x-amzn-query-error"] = f"{self.code};Sender"
        return AWSResponse(request.url, self.status, headers, _RawBody(body))
