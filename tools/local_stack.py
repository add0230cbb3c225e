"""The local stand-ins the demo runs against: moto's server and the loopback fakes, on 127.0.0.1 only.

Sets the process environment the way Lambda would (fake credentials, `AWS_ENDPOINT_URL*` pointing at
the stand-ins), so the real handlers and the real boto3/urllib3 clients run unchanged.
"""

from __future__ import annotations

import os
from contextlib import ExitStack
from dataclasses import dataclass

from tests.fakes.bedrock_server import FakeBedrock
from tests.fakes.moto_server import MotoServer

REGION = "us-east-1"


def offline_aws_environment() -> None:
    """Never reach a real account from a local run."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        os.environ.pop(name, None)
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "demo",
            "AWS_SECRET_ACCESS_KEY": "demo",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
            "AWS_EC2_METADATA_DISABLED": "true",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": "CRITICAL",
            "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        }
    )


@dataclass
class LocalStack:
    moto: MotoServer
    bedrock: FakeBedrock


def start_local_stack(stack: ExitStack) -> LocalStack:
    """Start moto and the loopback Bedrock; point every AWS client at them."""
    offline_aws_environment()
    moto = stack.enter_context(MotoServer())
    bedrock = stack.enter_context(FakeBedrock())
    os.environ["AWS_ENDPOINT_URL"] = moto.endpoint
    os.environ["AWS_ENDPOINT_URL_BEDROCK_RUNTIME"] = bedrock.endpoint
    return LocalStack(moto=moto, bedrock=bedrock)
