"""What the load must show, checked against the plan (the oracle) and the usage table, into an `Outcome`.

- every request answered, each with a status the contract gives it: 200; 429 `limit_exceeded` (only for the
  callers whose limits the plan made tight, with Retry-After) or `throttled` (the fault the fake injected);
  502 `model_error` (an injected stream error or dropped connection, or, with ErrorCode DeadlineExceeded in
  its EMF document, no text before the answer's deadline: a machine too loaded to answer in 25 s); nothing
  else, no crash;
- exactly one valid EMF document per request, carrying its request id and caller, with the numbers of
  its answer (missing: `lost`; more than one: `double`);
- per caller and window, the usage table's charge equals the sum of the charges the EMF documents
  report (TotalTokens and EstimatedCost of the live answers): less is `lost`, more is `double`; every
  reservation settled (reserved == charged, no hold left);
- no limit passed: the charge of every limited window is within its limit, and so is every `used` an
  answer reported; and the limits refused something (the plan makes them tight on purpose).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from decimal import Decimal
from typing import Any

from tests.reliability.load.plan import FAULTS, INPUT_TOKENS, NOW, OUTPUT_TOKENS, Plan, Request
from tests.reliability.load.workers import Result
from tests.reliability.scenarios.harness import Outcome


def _expected(request: Request, plan: Plan) -> set[tuple[int, str | None]]:
    """The (status, error) pairs the contract allows for this request."""
    allowed: set[tuple[int, str | None]] = set()
    if request.fault is None:
        allowed.add((200, None))
    else:
        _, status, error = FAULTS[request.fault]
        allowed.add((status, error))
    if request.caller in plan.limited:
        allowed.add((429, "limit_exceeded"))
    return allowed


def _document(outcome: Outcome, request: Request, result: Result) -> dict[str, Any] | None:
    from tests.support import validate_emf

    documents = result.documents
    if not documents:
        outcome.lost += 1
        outcome.checks.append(f"{request.request_id}: no EMF document")
        return None
    outcome.double += len(documents) - 1
    document = documents[0]
    try:
        validate_emf(document)
    except AssertionError as exc:
        outcome.checks.append(f"{request.request_id}: invalid EMF document: {exc}")
    outcome.expect(
        (document.get("request_id"), document.get("Caller")) == (request.request_id, request.caller),
        f"{request.request_id}: EMF document of {document.get('request_id')} / {document.get('Caller')}",
    )
    return document


def _metrics(outcome: Outcome, request: Request, result: Result, document: dict[str, Any]) -> None:
    """The document's numbers say what the answer was."""
    status, error = result.status, result.body.get("error")
    rid = request.request_id
    for degraded in ("LimitCheckErrors", "CacheErrors"):
        outcome.expect(degraded not in document, f"{rid}: {degraded} {document.get(degraded)}")
    if status == 200:
        cached = bool(result.body.get("cached"))
        outcome.expect(document.get("CachedResponses") == [int(cached)], f"{rid}: CachedResponses")
        if not cached:
            tokens = (document.get("InputTokens"), document.get("OutputTokens"))
            outcome.expect(tokens == ([INPUT_TOKENS], [OUTPUT_TOKENS]), f"{rid}: tokens {tokens}")
            outcome.expect("EstimatedCost" in document, f"{rid}: no EstimatedCost")
    elif error == "limit_exceeded":
        outcome.expect(document.get("LimitRejections") == [1], f"{rid}: LimitRejections")
        outcome.expect("ModelErrors" not in document and "InputTokens" not in document, f"{rid}: refused")
    else:
        outcome.expect(
            document.get("ModelErrors") == [1], f"{rid}: ModelErrors {document.get('ModelErrors')}"
        )
        outcome.expect("InputTokens" not in document, f"{rid}: a failed answer with tokens")


Items = dict[tuple[str, str], dict[str, Any]]  # (caller, window id) -> the usage table's item


def usage_items(dynamodb: Any, table: str) -> Items:
    """The whole usage table (read once the load is over)."""
    pages = dynamodb.get_paginator("scan").paginate(TableName=table, ConsistentRead=True)
    return {(i["caller"]["S"], i["window"]["S"]): i for page in pages for i in page["Items"]}


def check(plan: Plan, results: list[Result], items: Items) -> Outcome:
    from chatbot.limits import to_usd
    from chatbot.usage_store import charged, holds, reserved
    from chatbot.windows import windows_at

    outcome = Outcome("chatbot under load", f"{len(plan.requests)} requests at once")
    outcome.inputs = len(plan.requests)
    outcome.faults = sum(request.fault is not None for request in plan.requests)
    by_index = {result.index: result for result in results}
    charges: dict[str, tuple[int, Decimal]] = defaultdict(lambda: (0, Decimal(0)))
    deadline_502: list[str] = []
    from chatbot.bedrock import DEADLINE_EXCEEDED
    for request in plan.requests:
        result = by_index.get(request.index)
        if result is None:
            outcome.lost += 1
            outcome.checks.append(f"{request.request_id}: no answer")
            continue
        error = result.body.get("error")
        if result.error or error == "internal_error":
            outcome.crashes += 1
            outcome.checks.append(f"{request.request_id}: crashed: {result.error or result.body}")
            continue
        allowed = _expected(request, plan)
        document = _document(outcome, request, result)
        if document is not None and document.get("ErrorCode") == DEADLINE_EXCEEDED:
            # The contract's deadline: on a machine too loaded to answer within it, no text came in time.
            allowed.add((502, "model_error"))
            deadline_502.append(request.request_id)
        outcome.expect((result.status, error) in allowed, f"{request.request_id}: {result.status} {error}"
                       f" (allowed {sorted(allowed, key=str)})")  # fmt: skip
        if error == "limit_exceeded":
            outcome.expect(
                int(result.headers.get("Retry-After", "0")) >= 1, f"{request.request_id}: Retry-After"
            )
        if document is None:
            continue
        _metrics(outcome, request, result, document)
        if result.status == 200 and not result.body.get("cached"):
            tokens, usd = charges[request.caller]
            cost = to_usd(document.get("EstimatedCost", [0])[0])
            charges[request.caller] = (tokens + document.get("TotalTokens", [0])[0], usd + cost)
        for name, entry in (result.body.get("limits") or {}).items():
            limit = plan.limits_of(request.caller).get(name)
            outcome.expect(limit is not None and Decimal(repr(entry["used"])) <= limit,
                           f"{request.request_id}: {name} used {entry['used']} of {limit}")  # fmt: skip
    refused = dict.fromkeys(plan.limited, 0)
    for request in plan.requests:
        result = by_index.get(request.index)
        if result is not None and result.body.get("error") == "limit_exceeded":
            refused[request.caller] += 1
    outcome.expect(all(refused.values()), f"the tight limits refused nothing: {refused}")
    callers = {request.caller for request in plan.requests}
    windows = windows_at(NOW)
    for caller in sorted(callers):
        tokens, usd = charges[caller]
        limits = plan.limits_of(caller)
        for window in windows:
            item = items.get((caller, window.id), {})
            got = charged(item)
            where = f"{caller.rsplit(':', 1)[-1]} {window.id}"
            outcome.lost += int(got.tokens < tokens) + int(got.usd < usd)
            outcome.double += int(got.tokens > tokens) + int(got.usd > usd)
            said = f"{where}: charged {got.tokens} tokens {got.usd} USD, EMF says {tokens} / {usd}"
            outcome.expect((got.tokens, got.usd) == (tokens, usd), said)
            outcome.expect(reserved(item) == got and holds(item) == {}, f"{where}: a reservation left behind")
            for measure, value in (("tokens", Decimal(got.tokens)), ("usd", got.usd)):
                limit = limits.get(f"{window.kind}_{measure}")
                outcome.expect(limit is None or value <= limit, f"{where}: {measure} {value} over {limit}")
    if deadline_502:  # by design, yet worth seeing: the machine could not answer them within the deadline
        outcome.name += f" ({len(deadline_502)} answered 502 at the answer's deadline)"
    return outcome


def statuses(results: list[Result]) -> Counter[str]:
    """`200`, `200 cached`, `429 limit_exceeded`, ...: how many of each."""
    return Counter(
        f"{r.status} cached"
        if r.status == 200 and r.body.get("cached")
        else f"{r.status} {r.body.get('error') or ''}".strip()
        for r in results
    )
