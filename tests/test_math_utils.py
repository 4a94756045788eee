"""Ranking metrics, normalisation and weighted aggregation (artenic_opt._internal.math_utils)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import assume, given, settings, strategies as st
from sklearn.metrics import ndcg_score

from artenic_opt._internal.math_utils import (
    mean_ndcg_at_k,
    min_max_normalize,
    mrr,
    ndcg_at_k,
    reciprocal_rank,
    validate_weights,
    weighted_aggregate,
)
from artenic_opt.errors import InvalidInputError

labels = st.integers(min_value=0, max_value=4)
# Few distinct score values, so that ties are common.
tied_scores = st.sampled_from([0.0, 0.25, 0.5, 1.0, 2.0])
free_scores = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)


@st.composite
def query(draw: st.DrawFn, min_size: int = 2, ties: bool = True) -> tuple[list[int], list[float]]:
    size = draw(st.integers(min_value=min_size, max_value=12))
    relevance = draw(st.lists(labels, min_size=size, max_size=size))
    scores = draw(st.lists(tied_scores if ties else free_scores, min_size=size, max_size=size))
    return relevance, scores


# -- NDCG --------------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(data=query(), k=st.one_of(st.none(), st.integers(min_value=1, max_value=14)))
def test_ndcg_matches_sklearn_with_ties(data: tuple[list[int], list[float]], k: int | None) -> None:
    relevance, scores = data
    expected = ndcg_score([relevance], [scores], k=k)
    assert ndcg_at_k(relevance, scores, k) == pytest.approx(expected, abs=1e-12)


@settings(max_examples=200, deadline=None)
@given(data=query(ties=False), k=st.integers(min_value=1, max_value=5))
def test_ndcg_matches_sklearn_continuous_scores(
    data: tuple[list[int], list[float]], k: int
) -> None:
    relevance, scores = data
    expected = ndcg_score([relevance], [scores], k=k)
    assert ndcg_at_k(relevance, scores, k) == pytest.approx(expected, abs=1e-12)


def test_ndcg_perfect_and_reversed_order() -> None:
    relevance = [3, 2, 1, 0]
    assert ndcg_at_k(relevance, [4, 3, 2, 1]) == pytest.approx(1.0)
    reversed_value = ndcg_at_k(relevance, [1, 2, 3, 4])
    assert reversed_value < 1.0
    assert reversed_value == pytest.approx(ndcg_score([relevance], [[1, 2, 3, 4]]))


def test_ndcg_tie_is_averaged_not_ordered() -> None:
    # Two items tied: the relevant one is neither first nor second but "half of each".
    value = ndcg_at_k([1, 0], [0.5, 0.5])
    half = (1.0 + 1.0 / math.log2(3)) / 2
    assert value == pytest.approx(half)


def test_ndcg_all_zero_labels_is_zero_and_single_item() -> None:
    assert ndcg_at_k([0, 0, 0], [1, 2, 3]) == 0.0
    assert ndcg_at_k([2], [0.1]) == 1.0
    assert ndcg_at_k([0], [0.1]) == 0.0


@pytest.mark.parametrize(
    ("relevance", "scores", "k", "message"),
    [
        ([1, 2], [1.0], None, "scores"),
        ([-1, 2], [1.0, 2.0], None, "negative"),
        ([1, 2], [1.0, float("nan")], None, "finite"),
        ([1, 2], [1.0, 2.0], 0, "k"),
        ([], [], None, "at least one"),
        ([[1, 2]], [[1.0, 2.0]], None, "one-dimensional"),
    ],
)
def test_ndcg_rejects_bad_input(
    relevance: list[int], scores: list[float], k: int | None, message: str
) -> None:
    with pytest.raises(InvalidInputError, match=message):
        ndcg_at_k(relevance, scores, k)


def test_ndcg_rejects_non_finite_labels() -> None:
    with pytest.raises(InvalidInputError, match="finite"):
        ndcg_at_k([1.0, float("inf")], [1.0, 2.0])


@settings(max_examples=100, deadline=None)
@given(groups=st.lists(query(), min_size=1, max_size=5), k=st.integers(min_value=1, max_value=6))
def test_mean_ndcg_is_the_mean_over_groups(
    groups: list[tuple[list[int], list[float]]], k: int
) -> None:
    relevance = [label for rel, _ in groups for label in rel]
    scores = [score for _, sc in groups for score in sc]
    ids = [f"q{g}" for g, (rel, _) in enumerate(groups) for _ in rel]
    expected = np.mean([ndcg_score([rel], [sc], k=k) for rel, sc in groups])
    assert mean_ndcg_at_k(relevance, scores, ids, k=k) == pytest.approx(expected, abs=1e-12)


def test_mean_ndcg_group_order_does_not_matter() -> None:
    relevance = [3, 0, 1, 2, 0]
    scores = [0.1, 0.9, 0.5, 0.4, 0.3]
    ids = ["b", "a", "b", "a", "b"]
    perm = [4, 2, 0, 3, 1]
    first = mean_ndcg_at_k(relevance, scores, ids, k=3)
    second = mean_ndcg_at_k(
        [relevance[i] for i in perm], [scores[i] for i in perm], [ids[i] for i in perm], k=3
    )
    assert first == pytest.approx(second)


def test_grouped_metrics_reject_misaligned_groups() -> None:
    with pytest.raises(InvalidInputError, match="group_ids"):
        mean_ndcg_at_k([1, 2], [0.1, 0.2], ["a"])
    with pytest.raises(InvalidInputError, match="group_ids"):
        mrr([], [], [])


# -- MRR ---------------------------------------------------------------------------------------


def _brute_force_rr(relevance: list[int], scores: list[float]) -> float:
    """Mean over every order of tied scores of 1/rank of the first top-label item."""
    best = max(relevance)
    if best <= 0:
        return 0.0
    distinct = sorted(set(scores), reverse=True)
    blocks = [[i for i, s in enumerate(scores) if s == value] for value in distinct]
    values = []
    for orders in itertools.product(*(itertools.permutations(b) for b in blocks)):
        ranking = [i for block in orders for i in block]
        first = next(pos for pos, i in enumerate(ranking, 1) if relevance[i] == best)
        values.append(1.0 / first)
    return float(np.mean(values))


@settings(max_examples=150, deadline=None)
@given(
    relevance=st.lists(labels, min_size=1, max_size=6),
    data=st.data(),
)
def test_reciprocal_rank_is_the_average_over_tie_orders(
    relevance: list[int], data: st.DataObject
) -> None:
    scores = data.draw(
        st.lists(st.sampled_from([0.0, 1.0, 2.0]), min_size=len(relevance), max_size=len(relevance))
    )
    assert reciprocal_rank(relevance, scores) == pytest.approx(_brute_force_rr(relevance, scores))


def test_mrr_definition_examples() -> None:
    # Group a: the label-4 item is ranked second -> 1/2. Group b: first -> 1. Group c: all
    # failed -> 0. Mean = 0.5.
    relevance = [2, 4, 0, 3, 1, 0, 0]
    scores = [0.9, 0.8, 0.1, 0.7, 0.2, 0.5, 0.4]
    ids = ["a", "a", "a", "b", "b", "c", "c"]
    assert mrr(relevance, scores, ids) == pytest.approx((0.5 + 1.0 + 0.0) / 3)


def test_mrr_constant_scorer_gets_expected_random_rank() -> None:
    # Four tied items, one relevant: E[1/rank] = (1 + 1/2 + 1/3 + 1/4) / 4.
    assert reciprocal_rank([0, 1, 0, 0], [1.0] * 4) == pytest.approx(
        (1 + 1 / 2 + 1 / 3 + 1 / 4) / 4
    )


# -- min-max -----------------------------------------------------------------------------------


@given(st.lists(free_scores, min_size=1, max_size=30))
def test_min_max_bounds_and_order(values: list[float]) -> None:
    out = min_max_normalize(values)
    assert np.all((out >= 0.0) & (out <= 1.0))
    array = np.asarray(values)
    if array.max() > array.min():
        assert out[int(np.argmin(array))] == 0.0
        assert out[int(np.argmax(array))] == 1.0
        order = np.argsort(array, kind="stable")
        assert np.all(np.diff(out[order]) >= 0)


@given(st.floats(allow_nan=False, allow_infinity=False), st.integers(min_value=1, max_value=9))
def test_min_max_constant_input(value: float, size: int) -> None:
    assert np.all(min_max_normalize([value] * size) == 0.5)
    assert np.all(min_max_normalize([value] * size, constant=0.0) == 0.0)


def test_min_max_nan_and_infinities() -> None:
    out = min_max_normalize([1.0, float("nan"), 3.0, float("inf"), -float("inf")])
    assert out[0] == 0.0 and out[2] == 1.0
    assert math.isnan(out[1])
    assert out[3] == 1.0 and out[4] == 0.0
    assert np.all(np.isnan(min_max_normalize([float("nan")] * 3)))
    assert min_max_normalize([]).shape == (0,)


def test_min_max_huge_range_does_not_overflow() -> None:
    out = min_max_normalize([-1.7e308, 0.0, 1.7e308])
    assert out.tolist() == pytest.approx([0.0, 0.5, 1.0])


# -- weights -----------------------------------------------------------------------------------


def test_weighted_aggregate_computes_rowwise_sum() -> None:
    columns = {"a": [1.0, 0.0], "b": [0.0, 1.0]}
    out = weighted_aggregate(columns, {"a": 0.25, "b": 0.75})
    assert out.tolist() == pytest.approx([0.25, 0.75])


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ({"a": 0.5, "b": 0.6}, "sum to 1"),
        ({"a": -0.5, "b": 1.5}, "negative"),
        ({"a": float("nan"), "b": 1.0}, "finite"),
        ({"a": "x", "b": 1.0}, "not a number"),
        ({}, "at least one"),
        ({"a": 1.0}, "no weight given for b"),
        ({"a": 0.5, "b": 0.25, "c": 0.25}, "no column named c"),
    ],
)
def test_weighted_aggregate_rejects_bad_weights(weights: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        weighted_aggregate({"a": [1.0], "b": [2.0]}, weights)


def test_weighted_aggregate_rejects_ragged_columns() -> None:
    with pytest.raises(InvalidInputError, match="rows"):
        weighted_aggregate({"a": [1.0, 2.0], "b": [1.0]}, {"a": 0.5, "b": 0.5})


@given(st.lists(st.floats(min_value=0, max_value=10, allow_nan=False), min_size=1, max_size=6))
def test_validate_weights_accepts_any_normalised_vector(raw: list[float]) -> None:
    total = sum(raw)
    assume(total > 0)
    weights = {f"w{i}": value / total for i, value in enumerate(raw)}
    assert validate_weights(weights) == pytest.approx(weights)
