"""Test-wide setup: offline AWS credentials, moto's server and the loopback Bedrock on 127.0.0.1, and which
tests share a worker when pytest-xdist runs the suite in parallel (`make test` runs `pytest -n <cores+2>`)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from offline.environment import MODELS as MODELS  # the chat tests' models, as tests.conftest.MODELS
from offline.environment import apply_offline_environment, chat_environment

# Before any product module is imported: never reach a real account, never trace, never page.
apply_offline_environment()

# Property tests: 200 generated examples each in the suite; `HYPOTHESIS_PROFILE=deep` runs the 1,000 that
# `make reliability` runs (offline/reliability.py, the same Property objects), for a change that touches them.
settings.register_profile(
    "suite", max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("deep", settings.get_profile("suite"), max_examples=1000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "suite"))

from chatbot import chatbot_handler  # noqa: E402
from chatbot.settings import get_settings  # noqa: E402
from shared.aws_clients import reset_clients  # noqa: E402
from tests.fakes.bedrock_server import FakeBedrock  # noqa: E402
from tests.fakes.moto_server import MotoServer  # noqa: E402

CACHE_TABLE = "chat-cache"


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    with MotoServer() as server:
        yield server


@pytest.fixture(scope="session")
def fake_bedrock() -> Iterator[FakeBedrock]:
    with FakeBedrock() as bedrock:
        yield bedrock


@pytest.fixture
def aws(moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[MotoServer]:
    """A clean moto account reached over HTTP; fresh boto3 clients."""
    moto_server.reset()
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server.endpoint)
    reset_clients()
    yield moto_server
    reset_clients()


@pytest.fixture(scope="module", autouse=True)
def _moto_starts_empty_in_every_module(moto_server: MotoServer) -> None:
    """moto's backends are process-wide: every moto server of the process (the session one, the demo's own in
    tests/e2e) serves the same accounts, and `aws` or the reliability lab reset them only when a test starts.
    A module-scoped fixture (the demo run) would see what an earlier module left, e.g. flashback series from
    test_shared_batches in the demo's report. Serially tests/e2e ran first; under xdist any module may, so
    each module starts from an empty account, as the first module of a run does."""
    moto_server.reset()


@pytest.fixture
def bedrock(fake_bedrock: FakeBedrock, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeBedrock]:
    fake_bedrock.reset()
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", fake_bedrock.endpoint)
    reset_clients()
    yield fake_bedrock
    fake_bedrock.reset()


@pytest.fixture
def chat_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The chatbot's contract environment; settings and dependencies rebuilt for each test."""
    for name, value in chat_environment(CACHE_TABLE).items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    chatbot_handler.dependencies.cache_clear()
    yield
    get_settings.cache_clear()
    chatbot_handler.dependencies.cache_clear()


# --- Parallel runs (pytest-xdist) ----------------------------------------------------------------------
# Every worker is its own pytest session: session and module fixtures are built once per worker that
# runs a test needing them. So tests sharing an expensive fixture must land on one worker. xdist's
# `--dist loadgroup` with `xdist_group` marks added from a conftest hook is not reliable
# (pytest-dev/pytest-xdist#1241, #1295), so the controller's scheduler groups by path instead: one work unit
# per test module (module fixtures such as the demo run in tests/e2e/test_demo_pipeline.py are built once),
# except for these directories, one unit each:
SHARED_DIRECTORIES = (
    "tests/infra/",  # the session `assembly`: one CDK synth (with cdk-nag) of two stacks, ~13 s
)
# Longest units first (measured with `--durations=0`, each 25-110 s with two workers), so no worker is left
# alone with a minute-long unit at the end; the others follow, most tests first. A stale entry only
# changes the order, never the grouping.
HEAVY_FIRST = (
    "tests/integration/collectors/test_shared_batches.py",
    "tests/reliability/test_fault_matrix.py",
    "tests/e2e/test_demo_pipeline.py",  # its module fixture runs the whole demo
    "tests/reliability/test_collector_properties.py",
    "tests/infra/",
    "tests/reliability/test_secrets_never_leak.py",
    "tests/integration/collectors/test_exactly_once.py",
    "tests/reliability/test_chat_properties.py",
)


def xdist_unit(nodeid: str) -> str:
    """The work unit of a test: its shared directory or its module."""
    path = nodeid.split("::", 1)[0]
    return next((d for d in SHARED_DIRECTORIES if path.startswith(d)), path)


@pytest.hookimpl(tryfirst=True, optionalhook=True)  # optional: the hook exists only with xdist installed
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    if config.getoption("dist") != "load":  # `-n N` alone means load; an explicit other --dist is obeyed
        return None
    from xdist.scheduler import LoadScopeScheduling

    class UnitScheduling(LoadScopeScheduling):
        """xdist's scope scheduler (a unit runs wholly on one worker), with our units and order."""

        def _split_scope(self, nodeid: str) -> str:
            return xdist_unit(nodeid)

        def _assign_work_unit(self, node: Any) -> None:
            def rank(unit: str) -> tuple[int, int]:
                heavy = HEAVY_FIRST.index(unit) if unit in HEAVY_FIRST else len(HEAVY_FIRST)
                return heavy, -len(self.workqueue[unit])

            self.workqueue.move_to_end(min(self.workqueue, key=rank), last=False)
            super()._assign_work_unit(node)

    return UnitScheduling(config, log)
