"""Ranking metrics, normalisation and weighted aggregation shared by the advisor and the learner.

Decisions:

* ``ndcg_at_k`` reproduces ``sklearn.metrics.ndcg_score`` for one query with its default
  ``ignore_ties=False``: linear gains (the label itself, not ``2**label - 1``), a ``1/log2(rank+1)``
  discount cut at ``k``, and tied scores averaged over every order of the tie (McSherry & Najork,
  2008), so a scorer cannot gain by the arbitrary order of equal scores. A query whose labels are
  all zero scores 0.0, as in scikit-learn. Unlike scikit-learn, a one-item query is allowed
  (its NDCG is 1.0 when the item is relevant, else 0.0), because feedback groups of one happen.
* Groups are given as one id per row (the query id of each sample); the grouped metrics are the
  unweighted mean over groups, so a query with many candidates does not count more than one with
  few.
* ``mrr``: in each group, "relevant" means carrying the group's highest label, provided that
  label is above zero (a group where everything failed has no relevant item and scores 0.0).
  The reciprocal rank of the first relevant item is averaged over every order of tied scores,
  for the same reason as NDCG: a constant scorer gets the expected value of a random order, not
  the best or the worst.
* ``min_max_normalize`` maps the finite values onto [0, 1]. NaN stays NaN, ``+inf`` maps to 1
  and ``-inf`` to 0. When all finite values are equal there is nothing to rank, and every finite
  value maps to ``constant`` (0.5 by default: neither best nor worst).
* ``weighted_aggregate`` refuses weights that are negative, non-finite, do not sum to 1 (within
  1e-6) or do not name exactly the given columns: a typo in a weight configuration must fail,
  not silently drop a factor.

The library raises ``InvalidInputError`` (exit code 2) for bad arguments, as everywhere else.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from artenic_opt._internal.arrays import FloatArray
from artenic_opt.errors import InvalidInputError

#: Tolerance on the sum of weights.
WEIGHT_SUM_TOLERANCE = 1e-6


def _as_1d_float(values: npt.ArrayLike, name: str) -> FloatArray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise InvalidInputError(
            f"{name}: expected a one-dimensional array, got shape {array.shape}"
        )
    return array


def _check_pair(
    relevance_true: npt.ArrayLike, scores: npt.ArrayLike
) -> tuple[FloatArray, FloatArray]:
    relevance = _as_1d_float(relevance_true, "relevance_true")
    score = _as_1d_float(scores, "scores")
    if relevance.shape != score.shape:
        raise InvalidInputError(
            f"scores: {score.shape[0]} scores for {relevance.shape[0]} relevance labels"
        )
    if not np.all(np.isfinite(relevance)):
        raise InvalidInputError("relevance_true: labels must be finite numbers")
    if np.any(relevance < 0):
        raise InvalidInputError("relevance_true: labels must not be negative")
    if not np.all(np.isfinite(score)):
        raise InvalidInputError("scores: must be finite numbers (no NaN or infinity)")
    return relevance, score


def _check_k(k: int | None) -> None:
    if k is not None and k < 1:
        raise InvalidInputError(f"k: must be at least 1, got {k}")


def _discount_cumsum(n: int, k: int | None) -> FloatArray:
    discount = 1.0 / np.log2(np.arange(n, dtype=np.float64) + 2.0)
    if k is not None:
        discount[k:] = 0.0
    return np.cumsum(discount)


def _tie_averaged_dcg(
    relevance: FloatArray, scores: FloatArray, discount_cumsum: FloatArray
) -> float:
    # Groups of equal scores, best first; each group's gain is its mean label times the sum of
    # the discounts of the ranks it occupies.
    _, inverse, counts = np.unique(-scores, return_inverse=True, return_counts=True)
    gains = np.zeros(counts.shape[0], dtype=np.float64)
    np.add.at(gains, inverse, relevance)
    gains /= counts
    last_rank = np.cumsum(counts) - 1
    discount_sums = np.diff(discount_cumsum[last_rank], prepend=0.0)
    return float(np.dot(gains, discount_sums))


def ndcg_at_k(relevance_true: npt.ArrayLike, scores: npt.ArrayLike, k: int | None = None) -> float:
    """NDCG@k of one query, equal to ``sklearn.metrics.ndcg_score([relevance], [scores], k=k)``."""
    relevance, score = _check_pair(relevance_true, scores)
    _check_k(k)
    n = relevance.shape[0]
    if n == 0:
        raise InvalidInputError("relevance_true: a query needs at least one item")
    discount_cumsum = _discount_cumsum(n, k)
    ideal_order = np.sort(relevance)[::-1]
    discounts = np.diff(discount_cumsum, prepend=0.0)
    ideal = float(np.dot(ideal_order, discounts))
    if ideal == 0.0:
        return 0.0
    return _tie_averaged_dcg(relevance, score, discount_cumsum) / ideal


def _group_slices(group_ids: npt.ArrayLike, n: int) -> list[npt.NDArray[np.intp]]:
    groups = np.asarray(group_ids)
    if groups.ndim != 1 or groups.shape[0] != n:
        raise InvalidInputError(
            f"group_ids: expected one group id per row ({n}), got {groups.shape}"
        )
    if n == 0:
        raise InvalidInputError("group_ids: no rows to evaluate")
    _, inverse = np.unique(groups, return_inverse=True)
    order = np.argsort(inverse, kind="stable")
    boundaries = np.flatnonzero(np.diff(inverse[order])) + 1
    return list(np.split(order, boundaries))


def mean_ndcg_at_k(
    relevance_true: npt.ArrayLike,
    scores: npt.ArrayLike,
    group_ids: npt.ArrayLike,
    k: int | None = None,
) -> float:
    """Mean NDCG@k over query groups (one group id per row, e.g. the query id)."""
    relevance, score = _check_pair(relevance_true, scores)
    _check_k(k)
    slices = _group_slices(group_ids, relevance.shape[0])
    return float(np.mean([ndcg_at_k(relevance[idx], score[idx], k) for idx in slices]))


def _expected_reciprocal_rank(ahead: int, tied: int, relevant_tied: int) -> float:
    """E[1/rank] of the first relevant item when ``tied`` items (``relevant_tied`` of them
    relevant) share one score and ``ahead`` items score strictly higher, over all orders."""
    expected = 0.0
    not_yet = 1.0
    for position in range(1, tied - relevant_tied + 2):
        remaining = tied - position + 1
        p_here = not_yet * relevant_tied / remaining
        expected += p_here / (ahead + position)
        not_yet -= p_here
    return expected


def reciprocal_rank(relevance_true: npt.ArrayLike, scores: npt.ArrayLike) -> float:
    """Reciprocal rank of the first item carrying the query's highest (non-zero) label."""
    relevance, score = _check_pair(relevance_true, scores)
    if relevance.shape[0] == 0:
        raise InvalidInputError("relevance_true: a query needs at least one item")
    best_label = float(relevance.max())
    if best_label <= 0.0:
        return 0.0
    relevant = relevance == best_label
    best_relevant_score = float(score[relevant].max())
    ahead = int(np.count_nonzero(score > best_relevant_score))
    at_score = score == best_relevant_score
    tied = int(np.count_nonzero(at_score))
    relevant_tied = int(np.count_nonzero(at_score & relevant))
    return _expected_reciprocal_rank(ahead, tied, relevant_tied)


def mrr(relevance_true: npt.ArrayLike, scores: npt.ArrayLike, group_ids: npt.ArrayLike) -> float:
    """Mean reciprocal rank over query groups; see the module docstring for "relevant"."""
    relevance, score = _check_pair(relevance_true, scores)
    slices = _group_slices(group_ids, relevance.shape[0])
    return float(np.mean([reciprocal_rank(relevance[idx], score[idx]) for idx in slices]))


def min_max_normalize(values: npt.ArrayLike, *, constant: float = 0.5) -> FloatArray:
    """Map finite values linearly onto [0, 1]; NaN stays NaN, +inf -> 1, -inf -> 0.

    When every finite value is equal (or there is a single one), they all map to ``constant``.
    """
    array = _as_1d_float(values, "values")
    out = np.full(array.shape, np.nan, dtype=np.float64)
    finite = np.isfinite(array)
    out[array == np.inf] = 1.0
    out[array == -np.inf] = 0.0
    if not finite.any():
        return out
    finite_values = array[finite]
    low = float(finite_values.min())
    high = float(finite_values.max())
    if high == low:
        out[finite] = constant
        return out
    if not math.isfinite(high - low):
        # Finite endpoints whose difference overflows: halve everything first (exact in binary).
        finite_values, low, high = finite_values / 2.0, low / 2.0, high / 2.0
    out[finite] = np.clip((finite_values - low) / (high - low), 0.0, 1.0)
    return out


def validate_weights(weights: Mapping[str, Any]) -> dict[str, float]:
    """Check that weights are finite, non-negative and sum to 1; return them as floats."""
    if not weights:
        raise InvalidInputError("weights: at least one weight is needed")
    checked: dict[str, float] = {}
    for name, raw in weights.items():
        try:
            value = float(raw)
        except (TypeError, ValueError):
            raise InvalidInputError(f"weights.{name}: {raw!r} is not a number") from None
        if not math.isfinite(value):
            raise InvalidInputError(f"weights.{name}: must be a finite number")
        if value < 0:
            raise InvalidInputError(f"weights.{name}: must not be negative, got {value:g}")
        checked[str(name)] = value
    total = math.fsum(checked.values())
    if abs(total - 1.0) > WEIGHT_SUM_TOLERANCE:
        listing = ", ".join(f"{name}={value:g}" for name, value in checked.items())
        raise InvalidInputError(f"weights: must sum to 1, got {total:g} ({listing})")
    return checked


def weighted_aggregate(
    columns: Mapping[str, npt.ArrayLike], weights: Mapping[str, Any]
) -> FloatArray:
    """Row-wise ``sum(weight[name] * columns[name])`` after validating the weights.

    The weights must name exactly the given columns and every column must have the same length.
    """
    checked = validate_weights(weights)
    missing = sorted(set(checked) - set(columns))
    if missing:
        raise InvalidInputError(f"weights: no column named {', '.join(missing)}")
    unweighted = sorted(set(columns) - set(checked))
    if unweighted:
        raise InvalidInputError(f"weights: no weight given for {', '.join(unweighted)}")
    names = sorted(checked)
    arrays = [_as_1d_float(columns[name], f"columns.{name}") for name in names]
    length = arrays[0].shape[0]
    total = np.zeros(length, dtype=np.float64)
    for name, column in zip(names, arrays, strict=True):
        if column.shape[0] != length:
            raise InvalidInputError(
                f"columns.{name}: has {column.shape[0]} rows, expected {length}"
            )
        total += checked[name] * column
    return total
