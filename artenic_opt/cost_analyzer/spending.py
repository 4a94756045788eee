"""Spend in a window: totals by group and bucket, failed runs apart, metric efficiency and the
anomalies of the window.

Decisions:

* **Spend** counts every final run, completed or not: a failed run is money spent. Runs that did
  not complete are also shown apart (``failed_jobs``, ``failed_cost``).
* **Metric efficiency**: per workload and bucket, ``sum(cost) / sum(max(improvement, 0))`` over
  runs that report ``metric_before`` and ``metric_after`` (improvement is ``after - before``, or
  ``before - after`` when lower is better). Runs that made things worse keep their cost in the
  numerator and add nothing to the denominator. Workloads are never mixed, because their metrics
  have different units.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from artenic_opt.cost_analyzer._common import (
    NOTHING_RECORDED,
    Converter,
    group_by,
    hourly_rate,
    workload_label,
)
from artenic_opt.cost_analyzer.anomalies import (
    ANOMALY_Z_THRESHOLD,
    DEFAULT_MIN_COMPARABLE_RUNS,
    detect_anomalies,
)
from artenic_opt.cost_analyzer.periods import (
    LookbackWindow,
    auto_bucket,
    bucket_label,
    bucket_start,
    now_utc,
    parse_period,
    select_window,
)
from artenic_opt.errors import InvalidInputError
from artenic_opt.schemas import (
    SPEND_DIMENSIONS,
    MetricEfficiency,
    SpendGroup,
    SpendingSummary,
    SpendRecord,
)
from artenic_opt.types import JobStatus, Period

if TYPE_CHECKING:
    from artenic_opt._internal.money import ExchangeRates


def _dimension_key(record: SpendRecord, by: str) -> str:
    if by == "provider":
        return record.provider
    if by == "region":
        return f"{record.provider}/{record.region}"
    if by == "instance":
        return f"{record.provider}/{record.instance_type}"
    if by == "gpu":
        return record.gpu_type or "cpu"
    return workload_label(record) or "(no workload)"


def _spend_groups(
    records: Sequence[SpendRecord],
    costs: dict[str, float],
    key: Callable[[SpendRecord], str],
    total_cost: float,
    starts: dict[str, datetime] | None = None,
) -> list[SpendGroup]:
    groups: list[SpendGroup] = []
    for name, members in group_by(records, key).items():
        cost = sum(costs[r.record_id] for r in members)
        hours = sum(r.hours for r in members)
        failed = [r for r in members if r.status is not JobStatus.COMPLETED]
        groups.append(
            SpendGroup(
                key=name,
                start=None if starts is None else starts[name],
                jobs=len(members),
                hours=hours,
                cost=cost,
                share=min(cost / total_cost, 1.0) if total_cost > 0 else 0.0,
                cost_per_hour=hourly_rate(cost, hours),
                failed_jobs=len(failed),
                failed_cost=sum(costs[r.record_id] for r in failed),
            )
        )
    return groups


def _time_groups(
    records: Sequence[SpendRecord], costs: dict[str, float], period: Period, total: float
) -> list[SpendGroup]:
    starts: dict[str, datetime] = {}
    for record in records:
        start = bucket_start(record.timestamp, period)
        starts[bucket_label(start, period)] = start
    groups = _spend_groups(
        records,
        costs,
        lambda r: bucket_label(bucket_start(r.timestamp, period), period),
        total,
        starts,
    )
    return sorted(groups, key=lambda g: g.key)


def _converted_costs(records: Sequence[SpendRecord], converter: Converter) -> dict[str, float]:
    costs: dict[str, float] = {}
    for record in records:
        if record.record_id in costs:
            raise InvalidInputError(f"history: record id {record.record_id!r} appears twice")
        costs[record.record_id] = converter.to_display(
            record.cost, record.currency, what=f"record {record.record_id}"
        )
    return costs


def check_dimension(by: str) -> str:
    value = by.strip().lower()
    if value not in SPEND_DIMENSIONS:
        raise InvalidInputError(f"by: {by!r} is not one of {', '.join(SPEND_DIMENSIONS)}")
    return value


def summarize_spending(
    records: Iterable[SpendRecord],
    *,
    period: str | LookbackWindow = "30d",
    by: str = "provider",
    bucket: Period | None = None,
    display_currency: str = "USD",
    rates: ExchangeRates | None = None,
    now: datetime | None = None,
    min_comparable_runs: int = DEFAULT_MIN_COMPARABLE_RUNS,
    z_threshold: float = ANOMALY_Z_THRESHOLD,
) -> SpendingSummary:
    """Spend in the window, grouped ``by`` a dimension, bucketed in time, and checked.

    An empty history is not an error: the summary is empty and its message says so.
    """
    window = period if isinstance(period, LookbackWindow) else parse_period(period)
    dimension = check_dimension(by)
    converter = Converter(display_currency, rates)
    end = now_utc(now)
    all_records = list(records)
    inside, outside, start = select_window(all_records, window, end)
    timeline_period = bucket or auto_bucket(window)
    frame = {
        "period": window.text,
        "start": start,
        "end": end,
        "by": dimension,
        "bucket": timeline_period.value,
        "display_currency": converter.display_currency,
    }
    if not inside:
        message = (
            NOTHING_RECORDED
            if not all_records
            else f"no finished jobs in the last {window.describe()} "
            f"({outside} older record{'s' if outside != 1 else ''} outside the period)"
        )
        return SpendingSummary(
            **frame,
            jobs=0,
            total_hours=0.0,
            total_cost=0.0,
            failed_cost=0.0,
            records_outside_period=outside,
            empty=True,
            message=message,
        )

    costs = _converted_costs(inside, converter)
    total = sum(costs.values())
    if dimension in ("day", "week", "month"):
        groups = _time_groups(inside, costs, Period(dimension), total)
    else:
        groups = _spend_groups(inside, costs, lambda r: _dimension_key(r, dimension), total)
        groups.sort(key=lambda g: (-g.cost, g.key))
    timeline = _time_groups(inside, costs, timeline_period, total)
    failed_cost = sum(costs[r.record_id] for r in inside if r.status is not JobStatus.COMPLETED)
    return SpendingSummary(
        **frame,
        jobs=len(inside),
        total_hours=sum(r.hours for r in inside),
        total_cost=total,
        failed_cost=failed_cost,
        groups=tuple(groups),
        timeline=tuple(timeline),
        metric_efficiency=tuple(metric_efficiency(inside, timeline_period, costs)),
        anomalies=tuple(
            detect_anomalies(
                inside,
                costs=costs,
                currency=converter.display_currency,
                min_comparable_runs=min_comparable_runs,
                z_threshold=z_threshold,
            )
        ),
        records_outside_period=outside,
    )


# --------------------------------------------------------------------------------------------
# Metric efficiency
# --------------------------------------------------------------------------------------------


def metric_improvement(record: SpendRecord) -> float | None:
    """Improvement in metric units (positive is better), or None without metrics."""
    if record.metric_before is None or record.metric_after is None:
        return None
    delta = record.metric_after - record.metric_before
    return delta if record.metric_higher_is_better else -delta


def metric_efficiency(
    records: Sequence[SpendRecord], period: Period, costs: dict[str, float]
) -> list[MetricEfficiency]:
    """Cost per unit of metric improvement, per workload and bucket (see module docstring)."""
    with_metrics = [
        r for r in records if r.workload_key is not None and metric_improvement(r) is not None
    ]
    points: list[MetricEfficiency] = []
    grouped = group_by(with_metrics, lambda r: (r.workload_key, bucket_start(r.timestamp, period)))
    for (_, start), members in grouped.items():
        cost = sum(costs[r.record_id] for r in members)
        improvement = sum(max(metric_improvement(r) or 0.0, 0.0) for r in members)
        label = workload_label(members[-1]) or "(no workload)"
        points.append(
            MetricEfficiency(
                workload=label,
                bucket=bucket_label(start, period),
                start=start,
                runs=len(members),
                cost=cost,
                improvement=improvement,
                cost_per_unit=cost / improvement if improvement > 0 else None,
            )
        )
    points.sort(key=lambda p: (p.workload, p.start))
    return points
