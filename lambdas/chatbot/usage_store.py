"""The usage table: reserve, sweep, settle and read a caller's windows (DynamoDB's low-level client).

One item per (caller, window): key `caller` (the caller ARN) and `window` (`hour#2026-12-07T17`,
`day#2026-12-07`, `month#2026-12`: chatbot.windows). Its attributes:
- `reserved_tokens`, `reserved_usd`: charged plus the holds not yet settled. A condition expression
  cannot add, so a reservation of n compares this with the room the writer computed:
  `attribute_not_exists(reserved_tokens) OR reserved_tokens <= :room` (room = limit - n).
- `charged_tokens`, `charged_usd`: the actual charges, what `used` reports.
- `hold#<request id>`: `{tokens, usd, until}`, one per reservation not yet settled. Top-level attributes,
  not a `holds` map: DynamoDB cannot SET a path inside a map that does not exist yet, so a map would cost
  the first reservation of every window a second write.
- `expires_at`: TTL, the window's end plus chatbot.windows.USAGE_TTL_GRACE_SECONDS.

Reserve: ONE TransactWriteItems, a conditional Update per limited window, so every window reserves or
none does; its ClientRequestToken derives from the request id, so botocore's retry of a call whose answer
was lost cannot reserve twice. A cancelled transaction says which item failed (CancellationReasons
follow the items' order) and, with ReturnValuesOnConditionCheckFailure=ALL_OLD, what that item held.
Before refusing, the holds in it whose `until` has passed are swept (a conditional UpdateItem removes each
and subtracts it) and the reservation is tried once more.

Leaked holds. A request killed mid-answer (function timeout, crash) never settles: its hold stays
counted in `reserved`. `until` is the invocation's deadline plus a margin (chatbot.platform_limits), so
no live request's hold is ever swept; after it, the next reservation that hits the limit sweeps it. A
leaked hold therefore blocks nobody for longer than the invocation could have run, and stops counting
at the latest when its window resets (the next window's item starts from zero).

Settle: ONE TransactWriteItems without conditions over the hour, day and month items the request was
metered in: charge the actual tokens and USD, and move the hold out of `reserved`
(ADD reserved -hold +actual, REMOVE the hold). Concurrent transactions on one item may be cancelled with
TransactionConflict: both writes are retried a few times with jitter (a new token each time: the
cancelled attempt did nothing).
"""

from __future__ import annotations

import hashlib
import math
import random
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from decimal import Decimal
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from chatbot.limits import Charge, Refusal, Slot
from chatbot.windows import Window
from shared.table_schema import USAGE_PARTITION_KEY, USAGE_SORT_KEY, USAGE_TTL_ATTRIBUTE

HOLD_PREFIX = "hold#"
RESERVED_TOKENS, RESERVED_USD = "reserved_tokens", "reserved_usd"
CHARGED_TOKENS, CHARGED_USD = "charged_tokens", "charged_usd"
# Cancellation reasons that say "try again" rather than "no": a concurrent transaction on the same item,
# or throttling. Four attempts with 10-80 ms of jitter ride out a burst of one caller's requests.
RETRYABLE_REASONS = frozenset({"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"})
TRANSACTION_ATTEMPTS = 4
_BACKOFF_SECONDS = 0.01


class MeteringUnavailable(Exception):
    """The usage table could not be read or written (the fail mode decides what the request gets)."""


class LimitExceeded(Exception):
    """The reservation does not fit: one refusal per window and measure that refused it."""

    def __init__(self, refusals: Sequence[Refusal]) -> None:
        super().__init__(", ".join(refusal.key for refusal in refusals))
        self.refusals = tuple(refusals)


def _n(value: int | Decimal) -> dict[str, str]:
    # Plain digits, never exponent notation ("0E-12", which moto cannot parse): DynamoDB's number format.
    text = str(value) if isinstance(value, int) else format(value.normalize() + 0, "f")
    return {"N": text}


def _number(item: Mapping[str, Any], name: str) -> Decimal:
    value = item.get(name)
    return Decimal(value["N"]) if isinstance(value, Mapping) and "N" in value else Decimal(0)


def charged(item: Mapping[str, Any]) -> Charge:
    return Charge(int(_number(item, CHARGED_TOKENS)), _number(item, CHARGED_USD))


def reserved(item: Mapping[str, Any]) -> Charge:
    return Charge(int(_number(item, RESERVED_TOKENS)), _number(item, RESERVED_USD))


def holds(item: Mapping[str, Any]) -> dict[str, tuple[Charge, float]]:
    """The item's holds: attribute name -> (what it holds, until)."""
    found = {}
    for name, value in item.items():
        if name.startswith(HOLD_PREFIX) and isinstance(value, Mapping) and "M" in value:
            hold = value["M"]
            found[name] = (
                Charge(int(_number(hold, "tokens")), _number(hold, "usd")),
                float(_number(hold, "until")),
            )
    return found


def hold_name(request_id: str) -> str:
    return HOLD_PREFIX + request_id


def request_token(kind: str, request_id: str, attempt: int) -> str:
    """A ClientRequestToken (at most 36 characters) for one attempt of one request's write."""
    return hashlib.sha256(f"{kind}\n{attempt}\n{request_id}".encode()).hexdigest()[:36]


class UsageStore:
    """One caller's usage items. Every failure to reach the table surfaces as MeteringUnavailable."""

    def __init__(
        self, table_name: str, dynamodb: Callable[[], Any], sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self._table = table_name
        self._dynamodb = dynamodb
        self._sleep = sleep

    def _key(self, caller: str, window: Window) -> dict[str, Any]:
        return {USAGE_PARTITION_KEY: {"S": caller}, USAGE_SORT_KEY: {"S": window.id}}

    # --- reserve ---------------------------------------------------------------------------------------

    def _reserve_update(self, caller: str, request_id: str, slot: Slot, need: Charge, until: float) -> dict:
        values = {
            ":tokens": _n(need.tokens),
            ":usd": _n(need.usd),
            ":hold": {"M": {"tokens": _n(need.tokens), "usd": _n(need.usd), "until": _n(math.ceil(until))}},
            ":expires": _n(slot.window.expires_at),
        }
        conditions = []
        for measure, attribute in (("tokens", RESERVED_TOKENS), ("usd", RESERVED_USD)):
            if slot.limit(measure) is not None:
                conditions.append(f"(attribute_not_exists({attribute}) OR {attribute} <= :room_{measure})")
                values[f":room_{measure}"] = _n(slot.room(measure, need))
        return {
            "Update": {
                "TableName": self._table,
                "Key": self._key(caller, slot.window),
                "UpdateExpression": f"SET #hold = :hold, #ttl = if_not_exists(#ttl, :expires) "
                f"ADD {RESERVED_TOKENS} :tokens, {RESERVED_USD} :usd",
                "ConditionExpression": " AND ".join(conditions),
                "ExpressionAttributeNames": {"#hold": hold_name(request_id), "#ttl": USAGE_TTL_ATTRIBUTE},
                "ExpressionAttributeValues": values,
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        }

    def reserve(
        self, caller: str, request_id: str, slots: Sequence[Slot], need: Charge, until: float, now: float
    ) -> None:
        """Hold `need` until `until` in every slot's window at once, or raise LimitExceeded (nothing held).
        `now` (epoch seconds) decides which holds have expired."""
        too_large = [
            Refusal(slot, measure, need, too_large=True)
            for slot in slots
            if (measure := slot.too_small_for(need)) is not None
        ]
        if too_large:  # no write can ever fit it (and `room` < 0 would admit it into an empty window)
            raise LimitExceeded(too_large)
        items = [self._reserve_update(caller, request_id, slot, need, until) for slot in slots]
        swept = False
        for attempt in range(TRANSACTION_ATTEMPTS):
            reasons = self._transact(items, request_token("reserve", request_id, attempt))
            if reasons is None:
                return
            failed = [(slot, reason) for slot, reason in zip(slots, reasons, strict=False)
                      if reason.get("Code") == "ConditionalCheckFailed"]  # fmt: skip
            if not failed:
                self._pause(attempt)  # a conflict or throttling: nothing was refused
                continue
            if not swept and self._sweep(
                caller, [(slot.window, reason.get("Item") or {}) for slot, reason in failed], now
            ):
                swept = True
                continue
            raise LimitExceeded(
                [self._refusal(slot, need, reason.get("Item") or {}) for slot, reason in failed]
            )
        raise MeteringUnavailable(
            f"TransactWriteItems on {self._table}: still conflicting after {TRANSACTION_ATTEMPTS} attempts"
        )

    @staticmethod
    def _refusal(slot: Slot, need: Charge, item: Mapping[str, Any]) -> Refusal:
        held = reserved(item)
        measure = next((m for m in slot.measures() if held.of(m) > slot.room(m, need)), slot.measures()[0])
        return Refusal(slot, measure, need, used=charged(item) if item else None)

    def _sweep(self, caller: str, failed: Sequence[tuple[Window, Mapping[str, Any]]], now: float) -> bool:
        """Remove the holds expired at `now` of the items that refused; True when there were any."""
        found = False
        for window, item in failed:
            expired = {name: hold for name, (hold, until) in holds(item).items() if until < now}
            if not expired:
                continue
            found = True
            names = {f"#h{i}": name for i, name in enumerate(expired)}
            total = sum(expired.values(), Charge())
            try:
                self._dynamodb().update_item(
                    TableName=self._table,
                    Key=self._key(caller, window),
                    UpdateExpression=f"REMOVE {', '.join(names)} "
                    f"ADD {RESERVED_TOKENS} :tokens, {RESERVED_USD} :usd",
                    # Only holds still there: a concurrent sweep may have removed (and subtracted) them.
                    ConditionExpression=" AND ".join(f"attribute_exists({p})" for p in names),
                    ExpressionAttributeNames=names,
                    ExpressionAttributeValues={":tokens": _n(-total.tokens), ":usd": _n(-total.usd)},
                )
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                    raise MeteringUnavailable(f"sweep on {self._table} failed: {exc}") from exc
            except BotoCoreError as exc:
                raise MeteringUnavailable(f"sweep on {self._table} failed: {exc}") from exc
        return found

    # --- settle ----------------------------------------------------------------------------------------

    def settle(
        self,
        caller: str,
        request_id: str,
        windows: Sequence[Window],
        held: Collection[str],
        hold: Charge,
        actual: Charge,
    ) -> None:
        """Charge `actual` in every window; release the hold `hold` of the windows whose ids are in `held`."""
        items = []
        for window in windows:
            holding = window.id in held
            if not holding and not actual:
                continue  # nothing to charge and nothing to release
            delta = actual - hold if holding else actual
            update: dict[str, Any] = {
                "TableName": self._table,
                "Key": self._key(caller, window),
                "UpdateExpression": "SET #ttl = if_not_exists(#ttl, :expires) "
                f"ADD {RESERVED_TOKENS} :rt, {RESERVED_USD} :ru, {CHARGED_TOKENS} :ct, {CHARGED_USD} :cu"
                + (" REMOVE #hold" if holding else ""),
                "ExpressionAttributeNames": {"#ttl": USAGE_TTL_ATTRIBUTE}
                | ({"#hold": hold_name(request_id)} if holding else {}),
                "ExpressionAttributeValues": {
                    ":rt": _n(delta.tokens),
                    ":ru": _n(delta.usd),
                    ":ct": _n(actual.tokens),
                    ":cu": _n(actual.usd),
                    ":expires": _n(window.expires_at),
                },
            }
            items.append({"Update": update})
        if not items:
            return
        for attempt in range(TRANSACTION_ATTEMPTS):
            if self._transact(items, request_token("settle", request_id, attempt)) is None:
                return
            self._pause(attempt)
        raise MeteringUnavailable(
            f"settle on {self._table}: still conflicting after {TRANSACTION_ATTEMPTS} attempts"
        )

    # --- read ------------------------------------------------------------------------------------------

    def read(self, caller: str, windows: Sequence[Window]) -> dict[str, Charge]:
        """What the caller was charged in each window (ONE BatchGetItem, strongly consistent)."""
        keys = [self._key(caller, window) for window in windows]
        found: dict[str, Charge] = {window.id: Charge() for window in windows}
        request: dict[str, Any] = {self._table: {"Keys": keys, "ConsistentRead": True}}
        for attempt in range(TRANSACTION_ATTEMPTS):
            try:
                response = self._dynamodb().batch_get_item(RequestItems=request)
            except (ClientError, BotoCoreError) as exc:
                raise MeteringUnavailable(f"batch_get_item on {self._table} failed: {exc}") from exc
            for item in response.get("Responses", {}).get(self._table, []):
                found[item[USAGE_SORT_KEY]["S"]] = charged(item)
            request = response.get("UnprocessedKeys") or {}
            if not request:
                return found
            self._pause(attempt)
        raise MeteringUnavailable(f"batch_get_item on {self._table}: keys still unprocessed")

    # --- plumbing --------------------------------------------------------------------------------------

    def _transact(self, items: list[dict[str, Any]], token: str) -> list[dict[str, Any]] | None:
        """None when the transaction applied; its CancellationReasons when it was cancelled."""
        try:
            self._dynamodb().transact_write_items(TransactItems=items, ClientRequestToken=token)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "TransactionCanceledException":
                reasons = list(exc.response.get("CancellationReasons") or [])
                codes = {reason.get("Code") for reason in reasons} - {"None", None}
                if codes and codes <= RETRYABLE_REASONS | {"ConditionalCheckFailed"}:
                    return reasons
            raise MeteringUnavailable(f"transact_write_items on {self._table} failed: {exc}") from exc
        except BotoCoreError as exc:
            raise MeteringUnavailable(f"transact_write_items on {self._table} failed: {exc}") from exc
        return None

    def _pause(self, attempt: int) -> None:
        if attempt + 1 < TRANSACTION_ATTEMPTS:
            jitter = random.uniform(_BACKOFF_SECONDS, 2 * _BACKOFF_SECONDS)  # nosec B311 # backoff jitter, no secret
            self._sleep(jitter * 2**attempt)
