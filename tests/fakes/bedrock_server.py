"""A loopback Amazon Bedrock Runtime that speaks ConverseStream's real wire format.

`POST /model/{modelId}/converse-stream` answers HTTP/1.1 chunked `application/vnd.amazon.eventstream`
frames (messageStart, contentBlockDelta..., contentBlockStop, messageStop, metadata), or an HTTP 429
ThrottlingException (or ServiceQuotaExceededException), a mid-stream `modelStreamErrorException`, or a
frame whose CRC does not match its bytes. The real botocore client reaches it
through `AWS_ENDPOINT_URL_BEDROCK_RUNTIME`, so the code under test parses real bytes.

Behaviour is scripted per model (`script`), chosen by a marker in the prompt (`when`: the load test gives
each request its fault up front, whatever order the requests arrive in), otherwise a deterministic answer
derived from the prompt.
A slow model is a delay before the response (`response_delay`), before the first token
(`first_token_delay`), between chunks (`chunk_delay`) and a pause mid-answer (`stall` after
`stall_after_chunks`); each call records how many text chunks it sent and whether the client closed the
connection before the stream ended (`Call.disconnected`), so a test sees the gateway stop reading.
Every call it serves is also on its own meter (`meter`, tests/fakes/bedrock_meter.py), as Bedrock meters
every call in AWS/Bedrock whoever makes it.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

from tests.fakes import eventstream
from tests.fakes.bedrock_meter import OK, SERVER_ERROR, THROTTLED, BedrockMeter, MeteredCall

ANSWER = "answer"
THROTTLE = "throttle"
STREAM_ERROR = "stream_error"
DROP = "drop"  # the connection closes mid-stream, without messageStop or metadata
CORRUPT = "corrupt"  # a contentBlockDelta frame mid-stream carries a wrong message CRC
QUOTA = "quota"  # HTTP 400 ServiceQuotaExceededException (Bedrock's "too many tokens" answer)


@dataclass
class Behavior:
    kind: str = ANSWER
    text: str | None = None  # None: derived from the prompt
    stop_reason: str = "end_turn"
    chunk_chars: int = 24
    first_token_delay: float = 0.0
    chunk_delay: float = 0.0
    cache_read_input_tokens: int | None = None
    cache_write_input_tokens: int | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    response_delay: float = 0.0  # before the HTTP response starts (botocore waits on its read timeout)
    stall_after_chunks: int | None = None  # after this many text chunks, the model goes quiet ...
    stall: float = 0.0  # ... for this long (a stream that stops mid-answer)
    retry_after_ms: int | None = None  # THROTTLE: an `x-amz-retry-after` header (botocore honours it)


@dataclass
class Call:
    model_id: str
    body: dict[str, Any]
    chunks_sent: int = 0  # contentBlockDelta frames written
    finished: bool = False  # the stream was written to its end
    disconnected: bool = False  # the client closed the connection while the stream was being written


@dataclass
class _State:
    scripts: dict[str, deque[Behavior]] = field(default_factory=lambda: defaultdict(deque))
    defaults: dict[str, Behavior] = field(default_factory=dict)
    markers: dict[str, Behavior] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    meter: BedrockMeter = field(default_factory=BedrockMeter)


def default_answer(prompt: str) -> str:
    words = prompt.split()
    topic = " ".join(words[:8]) if words else "your question"
    return (
        f"Here is a concise answer about {topic}. "
        "First, consider the main constraint; then weigh the trade-offs; finally, pick the simplest option "
        "that meets it and measure the result."
    )


def _prompt_of(body: dict[str, Any]) -> str:
    texts = [block.get("text", "") for block in body.get("system", [])]
    for message in body.get("messages", []):
        texts += [block.get("text", "") for block in message.get("content", [])]
    return "\n".join(texts)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # small frames must leave at once (Nagle + delayed ACK = 40 ms)
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(length)
        parts = self.path.split("/")
        if len(parts) != 4 or parts[1] != "model" or parts[3] != "converse-stream":
            self._error(404, "UnknownOperationException", f"no route for {self.path}")
            return
        model_id = unquote(parts[2])
        body = json.loads(raw or b"{}")
        behavior, call = self.server.next_behavior(model_id, body)
        meter, arrival = self.server.state.meter, self.server.state.meter.now()
        if behavior.response_delay:
            time.sleep(behavior.response_delay)
        if behavior.kind in (THROTTLE, QUOTA):  # refused before processing: a throttle, not an invocation
            meter.record(MeteredCall(model_id, arrival, THROTTLED))
        if behavior.kind == THROTTLE:
            headers = {"x-amz-retry-after": str(behavior.retry_after_ms)} if behavior.retry_after_ms else {}
            message = "Too many requests, please wait before trying again."
            self._error(429, "ThrottlingException", message, headers)
            return
        if behavior.kind == QUOTA:
            self._error(400, "ServiceQuotaExceededException", "Too many tokens, please wait.")
            return
        try:
            self._stream(body, behavior, MeteredCall(model_id, arrival, OK), call)
        except (BrokenPipeError, ConnectionResetError):  # the client stopped reading and closed
            call.disconnected = True
            self.close_connection = True

    def _error(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        payload = json.dumps({"message": message}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("x-amzn-ErrorType", f"{code}:http://internal.amazon.com/coral/com.amazon.bedrock/")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):X}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _stream(self, body: dict[str, Any], behavior: Behavior, metered: MeteredCall, call: Call) -> None:
        """Answer the stream and meter the call once, however it ends."""
        started = time.perf_counter()
        first_token: list[float] = []
        settled: list[str] = []

        def settle(outcome: str) -> None:
            # Called before the usage goes out, so no client can read an answer the meter has not counted.
            if settled:
                return
            settled.append(outcome)
            meter = self.server.state.meter
            if outcome == SERVER_ERROR:  # no usage reported: an accepted request that failed at Bedrock
                meter.record(replace(metered, outcome=SERVER_ERROR))
                return
            usage, now = self._usage(body, behavior), time.perf_counter()
            meter.record(
                replace(
                    metered,
                    input_tokens=usage["inputTokens"],
                    output_tokens=usage["outputTokens"],
                    cache_read_input_tokens=usage.get("cacheReadInputTokens"),
                    cache_write_input_tokens=usage.get("cacheWriteInputTokens"),
                    latency_ms=(now - started) * 1000,
                    ttft_ms=((first_token[0] if first_token else now) - started) * 1000,
                )
            )

        try:
            self._answer(body, behavior, started, first_token, settle, call)
        except (BrokenPipeError, ConnectionResetError):
            settle(OK)  # the client left mid-stream: Bedrock still generated the answer and counts it
            raise
        finally:
            settle(SERVER_ERROR)  # a stream error or a dropped connection: no usage was reported

    @staticmethod
    def _answer_text(body: dict[str, Any], behavior: Behavior) -> tuple[str, str]:
        text = behavior.text if behavior.text is not None else default_answer(_prompt_of(body))
        max_tokens = (body.get("inferenceConfig") or {}).get("maxTokens")
        if max_tokens is not None and math.ceil(len(text) / 4) > max_tokens:
            return text[: max_tokens * 4], "max_tokens"
        return text, behavior.stop_reason

    def _usage(self, body: dict[str, Any], behavior: Behavior) -> dict[str, int]:
        """The usage the metadata event reports (and the meter counts)."""
        text, _ = self._answer_text(body, behavior)
        usage: dict[str, int] = {
            "inputTokens": behavior.input_tokens
            if behavior.input_tokens is not None
            else max(1, math.ceil(len(_prompt_of(body)) / 4) + 7),
            "outputTokens": behavior.output_tokens
            if behavior.output_tokens is not None
            else max(1, math.ceil(len(text) / 4)),
        }
        usage["totalTokens"] = usage["inputTokens"] + usage["outputTokens"]
        if behavior.cache_read_input_tokens is not None:
            usage["cacheReadInputTokens"] = behavior.cache_read_input_tokens
        if behavior.cache_write_input_tokens is not None:
            usage["cacheWriteInputTokens"] = behavior.cache_write_input_tokens
        return usage

    def _answer(
        self,
        body: dict[str, Any],
        behavior: Behavior,
        started: float,
        first_token: list[float],
        settle: Callable[[str], None],
        call: Call,
    ) -> None:
        text, stop_reason = self._answer_text(body, behavior)
        self.send_response(200)
        self.send_header("Content-Type", "application/vnd.amazon.eventstream")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("x-amzn-RequestId", f"fake-{time.monotonic_ns()}")
        self.end_headers()
        self._chunk(eventstream.event("messageStart", {"p": "abcd", "role": "assistant"}))
        if behavior.first_token_delay:
            time.sleep(behavior.first_token_delay)
        pieces = [text[i : i + behavior.chunk_chars] for i in range(0, len(text), behavior.chunk_chars)]
        for index, piece in enumerate(pieces):
            if index and behavior.chunk_delay:
                time.sleep(behavior.chunk_delay)
            if index == behavior.stall_after_chunks:
                time.sleep(behavior.stall)
            delta = {"contentBlockIndex": 0, "delta": {"text": piece}, "p": "abcdefgh"}
            frame = eventstream.event("contentBlockDelta", delta)
            if behavior.kind == CORRUPT and index == len(pieces) // 2:
                frame = eventstream.with_bad_crc(frame)
            self._chunk(frame)
            call.chunks_sent += 1
            first_token[:] = first_token or [time.perf_counter()]
            if behavior.kind == STREAM_ERROR and index == len(pieces) // 2:
                settle(SERVER_ERROR)
                error = {
                    "message": "The model stream failed.",
                    "originalStatusCode": 500,
                    "originalMessage": "upstream model error",
                }
                self._chunk(eventstream.exception("modelStreamErrorException", error))
                self.wfile.write(b"0\r\n\r\n")
                return
            if behavior.kind == DROP and index == len(pieces) // 2:
                settle(SERVER_ERROR)
                self.close_connection = True
                self.wfile.flush()
                self.connection.shutdown(2)
                return
        self._chunk(eventstream.event("contentBlockStop", {"contentBlockIndex": 0, "p": "ab"}))
        self._chunk(eventstream.event("messageStop", {"p": "abc", "stopReason": stop_reason}))
        usage = self._usage(body, behavior)
        settle(OK)
        latency = max(1, round((time.perf_counter() - started) * 1000))
        self._chunk(
            eventstream.event("metadata", {"metrics": {"latencyMs": latency}, "p": "a", "usage": usage})
        )
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()
        call.finished = True


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's default backlog of 5 drops the SYNs of a burst of new connections (the client then
    # waits a second to resend): Bedrock's endpoint accepts hundreds of connections at once.
    request_queue_size = 1024
    state: _State

    def next_behavior(self, model_id: str, body: dict[str, Any]) -> tuple[Behavior, Call]:
        with self.state.lock:
            call = Call(model_id, body)
            self.state.calls.append(call)
            queue = self.state.scripts.get(model_id)
            if queue:
                return queue.popleft(), call
            if self.state.markers:
                prompt = _prompt_of(body)
                for marker, behavior in self.state.markers.items():
                    if marker in prompt:
                        return behavior, call
            return self.state.defaults.get(model_id) or Behavior(), call


class FakeBedrock:
    """Start with `with FakeBedrock() as bedrock:`; point botocore at `bedrock.endpoint`."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._server = _Server((host, port), _Handler)
        self._server.state = _State()
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def calls(self) -> list[Call]:
        return list(self._server.state.calls)

    @property
    def meter(self) -> BedrockMeter:
        """Bedrock's own count of every call this fake served (whoever made it)."""
        return self._server.state.meter

    def script(self, model_id: str, *behaviors: Behavior) -> None:
        """The next requests for `model_id` get these behaviours, in order."""
        with self._server.state.lock:
            self._server.state.scripts[model_id].extend(behaviors)

    def set_default(self, model_id: str, behavior: Behavior) -> None:
        with self._server.state.lock:
            self._server.state.defaults[model_id] = behavior

    def when(self, marker: str, behavior: Behavior) -> None:
        """Requests whose prompt contains `marker` get `behavior` (after any scripted ones)."""
        with self._server.state.lock:
            self._server.state.markers[marker] = behavior

    def reset(self) -> None:
        with self._server.state.lock:
            self._server.state.markers.clear()
            self._server.state.scripts.clear()
            self._server.state.defaults.clear()
            self._server.state.calls.clear()
        self._server.state.meter.reset()

    def start(self) -> FakeBedrock:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeBedrock:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
