"""Output capture for the reliability lab: what the product prints and logs, in one buffer."""

from __future__ import annotations

import io
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from typing import Any


@contextmanager
def captured_output() -> Iterator[io.StringIO]:
    """Everything printed (EMF, Powertools' JSON log lines) and every log record, in one buffer.

    Powertools' Logger holds the stream it was built with, so its StreamHandlers are pointed at the
    buffer as well as sys.stdout/sys.stderr; a handler on the root logger catches records that propagate.
    """
    buffer = io.StringIO()
    swapped: list[tuple[logging.StreamHandler[Any], Any]] = []
    loggers = [logging.getLogger(name) for name in list(logging.root.manager.loggerDict)] + [logging.root]
    for logger in loggers:
        for handler in getattr(logger, "handlers", []):
            if type(handler) is logging.StreamHandler and handler.stream in (
                sys.stdout,
                sys.stderr,
                sys.__stdout__,
                sys.__stderr__,
            ):
                swapped.append((handler, handler.setStream(buffer)))
    record_handler = logging.StreamHandler(buffer)
    record_handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s %(args)s"))
    logging.root.addHandler(record_handler)
    try:
        with redirect_stdout(buffer), redirect_stderr(buffer):
            yield buffer
    finally:
        logging.root.removeHandler(record_handler)
        for handler, stream in swapped:
            handler.setStream(stream)
