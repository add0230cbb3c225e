"""The chatbot under load, small enough for `make test` (40 requests from 20 containers at once, a few
seconds); `make reliability` runs 200 from 200. See `tests/reliability/load/`.

The load runs once for the module; the other tests break its evidence one way each (a second EMF
document, a missing one, a charge off by a token, a status outside the contract, a limit passed, a hold
left behind) and show the checks catch it, so the checks can fail.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from tests.reliability.lab import Lab
from tests.reliability.load import LoadReport, chat_load
from tests.reliability.load.checks import check
from tests.reliability.load.plan import ALICE, NOW
from tests.reliability.load.workers import Result

REQUESTS, CONTAINERS = 40, 20


@pytest.fixture(scope="module")
def load(lab: Lab) -> LoadReport:
    return chat_load(lab, REQUESTS, CONTAINERS)


def test_given_40_requests_of_four_callers_at_once_then_contract_statuses_one_emf_each_and_exact_metering(
    load: LoadReport,
) -> None:
    assert load.outcome.ok, load.outcome.describe()
    assert len(load.results) == REQUESTS
    assert load.chatbot.throughput > 0 and load.bare.throughput > 0


def test_given_tight_limits_and_injected_faults_then_some_429s_and_502s_by_design_and_nothing_else(
    load: LoadReport,
) -> None:
    statuses = load.statuses
    assert statuses["429 limit_exceeded"] > 0 and statuses["502 model_error"] > 0, statuses
    assert set(statuses) <= {"200", "200 cached", "429 limit_exceeded", "429 throttled", "502 model_error"}


def _broken(load: LoadReport, results: Callable[[list[Result]], None] | None = None,
            items: Callable[[dict[tuple[str, str], dict[str, Any]]], None] | None = None) -> Any:  # fmt: skip
    evidence, table = copy.deepcopy(load.results), copy.deepcopy(load.items)
    if results:
        results(evidence)
    if items:
        items(table)
    return check(load.plan, evidence, table)


def _first(load: LoadReport, status: int) -> int:
    return next(i for i, r in enumerate(load.results) if r.status == status and not r.body.get("cached"))


def test_given_a_request_with_a_second_emf_document_then_double_counted(load: LoadReport) -> None:
    index = _first(load, 200)
    outcome = _broken(load, results=lambda rs: rs[index].documents.append(rs[index].documents[0]))
    assert outcome.double == 1 and not outcome.ok


def test_given_a_request_without_its_emf_document_then_lost(load: LoadReport) -> None:
    index = _first(load, 502)
    outcome = _broken(load, results=lambda rs: rs[index].documents.clear())
    assert outcome.lost == 1 and not outcome.ok


def test_given_a_status_outside_the_contract_then_the_check_fails(load: LoadReport) -> None:
    index = _first(load, 200)

    def unavailable(results: list[Result]) -> None:
        results[index] = replace(results[index], status=503, body={"error": "limits_unavailable"})

    assert not _broken(load, results=unavailable).ok


def test_given_a_502_without_the_deadlines_error_code_on_a_fault_free_request_then_the_check_fails(
    load: LoadReport,
) -> None:
    index = _first(load, 200)  # its EMF document names no DeadlineExceeded: only that 502 is by design

    def model_error(results: list[Result]) -> None:
        results[index] = replace(results[index], status=502, body={"error": "model_error"})

    assert not _broken(load, results=model_error).ok


def _charged_tokens(delta: int) -> Callable[[dict[tuple[str, str], dict[str, Any]]], None]:
    from chatbot.windows import windows_at

    def change(items: dict[tuple[str, str], dict[str, Any]]) -> None:
        item = items[(ALICE, windows_at(NOW)[0].id)]
        for name in ("charged_tokens", "reserved_tokens"):
            item[name] = {"N": str(int(item[name]["N"]) + delta)}

    return change


def test_given_a_charge_one_token_short_of_the_emf_then_lost(load: LoadReport) -> None:
    outcome = _broken(load, items=_charged_tokens(-1))
    assert outcome.lost == 1 and outcome.double == 0 and not outcome.ok


def test_given_a_charge_past_alices_hourly_limit_then_flagged(load: LoadReport) -> None:
    limit = int(load.plan.limits_of(ALICE)["hour_tokens"])
    from chatbot.windows import windows_at

    charged = int(load.items[(ALICE, windows_at(NOW)[0].id)]["charged_tokens"]["N"])
    outcome = _broken(load, items=_charged_tokens(limit - charged + 1))
    assert any("over" in message for message in outcome.checks), outcome.checks


def test_given_a_hold_left_behind_then_flagged(load: LoadReport) -> None:
    from chatbot.usage_store import hold_name
    from chatbot.windows import windows_at

    def leak(items: dict[tuple[str, str], dict[str, Any]]) -> None:
        hold = {"M": {"tokens": {"N": "56"}, "usd": {"N": "0"}, "until": {"N": str(NOW + 90)}}}
        items[(ALICE, windows_at(NOW)[1].id)][hold_name("leaked-request")] = hold

    outcome = _broken(load, items=leak)
    assert any("reservation left behind" in message for message in outcome.checks), outcome.checks
