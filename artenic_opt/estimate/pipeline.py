"""The one ranking pipeline: candidates -> plans and estimates -> hard filters -> (scores) -> order.

Every path that ranks or compares offerings for a workload goes through here: ``recommend``
(``training_advisor.advisor``), the evaluation and backtest (through the heuristic ranker's
``rank_candidates`` and ``order_by_score``) and ``cost compare`` (``cost_analyzer``). The front
half, ``feasible_candidates``, builds the candidates, searches a training plan for each and
estimates memory, time and cost (``estimate.candidates``), then applies the hard filters
(``estimate.filters``). Scoring belongs to the pillars; the back half, ``enforce_dominance``,
is the last step of every order.

**Ranking rule** (DESIGN §2): no candidate ranks above one that is both cheaper (expected
whole-job cost, spot retries included) and no slower. ``enforce_dominance`` applies it to any
order: each candidate is lifted to the position of the best-placed candidate it dominates
(directly or through a chain), and among equal positions the cheaper, then faster, goes first.
A candidate that dominates nothing keeps its place relative to the others, so the rule only
moves what it must.

Decisions:

* The lift is computed as "best position among the candidates this one dominates", a 2-D
  dominance query (cheaper and no slower). Up to ``_DENSE_LIMIT`` rows it is one dense numpy
  comparison per block of rows; above, a sweep over cost with a Fenwick tree over hours
  (``O(n log n)``).
* Costs or hours that are NaN never dominate and are never dominated (they cannot be compared).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from artenic_opt._internal.arrays import BoolArray, FloatArray, IntArray
from artenic_opt._internal.money import ExchangeRates
from artenic_opt.catalog.loader import CatalogArrays
from artenic_opt.estimate.candidates import (
    CandidateArrays,
    CandidateEstimates,
    build_candidates,
    estimate_candidates,
)
from artenic_opt.estimate.filters import apply_hard_filters
from artenic_opt.schemas import WorkloadProfile

_DENSE_LIMIT = 3000
_BLOCK = 512


@dataclass(frozen=True, slots=True, eq=False)
class FeasibleSet:
    """All candidates with their plans and estimates, and the rows the hard filters keep."""

    candidates: CandidateArrays
    estimates: CandidateEstimates
    feasible: BoolArray
    #: Candidates removed by each filter, in filter order.
    excluded: Mapping[str, int]

    @property
    def feasible_index(self) -> IntArray:
        index: IntArray = np.flatnonzero(self.feasible).astype(np.int64)
        return index


def filter_estimated(
    workload: WorkloadProfile,
    candidates: CandidateArrays,
    estimates: CandidateEstimates | None = None,
) -> FeasibleSet:
    """Plans and estimates (unless given), then the hard filters, over built candidates."""
    estimates = estimates or estimate_candidates(workload, candidates)
    feasible, excluded = apply_hard_filters(workload, candidates, estimates)
    return FeasibleSet(candidates, estimates, feasible, excluded)


def feasible_candidates(
    workload: WorkloadProfile,
    arrays: CatalogArrays,
    *,
    currency: str = "USD",
    rates: ExchangeRates | Mapping[str, float] | None = None,
    reliability: Mapping[str, float] | None = None,
    preemption_rates: Mapping[str, float] | None = None,
) -> FeasibleSet:
    """The front half of the pipeline over a catalog (``InfeasibleError`` when nothing fits)."""
    candidates = build_candidates(
        workload,
        arrays,
        currency=currency,
        rates=rates,
        reliability=reliability,
        preemption_rates=preemption_rates,
    )
    return filter_estimated(workload, candidates)


def _comparable(cost: FloatArray, hours: FloatArray) -> BoolArray:
    ok: BoolArray = np.isfinite(cost) & np.isfinite(hours)
    return ok


def _lift_dense(position: FloatArray, cost: FloatArray, hours: FloatArray) -> FloatArray:
    """For each row, the best (smallest) position among itself and the rows it dominates."""
    n = position.shape[0]
    lifted = position.copy()
    ok = _comparable(cost, hours)
    for start in range(0, n, _BLOCK):
        stop = min(start + _BLOCK, n)
        # Row d (block) dominates column c when d is cheaper and no slower.
        dominates = (cost[start:stop, None] < cost[None, :]) & (
            hours[start:stop, None] <= hours[None, :]
        )
        dominates &= ok[start:stop, None] & ok[None, :]
        best = np.where(dominates, position[None, :], np.inf).min(axis=1)
        lifted[start:stop] = np.minimum(lifted[start:stop], best)
    return lifted


def _lift_sweep(position: FloatArray, cost: FloatArray, hours: FloatArray) -> FloatArray:
    """Same as ``_lift_dense`` in ``O(n log n)``: sweep from the dearest, query by hours."""
    n = position.shape[0]
    lifted = position.copy()
    ok = np.flatnonzero(_comparable(cost, hours))
    if ok.size == 0:
        return lifted
    # Rank hours descending so that "hours >= h" is a prefix in the tree.
    distinct = np.unique(hours[ok])
    rank_of = {float(value): len(distinct) - i for i, value in enumerate(distinct)}
    size = len(distinct)
    tree = [np.inf] * (size + 1)
    order = ok[np.argsort(-cost[ok], kind="stable")]
    i = 0
    while i < order.size:
        # Rows of equal cost do not dominate each other: query them all before inserting.
        j = i
        while j < order.size and cost[order[j]] == cost[order[i]]:
            j += 1
        for row in order[i:j]:
            k = rank_of[float(hours[row])]
            best = np.inf
            while k > 0:
                best = min(best, tree[k])
                k -= k & -k
            lifted[row] = min(lifted[row], best)
        for row in order[i:j]:
            k = rank_of[float(hours[row])]
            value = float(lifted[row])
            while k <= size:
                tree[k] = min(tree[k], value)
                k += k & -k
        i = j
    del n
    return lifted


def enforce_dominance(order: npt.ArrayLike, cost: npt.ArrayLike, hours: npt.ArrayLike) -> IntArray:
    """``order`` (positions, best first) changed only as the ranking rule demands.

    ``cost`` and ``hours`` are indexed by row position, like the entries of ``order``.
    """
    ranked = np.asarray(order, dtype=np.int64).reshape(-1)
    costs = np.asarray(cost, dtype=np.float64)
    times = np.asarray(hours, dtype=np.float64)
    if ranked.size < 2:
        return ranked
    sub_cost = costs[ranked]
    sub_hours = times[ranked]
    position = np.arange(ranked.size, dtype=np.float64)
    if ranked.size <= _DENSE_LIMIT:
        lifted = _lift_dense(position, sub_cost, sub_hours)
    else:
        lifted = _lift_sweep(position, sub_cost, sub_hours)
    # Lifting is transitive already: a row dominating d also dominates what d dominates.
    keys = (position, np.nan_to_num(sub_hours, nan=np.inf), np.nan_to_num(sub_cost, nan=np.inf))
    final = np.lexsort((*keys, lifted))
    result: IntArray = ranked[final]
    return result


def dominated_pairs(order: npt.ArrayLike, cost: npt.ArrayLike, hours: npt.ArrayLike) -> int:
    """How many (upper, lower) pairs of ``order`` break the ranking rule (0 when it holds)."""
    ranked = np.asarray(order, dtype=np.int64).reshape(-1)
    c = np.asarray(cost, dtype=np.float64)[ranked]
    h = np.asarray(hours, dtype=np.float64)[ranked]
    ok = _comparable(c, h)
    lower_dominates = (c[None, :] < c[:, None]) & (h[None, :] <= h[:, None])
    above = np.triu(np.ones((ranked.size, ranked.size), dtype=np.bool_), k=1)
    return int(np.count_nonzero(lower_dominates & above & ok[:, None] & ok[None, :]))


__all__ = [
    "FeasibleSet",
    "dominated_pairs",
    "enforce_dominance",
    "feasible_candidates",
    "filter_estimated",
]
