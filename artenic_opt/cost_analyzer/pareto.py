"""Pareto frontier of (cost, time) points, both minimised, and the picks marked on it.

Definitions used throughout the cost analyzer:

* Point ``a`` *dominates* ``b`` when ``a`` is at most ``b`` in both cost and time and strictly
  less in at least one. Identical points do not dominate each other.
* The *frontier* is the set of points that no other point dominates. Exact duplicates of a
  frontier point are therefore all on the frontier: leaving one out would leave a point that is
  neither on the frontier nor dominated, which breaks the defining property.

Algorithm: one lexicographic sort by (cost, time, index), O(n log n), then a vectorised sweep.
After sorting, a point is on the frontier exactly when its time is strictly below the best time
of every earlier point that is not an exact duplicate of it. Equal points are adjacent after the
sort, so a run of duplicates shares the verdict of its first member. The result is ordered by
cost, then time, then original index, which makes every output deterministic whatever order the
inputs came in (up to the original index, which only orders duplicates).

Picks on the frontier:

* *cheapest*: the lowest cost; ties broken by lower time, then lower index.
* *fastest*: the lowest time; ties broken by lower cost, then lower index.
* *balanced*: cost and time are min-max normalised over the frontier points (a constant
  dimension normalises to 0), and the point with the smallest sum of the two wins; ties are broken
  by lower cost, then lower time, then lower index. Normalising over the frontier rather than over
  every candidate keeps far-off dominated outliers from moving the balanced pick.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from artenic_opt._internal.arrays import FloatArray, IndexArray
from artenic_opt.errors import InvalidInputError


def _as_points(costs: npt.ArrayLike, hours: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    cost_arr = np.asarray(costs, dtype=np.float64).reshape(-1)
    time_arr = np.asarray(hours, dtype=np.float64).reshape(-1)
    if cost_arr.shape != time_arr.shape:
        raise InvalidInputError(
            f"pareto: costs and hours differ in length ({cost_arr.size} vs {time_arr.size})"
        )
    if not (np.isfinite(cost_arr).all() and np.isfinite(time_arr).all()):
        raise InvalidInputError("pareto: costs and hours must be finite numbers")
    return cost_arr, time_arr


def dominates(cost_a: float, hours_a: float, cost_b: float, hours_b: float) -> bool:
    """Whether point a dominates point b (weakly better in both, strictly in one)."""
    return cost_a <= cost_b and hours_a <= hours_b and (cost_a < cost_b or hours_a < hours_b)


def pareto_mask(costs: npt.ArrayLike, hours: npt.ArrayLike) -> npt.NDArray[np.bool_]:
    """Boolean mask, in input order, of the points on the frontier."""
    cost_arr, time_arr = _as_points(costs, hours)
    mask = np.zeros(cost_arr.size, dtype=np.bool_)
    if cost_arr.size:
        mask[pareto_frontier(cost_arr, time_arr)] = True
    return mask


def pareto_frontier(costs: npt.ArrayLike, hours: npt.ArrayLike) -> IndexArray:
    """Indices of the frontier points, ordered by cost, then time, then index."""
    cost_arr, time_arr = _as_points(costs, hours)
    n = cost_arr.size
    if n == 0:
        return np.empty(0, dtype=np.intp)
    # lexsort sorts by the last key first; the index key makes the order total.
    order = np.lexsort((np.arange(n), time_arr, cost_arr))
    cost_sorted = cost_arr[order]
    time_sorted = time_arr[order]

    # A new group starts wherever the (cost, time) pair changes; duplicates share a group.
    new_group = np.ones(n, dtype=np.bool_)
    new_group[1:] = (cost_sorted[1:] != cost_sorted[:-1]) | (time_sorted[1:] != time_sorted[:-1])

    # Best time among all strictly earlier positions. The first member of a group has no earlier
    # duplicate, so comparing it with this running minimum decides the whole group.
    best_before = np.empty(n, dtype=np.float64)
    best_before[0] = np.inf
    if n > 1:
        best_before[1:] = np.minimum.accumulate(time_sorted)[:-1]
    leader_on_frontier = new_group & (time_sorted < best_before)

    group_id = np.cumsum(new_group) - 1
    group_verdict = leader_on_frontier[new_group]
    on_frontier = group_verdict[group_id]
    result: IndexArray = order[on_frontier].astype(np.intp)
    return result


@dataclass(frozen=True, slots=True)
class FrontierPicks:
    """Frontier indices (ordered by cost, time, index) and the three marked picks."""

    frontier: IndexArray
    cheapest: int
    fastest: int
    balanced: int


def _min_max(values: FloatArray) -> FloatArray:
    low = float(values.min())
    span = float(values.max()) - low
    if span <= 0.0:
        return np.zeros_like(values)
    return (values - low) / span


def pick_frontier(costs: npt.ArrayLike, hours: npt.ArrayLike) -> FrontierPicks:
    """The frontier and its cheapest, fastest and balanced points (see module docstring)."""
    cost_arr, time_arr = _as_points(costs, hours)
    if cost_arr.size == 0:
        raise InvalidInputError("pareto: no points to choose from")
    frontier = pareto_frontier(cost_arr, time_arr)
    f_cost = cost_arr[frontier]
    f_time = time_arr[frontier]
    f_index = frontier.astype(np.float64)

    # The frontier is already ordered by (cost, time, index): its first point is the cheapest.
    cheapest = int(frontier[0])
    fastest_pos = np.lexsort((f_index, f_cost, f_time))[0]
    fastest = int(frontier[fastest_pos])
    score = _min_max(f_cost) + _min_max(f_time)
    balanced_pos = np.lexsort((f_index, f_time, f_cost, score))[0]
    balanced = int(frontier[balanced_pos])
    return FrontierPicks(frontier=frontier, cheapest=cheapest, fastest=fastest, balanced=balanced)
