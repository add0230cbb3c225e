"""A loopback HTTP proxy in front of moto's server that injects faults at the network edge.

The product's botocore client is pointed at the proxy (`AWS_ENDPOINT_URL_<SERVICE>`); the proxy forwards
each request to moto unchanged, except the next requests of an operation that were given a fault:

- `lose_answer(operation, hold)`: forward to moto (so the call IS stored), then send no answer: hold the
  connection `hold` seconds (past the client's read timeout: botocore raises ReadTimeoutError) and close it,
  or with `hold=0` close it at once (botocore raises ConnectionClosedError);
- `answer_error(operation, status, code)`: do not forward (nothing stored) and answer an AWS error in the
  request's own protocol: JSON 1.0 (CloudWatch's awsQueryCompatible error header included), Smithy RPC v2
  CBOR, or the query protocol's XML;
- `refuse()` / `reopen()`: stop listening (connections are refused by the kernel before anything is sent),
  and listen again on the same port.

`requests` records (operation, what happened) in arrival order. The operation is read from the request:
`X-Amz-Target` (JSON), the `/service/.../operation/<Op>` path (CBOR) or the `Action` form field (query).
"""

from __future__ import annotations

import http.client
import json
import threading
import uuid
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


@dataclass
class _Fault:
    kind: str  # "lose" | "error"
    hold: float = 0.0
    status: int = 0
    code: str = ""


def _cbor_text(text: str) -> bytes:
    data = text.encode()
    size = len(data)
    if size < 24:
        head = bytes([0x60 + size])
    elif size < 256:
        head = bytes([0x78, size])
    else:
        head = bytes([0x79]) + size.to_bytes(2, "big")
    return head + data


def cbor_error(code: str, message: str) -> bytes:
    """A CBOR map {"__type": code, "message": message} (RFC 8949 major types 5 and 3)."""
    return (
        bytes([0xA2]) + _cbor_text("__type") + _cbor_text(code) + _cbor_text("message") + _cbor_text(message)
    )


def operation_of(path: str, headers: Any, body: bytes) -> str:
    target = headers.get("X-Amz-Target") or ""
    if target:
        return str(target).rsplit(".", 1)[-1]
    parts = urlsplit(path).path.split("/")
    if "operation" in parts:
        return parts[parts.index("operation") + 1]
    form = parse_qs(body.decode("utf-8", "replace"))
    return form.get("Action", [""])[0]


class AwsFaultProxy:
    def __init__(self, upstream: str) -> None:
        split = urlsplit(upstream)
        self._upstream = (split.hostname or "127.0.0.1", split.port or 80)
        self._faults: dict[str, deque[_Fault]] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self.requests: list[tuple[str, str]] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    # --- faults -------------------------------------------------------------------------------------
    def lose_answer(self, operation: str, hold: float, times: int = 1) -> None:
        self._add(operation, _Fault("lose", hold=hold), times)

    def answer_error(self, operation: str, status: int, code: str, times: int = 1) -> None:
        self._add(operation, _Fault("error", status=status, code=code), times)

    def _add(self, operation: str, fault: _Fault, times: int) -> None:
        with self._lock:
            self._faults.setdefault(operation, deque()).extend([fault] * times)

    def _take(self, operation: str) -> _Fault | None:
        with self._lock:
            queue = self._faults.get(operation)
            return queue.popleft() if queue else None

    def fates(self, operation: str) -> list[str]:
        return [fate for op, fate in self.requests if op == operation]

    # --- serving ------------------------------------------------------------------------------------
    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Self:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                operation = operation_of(self.path, self.headers, body)
                fault = proxy._take(operation)
                if fault is not None and fault.kind == "error":
                    proxy.requests.append((operation, f"error {fault.status} {fault.code}"))
                    self._answer_error(fault)
                    return
                status, headers, answer = proxy._forward(self.command, self.path, self.headers, body)
                if fault is not None:  # stored upstream; the answer never reaches the client
                    proxy.requests.append((operation, "answer lost"))
                    proxy._stopping.wait(fault.hold)
                    self.close_connection = True
                    return
                proxy.requests.append((operation, "forwarded"))
                self.send_response(status)
                for name, value in headers:
                    if name.lower() not in _HOP_BY_HOP:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            do_GET = do_POST

            def _answer_error(self, fault: _Fault) -> None:
                message = f"injected {fault.code}"
                content_type = str(self.headers.get("Content-Type") or "")
                extra: dict[str, str] = {}
                if "cbor" in content_type or "rpc-v2-cbor" in str(self.headers.get("smithy-protocol") or ""):
                    payload, content_type = cbor_error(fault.code, message), "application/cbor"
                    extra["smithy-protocol"] = "rpc-v2-cbor"
                elif "json" in content_type:
                    payload = json.dumps({"__type": fault.code, "message": message}).encode()
                else:
                    content_type = "text/xml"
                    payload = (
                        f"<ErrorResponse><Error><Type>Sender</Type><Code>{fault.code}</Code>"
                        f"<Message>{message}</Message></Error><RequestId>{uuid.uuid4()}</RequestId>"
                        "</ErrorResponse>"
                    ).encode()
                if self.headers.get("x-amzn-query-mode"):  # awsQueryCompatible: the code travels here too
                    extra["x-amzn-query-error"] = (
                        f"{fault.code};{'Receiver' if fault.status >= 500 else 'Sender'}"
                    )
                self.send_response(fault.status)
                self.send_header("Content-Type", content_type)
                self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
                for name, value in extra.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self._handler = Handler
        self._listen(0)
        return self

    def _listen(self, port: int) -> None:
        server = ThreadingHTTPServer(("127.0.0.1", port), self._handler)
        server.daemon_threads = True
        server.handle_error = lambda *args: None  # a client that gave up: no traceback
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, daemon=True)
        self._thread.start()

    def _forward(self, method: str, path: str, headers: Any, body: bytes) -> tuple[int, list[Any], bytes]:
        connection = http.client.HTTPConnection(*self._upstream, timeout=30)
        try:
            forwarded = {k: v for k, v in headers.items() if k.lower() not in _HOP_BY_HOP}
            connection.request(method, path, body=body, headers=forwarded)
            response = connection.getresponse()
            return response.status, response.getheaders(), response.read()
        finally:
            connection.close()

    def refuse(self) -> None:
        """Stop listening: a connection attempt is refused before any byte is sent."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def reopen(self) -> None:
        if self._server is None:
            self._listen(self.port)

    def stop(self) -> None:
        self._stopping.set()
        self.refuse()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
