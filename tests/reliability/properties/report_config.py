"""The report's options fuzzed (`python -m tools.report`): whatever the command line holds, the command
prints the report (exit 0), refuses an option with a message naming it (argparse's usage error, exit 2),
or says clearly that CloudWatch could not be read (exit 1); never a traceback.

The oracle below is written from the options' documented meaning, not from the code:
- `--hours`, `--latest-hours`: a finite decimal number of hours from 1/60 (a minute) to 10,920
  (CloudWatch keeps data 455 days);
- `--region`: an AWS region name (`us-east-1`, `ap-southeast-2`, `us-gov-west-1`, ...);
- `--endpoint-url`: `https://host[:port][/path]`, or `http://` to a loopback host (moto on this machine);
- `--stack-name`: a CloudFormation stack name (a letter, then up to 127 letters, digits and hyphens);
- an option the command does not have is refused.
Every endpoint tried is on this machine (a valid non-loopback one would be called): the lab's moto, or a
closed loopback port (reachable by the rules, answered by nobody: exit 1, botocore given one attempt).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from hypothesis import strategies as st

from tests.reliability.properties.core import Property

MAX_HOURS = 455 * 24
NUMBER = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?", re.ASCII)
REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-[0-9]{1,2}", re.ASCII)
ENDPOINT_URL = re.compile(
    r"(https|http)://([A-Za-z0-9.-]+|\[[0-9a-fA-F:]+\])(:[0-9]{1,5})?(/[^\s?#]*)?", re.ASCII
)
STACK = re.compile(r"[A-Za-z][A-Za-z0-9-]{0,127}", re.ASCII)
OPTIONS = ("--hours", "--latest-hours", "--region", "--endpoint-url", "--stack-name")
MOTO, CLOSED = "<moto endpoint>", "<closed loopback port>"


def _loopback(host: str) -> bool:
    try:
        return host == "localhost" or ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def valid(option: str, value: str) -> bool:
    text = value.strip()
    if option in ("--hours", "--latest-hours"):
        return bool(NUMBER.fullmatch(text)) and 1 / 60 <= float(text) <= MAX_HOURS
    if option == "--region":
        return bool(REGION.fullmatch(text))
    if option == "--stack-name":
        return bool(STACK.fullmatch(text))
    if option == "--endpoint-url":
        match = ENDPOINT_URL.fullmatch(text)
        if match is None:
            return False
        port_ok = not match.group(3) or 1 <= int(match.group(3)[1:]) <= 65535
        return port_ok and (match.group(1) == "https" or _loopback(match.group(2)))
    return False  # not an option of the command


_TEXT = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=16)
HOURS = ["24", "0.5", "10920", "10920.5", "0", "-1", "nan", "inf", "1e9", "1e-9", "1_0", " 6 ", "\u0663", "x",
         "", "1e400", "72", ".25"]  # fmt: skip
REGIONS = ["us-east-1", "eu-west-3", "ap-southeast-2", "us-gov-west-1", "", "US-EAST-1", "us_east_1",
           "not a region", "us-east", "-1", "us-east-1 "]  # fmt: skip
ENDPOINTS = [MOTO, MOTO + "/", CLOSED, "", "foo", "ftp://127.0.0.1", "https://", "127.0.0.1:5000", "http://[::1",
             "http://127.0.0.1:99999", "http://user:pw@127.0.0.1:1"]  # fmt: skip
STACKS = ["AIGatewayTokenMetrics", "Other-Stack-2", "", "1stack", "a b", "a_b", "x" * 129]
_HOURS = st.sampled_from(HOURS) | st.floats(-10, 20_000).map(repr) | _TEXT
VALUES = {
    "--hours": _HOURS,
    "--latest-hours": _HOURS,
    "--region": st.sampled_from(REGIONS) | _TEXT,
    "--endpoint-url": st.sampled_from(ENDPOINTS) | _TEXT,
    "--stack-name": st.sampled_from(STACKS) | _TEXT,
}
# (option, value): the option set to the value; (option, None): left out; ("--bogus", ...) is no option
Argument = tuple[str, str | None]


def arguments() -> st.SearchStrategy[list[Argument]]:
    one = st.one_of(
        *(st.tuples(st.just(option), values | st.none()) for option, values in VALUES.items()),
        st.tuples(st.sampled_from(["--bogus", "--hoursx", "-x"]), _TEXT),
    )
    return st.lists(one, max_size=4)


def command_line(drawn: list[Argument], moto: str, closed: str) -> tuple[list[str], set[str], bool]:
    """argv (the lab's moto and us-east-1 unless drawn otherwise), the options the oracle finds broken,
    and whether a valid command line points at the closed port."""
    chosen: dict[str, str | None] = {"--endpoint-url": MOTO, "--region": "us-east-1"}
    extra: list[str] = []
    for option, value in drawn:
        if option in OPTIONS:
            chosen[option] = value
        else:
            extra += [option, value or ""]
    if chosen.get("--endpoint-url") is None:
        chosen["--endpoint-url"] = MOTO  # never the real AWS endpoint
    argv: list[str] = []
    bad: set[str] = set()
    for option, value in chosen.items():
        if value is None:
            continue
        value = value.replace(MOTO, moto).replace(CLOSED, closed)
        argv += [f"{option}={value}"]  # `=`: a value starting with "-" is still this option's
        if not valid(option, value):
            bad.add(option)
    bad |= set(extra[::2])
    unreachable = chosen["--endpoint-url"] == CLOSED
    return argv + extra, bad, unreachable


_lab: list[Any] = []


@contextmanager
def report_harness(lab: Any) -> Iterator[None]:
    """One lab case (a clean moto); botocore makes one attempt per call (the closed port answers at once)."""
    import pytest

    with lab.case(), pytest.MonkeyPatch.context() as mp:
        mp.setenv("AWS_MAX_ATTEMPTS", "1")
        _lab.append(lab)
        try:
            yield
        finally:
            _lab.pop()


def check_report_arguments(drawn: list[Argument]) -> str:
    import contextlib
    import io
    import socket

    from tools import report

    moto = _lab[-1].moto.endpoint
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}"
    argv, bad, unreachable = command_line(drawn, moto, closed)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = report.main(argv)
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 1
    printed = out.getvalue() + err.getvalue()
    assert "Traceback (most recent call last)" not in printed, printed[-1500:]
    if bad:
        assert code == 2, (argv, bad, code, printed[-500:])
        assert any(option in err.getvalue() for option in bad), (bad, err.getvalue()[-500:])
        assert not out.getvalue(), "a report printed for a refused command line"
        return "refused"
    if unreachable:
        assert code == 1 and "--endpoint-url" in err.getvalue(), (argv, code, printed[-500:])
        return "unreachable"
    assert code == 0 and out.getvalue().startswith("AI Gateway report"), (argv, code, printed[-800:])
    return "report"


def report_property() -> Property:
    return Property(
        "report settings",
        "command-line options, fuzzed",
        arguments(),
        check_report_arguments,
        max_examples=300,
    )
