"""Spending history: totals by group and period, metric efficiency, anomalies and savings.

Decisions:

* **Periods.** ``parse_period`` accepts ``<N><unit>`` with unit ``d`` (days), ``w`` (weeks),
  ``m`` (calendar months) or ``y`` (calendar years), for example ``30d``, ``12w``, ``6m``,
  ``1y``. Months and years are calendar arithmetic (six months before 31 August is 29 February
  in a leap year, the day clamped to the month's end), not fixed 30-day blocks, so "6m" means what
  a person means by it. The window is ``[now - period, now]`` with both ends inclusive.
* **Buckets** are UTC calendar days, ISO weeks (Monday to Sunday, labelled ``2026-W48``) and
  calendar months (``2026-11``). The timeline bucket follows the window: days up to 31 days,
  weeks up to 26 weeks, months beyond, unless the caller picks one.
* **Spend** counts every final run, completed or not: a failed run is money spent. Runs that did
  not complete are also shown apart (``failed_jobs``, ``failed_cost``).
* **Metric efficiency**: per workload and bucket, ``sum(cost) / sum(max(improvement, 0))`` over
  runs that report ``metric_before`` and ``metric_after`` (improvement is ``after - before``, or
  ``before - after`` when lower is better). Runs that made things worse keep their cost in the
  numerator and add nothing to the denominator. Workloads are never mixed, because their metrics
  have different units.
* **Anomalies** (Iglewicz and Hoaglin, 1993): within a group of comparable runs the modified
  z-score of a value ``x`` is ``0.6745 (x - median) / MAD`` (MAD: median absolute deviation from
  the median); ``|z| > 3.5`` is flagged. When MAD is 0 (more than half the runs are identical) the
  score falls back to ``(x - median) / (1.253314 x MeanAD)`` with MeanAD the mean absolute
  deviation from the median, the usual companion formula; when that is 0 too, every run is
  identical and nothing is flagged. Groups need at least ``min_comparable_runs`` runs (default
  5). Three quantities are checked:

  - cost per hour, against runs with the same provider, region, instance type, node count and
    pricing (spot or on-demand): the price paid should not depend on the workload;
  - whole-run cost and run hours of completed runs, against completed runs of the same workload
    (query id, else name) on the same provider, instance type, node count and pricing (cost) or
    the same GPU type, GPU count and node count (hours). Runs without a workload are not
    compared on these two, since nothing says which runs are similar.

* **Savings**: completed runs that carry the predicted cost of the optimizer's top
  recommendation at the time, compared with what they actually cost. Failed runs are left out
  (their partial cost says nothing about the full job).
"""

from __future__ import annotations

import calendar
import math
import statistics
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from artenic_opt.cost_analyzer._common import Converter, fmt_amount, group_by
from artenic_opt.errors import InvalidInputError
from artenic_opt.schemas import (
    SPEND_DIMENSIONS,
    CostAnomaly,
    MetricEfficiency,
    SavingsRecord,
    SavingsReport,
    SpendGroup,
    SpendingSummary,
    SpendRecord,
)
from artenic_opt.types import JobStatus, Period

if TYPE_CHECKING:
    from artenic_opt._internal.money import ExchangeRates

#: Iglewicz-Hoaglin cut-off for the modified z-score.
ANOMALY_Z_THRESHOLD = 3.5
DEFAULT_MIN_COMPARABLE_RUNS = 5
_MAD_SCALE = 0.6745
_MEAN_AD_SCALE = 1.253314

_UNIT_NAMES = {"d": "day", "w": "week", "m": "month", "y": "year"}
_MAX_AMOUNT = {"d": 36_500, "w": 5_200, "m": 1_200, "y": 100}
ACCEPTED_PERIODS = "a whole number and a unit d, w, m or y, such as 30d, 12w, 6m, 90d or 1y"

NOTHING_RECORDED = "nothing recorded yet: the history holds no finished jobs"


# --------------------------------------------------------------------------------------------
# Periods and buckets
# --------------------------------------------------------------------------------------------


def _shift_months(moment: datetime, months: int) -> datetime:
    """``moment`` moved back by ``months`` calendar months, the day clamped to the month end."""
    index = moment.year * 12 + (moment.month - 1) - months
    year, month0 = divmod(index, 12)
    if year < 1:
        raise InvalidInputError(f"period: {months} months reaches before year 1")
    day = min(moment.day, calendar.monthrange(year, month0 + 1)[1])
    return moment.replace(year=year, month=month0 + 1, day=day)


@dataclass(frozen=True, slots=True)
class LookbackWindow:
    """A parsed period such as ``30d``: how far back from "now" the analysis looks."""

    amount: int
    unit: str

    @property
    def text(self) -> str:
        return f"{self.amount}{self.unit}"

    @property
    def approx_days(self) -> float:
        """Length in days, months and years at their Gregorian average (for monthly rates)."""
        per_unit = {"d": 1.0, "w": 7.0, "m": 365.2425 / 12.0, "y": 365.2425}
        return self.amount * per_unit[self.unit]

    def start(self, now: datetime) -> datetime:
        if self.unit == "d":
            return now - timedelta(days=self.amount)
        if self.unit == "w":
            return now - timedelta(weeks=self.amount)
        months = self.amount * (12 if self.unit == "y" else 1)
        return _shift_months(now, months)

    def describe(self) -> str:
        name = _UNIT_NAMES[self.unit]
        return f"{self.amount} {name}{'s' if self.amount != 1 else ''}"


def parse_period(text: str) -> LookbackWindow:
    """Parse ``30d``, ``12w``, ``6m``, ``1y`` ...; anything else is an ``InvalidInputError``.

    Surrounding blanks and upper-case units are accepted; the number must be ASCII digits.
    """
    stripped = text.strip() if isinstance(text, str) else ""
    unit = stripped[-1:].lower()
    number = stripped[:-1].strip()
    if unit not in _UNIT_NAMES or not (number.isascii() and number.isdigit()):
        raise InvalidInputError(f"period: {text!r} is not a period; use {ACCEPTED_PERIODS}")
    amount = int(number)
    if amount < 1:
        raise InvalidInputError(f"period: {text!r} must be at least 1{unit}")
    if amount > _MAX_AMOUNT[unit]:
        raise InvalidInputError(
            f"period: {text!r} is longer than the {_MAX_AMOUNT[unit]}{unit} allowed"
        )
    return LookbackWindow(amount=amount, unit=unit)


def bucket_start(moment: datetime, period: Period) -> datetime:
    """Start (UTC midnight) of the day, ISO week or calendar month containing ``moment``."""
    day = moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    if period is Period.DAY:
        return day
    if period is Period.WEEK:
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def bucket_label(start: datetime, period: Period) -> str:
    if period is Period.DAY:
        return start.strftime("%Y-%m-%d")
    if period is Period.WEEK:
        iso = start.isocalendar()
        return f"{iso.year:04d}-W{iso.week:02d}"
    return start.strftime("%Y-%m")


def auto_bucket(window: LookbackWindow) -> Period:
    days = window.approx_days
    if days <= 31:
        return Period.DAY
    if days <= 26 * 7:
        return Period.WEEK
    return Period.MONTH


def now_utc(now: datetime | None) -> datetime:
    """``now`` as aware UTC (naive is taken as UTC); the current time when None."""
    if now is None:
        return datetime.now(UTC)
    return now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)


def select_window(
    records: Iterable[SpendRecord], window: LookbackWindow, now: datetime
) -> tuple[list[SpendRecord], int, datetime]:
    """Records inside ``[start, now]`` (sorted by time), how many fell outside, and start."""
    start = window.start(now)
    inside: list[SpendRecord] = []
    outside = 0
    for record in records:
        if start <= record.timestamp <= now:
            inside.append(record)
        else:
            outside += 1
    inside.sort(key=lambda r: (r.timestamp, r.record_id))
    return inside, outside, start


def workload_label(record: SpendRecord) -> str | None:
    """A readable name for the record's workload: its name, else its query id."""
    if record.workload_name:
        return record.workload_name
    if record.workload is not None:
        return record.workload.name
    return record.query_id


# --------------------------------------------------------------------------------------------
# Spend
# --------------------------------------------------------------------------------------------


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
                cost_per_hour=cost / hours if hours > 0 else None,
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
    if not inside:
        message = (
            NOTHING_RECORDED
            if not all_records
            else f"no finished jobs in the last {window.describe()} "
            f"({outside} older record{'s' if outside != 1 else ''} outside the period)"
        )
        return SpendingSummary(
            period=window.text,
            start=start,
            end=end,
            by=dimension,
            bucket=timeline_period.value,
            display_currency=converter.display_currency,
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
        period=window.text,
        start=start,
        end=end,
        by=dimension,
        bucket=timeline_period.value,
        display_currency=converter.display_currency,
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


# --------------------------------------------------------------------------------------------
# Anomalies
# --------------------------------------------------------------------------------------------


_RELATIVE_NOISE = 1e-9


@dataclass(frozen=True, slots=True)
class RobustStats:
    median: float
    mad: float
    mean_ad: float

    def z(self, value: float) -> float | None:
        """Modified z-score, or None when every value of the group is the same."""
        if self.mad > 0:
            return _MAD_SCALE * (value - self.median) / self.mad
        if self.mean_ad > 0:
            return (value - self.median) / (_MEAN_AD_SCALE * self.mean_ad)
        return None


def robust_stats(values: Sequence[float]) -> RobustStats:
    """Median, MAD and mean absolute deviation around the median."""
    if not values:
        raise InvalidInputError("anomalies: no values to describe")
    median = statistics.median(values)
    deviations = [abs(v - median) for v in values]
    mad = statistics.median(deviations)
    mean_ad = statistics.fmean(deviations)
    # Spreads at floating-point noise level (identical costs computed two ways) are no spread:
    # dividing by them would turn a 1.0x run into an "anomaly" with a z-score of 1e16.
    noise = _RELATIVE_NOISE * max(abs(median), 1e-12)
    return RobustStats(
        median=median,
        mad=mad if mad > noise else 0.0,
        mean_ad=mean_ad if mean_ad > noise else 0.0,
    )


def robust_z_scores(values: Sequence[float]) -> list[float | None]:
    """Iglewicz-Hoaglin modified z-score of every value against the whole sample."""
    stats = robust_stats(values)
    return [stats.z(v) for v in values]


@dataclass(frozen=True, slots=True)
class _Check:
    metric: str
    label: str
    unit_is_money: bool
    value: Callable[[SpendRecord, float], float | None]
    key: Callable[[SpendRecord], Hashable | None]
    comparison: Callable[[SpendRecord], str]


def _pricing(record: SpendRecord) -> str:
    return "spot" if record.spot else "on-demand"


def _nodes(record: SpendRecord) -> str:
    return f"{record.nodes} node{'s' if record.nodes != 1 else ''}"


def _hardware(record: SpendRecord) -> str:
    if record.gpu_type:
        return f"{record.gpu_count}x {record.gpu_type}"
    return record.instance_type


_CHECKS: tuple[_Check, ...] = (
    _Check(
        metric="cost_per_hour",
        label="cost per hour",
        unit_is_money=True,
        value=lambda r, cost: cost / r.hours if r.hours > 0 else None,
        key=lambda r: ("cph", r.provider, r.region, r.instance_type, r.nodes, r.spot),
        comparison=lambda r: (
            f"{r.provider}/{r.region}/{r.instance_type}, {_nodes(r)}, {_pricing(r)}"
        ),
    ),
    _Check(
        metric="cost_per_run",
        label="cost",
        unit_is_money=True,
        value=lambda r, cost: cost if r.status is JobStatus.COMPLETED else None,
        key=lambda r: (
            None
            if r.workload_key is None
            else ("cpr", r.workload_key, r.provider, r.instance_type, r.nodes, r.spot)
        ),
        comparison=lambda r: (
            f"completed runs of {workload_label(r)} on {r.provider}/{r.instance_type}, "
            f"{_nodes(r)}, {_pricing(r)}"
        ),
    ),
    _Check(
        metric="hours_per_run",
        label="duration",
        unit_is_money=False,
        value=lambda r, _cost: r.hours if r.status is JobStatus.COMPLETED else None,
        key=lambda r: (
            None
            if r.workload_key is None
            else ("hpr", r.workload_key, r.gpu_type or r.instance_type, r.gpu_count, r.nodes)
        ),
        comparison=lambda r: (
            f"completed runs of {workload_label(r)} on {_hardware(r)}, {_nodes(r)}"
        ),
    ),
)


def _fmt_value(value: float, unit: str) -> str:
    return f"{value:,.2f} h" if unit == "h" else fmt_amount(value, unit)


def detect_anomalies(
    records: Sequence[SpendRecord],
    *,
    costs: dict[str, float],
    currency: str,
    min_comparable_runs: int = DEFAULT_MIN_COMPARABLE_RUNS,
    z_threshold: float = ANOMALY_Z_THRESHOLD,
) -> list[CostAnomaly]:
    """Runs whose modified z-score exceeds ``z_threshold`` in a group of comparable runs.

    ``costs`` maps record id to cost in ``currency`` (already converted). Ordered by the size of
    the score, largest first, then by time.
    """
    if min_comparable_runs < 2:
        raise InvalidInputError("min_comparable_runs: must be at least 2")
    if not z_threshold > 0:
        raise InvalidInputError("z_threshold: must be greater than 0")
    found: list[CostAnomaly] = []
    for check in _CHECKS:
        valued: list[tuple[Hashable, SpendRecord, float]] = []
        for record in records:
            key = check.key(record)
            value = check.value(record, costs[record.record_id])
            if key is not None and value is not None:
                valued.append((key, record, value))
        for members in group_by(valued, lambda item: item[0]).values():
            if len(members) < min_comparable_runs:
                continue
            stats = robust_stats([value for _, _, value in members])
            for _, record, value in members:
                z = stats.z(value)
                if z is None or abs(z) <= z_threshold:
                    continue
                found.append(_anomaly(check, record, value, z, stats, len(members), currency))
    found.sort(key=lambda a: (-abs(a.robust_z), a.timestamp, a.record_id, a.metric))
    return found


def _anomaly(
    check: _Check,
    record: SpendRecord,
    value: float,
    z: float,
    stats: RobustStats,
    comparable: int,
    currency: str,
) -> CostAnomaly:
    unit = currency if check.unit_is_money else "h"
    ratio = value / stats.median if stats.median > 0 else None
    comparison = check.comparison(record)
    if ratio is not None:
        head = f"{check.label} {ratio:.1f}x the median of {comparable} comparable runs"
    else:
        head = f"{check.label} far from the median of {comparable} comparable runs"
    reason = (
        f"{head} ({comparison}): {_fmt_value(value, unit)} against "
        f"{_fmt_value(stats.median, unit)}, robust z {z:+.1f}"
    )
    return CostAnomaly(
        record_id=record.record_id,
        timestamp=record.timestamp,
        provider=record.provider,
        region=record.region,
        instance_type=record.instance_type,
        gpu_type=record.gpu_type,
        workload=workload_label(record),
        metric=check.metric,
        value=value,
        median=stats.median,
        mad=stats.mad,
        robust_z=z,
        ratio_to_median=ratio,
        comparable_runs=comparable,
        comparison=comparison,
        unit=unit,
        reason=reason,
    )


# --------------------------------------------------------------------------------------------
# Savings against the top recommendation
# --------------------------------------------------------------------------------------------


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
