"""The wire under the vendor fakes: a `ThreadingHTTPServer` on loopback speaking HTTP/1.1 with keep-alive
and `Content-Length`, TCP_NODELAY on every accepted socket, each request handed to the fake's `_handle`."""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol


@dataclass
class Response:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"


class Dispatcher(Protocol):
    """What the server calls for each request (`FakeVendorServer._handle`)."""

    def _handle(self, method: str, raw_path: str, headers: dict[str, str]) -> Response: ...


class LoopbackHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # small answers must leave at once (Nagle + delayed ACK = 40 ms)
    server: LoopbackServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        headers = {name.lower(): value for name, value in self.headers.items()}
        response = self.server.fake._handle(self.command, self.path, headers)
        try:
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            self.wfile.write(response.body)
            self.wfile.flush()
        except OSError:  # the client gave up (read timeout) and closed the socket
            self.close_connection = True


class LoopbackServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    fake: Dispatcher

    def get_request(self) -> tuple[socket.socket, Any]:
        conn, addr = super().get_request()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return conn, addr

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that disconnects mid-answer is a normal event in timeout tests

