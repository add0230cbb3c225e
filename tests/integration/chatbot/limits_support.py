"""Callers through the real handler: shared constants, the metered handler state and request helpers."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest

from chatbot import chatbot_handler
from chatbot.tokens import estimate_tokens
from chatbot.windows import windows_at
from tests.conftest import MODELS
from tests.fakes.bedrock_server import Behavior, FakeBedrock
from tests.fakes.chat_fakes import ManualClock
from tests.support import USAGE_TABLE, FakeLambdaContext, emf_documents, http_api_event, validate_emf

SONNET = MODELS[0]
ALICE = "arn:aws:iam::123456789012:user/alice"
BOB = "arn:aws:iam::123456789012:user/bob"
AGENT = "arn:aws:sts::123456789012:assumed-role/agents/runaway-loop"
NOW = 1_796_664_000.0  # 2026-12-07T17:20:00Z
HOUR, DAY, MONTH = windows_at(NOW)
MESSAGE = "Summarise the caller limits in one line"  # 39 characters: 10 tokens by the estimate rule
ESTIMATE = estimate_tokens(MESSAGE)
SONNET_PRICE = (0.003, 0.015)  # tests.conftest.PRICES, per 1,000 tokens


@dataclass
class Metered:
    clock: ManualClock
    dynamodb: Any
    operations: list[str] = field(default_factory=list)

    def item(self, window_id: str, caller: str = ALICE) -> dict[str, Any]:
        key = {"caller": {"S": caller}, "window": {"S": window_id}}
        return self.dynamodb.get_item(TableName=USAGE_TABLE, Key=key, ConsistentRead=True).get("Item", {})

    def n(self, window_id: str, name: str, caller: str = ALICE) -> Decimal:
        item = self.item(window_id, caller)
        return Decimal(item[name]["N"]) if name in item else Decimal(0)

    def calls(self) -> list[str]:
        taken, self.operations[:] = list(self.operations), []
        return sorted(taken)


def call(body: dict[str, Any], caller: str | None = ALICE) -> tuple[int, dict[str, Any], dict[str, str]]:
    response = chatbot_handler.handler(http_api_event(body, caller=caller), FakeLambdaContext())
    return response["statusCode"], json.loads(response["body"]), response["headers"]


def emf_of(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    docs = emf_documents(capsys.readouterr().out)
    for doc in docs:
        validate_emf(doc)
    return docs


def answers(bedrock: FakeBedrock, output_tokens: int, input_tokens: int = ESTIMATE) -> None:
    bedrock.set_default(SONNET, Behavior(text="ok " * output_tokens, input_tokens=input_tokens,
                                         output_tokens=output_tokens))  # fmt: skip


def cost_of(input_tokens: int, output_tokens: int) -> Decimal:
    cost = (input_tokens * SONNET_PRICE[0] + output_tokens * SONNET_PRICE[1]) / 1000
    return Decimal(repr(cost)).quantize(Decimal("1e-12"))
