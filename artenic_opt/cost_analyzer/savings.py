"""Actual spend against the top recommendation's predicted cost (the facts behind
``cost savings``), and the rules that keep its actions apart: the kind an action takes from what
it changes, and at most one action per run (the actions themselves are built by ``analyzer``).

Decisions:

* **Savings**: completed runs that carry the predicted cost of the optimizer's top
  recommendation at the time, compared with what they actually cost. Failed runs are left out
  (their partial cost says nothing about the full job).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Final

from artenic_opt.cost_analyzer._common import NOTHING_RECORDED, Converter, workload_label
from artenic_opt.cost_analyzer.periods import (
    LookbackWindow,
    now_utc,
    parse_period,
    select_window,
)
from artenic_opt.schemas import (
    SavingsAction,
    SavingsRecord,
    SavingsReport,
    SpendRecord,
)
from artenic_opt.types import JobStatus

if TYPE_CHECKING:
    from artenic_opt._internal.money import ExchangeRates


def savings_against_recommendations(
    records: Iterable[SpendRecord],
    *,
    period: str | LookbackWindow = "90d",
    display_currency: str = "USD",
    rates: ExchangeRates | None = None,
    now: datetime | None = None,
) -> SavingsReport:
    """Actual cost of completed runs against the top recommendation's predicted cost.

    Records are ordered by overspend (largest first), then time. ``actions`` are left empty:
    the orchestrator adds them.
    """
    window = period if isinstance(period, LookbackWindow) else parse_period(period)
    converter = Converter(display_currency, rates)
    end = now_utc(now)
    all_records = list(records)
    inside, _, start = select_window(all_records, window, end)
    completed = [r for r in inside if r.status is JobStatus.COMPLETED]
    compared: list[SavingsRecord] = []
    without = 0
    for record in completed:
        if record.recommended_cost is None:
            without += 1
            continue
        what = f"record {record.record_id}"
        actual = converter.to_display(record.cost, record.currency, what=what)
        recommended = converter.to_display(
            record.recommended_cost, record.price_currency, what=what
        )
        followed = (
            None
            if record.recommended_candidate is None
            else record.recommended_candidate == record.candidate_id
        )
        compared.append(
            SavingsRecord(
                record_id=record.record_id,
                timestamp=record.timestamp,
                workload=workload_label(record),
                candidate_id=record.candidate_id,
                recommended_candidate=record.recommended_candidate,
                followed_recommendation=followed,
                actual_cost=actual,
                recommended_cost=recommended,
                difference=actual - recommended,
                currency=converter.display_currency,
            )
        )
    compared.sort(key=lambda s: (-s.difference, s.timestamp, s.record_id))
    actual_total = math.fsum(s.actual_cost for s in compared)
    recommended_total = math.fsum(s.recommended_cost for s in compared)
    message: str | None = None
    if not all_records:
        message = NOTHING_RECORDED
    elif not compared:
        message = (
            f"no completed job in the last {window.describe()} carries the cost of the "
            "recommendation it was chosen from"
        )
    return SavingsReport(
        period=window.text,
        start=start,
        end=end,
        display_currency=converter.display_currency,
        records=tuple(compared),
        records_compared=len(compared),
        records_without_recommendation=without,
        actual_total=actual_total,
        recommended_total=recommended_total,
        difference_total=actual_total - recommended_total,
        overspend_total=math.fsum(max(s.difference, 0.0) for s in compared),
        empty=not compared,
        message=message,
    )


#: Title verb of a savings action, by kind.
VERBS: Final = {
    "provider_switch": "Switch provider",
    "region": "Change region",
    "instance": "Change instance",
    "right_size": "Right-size",
    "spot": "Use spot",
}


def action_kind(changes: tuple[str, ...], *, right_size: bool) -> str:
    """The kind named by the largest change (``SAVINGS_ACTION_KINDS``)."""
    if "provider" in changes:
        return "provider_switch"
    if right_size:
        return "right_size"
    if "region" in changes:
        return "region"
    if "instance" in changes or "nodes" in changes:
        return "instance"
    return "spot"


def best_per_run(actions: list[SavingsAction]) -> list[SavingsAction]:
    """At most one action per run: the largest saving wins, an action sharing a run is dropped.

    Two actions on the same runs are alternatives (move to another provider, or stay and use
    spot): proposing both, or adding both to the total, would promise a saving nobody can get.
    """
    ordered = sorted(
        actions,
        key=lambda a: (-a.estimated_monthly_savings, a.kind, a.workload or "", a.suggested),
    )
    covered: set[str] = set()
    result: list[SavingsAction] = []
    for action in ordered:
        ids = set(action.record_ids)
        if ids & covered:
            continue
        covered |= ids
        result.append(action)
    return result
