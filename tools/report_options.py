"""The report's command line (`python -m tools.report`, `offline.report`): its options, each checked as it
is parsed, and the CloudWatch client they describe.

A value the option cannot mean is argparse's usage error naming the option (exit 2) before anything is
read: `--hours`/`--latest-hours` a decimal number of hours above 0 and within CloudWatch's 455 days,
`--region` an AWS region name, `--endpoint-url` an https URL (http only to this machine, as the
collectors' base URLs, `shared.env`), `--stack-name` a CloudFormation stack name. CloudWatch that cannot be
read (no credentials, unreachable, access denied) is one line on stderr and exit 1, not a traceback.
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from pathlib import Path
from typing import Any

from shared.env import NUMBER, base_url, shown
from tools.top_callers import DEFAULT_STACK

REPO = Path(__file__).resolve().parent.parent

DESCRIPTION = "`python -m tools.report` (`make report ARGS=...`): the product's report from any CloudWatch."
MAX_HOURS = 455 * 24  # CloudWatch keeps (hourly) data 455 days: nothing older can be read
MIN_HOURS = 1 / 60  # CloudWatch's shortest standard period: a shorter range is an empty (or refused) query
REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-[0-9]{1,2}", re.ASCII)  # us-east-1, ap-southeast-2, us-gov-west-1
STACK_NAME = re.compile(r"[A-Za-z][A-Za-z0-9-]{0,127}", re.ASCII)  # CloudFormation's rule


def _hours(text: str) -> float:
    raw = text.strip()
    value = float(raw) if NUMBER.fullmatch(raw) else math.nan
    if not (math.isfinite(value) and MIN_HOURS <= value <= MAX_HOURS):
        raise argparse.ArgumentTypeError(
            f"must be a number of hours from 1/60 (a minute) to {MAX_HOURS} (CloudWatch keeps 455 days), "
            f"got {shown(text)}"
        )
    return value


def _matching(pattern: re.Pattern[str], what: str) -> Any:
    def check(text: str) -> str:
        if not pattern.fullmatch(text.strip()):
            raise argparse.ArgumentTypeError(f"must be {what}, got {shown(text)}")
        return text.strip()

    return check


def _endpoint(text: str) -> str:
    try:
        url = base_url({"--endpoint-url": text}, "--endpoint-url", "")
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("--endpoint-url ")) from None
    if not url:
        raise argparse.ArgumentTypeError("must be a URL, got ''")
    return url


def arguments() -> argparse.ArgumentParser:
    """The command's options (`offline.report` adds its local ones); a broken value is a usage error
    naming the option (exit 2), before anything is read."""
    parser = argparse.ArgumentParser(description=DESCRIPTION)
    region = _matching(REGION, "an AWS region name such as us-east-1")
    stack = _matching(STACK_NAME, "a CloudFormation stack name (a letter, then letters, digits, hyphens)")
    parser.add_argument("--region", type=region, help="AWS region (default: the SDK's)")
    parser.add_argument("--hours", type=_hours, default=24.0, help="time range, ending now (default 24)")
    parser.add_argument("--latest-hours", type=_hours, default=72.0, help="look-back for latest Perf levels")
    parser.add_argument("--endpoint-url", type=_endpoint, help="a CloudWatch endpoint, e.g. local moto")
    parser.add_argument("--stack-name", type=stack, default=DEFAULT_STACK, help="whose top-callers rules")
    parser.add_argument(  # a missing or broken file only drops the quota shares (tools.bedrock_report)
        "--cdk-json", type=Path, default=REPO / "cdk.json", help="the stack's config: its tpm quotas"
    )
    return parser


def cloudwatch_client(args: argparse.Namespace) -> Any:
    import boto3

    return boto3.client("cloudwatch", region_name=args.region, endpoint_url=args.endpoint_url)


def unreadable(args: argparse.Namespace, error: Exception) -> int:
    """CloudWatch could not be read (no credentials, unreachable, access denied): say so, exit 1."""
    where = f"--region {args.region or 'default'}"
    if args.endpoint_url:
        where = f"--endpoint-url {args.endpoint_url}"
    print(f"report: CloudWatch could not be read ({where}): {type(error).__name__}: {error}", file=sys.stderr)
    return 1
