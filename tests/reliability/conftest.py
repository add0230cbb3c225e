"""The reliability lab for the tests: pytest's session moto and loopback Bedrock, plus its own vendor fakes
(planted tokens, a shared frozen clock). See `lab.py`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.bedrock_server import FakeBedrock
from tests.fakes.moto_server import MotoServer
from tests.reliability.lab import Lab


@pytest.fixture(scope="session")
def lab(moto_server: MotoServer, fake_bedrock: FakeBedrock) -> Iterator[Lab]:
    with Lab.start(moto=moto_server, bedrock=fake_bedrock) as started:
        yield started
