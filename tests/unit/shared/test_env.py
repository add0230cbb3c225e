"""The environment rules every function reads its settings with (`shared.env`): the same rules as synth,
an error naming the variable."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from offline.environment import REPO
from shared.env import base_url, bounded_int, bounded_number, key, keys, log_level, logger_level, table_name


@pytest.mark.parametrize("raw", ["1_000", "\u0663", "\uff11\uff10", "3.0", "0x10", "1e3", "9" * 30])
def test_given_what_python_reads_as_an_integer_but_no_configuration_means_then_refused_naming_it(
    raw: str,
) -> None:
    with pytest.raises(ValueError, match=r"^LEASE must be"):
        bounded_int({"LEASE": raw}, "LEASE", 600, 1, 86400)


def test_given_blank_or_padded_integers_then_the_default_or_the_value() -> None:
    assert bounded_int({"N": "  "}, "N", 7, 1, 9) == 7
    assert bounded_int({"N": " +8 "}, "N", 7, 1, 9) == 8


@pytest.mark.parametrize("raw", ["nan", "inf", "1e400", "\u0663", "1_0", "0x1", "-0.5"])
def test_given_a_number_that_is_not_a_finite_decimal_in_range_then_refused_naming_it(raw: str) -> None:
    with pytest.raises(ValueError, match=r"^TIMEOUT must be"):
        bounded_number({"TIMEOUT": raw}, "TIMEOUT", 3.0, 0, 30)


def test_given_a_long_broken_value_then_the_error_quotes_only_its_start() -> None:
    with pytest.raises(ValueError, match=r"^N must be an integer") as error:
        bounded_int({"N": "x" * 5000}, "N", 1, 1, 2)
    assert len(str(error.value)) < 150


@pytest.mark.parametrize(
    "url",
    [
        "http://app.launchdarkly.com",  # the token would travel in clear
        "app.launchdarkly.com",  # no scheme: urllib3 would use http
        "ftp://127.0.0.1",
        "https://user:secret@api.example.com",
        "https://api.example.com/?q=1",
        "https://api.example.com/#x",
        "https://api example.com",
        "https://api.example.com:0",
        "https://api.example.com:70000",
        "http://127.0.0.1.nip.io",
    ],
)
def test_given_a_base_url_that_is_not_https_to_a_host_then_refused_naming_it(url: str) -> None:
    with pytest.raises(ValueError, match=r"^VENDOR_API_BASE_URL "):
        base_url({"VENDOR_API_BASE_URL": url}, "VENDOR_API_BASE_URL", "https://default.example")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("", "https://default.example"),
        ("https://api.withperf.pro/", "https://api.withperf.pro"),
        ("https://eu.example.com:8443/v2", "https://eu.example.com:8443/v2"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),  # the offline fakes
        ("http://localhost:9", "http://localhost:9"),
        ("http://[::1]:9/x", "http://[::1]:9/x"),
    ],
)
def test_given_an_https_or_loopback_base_url_then_accepted(url: str, expected: str) -> None:
    assert base_url({"U": url}, "U", "https://default.example") == expected


def test_given_keys_then_blank_entries_ignored_repeats_once_and_anything_else_refused() -> None:
    assert keys({"K": " a, ,b.c_d-1,a "}, "K") == ("a", "b.c_d-1")
    assert key({"K": " proj-1 "}, "K") == "proj-1"
    for bad in ("a b", "a/b", "../x", "\u00e9", "a?b"):
        with pytest.raises(ValueError, match=r"^K "):
            keys({"K": f"ok,{bad}"}, "K")
        with pytest.raises(ValueError, match=r"^K "):
            key({"K": bad}, "K")


def test_given_a_checkpoint_table_name_then_dynamodb_rules_and_required() -> None:
    assert table_name({"T": " ai-gateway_checkpoints.v1 "}, "T") == "ai-gateway_checkpoints.v1"
    for bad in ("", "ab", "a b", "t" * 256, "tbl/x"):
        with pytest.raises(ValueError, match=r"^T "):
            table_name({"T": bad}, "T")


def test_given_a_log_level_then_synths_levels_in_any_case_and_a_broken_one_falls_back_at_import() -> None:
    assert log_level({"POWERTOOLS_LOG_LEVEL": "debug"}) == "DEBUG"
    assert log_level({}) is None
    with pytest.raises(ValueError, match=r"^POWERTOOLS_LOG_LEVEL must be one of"):
        log_level({"POWERTOOLS_LOG_LEVEL": "verbose"})
    assert logger_level({"POWERTOOLS_LOG_LEVEL": "verbose"}) == "INFO"


def test_given_a_broken_log_level_when_the_collectors_are_imported_then_no_init_error() -> None:
    # Powertools raises "Unknown level" at import for such a value: a Lambda init error that names no
    # setting. The run reports it instead (tests/reliability/test_config_properties.py).
    code = ";".join(f"import collectors.{name}_collector" for name in ("launchdarkly", "perf", "flashback"))
    env = {**os.environ, "POWERTOOLS_LOG_LEVEL": "verbose", "PYTHONPATH": f"{REPO / 'lambdas'}:{REPO}"}
    done = subprocess.run(  # noqa: S603 (this interpreter, a fixed snippet)
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr[-1000:]
