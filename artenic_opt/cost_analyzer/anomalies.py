"""Runs far from comparable runs: robust z-scores with a materiality floor.

Decisions:

* **Anomalies** (Iglewicz and Hoaglin, 1993): within a group of comparable runs the modified
  z-score of a value ``x`` is ``0.6745 (x - median) / MAD`` (MAD: median absolute deviation from
  the median); ``|z| > 3.5`` is flagged. When MAD is 0 (more than half the runs are identical) the
  score falls back to ``(x - median) / (1.253314 x MeanAD)`` with MeanAD the mean absolute
  deviation from the median, the usual companion formula; when that is 0 too, every run is
  identical and nothing is flagged. Groups need at least ``min_comparable_runs`` runs (default
  5). **A run is an anomaly only when it is both statistically and materially unusual**: its
  ``|z|`` exceeds 3.5 *and* its value is at least 25% away from the group's median
  (``|x - median| >= 0.25 x median``; any non-zero value when the median is 0). A tight group
  gives large z-scores to trivial differences (a run at 1.04x the median of five identical runs
  scores z = +inf in theory, +13 with the MeanAD fallback); the materiality floor keeps those
  out, as AWS Cost Anomaly Detection separates detection from a minimum impact
  (``ANOMALY_TOTAL_IMPACT_PERCENTAGE``/``_ABSOLUTE`` thresholds of an AnomalySubscription,
  docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_AnomalySubscription.html,
  read 2026-12-04). The 25% floor is this tool's choice, not a measured figure: it is above the
  spread of list-price changes within a quarter and below the 1.5x that feedback already labels
  "poor". Three quantities are checked:

  - cost per hour, against runs with the same provider, region, instance type, node count and
    pricing (spot or on-demand): the price paid should not depend on the workload;
  - whole-run cost and run hours of completed runs, against completed runs of the same workload
    (query id, else name) on the same provider, instance type, node count and pricing (cost) or
    the same GPU type, GPU count and node count (hours). Runs without a workload are not
    compared on these two, since nothing says which runs are similar.

"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from artenic_opt.cost_analyzer._common import fmt_amount, group_by, hourly_rate, workload_label
from artenic_opt.errors import InvalidInputError
from artenic_opt.schemas import (
    CostAnomaly,
    SpendRecord,
)
from artenic_opt.types import JobStatus

if TYPE_CHECKING:
    pass

#: Iglewicz-Hoaglin cut-off for the modified z-score.
ANOMALY_Z_THRESHOLD = 3.5
#: Materiality floor: an anomaly is at least this far from the median, as a share of it.
ANOMALY_MIN_RELATIVE_DEVIATION = 0.25
DEFAULT_MIN_COMPARABLE_RUNS = 5
_MAD_SCALE = 0.6745
_MEAN_AD_SCALE = 1.253314


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
        value=lambda r, cost: hourly_rate(cost, r.hours),
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
    min_relative_deviation: float = ANOMALY_MIN_RELATIVE_DEVIATION,
) -> list[CostAnomaly]:
    """Runs both statistically and materially unusual in a group of comparable runs.

    Statistically: the modified z-score exceeds ``z_threshold``. Materially: the value is at least
    ``min_relative_deviation`` of the median away from it.

    ``costs`` maps record id to cost in ``currency`` (already converted). Ordered by the size of
    the score, largest first, then by time.
    """
    if min_comparable_runs < 2:
        raise InvalidInputError("min_comparable_runs: must be at least 2")
    if not z_threshold > 0:
        raise InvalidInputError("z_threshold: must be greater than 0")
    if not min_relative_deviation >= 0:
        raise InvalidInputError("min_relative_deviation: must be 0 or more")
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
                if not _material(value, stats.median, min_relative_deviation):
                    continue
                found.append(_anomaly(check, record, value, z, stats, len(members), currency))
    found.sort(key=lambda a: (-abs(a.robust_z), a.timestamp, a.record_id, a.metric))
    return found


def _material(value: float, median: float, min_relative_deviation: float) -> bool:
    """Far enough from the median to matter (see the module's rule)."""
    if median == 0:
        return value != 0
    return abs(value - median) >= min_relative_deviation * abs(median)


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
    if ratio is not None and not math.isfinite(ratio):
        ratio = None  # a median of 1e-320: "far from the median", without an infinite factor
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
