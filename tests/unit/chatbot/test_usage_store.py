"""The usage store's answers to what moto never does: transactions cancelled by a conflict or throttling,
unknown cancellation reasons, unprocessed keys; and the idempotency tokens of its writes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from chatbot.limits import Charge, Slot
from chatbot.usage_store import TRANSACTION_ATTEMPTS, LimitExceeded, MeteringUnavailable, UsageStore
from chatbot.windows import windows_at

NOW = 1_796_664_000.0
HOUR, DAY, MONTH = windows_at(NOW)


def _cancelled(*codes: str) -> ClientError:
    return ClientError(
        {
            "Error": {"Code": "TransactionCanceledException", "Message": "Transaction cancelled"},
            "CancellationReasons": [{"Code": code} for code in codes],
        },
        "TransactWriteItems",
    )


class ScriptedDynamoDB:
    """Answers each call with the next scripted outcome (an exception to raise, or a response)."""

    def __init__(self, *outcomes: Any) -> None:
        self.outcomes = list(outcomes)
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def _next(self, operation: str, kwargs: dict[str, Any]) -> Any:
        self.calls.append((operation, kwargs))
        outcome = self.outcomes.pop(0) if self.outcomes else {}
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def transact_write_items(self, **kwargs: Any) -> Any:
        return self._next("TransactWriteItems", kwargs)

    def batch_get_item(self, **kwargs: Any) -> Any:
        return self._next("BatchGetItem", kwargs)

    def update_item(self, **kwargs: Any) -> Any:
        return self._next("UpdateItem", kwargs)


def _store(client: ScriptedDynamoDB, slept: list[float] | None = None) -> UsageStore:
    sleep: Callable[[float], None] = slept.append if slept is not None else lambda _: None
    return UsageStore("usage", lambda: client, sleep=sleep)


def _reserve(store: UsageStore, request_id: str = "req-1") -> None:
    store.reserve(
        "c", request_id, (Slot(HOUR, tokens=100), Slot(DAY, tokens=1000)), Charge(10), NOW + 90, NOW
    )


def test_given_conflicting_transaction_when_reserving_then_retried_after_a_pause_with_a_new_token() -> None:
    client = ScriptedDynamoDB(
        _cancelled("None", "TransactionConflict"), _cancelled("ThrottlingError", "None"), {}
    )
    slept: list[float] = []
    _reserve(_store(client, slept))
    tokens = [kwargs["ClientRequestToken"] for _, kwargs in client.calls]
    assert len(tokens) == 3 and len(set(tokens)) == 3 and all(len(t) <= 36 for t in tokens)
    assert len(slept) == 2 and all(0 < pause < 0.1 for pause in slept)


def test_given_same_request_when_reserving_twice_then_the_same_token_so_a_resend_is_idempotent() -> None:
    first, second = ScriptedDynamoDB({}), ScriptedDynamoDB({})
    _reserve(_store(first))
    _reserve(_store(second))
    assert first.calls[0][1]["ClientRequestToken"] == second.calls[0][1]["ClientRequestToken"]
    other = ScriptedDynamoDB({})
    _reserve(_store(other), "req-2")
    assert other.calls[0][1]["ClientRequestToken"] != first.calls[0][1]["ClientRequestToken"]


def test_given_endless_conflicts_when_reserving_then_unavailable_after_the_attempts() -> None:
    client = ScriptedDynamoDB(*[_cancelled("TransactionConflict", "None")] * TRANSACTION_ATTEMPTS)
    with pytest.raises(MeteringUnavailable, match="conflicting"):
        _reserve(_store(client))
    assert len(client.calls) == TRANSACTION_ATTEMPTS


@pytest.mark.parametrize(
    "error",
    [
        _cancelled("ValidationError", "None"),
        _cancelled(),
        ClientError({"Error": {"Code": "ResourceNotFoundException", "Message": "no"}}, "TransactWriteItems"),
        EndpointConnectionError(endpoint_url="http://127.0.0.1:9"),
    ],
)
def test_given_unusable_answer_when_reserving_then_unavailable_not_refused(error: Exception) -> None:
    with pytest.raises(MeteringUnavailable):
        _reserve(_store(ScriptedDynamoDB(error)))


def test_given_condition_failed_on_the_second_item_when_reserving_then_that_window_refused() -> None:
    old = {"reserved_tokens": {"N": "995"}, "charged_tokens": {"N": "900"}}
    reason = {"Code": "ConditionalCheckFailed", "Item": old}
    error = _cancelled("None", "x")
    error.response["CancellationReasons"][1] = reason
    with pytest.raises(LimitExceeded) as refused:
        _reserve(_store(ScriptedDynamoDB(error)))
    (refusal,) = refused.value.refusals
    assert (refusal.slot.window, refusal.used) == (DAY, Charge(900))


def test_given_conflict_when_settling_then_retried_and_charged_once() -> None:
    client = ScriptedDynamoDB(_cancelled("TransactionConflict", "None", "None"), {})
    _store(client).settle("c", "req-1", (HOUR, DAY, MONTH), {HOUR.id}, Charge(10), Charge(4))
    assert [operation for operation, _ in client.calls] == ["TransactWriteItems"] * 2
    items = client.calls[0][1]["TransactItems"]
    assert len(items) == 3 and all("ConditionExpression" not in item["Update"] for item in items)
    assert "REMOVE #hold" in items[0]["Update"]["UpdateExpression"]
    assert items[0]["Update"]["ExpressionAttributeValues"][":rt"] == {"N": "-6"}
    assert items[1]["Update"]["ExpressionAttributeValues"][":rt"] == {"N": "4"}


def test_given_unprocessed_keys_when_reading_then_asked_again_for_them_only() -> None:
    key = {"caller": {"S": "c"}, "window": {"S": DAY.id}}
    first = {
        "Responses": {
            "usage": [{"caller": {"S": "c"}, "window": {"S": HOUR.id}, "charged_tokens": {"N": "7"}}]
        },
        "UnprocessedKeys": {"usage": {"Keys": [key], "ConsistentRead": True}},
    }
    second = {
        "Responses": {"usage": [{"caller": {"S": "c"}, "window": {"S": DAY.id}, "charged_usd": {"N": "0.5"}}]}
    }
    client = ScriptedDynamoDB(first, second)
    used = _store(client).read("c", (HOUR, DAY))
    assert used[HOUR.id] == Charge(7) and used[DAY.id].usd == 0.5
    assert client.calls[1][1]["RequestItems"]["usage"]["Keys"] == [key]
