"""The `metered` fixture: the chatbot handler with caller limits, on a manual clock, its DynamoDB calls
recorded."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest

from chatbot import chatbot_handler, metering
from chatbot.settings import get_settings
from tests.fakes.bedrock_server import FakeBedrock
from tests.fakes.chat_fakes import ManualClock
from tests.integration.chatbot.limits_support import NOW, Metered


@pytest.fixture
def metered(stack: FakeBedrock, usage_table: Any) -> Iterator[Callable[..., Metered]]:
    """`metered(limits, fail_mode=..., table=...)`: the handler's own dependencies built from that
    environment, its meter on a manual wall clock (NOW), its DynamoDB calls recorded by operation."""
    build = chatbot_handler.dependencies.__wrapped__  # type: ignore[attr-defined]
    with pytest.MonkeyPatch.context() as mp:

        def install(limits: dict[str, Any] | str | None = None, **env: str) -> Metered:
            raw = limits if isinstance(limits, str) else json.dumps(limits) if limits is not None else ""
            mp.setenv("CALLER_LIMITS", raw)
            for name, value in env.items():
                mp.setenv(name, value)
            get_settings.cache_clear()
            metering.parsed_caller_limits.cache_clear()
            deps = build()
            state = Metered(ManualClock(NOW), usage_table)
            deps = replace(deps, meter=replace(deps.meter, wall=state.clock))
            mp.setattr(chatbot_handler, "dependencies", lambda: deps)

            def record(request: Any, **_: Any) -> None:
                state.operations.append(request.headers["X-Amz-Target"].decode().split(".")[-1])

            chatbot_handler._dynamodb().meta.events.register("before-send.dynamodb", record)
            return state

        yield install
    get_settings.cache_clear()
