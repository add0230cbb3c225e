"""A loopback stand-in for the container credentials endpoint Lambda gives a SnapStart function
(`AWS_CONTAINER_CREDENTIALS_FULL_URI` with `AWS_CONTAINER_AUTHORIZATION_TOKEN`): botocore's container
provider GETs it and reads AccessKeyId, SecretAccessKey, Token, Expiration (and AccountId). Each answer
carries a new key id, so a test can tell a fetched credential from a reused one; `fetches` counts them."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TOKEN = "container-authorization-token"  # a loopback fake's own token


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        with self.server.lock:
            self.server.fetches += 1
            number = self.server.fetches
        authorized = self.headers.get("Authorization") == TOKEN
        expiry = (datetime.now(UTC) + timedelta(hours=6)).strftime("%Y-%m-%dT%H:%M:%SZ")
        body = json.dumps(
            {
                "AccessKeyId": f"ASIAFAKE{number:08d}",
                "SecretAccessKey": "fake-secret",
                "Token": "fake-session-token",
                "Expiration": expiry,
                "AccountId": "123456789012",
            }
            if authorized
            else {"message": "unauthorized"}
        ).encode()
        self.send_response(200 if authorized else 401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.fetches = 0


class FakeCredentialsEndpoint:
    def __init__(self) -> None:
        self._server = _Server()
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def uri(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/2018-06-01/credentials"

    @property
    def fetches(self) -> int:
        with self._server.lock:
            return self._server.fetches

    def __enter__(self) -> FakeCredentialsEndpoint:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
