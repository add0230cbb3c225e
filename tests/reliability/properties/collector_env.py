"""The collectors' configuration, written independently of the implementation: every environment variable
each collector reads, its documented rule (docs/configuration.md, the synth-time rules of infra/config.py)
and values to try, valid and not.

`oracle(source, env)` names the variables of `env` that break their rule. Rules:
- an integer is ASCII digits with an optional sign, surrounding blanks allowed, within its range; a number
  also a decimal point and an exponent; blank or unset means the default;
- keys (LaunchDarkly project, environment and AI Config keys, Flashback ids) are `[A-Za-z0-9._-]+` each,
  blank list entries ignored; AI Config keys need a project key;
- a vendor base URL is `https://host[:port][/path]`, or `http://` to a loopback host (the offline fakes):
  the token must never travel in clear to another host; no user, query or fragment;
- the checkpoint table is a DynamoDB table name (3..255 of `[A-Za-z0-9_.-]`), required;
- a secret ARN must name a secret that can be read (here: the planted secret, by ARN or name);
- POWERTOOLS_LOG_LEVEL is one of DEBUG, INFO, WARNING, ERROR, CRITICAL (any case) or blank;
  POWERTOOLS_SERVICE_NAME is free text.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from hypothesis import strategies as st

INTEGER = re.compile(r"[+-]?[0-9]+", re.ASCII)
NUMBER = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?", re.ASCII)
KEY = re.compile(r"[A-Za-z0-9._-]+", re.ASCII)
TABLE = re.compile(r"[A-Za-z0-9_.-]{3,255}", re.ASCII)
URL = re.compile(r"(https|http)://([A-Za-z0-9.-]+|\[::1\])(:[0-9]{1,5})?(/[A-Za-z0-9._~/-]*)?", re.ASCII)
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def ld_usage_paths() -> tuple[str, ...]:
    """The usage endpoints the contract lists (the catalogue's table of them)."""
    from shared.metric_catalogue import LD_USAGE_SERIES

    return tuple(LD_USAGE_SERIES)


def perf_metric_names() -> tuple[str, ...]:
    """Every metric the Perf collector can publish (the catalogue's Perf table)."""
    from shared.metric_catalogue import PERF_FIELDS

    return tuple(spec.metric.name for spec in PERF_FIELDS)


@dataclass(frozen=True)
class Setting:
    name: str
    kind: str  # integer, number, keys, key, url, table, secret, level, free, choice, series
    low: float = 0
    high: float = 0
    step: int = 1  # integers: a multiple of this
    choices: tuple[str, ...] = ()


COMMON = (
    Setting("CHECKPOINT_TABLE_NAME", "table"),
    Setting("CHECKPOINT_LEASE_SECONDS", "integer", 1, 86400),
    Setting("COLLECTOR_TIME_RESERVE_SECONDS", "integer", 0, 600),
    Setting("COLLECTOR_SECRET_MAX_AGE_SECONDS", "integer", 0, 86400),
    Setting("COLLECTOR_HTTP_CONNECT_TIMEOUT_SECONDS", "number", 0.01, 30),
    Setting("COLLECTOR_HTTP_READ_TIMEOUT_SECONDS", "number", 0.01, 120),
    Setting("COLLECTOR_HTTP_MAX_ATTEMPTS", "integer", 1, 10),
    Setting("COLLECTOR_HTTP_BACKOFF_SECONDS", "number", 0, 30),
    Setting("COLLECTOR_HTTP_BACKOFF_MAX_SECONDS", "number", 0, 60),
    Setting("COLLECTOR_HTTP_RETRY_AFTER_MAX_SECONDS", "number", 0, 120),
    Setting("COLLECTOR_HTTP_RATE_LIMIT_WAIT_MAX_SECONDS", "number", 0, 120),
    Setting("POWERTOOLS_LOG_LEVEL", "level"),
    Setting("POWERTOOLS_SERVICE_NAME", "free"),
    # The metric budget (every collector's runner reads all three): detail keys only select which keys
    # also get series of their own, so any text is a valid selection; PERF_SERIES names Perf metrics.
    Setting("LAUNCHDARKLY_DETAIL_KEYS", "free"),
    Setting("FLASHBACK_DETAIL_IDS", "free"),
    Setting("PERF_SERIES", "perf_series"),
)
VENDOR = {
    "launchdarkly": (
        Setting("LAUNCHDARKLY_API_BASE_URL", "url"),
        Setting("LAUNCHDARKLY_API_TOKEN_SECRET_ARN", "secret"),
        Setting("LAUNCHDARKLY_PROJECT_KEY", "key"),
        Setting("LAUNCHDARKLY_ENVIRONMENT_KEYS", "keys"),
        Setting("LAUNCHDARKLY_AI_CONFIG_KEYS", "keys"),
        Setting("LAUNCHDARKLY_AI_CONFIG_TIME_UNIT", "choice", choices=("ms", "s")),
        Setting("LAUNCHDARKLY_USAGE_SERIES", "series"),
        Setting("LAUNCHDARKLY_WINDOW_SECONDS", "integer", 300, 86400, step=300),
        Setting("LAUNCHDARKLY_INGESTION_LAG_SECONDS", "integer", 0, 86400),
        Setting("LAUNCHDARKLY_LOOKBACK_SECONDS", "integer", 300, 13 * 86400),
        Setting("LAUNCHDARKLY_MAX_WINDOWS_PER_RUN", "integer", 1, 1000),
        Setting("LAUNCHDARKLY_USAGE_LOOKBACK_DAYS", "integer", 1, 13),
        Setting("LAUNCHDARKLY_USAGE_LAG_SECONDS", "integer", 0, 3 * 86400),
    ),
    "perf": (
        Setting("PERF_API_BASE_URL", "url"),
        Setting("PERF_API_KEY_SECRET_ARN", "secret"),
        Setting("PERF_OVERVIEW_DAYS", "integer", 1, 90),
        Setting("PERF_CUSTOMER_DAYS", "integer", 1, 90),
        Setting("PERF_PERFORMANCE_DAYS", "integer", 1, 90),
        Setting("PERF_FAILURES_DAYS", "integer", 1, 90),
        Setting("PERF_PROVIDERS_HOURS", "integer", 1, 168),
        Setting("PERF_DAILY_LOOKBACK_DAYS", "integer", 1, 13),
    ),
    "flashback": (
        Setting("FLASHBACK_API_BASE_URL", "url"),
        Setting("FLASHBACK_API_KEY_SECRET_ARN", "secret"),
        Setting("FLASHBACK_AI_LLM_IDS", "keys"),
    ),
}


def settings_of(source: str) -> tuple[Setting, ...]:
    return COMMON + VENDOR[source]


def _loopback(host: str) -> bool:
    try:
        return host == "localhost" or ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _valid(setting: Setting, raw: str, secrets: tuple[str, ...]) -> bool:
    text = raw.strip()
    kind = setting.kind
    if kind == "free":
        return True
    if kind == "secret":
        return text in secrets
    if kind == "table":
        return bool(TABLE.fullmatch(text))
    if not text:
        return True  # blank: the default
    if kind == "integer":
        if not INTEGER.fullmatch(text) or len(text.lstrip("+-").lstrip("0")) > 18:
            return False  # not an integer, or far out of any range here
        return setting.low <= int(text) <= setting.high and int(text) % setting.step == 0
    if kind == "number":
        return bool(NUMBER.fullmatch(text)) and setting.low <= float(text) <= setting.high  # 1e400: inf
    if kind == "level":
        return text.upper() in LOG_LEVELS
    if kind == "choice":
        return text.lower() in setting.choices
    if kind == "key":
        return bool(KEY.fullmatch(text))
    if kind == "keys":
        return all(KEY.fullmatch(item.strip()) for item in text.split(",") if item.strip())
    if kind == "series":
        paths = ld_usage_paths()
        return all(item.strip().strip("/") in paths for item in text.split(",") if item.strip())
    if kind == "perf_series":
        items = {item.strip() for item in text.split(",") if item.strip()}
        return "*" in items or items <= set(perf_metric_names())
    if kind == "url":
        match = URL.fullmatch(text)
        if match is None:
            return False
        port_ok = not match.group(3) or 1 <= int(match.group(3)[1:]) <= 65535
        return (match.group(1) == "https" or _loopback(match.group(2))) and port_ok
    raise AssertionError(kind)


def oracle(source: str, env: dict[str, str], secrets: tuple[str, ...]) -> set[str]:
    """The names of the settings `env` breaks (unset ones take their defaults, which are valid)."""
    bad = {s.name for s in settings_of(source) if s.name in env and not _valid(s, env[s.name], secrets)}
    for required in ("CHECKPOINT_TABLE_NAME",):
        if required not in env:
            bad.add(required)
    if source in VENDOR:
        secret = next(s.name for s in VENDOR[source] if s.kind == "secret")
        if secret not in env:
            bad.add(secret)
    if source == "launchdarkly":
        configs = env.get("LAUNCHDARKLY_AI_CONFIG_KEYS", "")
        project = env.get("LAUNCHDARKLY_PROJECT_KEY", "").strip()
        if any(item.strip() for item in configs.split(",")) and not project:
            bad.add("LAUNCHDARKLY_PROJECT_KEY")
    return bad


# --- values to try ------------------------------------------------------------------------------------
_ENV_TEXT = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=24)
_ODD_NUMBERS = ("", " ", "abc", "1.5", "1_000", "\u0663", "\uff11\uff10", "1e3", "nan", "inf", "-inf", "+5",
                "-0", "0x10", " 12 ", "9" * 30, "1" * 5000, "3.0", ".5", "5.", "1e400", "-1")  # fmt: skip


def _integers(s: Setting) -> st.SearchStrategy[str]:
    low, high = int(s.low), int(s.high)
    edges = [low, high, low - 1, high + 1, low + s.step, high - s.step, (low + high) // 2 // s.step * s.step]
    return st.one_of(
        st.sampled_from([str(v) for v in edges]),
        st.integers(low - 10, high + 10).map(str),
        st.sampled_from(_ODD_NUMBERS),
        _ENV_TEXT,
    )


def _numbers(s: Setting) -> st.SearchStrategy[str]:
    edges = [s.low, s.high, s.low - 0.001, s.high + 0.001, (s.low + s.high) / 2]
    return st.one_of(
        st.sampled_from([repr(v) for v in edges]),
        st.floats(s.low - 1, s.high + 1).map(repr),
        st.sampled_from(_ODD_NUMBERS),
        _ENV_TEXT,
    )


_KEYISH = st.text(st.sampled_from("abcXYZ019._-"), min_size=1, max_size=8)
_NOT_KEYS = st.sampled_from(["a b", "a/b", "../x", "é", "a?b", "a#b", "x\ty", "%2F", "a:b", "\u200b"])


def _keys() -> st.SearchStrategy[str]:
    entry = _KEYISH | _NOT_KEYS | st.just("") | st.just(" ")
    return st.lists(entry, max_size=3).map(",".join) | _ENV_TEXT


# Stand-ins the harness replaces by the case's own values (the strategies exist before the case does).
SECRET_ARN, SECRET_NAME, ENDPOINT = "<secret arn>", "<secret name>", "<fake endpoint>"


def values(setting: Setting) -> st.SearchStrategy[str]:
    """Values to try for one setting: valid ones (boundaries included), near misses and anything."""
    kind = setting.kind
    if kind == "integer":
        return _integers(setting)
    if kind == "number":
        return _numbers(setting)
    if kind == "keys":
        return _keys()
    if kind == "key":
        return _KEYISH | _NOT_KEYS | st.just("") | _ENV_TEXT
    if kind == "secret":
        gone = "arn:aws:secretsmanager:us-east-1:123456789012:secret:gone-AbCdEf"
        return st.sampled_from([SECRET_ARN, SECRET_NAME, f" {SECRET_ARN} ", "", " ", gone]) | _ENV_TEXT
    if kind == "table":
        tables = ["reliability-checkpoints", "", "ab", "a b", "t" * 256, "tbl/x", "\u00e9-table"]
        return st.sampled_from(tables) | _ENV_TEXT
    if kind == "level":
        levels = [*LOG_LEVELS, "debug", "Info", "", "WARN", "TRACE", "5", "verbose"]
        return st.sampled_from(levels) | _ENV_TEXT
    if kind == "choice":
        return st.sampled_from([*setting.choices, "MS", " s ", "", "seconds", "us"]) | _ENV_TEXT
    if kind == "perf_series":
        names = st.sampled_from([*perf_metric_names()[:6], "*", "Nope", "a b", ""])
        return st.lists(names, max_size=3).map(",".join) | _ENV_TEXT
    if kind == "series":
        paths = st.sampled_from([*ld_usage_paths()[:6], "/total-mau/", "nope", "observability", "a b", ""])
        return st.lists(paths, max_size=3).map(",".join) | _ENV_TEXT
    if kind == "url":
        return st.sampled_from(URLS) | _ENV_TEXT
    return _ENV_TEXT


URLS = [
    ENDPOINT, ENDPOINT + "/", "https://127.0.0.1:9", "https://localhost/api", "http://localhost:9", "",
    "http://api.example.com", "app.launchdarkly.com", "ftp://127.0.0.1", "https://", "https://a b",
    "https://user:pw@127.0.0.1", "https://127.0.0.1/?q=1", "https://127.0.0.1/#x", "https://127.0.0.1:0",
    "https://127.0.0.1:99999", "http://127.0.0.1.nip.io", "javascript:alert(1)", "https://[::1]:9/x",
]  # fmt: skip
Changes = list[tuple[str, str | None]]  # (setting, its new value or None: removed)


def changes(source: str) -> st.SearchStrategy[Changes]:
    """Up to four settings of `source` replaced by drawn values or removed."""
    change = st.one_of(*(st.tuples(st.just(s.name), values(s) | st.none()) for s in settings_of(source)))
    return st.lists(change, max_size=4)


def apply(base: dict[str, str], drawn: Changes, stand_ins: dict[str, str]) -> dict[str, str]:
    """`base` with the drawn changes, the stand-ins replaced by the case's values."""
    env = dict(base)
    for name, value in drawn:
        if value is None:
            env.pop(name, None)
            continue
        for stand_in, actual in stand_ins.items():
            value = value.replace(stand_in, actual)
        env[name] = value
    return env
