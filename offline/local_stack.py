"""The local stand-ins the demo runs against: moto's server and the loopback fakes, on 127.0.0.1 only.

Sets the process environment the way Lambda would (fake credentials, `AWS_ENDPOINT_URL*` pointing at
the stand-ins), so the real handlers and the real boto3/urllib3 clients run unchanged.
"""

from __future__ import annotations

import os
from contextlib import ExitStack
from dataclasses import dataclass

from offline.environment import apply_offline_environment
from tests.fakes.bedrock_server import FakeBedrock
from tests.fakes.moto_server import MotoServer


@dataclass
class LocalStack:
    moto: MotoServer
    bedrock: FakeBedrock


def start_local_stack(stack: ExitStack) -> LocalStack:
    """Start moto and the loopback Bedrock; point every AWS client at them."""
    apply_offline_environment(log_level="CRITICAL")  # the demo prints its own story, not the handlers' logs
    moto = stack.enter_context(MotoServer())
    bedrock = stack.enter_context(FakeBedrock())
    os.environ["AWS_ENDPOINT_URL"] = moto.endpoint
    os.environ["AWS_ENDPOINT_URL_BEDROCK_RUNTIME"] = bedrock.endpoint
    return LocalStack(moto=moto, bedrock=bedrock)
