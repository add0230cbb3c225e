"""The warm-up's canned AWS answers: parsed by botocore as real ones, and nothing without one is sent."""

from __future__ import annotations

import pytest

from chatbot import canned
from shared import aws_clients
from tests.fakes.moto_server import MotoServer


def test_given_canned_answers_when_the_model_streams_then_botocore_parses_every_event(
    aws: MotoServer,
) -> None:
    bedrock = aws_clients.client("bedrock-runtime")

    with aws_clients.credentials().standing_in(), canned.answering([bedrock]) as answers:
        stream = bedrock.converse_stream(modelId="m", messages=[{"role": "user", "content": [{"text": "q"}]}])
        events = [next(iter(event)) for event in stream["stream"]]

    assert events == ["messageStart", "contentBlockDelta", "contentBlockStop", "messageStop", "metadata"]
    assert answers.calls == ["ConverseStream"]


def test_given_an_item_put_when_its_key_is_read_then_the_canned_table_returns_it(aws: MotoServer) -> None:
    dynamodb = aws_clients.client("dynamodb")
    item = {"pk": {"S": "k"}, "answer": {"S": "a"}}

    with aws_clients.credentials().standing_in(), canned.answering([dynamodb]):
        missing = dynamodb.get_item(TableName="t", Key={"pk": {"S": "k"}})
        dynamodb.put_item(TableName="t", Item=item)
        found = dynamodb.get_item(TableName="t", Key={"pk": {"S": "k"}})

    assert "Item" not in missing
    assert found["Item"] == item
    assert dynamodb.list_tables()["TableNames"] == []  # moto: nothing reached it, and the handler is gone


def test_given_an_operation_without_an_answer_when_sent_then_it_is_refused_not_sent(aws: MotoServer) -> None:
    dynamodb = aws_clients.client("dynamodb")

    with (
        aws_clients.credentials().standing_in(),
        canned.answering([dynamodb]),
        pytest.raises(canned.NotCanned, match="DynamoDB DeleteTable"),
    ):
        dynamodb.delete_table(TableName="t")
