"""Encoder for the AWS event stream wire format (`application/vnd.amazon.eventstream`).

Each message: total length (u32), headers length (u32), prelude CRC32, headers, payload, message CRC32,
all big-endian. Headers here are strings (type 7), which is all ConverseStream uses. botocore's own
decoder (`botocore.eventstream`) parses what this writes, CRCs included.
"""

from __future__ import annotations

import json
import struct
import zlib
from typing import Any

_STRING = 7


def _headers(headers: dict[str, str]) -> bytes:
    out = bytearray()
    for name, value in headers.items():
        raw_name, raw_value = name.encode(), value.encode()
        out += struct.pack(">B", len(raw_name)) + raw_name
        out += struct.pack(">BH", _STRING, len(raw_value)) + raw_value
    return bytes(out)


def encode_message(headers: dict[str, str], payload: bytes) -> bytes:
    raw_headers = _headers(headers)
    total = 12 + len(raw_headers) + len(payload) + 4
    prelude = struct.pack(">II", total, len(raw_headers))
    prelude += struct.pack(">I", zlib.crc32(prelude) & 0xFFFFFFFF)
    body = prelude + raw_headers + payload
    return body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def event(event_type: str, payload: dict[str, Any]) -> bytes:
    return encode_message(
        {":event-type": event_type, ":content-type": "application/json", ":message-type": "event"},
        json.dumps(payload).encode(),
    )


def exception(exception_type: str, payload: dict[str, Any]) -> bytes:
    return encode_message(
        {
            ":exception-type": exception_type,
            ":content-type": "application/json",
            ":message-type": "exception",
        },
        json.dumps(payload).encode(),
    )


def with_bad_crc(message: bytes) -> bytes:
    """The same message with its trailing message CRC32 flipped: botocore raises ChecksumMismatch."""
    (crc,) = struct.unpack(">I", message[-4:])
    return message[:-4] + struct.pack(">I", crc ^ 0xFFFFFFFF)
