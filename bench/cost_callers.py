"""Part 5's callers lines (issue 12): what seeing and capping callers costs per month.

- Contributor Insights: each rule of the synthesized template bills a month, and every chatbot log event
  it matches. The rules keep only events with a caller and a positive value (infra/constructs/
  caller_insights.py), so per answered request the tokens rule matches once (cached answers report
  estimated tokens too), the cost rule once per live answer of a priced model, the rejections rule once
  per refused request. The caller count plays no part: that is the point of rules over a dimension.
- The usage table (on demand): per live answer a reservation (one transaction over the limited windows'
  items) and a settlement (one transaction over every metered window: hour, day, month), each item a
  transactional write of 2 WRU (items are well under 1 KB); a refused request's cancelled reservation is
  still billed; a cache hit reads the limited windows once (1 RRU per item, strongly consistent: the
  upper bound). These follow the contract's protocol ("Callers": reserve, then settle) with its item per
  caller and window; the lead checks them against the runtime's transactions (bench part 2 measures its
  round trips).
- The report's GetInsightRuleReport: one call per rule per `make report`.
The new metrics (LimitRejections, CallerLimitUsage, LimitCheckErrors per model) are in the series line
and the approaching-limit alarm in the alarms line, both counted from the catalogue and the template.
"""

from __future__ import annotations

from collections.abc import Sequence

from bench import prices

METERED_WINDOWS = 3  # hour, day, month: every answer is metered in each (contract "Callers")
TRANSACTION_WRU_PER_ITEM = 2  # a transactional write of an item up to 1 KB
READ_RRU_PER_ITEM = 1  # strongly consistent read of an item up to 4 KB
# Assumptions about the 1M answered requests the EMF line assumes (stated in the table's notes).
LIVE_SHARE = 0.7  # answers from the model; the rest are cache hits
REJECTED_PER_ANSWER = 0.01  # requests refused 429 limit_exceeded, per answered request


def matched_events(rules: int, answers: float, priced_share: float) -> float:
    """Log events the three top-callers rules match in a month (0 without rules)."""
    if not rules:
        return 0.0
    return answers + answers * LIVE_SHARE * priced_share + answers * REJECTED_PER_ANSWER


def usage_requests(limited_windows: int, answers: float) -> tuple[float, float]:
    """(write request units, read request units) the usage table bills in a month."""
    live, hits = answers * LIVE_SHARE, answers * (1 - LIVE_SHARE)
    reserve = TRANSACTION_WRU_PER_ITEM * limited_windows
    settle = TRANSACTION_WRU_PER_ITEM * METERED_WINDOWS
    writes = live * (reserve + settle) + answers * REJECTED_PER_ANSWER * reserve
    reads = hits * READ_RRU_PER_ITEM * limited_windows
    return writes, reads


def caller_lines(
    *, rules: int, limited_windows: Sequence[str], answers: float, priced_share: float, reports: float
) -> list[tuple[str, str, float]]:
    """(item, quantity, USD/month) lines of the bill."""
    events = matched_events(rules, answers, priced_share)
    writes, reads = usage_requests(len(limited_windows), answers)
    report_calls = rules * reports
    windows = ", ".join(limited_windows) or "none"
    return [
        ("Contributor Insights rules", f"{rules} rules", rules * prices.CONTRIBUTOR_INSIGHTS_RULE_MONTH),
        (
            f"Contributor Insights matched events ({answers / 1e6:g}M answers/month)",
            f"{events:,.0f} events",
            events / 1e6 * prices.CONTRIBUTOR_INSIGHTS_PER_MILLION_EVENTS,
        ),
        (
            "usage table writes (reserve + settle)",
            f"{writes:,.0f} WRU (limited: {windows})",
            writes / 1e6 * prices.DYNAMODB_WRU_PER_MILLION,
        ),
        (
            "usage table reads (cache hits)",
            f"{reads:,.0f} RRU",
            reads / 1e6 * prices.DYNAMODB_RRU_PER_MILLION,
        ),
        (
            "GetInsightRuleReport (daily report)",
            f"{report_calls:,.0f}/month",
            report_calls / 1000 * prices.GET_INSIGHT_RULE_REPORT_PER_1000,
        ),
    ]
