"""Reading settings from a Lambda environment, with errors that name the variable.

The rules are the synth-time rules of `infra/config.py` (an operator may still edit a function's
environment by hand, and the functions must refuse what synth refuses, naming the variable):
integers are ASCII digits with an optional sign and numbers ASCII decimals (Python's `int` and `float`
also take `1_000`, `٣` or `nan`, which no configuration means), keys are `[A-Za-z0-9._-]+`, a vendor base
URL is `https://` (a token must never travel in clear; `http://` only to this machine, the offline fakes),
a DynamoDB table name follows DynamoDB's rule. Blank or unset means the default where there is one. A
quoted value is cut to `SHOWN_CHARS` characters.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Mapping

INTEGER = re.compile(r"[+-]?[0-9]{1,18}", re.ASCII)
NUMBER = re.compile(r"[+-]?([0-9]{1,18}(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]{1,3})?", re.ASCII)
KEY = re.compile(r"[A-Za-z0-9._-]+", re.ASCII)
TABLE_NAME = re.compile(r"[A-Za-z0-9_.-]{3,255}", re.ASCII)
# scheme, host (a DNS name, an IPv4 address or [::1]), optional port, optional path; nothing else
BASE_URL = re.compile(
    r"(https|http)://([A-Za-z0-9.-]+|\[::1\])(?::([0-9]{1,5}))?(/[A-Za-z0-9._~/-]*)?", re.ASCII
)
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LOG_LEVEL_ENV = "POWERTOOLS_LOG_LEVEL"
SHOWN_CHARS = 60


def shown(raw: str) -> str:
    """A value quoted in an error message: repr, cut to SHOWN_CHARS characters."""
    return repr(raw if len(raw) <= SHOWN_CHARS else raw[:SHOWN_CHARS] + "...")


def bounded_int(
    env: Mapping[str, str], name: str, default: int, low: int, high: int, error: type[ValueError] = ValueError
) -> int:
    """`env[name]` as an integer in [low, high]; `default` when unset or blank; else `error` naming it."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not INTEGER.fullmatch(raw):
        raise error(f"{name} must be an integer from {low} to {high}, got {shown(raw)}")
    value = int(raw)
    if not low <= value <= high:
        raise error(f"{name} must be between {low} and {high}, got {value}")
    return value


def bounded_number(
    env: Mapping[str, str],
    name: str,
    default: float,
    low: float,
    high: float,
    error: type[ValueError] = ValueError,
) -> float:
    """`env[name]` as a decimal number in [low, high]; `default` when unset or blank."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not NUMBER.fullmatch(raw):
        raise error(f"{name} must be a number, got {shown(raw)}")
    value = float(raw)
    if not math.isfinite(value) or not low <= value <= high:
        raise error(f"{name} must be between {low:g} and {high:g}, got {shown(raw)}")
    return value


def key(env: Mapping[str, str], name: str, error: type[ValueError] = ValueError) -> str:
    """One key (letters, digits, `.`, `_`, `-`), or "" when unset or blank."""
    raw = env.get(name, "").strip()
    if raw and not KEY.fullmatch(raw):
        raise error(f"{name} must be a key of letters, digits, '.', '_' and '-', got {shown(raw)}")
    return raw


def keys(env: Mapping[str, str], name: str, error: type[ValueError] = ValueError) -> tuple[str, ...]:
    """A comma-separated list of keys, blank entries ignored and repeats kept once."""
    entries = tuple(dict.fromkeys(item.strip() for item in env.get(name, "").split(",") if item.strip()))
    bad = [entry for entry in entries if not KEY.fullmatch(entry)]
    if bad:
        raise error(f"{name} entries must be keys of letters, digits, '.', '_' and '-', got {shown(bad[0])}")
    return entries


def base_url(env: Mapping[str, str], name: str, default: str, error: type[ValueError] = ValueError) -> str:
    """A vendor's base URL without a trailing slash; `default` when unset or blank."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    match = BASE_URL.fullmatch(raw)
    if not match or (match.group(1) == "http" and not _loopback(match.group(2))):
        raise error(
            f"{name} must be an https:// URL (scheme, host, optional port and path; http:// only for a "
            f"loopback host), got {shown(raw)}"
        )
    if match.group(3) is not None and not 1 <= int(match.group(3)) <= 65535:
        raise error(f"{name} has a port outside 1..65535, got {shown(raw)}")
    return raw.rstrip("/")


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def table_name(env: Mapping[str, str], name: str, error: type[ValueError] = ValueError) -> str:
    """A required DynamoDB table name (3 to 255 of letters, digits, `_`, `-`, `.`)."""
    raw = env.get(name, "").strip()
    if not raw:
        raise error(f"{name} is required")
    if not TABLE_NAME.fullmatch(raw):
        raise error(f"{name} must be a DynamoDB table name (3 to 255 of A-Z a-z 0-9 _ - .), got {shown(raw)}")
    return raw


def log_level(env: Mapping[str, str], error: type[ValueError] = ValueError) -> str | None:
    """POWERTOOLS_LOG_LEVEL upper-cased, None when unset or blank (Powertools' default)."""
    raw = env.get(LOG_LEVEL_ENV, "").strip()
    if not raw:
        return None
    if raw.upper() not in LOG_LEVELS:
        raise error(f"{LOG_LEVEL_ENV} must be one of {', '.join(LOG_LEVELS)}, got {shown(raw)}")
    return raw.upper()


def logger_level(env: Mapping[str, str]) -> str | None:
    """The level to build a module's Logger with at import: a broken POWERTOOLS_LOG_LEVEL would make
    Powertools raise there (an init error whose message does not name it); INFO instead, and the run
    reports the setting (`log_level`)."""
    try:
        return log_level(env)
    except ValueError:
        return "INFO"
