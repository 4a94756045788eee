"""Pareto frontier of (cost, time): defining properties, ties, duplicates and the picks."""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from artenic_opt.cost_analyzer.pareto import (
    dominates,
    pareto_frontier,
    pareto_mask,
    pick_frontier,
)
from artenic_opt.errors import InvalidInputError

# Small integers make ties and exact duplicates frequent; floats cover the general case.
small_points = st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6)), min_size=1, max_size=40)
float_points = st.lists(
    st.tuples(
        st.floats(0, 1e6, allow_nan=False, allow_infinity=False),
        st.floats(0, 1e4, allow_nan=False, allow_infinity=False),
    ),
    min_size=1,
    max_size=60,
)
any_points = st.one_of(small_points, float_points)


def _split(points: list[tuple[float, float]]) -> tuple[list[float], list[float]]:
    return [float(c) for c, _ in points], [float(t) for _, t in points]


@settings(max_examples=300, deadline=None)
@given(any_points)
def test_no_frontier_point_is_dominated(points: list[tuple[float, float]]) -> None:
    costs, hours = _split(points)
    frontier = set(pareto_frontier(costs, hours).tolist())
    for i in frontier:
        for j in range(len(points)):
            assert not dominates(costs[j], hours[j], costs[i], hours[i])


@settings(max_examples=300, deadline=None)
@given(any_points)
def test_every_other_point_is_dominated_by_a_frontier_point(
    points: list[tuple[float, float]],
) -> None:
    costs, hours = _split(points)
    frontier = set(pareto_frontier(costs, hours).tolist())
    assert frontier, "a non-empty input always has a frontier"
    for j in set(range(len(points))) - frontier:
        assert any(dominates(costs[i], hours[i], costs[j], hours[j]) for i in frontier)


@settings(max_examples=200, deadline=None)
@given(any_points, st.randoms(use_true_random=False))
def test_frontier_does_not_depend_on_input_order(
    points: list[tuple[float, float]], rnd: random.Random
) -> None:
    costs, hours = _split(points)
    perm = list(range(len(points)))
    rnd.shuffle(perm)
    shuffled_costs = [costs[i] for i in perm]
    shuffled_hours = [hours[i] for i in perm]
    original = {(costs[i], hours[i]) for i in pareto_frontier(costs, hours)}
    shuffled = {
        (shuffled_costs[i], shuffled_hours[i])
        for i in pareto_frontier(shuffled_costs, shuffled_hours)
    }
    assert original == shuffled


@settings(max_examples=200, deadline=None)
@given(any_points)
def test_frontier_is_sorted_and_picks_are_on_it(points: list[tuple[float, float]]) -> None:
    costs, hours = _split(points)
    picks = pick_frontier(costs, hours)
    front = picks.frontier.tolist()
    keys = [(costs[i], hours[i], i) for i in front]
    assert keys == sorted(keys)
    assert {picks.cheapest, picks.fastest, picks.balanced} <= set(front)
    assert costs[picks.cheapest] == min(costs)
    assert hours[picks.fastest] == min(hours)
    # Along the frontier, cost rises while time falls.
    strict = [(costs[i], hours[i]) for i in front]
    for (c1, t1), (c2, t2) in itertools.pairwise(strict):
        assert c1 <= c2
        assert t1 >= t2


def test_known_frontier_with_ties_and_duplicates() -> None:
    costs = [10, 10, 5, 5, 20, 7, 7, 12]
    hours = [4, 3, 9, 9, 1, 5, 6, 3]
    # (10,4) is dominated by (10,3); (7,6) by (7,5); (12,3) by (10,3); (5,9) appears twice.
    assert pareto_frontier(costs, hours).tolist() == [2, 3, 5, 1, 4]
    assert pareto_mask(costs, hours).tolist() == [
        False,
        True,
        True,
        True,
        True,
        True,
        False,
        False,
    ]


def test_picks_known_answer() -> None:
    # Frontier: (1, 10), (2, 5), (4, 2), (10, 1). Normalised over the frontier:
    # cost (0, 1/9, 3/9, 1), time (1, 4/9, 1/9, 0): sums 1, 5/9, 4/9, 1 -> (4, 2) is balanced.
    costs = [10, 2, 1, 4, 6]
    hours = [1, 5, 10, 2, 6]
    picks = pick_frontier(costs, hours)
    assert picks.frontier.tolist() == [2, 1, 3, 0]
    assert (picks.cheapest, picks.fastest, picks.balanced) == (2, 0, 3)


def test_tie_breaks_are_deterministic() -> None:
    # Two identical cheapest points: the lower index wins every pick.
    picks = pick_frontier([3, 3], [2, 2])
    assert picks.frontier.tolist() == [0, 1]
    assert (picks.cheapest, picks.fastest, picks.balanced) == (0, 0, 0)
    # Symmetric frontier: (1, 3) and (3, 1) both score 1; the lower cost wins balanced.
    picks = pick_frontier([3, 1], [1, 3])
    assert picks.balanced == 1


def test_empty_and_bad_input() -> None:
    assert pareto_frontier([], []).size == 0
    assert pareto_mask([], []).size == 0
    with pytest.raises(InvalidInputError, match="no points"):
        pick_frontier([], [])
    with pytest.raises(InvalidInputError, match="differ in length"):
        pareto_frontier([1, 2], [1])
    with pytest.raises(InvalidInputError, match="finite"):
        pareto_frontier([1, np.nan], [1, 2])


def test_dominates_definition() -> None:
    assert dominates(1, 1, 2, 1)
    assert dominates(1, 1, 1, 2)
    assert not dominates(1, 1, 1, 1)
    assert not dominates(1, 3, 2, 1)
