"""moto's server on 127.0.0.1 (a real HTTP endpoint, so botocore goes through its whole stack)."""

from __future__ import annotations

import logging
import urllib.request

from moto.server import ThreadedMotoServer


class MotoServer:
    def __init__(self) -> None:
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)

    def start(self) -> MotoServer:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one access-log line per call is noise
        self._server.start()
        return self

    @property
    def endpoint(self) -> str:
        host, port = self._server.get_host_and_port()
        return f"http://{host}:{port}"

    def reset(self) -> None:
        """Forget every resource (moto's documented reset API)."""
        request = urllib.request.Request(f"{self.endpoint}/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> MotoServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
