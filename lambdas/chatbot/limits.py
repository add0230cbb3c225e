"""A caller's limits applied to one request: what it reserves, what a window has room for, the 429's
message, the `limits` block and CallerLimitUsage. Pure arithmetic; the usage table is `usage_store`.

Reservation math. A request reserves its worst case before the model is called: input tokens by the
documented estimate rule (`chatbot.tokens`: ceil((len(system) + len(message)) / 4)) plus its
`max_tokens`, or DEFAULT_MAX_OUTPUT_TOKENS when it sets none (the model is then called with that cap, so
the output can never exceed what was reserved), and the USD of that worst case at MODEL_PRICES (a model
without a price reserves and charges 0 USD). A window with limit L admits a reservation of n when what it
already holds (charged plus outstanding reservations) is at most `L - n` (its "room"). Because each
reservation fits and a settle replaces it by the actual charge, the charged total passes L only when a
request's actual charge exceeds its reservation: only an actual input above the estimate can do that (the
output never exceeds max_tokens). The overshoot is bounded by the sum, over the requests in flight at
once, of (actual input tokens - estimate) and its cost.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from chatbot.caller_limits import MEASURES, Limits
from chatbot.request import ChatRequest
from chatbot.settings import ModelPrice
from chatbot.tokens import Usage, estimated_cost, prompt_characters, tokens_for_characters
from chatbot.windows import Window

# USD are stored as DynamoDB numbers (exact decimals): a pico-dollar resolution keeps every sum exact
# (a token of the cheapest model costs about 3.5e-8 USD) and far within DynamoDB's 38 digits.
USD_QUANTUM = Decimal("1e-12")


def to_usd(value: float | Decimal | None) -> Decimal:
    """A USD amount as the usage table stores it (None: 0)."""
    if value is None:
        return Decimal(0)
    exact = value if isinstance(value, Decimal) else Decimal(repr(float(value)))
    return exact.quantize(USD_QUANTUM) + 0  # + 0 turns -0 into 0


@dataclass(frozen=True, slots=True)
class Charge:
    """Tokens and USD, as reserved, charged or held."""

    tokens: int = 0
    usd: Decimal = Decimal(0)

    def __add__(self, other: Charge) -> Charge:
        return Charge(self.tokens + other.tokens, self.usd + other.usd)

    def __sub__(self, other: Charge) -> Charge:
        return Charge(self.tokens - other.tokens, self.usd - other.usd)

    def __bool__(self) -> bool:
        return bool(self.tokens or self.usd)

    def of(self, measure: str) -> int | Decimal:
        return self.tokens if measure == "tokens" else self.usd


def estimated_input_tokens(request: ChatRequest) -> int:
    """The documented estimate rule, the same as a cached answer's input estimate."""
    return tokens_for_characters(prompt_characters(request.message, request.system))


def output_cap(request: ChatRequest, default_max_output: int) -> int:
    """The most output tokens the request may produce: its max_tokens, else the default."""
    return request.max_tokens if request.max_tokens is not None else default_max_output


def worst_case(request: ChatRequest, default_max_output: int, prices: Mapping[str, ModelPrice]) -> Charge:
    """What a live answer to `request` can cost at most (when its actual input is within the estimate)."""
    usage = Usage(estimated_input_tokens(request), output_cap(request, default_max_output))
    return Charge(usage.total_tokens, to_usd(estimated_cost(request.model_id, usage, prices)))


def actual_charge(usage: Usage | None, cost_usd: float | None) -> Charge:
    """What an answer charges: its reported total tokens and its EstimatedCost (nothing when it failed)."""
    return Charge(usage.total_tokens if usage else 0, to_usd(cost_usd))


@dataclass(frozen=True, slots=True)
class Slot:
    """One limited window of a caller: its limits (None: that measure is not limited there)."""

    window: Window
    tokens: int | None = None
    usd: Decimal | None = None

    def limit(self, measure: str) -> int | Decimal | None:
        return self.tokens if measure == "tokens" else self.usd

    def measures(self) -> tuple[str, ...]:
        return tuple(m for m in MEASURES if self.limit(m) is not None)

    def room(self, measure: str, need: Charge) -> int | Decimal:
        """The most this window may already hold for `need` to fit: limit - n."""
        limit = self.limit(measure)
        if limit is None:
            raise ValueError(f"{self.window.kind}_{measure} is not limited")
        return limit - need.of(measure)

    def too_small_for(self, need: Charge) -> str | None:
        """The measure whose limit is below `need` by itself (the request can never fit), if any."""
        return next((m for m in self.measures() if self.room(m, need) < 0), None)


def slots_for(limits: Limits, windows: Sequence[Window]) -> tuple[Slot, ...]:
    """The caller's limited windows, in the order given (hour, day, month)."""
    slots = []
    for window in windows:
        tokens, usd = limits.get(window.kind, "tokens"), limits.get(window.kind, "usd")
        if tokens is not None or usd is not None:
            slots.append(
                Slot(window, None if tokens is None else int(tokens), None if usd is None else to_usd(usd))
            )
    return tuple(slots)


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a reservation did not fit: the window and measure, what the caller has used, what it needed."""

    slot: Slot
    measure: str
    need: Charge
    used: Charge | None = None  # charged in that window (None: unknown)
    too_large: bool = False  # the request alone is over the limit

    @property
    def key(self) -> str:
        return f"{self.slot.window.kind}_{self.measure}"


def _amount(measure: str, value: int | Decimal) -> str:
    return f"{value:,} tokens" if measure == "tokens" else f"{float(value):,.6g} USD"


def deciding(refusals: Sequence[Refusal]) -> Refusal:
    """The refusal to report: the one whose window resets last (retrying earlier cannot pass it)."""
    return max(refusals, key=lambda refusal: refusal.slot.window.end)


def refusal_message(caller: str, refusal: Refusal) -> str:
    measure, slot = refusal.measure, refusal.slot
    limit = slot.limit(measure)
    assert limit is not None  # nosec B101 # a refusal is always of a limited measure (narrows)
    need = _amount(measure, refusal.need.of(measure))
    resets = f"the {slot.window.kind} window resets at {slot.window.resets_at}"
    if refusal.too_large:
        return (
            f"{caller}: this request needs up to {need}, more than its {refusal.key} limit of "
            f"{_amount(measure, limit)} by itself (lower max_tokens or shorten the message); {resets}"
        )
    if refusal.used is None:
        used = "has reached"
    else:
        used = f"has used {_amount(measure, refusal.used.of(measure))} of"
    return (
        f"{caller} {used} its {refusal.key} limit of {_amount(measure, limit)} "
        f"(this request needs up to {need}); {resets}"
    )


def _number(measure: str, value: int | Decimal) -> int | float:
    return int(value) if measure == "tokens" else float(value)


def limits_block(slots: Sequence[Slot], used: Mapping[str, Charge]) -> dict[str, dict[str, object]]:
    """`{"<window>_<measure>": {"limit", "used", "resets_at"}}` for each limit; `used` by window id."""
    block: dict[str, dict[str, object]] = {}
    for slot in slots:
        charged = used.get(slot.window.id, Charge())
        for measure in slot.measures():
            limit = slot.limit(measure)
            assert limit is not None  # nosec B101 # measures() yields limited ones only (narrows)
            block[f"{slot.window.kind}_{measure}"] = {
                "limit": _number(measure, limit),
                "used": _number(measure, charged.of(measure)),
                "resets_at": slot.window.resets_at,
            }
    return block


def usage_percent(slots: Sequence[Slot], used: Mapping[str, Charge]) -> float | None:
    """CallerLimitUsage: the highest used share (percent) of any limit whose window's usage is known."""
    shares = [
        float(used[slot.window.id].of(measure)) * 100.0 / float(limit)
        for slot in slots
        if slot.window.id in used
        for measure in slot.measures()
        if (limit := slot.limit(measure))
    ]
    return round(max(shares), 3) if shares else None
