"""The process of a benchmark run, and stdout handled the way Lambda handles it.

The environment is every offline run's (`offline.environment`: no real account, no X-Ray, the chatbot's
contract variables) with Powertools at the deployed log level, INFO: the benchmark prices the bytes a
function logs.

Lambda's Python runtime replaces `sys.stdout` with a wrapper that flushes after every write, on a pipe:
every EMF document or log line costs a `write(2)`. `lambda_stdout()` reproduces that at the file
descriptor level (fd 1 goes to /dev/null, `sys.stdout` flushes on every write), so a benchmark pays the
real system calls instead of appending to a StringIO that would flatter it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

from offline.environment import apply_offline_environment, chat_environment, offline_environment

CACHE_TABLE = "bench-chat-cache"
LOG_LEVEL = "INFO"  # the deployed level


def bench_environment() -> dict[str, str]:
    """A benchmarked function's variables: offline, at the deployed log level, with the chat contract."""
    return {**offline_environment(LOG_LEVEL), **chat_environment(CACHE_TABLE)}


def apply_environment() -> None:
    """This process, before any product module is imported."""
    apply_offline_environment(LOG_LEVEL)
    os.environ.update(chat_environment(CACHE_TABLE))


class _Unbuffered:
    """What Lambda's bootstrap puts in `sys.stdout`: every write is flushed (one syscall or more)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, data: str) -> int:
        written = self.stream.write(data)
        self.stream.flush()
        return written

    def writelines(self, lines: Any) -> None:
        self.stream.writelines(lines)
        self.stream.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


@contextmanager
def lambda_stdout(target: str = os.devnull) -> Iterator[None]:
    """fd 1 -> `target` (a real file descriptor), `sys.stdout` unbuffered as in Lambda; restored after."""
    sys.stdout.flush()
    saved = os.dup(1)
    sink = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(sink, 1)
    os.close(sink)
    original = sys.stdout
    sys.stdout = _Unbuffered(original)
    try:
        yield
    finally:
        original.flush()
        sys.stdout = original
        os.dup2(saved, 1)
        os.close(saved)
