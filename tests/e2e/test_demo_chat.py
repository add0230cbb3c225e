"""The demo's chatbot pass, run as a test: the printed table matches the traffic that was sent."""

from __future__ import annotations

import pytest

from offline import demo
from offline.emf import summarise
from offline.traffic import MODELS, build_plan
from tests.fakes.bedrock_server import FakeBedrock


def test_given_demo_traffic_when_run_then_emf_counts_match_the_plan(
    aws: object, bedrock: FakeBedrock, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in demo.chatbot_environment().items():
        monkeypatch.setenv(name, value)
    from chatbot import chatbot_handler
    from chatbot.settings import get_settings

    get_settings.cache_clear()
    chatbot_handler.dependencies.cache_clear()
    demo._create_cache_table()

    statuses, documents = demo.run_chat_traffic(bedrock)

    plan = build_plan()
    assert statuses == {200: len(plan.requests) - 1, 429: 1}
    assert len(documents) == len(plan.requests)
    summary = summarise(documents)
    distinct = {tuple(sorted(r.body.items())) for r in plan.requests if r.behavior is not None}
    hits = sum(s.cache_hits for s in summary.values())
    assert hits == len(plan.requests) - len(distinct)  # every repeat of an answered question was a hit
    assert sum(s.errors for s in summary.values()) == 1
    assert len(bedrock.calls) == len(distinct) - 1 + 2  # the throttled request was tried twice
    for s in summary.values():
        assert s.total_tokens == s.input_tokens + s.output_tokens
    assert {s.model_id for s in summary.values()} == set(MODELS)
    get_settings.cache_clear()
    chatbot_handler.dependencies.cache_clear()
