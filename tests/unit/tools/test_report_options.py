"""The report's options: a value the option cannot mean is a usage error naming it, and CloudWatch that
cannot be read is one clear line, never a traceback (found by tests/reliability/test_config_properties.py)."""

from __future__ import annotations

import socket

import pytest

from tools import report


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--hours", "nan"),  # was: ValueError out of the window arithmetic
        ("--hours", "inf"),  # was: OverflowError
        ("--hours", "-5"),  # was: StopIteration
        ("--hours", "0"),  # was: an empty report
        ("--hours", "2.2e-311"),  # was: StartTime = EndTime, refused by CloudWatch (found by hypothesis)
        ("--latest-hours", "0.01"),  # under a minute: no period of CloudWatch fits
        ("--hours", "1e9"),  # was: OverflowError (date value out of range)
        ("--latest-hours", "nan"),  # was: silently ignored
        ("--region", "not a region"),  # was: InvalidRegionError
        ("--region", ""),  # was: a ClientError with moto's HTML 500 page
        ("--endpoint-url", "foo"),  # was: ValueError: Invalid endpoint
        ("--endpoint-url", "ftp://127.0.0.1"),  # was: HTTPClientError
        ("--endpoint-url", "http://cloudwatch.example.com"),  # plain http off this machine
        ("--stack-name", "a b$"),  # was: accepted, no rules found
    ],
)
def test_given_a_value_the_option_cannot_mean_then_a_usage_error_naming_it(
    option: str, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        report.main([f"{option}={value}"])
    assert exit_.value.code == 2
    assert f"argument {option}:" in capsys.readouterr().err


def test_given_an_endpoint_nobody_answers_then_one_clear_line_and_exit_1(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}"
    assert report.main([f"--endpoint-url={closed}", "--region=us-east-1"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"report: CloudWatch could not be read (--endpoint-url {closed}): ")
    assert "Traceback" not in err and len(err.splitlines()) == 1
