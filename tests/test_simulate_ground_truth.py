"""Ground truth: the cheapest eligible candidate, regret of a pick, true relevance grades."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pytest

from artenic_opt._internal.money import ExchangeRates
from artenic_opt.errors import CurrencyError, InvalidInputError
from artenic_opt.schemas import Offering, WorkloadProfile
from artenic_opt.simulate import INELIGIBLE_REGRET, RunSpec, World, true_cost_table
from tests.test_simulate_world import FULL_70B, LORA_7B, offering

A100 = offering(gpu_type="A100 80GB", price=4.0, spot=1.5, instance_type="a100")
H100 = offering(gpu_type="H100 SXM", price=7.0, spot=3.0, instance_type="h100")
L4 = offering(gpu_type="L4", gpu_memory_gb=24, price=0.8, spot=0.3, instance_type="l4")
EUR_A100 = offering(provider="OVHcloud", currency="EUR", price=3.0, spot=None, instance_type="x")


@dataclass(frozen=True)
class Pick:
    """Any object with offering, nodes and spot works as a candidate (e.g. a recommendation)."""

    offering: Offering
    nodes: int = 1
    spot: bool = False


def test_best_is_the_cheapest_eligible_candidate_and_has_zero_regret() -> None:
    world = World(0)
    table = true_cost_table(world, LORA_7B, [RunSpec(A100), RunSpec(H100), RunSpec(L4)])
    best = table.best_index
    assert best is not None
    eligible_costs = [c for c, ok in zip(table.cost, table.eligible, strict=True) if ok]
    assert table.cost[best] == min(eligible_costs)
    assert table.regret(best) == 0.0
    for i in range(3):
        regret = table.regret(i)
        assert regret is not None and regret >= 0
        assert regret == pytest.approx(table.cost[i] / table.cost[best] - 1.0)
    assert table.relevance()[best] == 4


def test_an_impossible_pick_counts_as_a_bad_one() -> None:
    world = World(0)
    table = true_cost_table(world, FULL_70B, [Pick(L4), Pick(H100, nodes=1)])
    # Neither fits: nothing to compare with.
    assert table.best_index is None
    assert table.regret(0) is None
    assert list(table.relevance()) == [0, 0]
    sharded = FULL_70B.model_copy(
        update={
            "distributed": True,
            "num_workers": 8,
            "max_nodes": 4,
            "gradient_checkpointing": True,
        }
    )
    node = offering(gpu_type="H100 SXM", gpu_count=8, price=30.0, spot=None)
    table = true_cost_table(world, sharded, [Pick(L4), Pick(node, nodes=4)])
    assert table.best_index == 1
    assert not table.eligible[0]
    assert math.isinf(table.cost[0])
    assert table.regret(0) == INELIGIBLE_REGRET
    assert list(table.relevance()) == [0, 4]


def test_a_tight_deadline_moves_the_best_to_a_faster_candidate() -> None:
    world = World(0)
    l4_cheap = offering(gpu_type="L4", gpu_memory_gb=24, price=0.2, spot=None, instance_type="l4c")
    slow_cheap = [Pick(l4_cheap), Pick(A100), Pick(H100)]
    loose = true_cost_table(world, LORA_7B, slow_cheap)
    hours = loose.hours
    cheapest = loose.best_index
    assert cheapest is not None
    faster = [i for i in range(3) if hours[i] < hours[cheapest]]
    assert faster, "the cheapest candidate should not also be the fastest here"
    deadline = float(max(hours[i] for i in faster)) * 1.01
    tight = true_cost_table(
        world, LORA_7B.model_copy(update={"deadline_hours": deadline}), slow_cheap
    )
    assert not tight.meets_deadline[cheapest]
    assert tight.best_index in faster
    assert (tight.regret(cheapest) or 0) >= INELIGIBLE_REGRET


def test_constraints_of_the_workload_are_respected() -> None:
    world = World(0)
    no_spot = LORA_7B.model_copy(update={"spot_allowed": False})
    table = true_cost_table(world, no_spot, [Pick(A100, spot=True), Pick(A100)])
    assert list(table.allowed) == [False, True]
    assert table.best_index == 1
    only_gcp = LORA_7B.model_copy(update={"allowed_providers": ("GCP",)})
    assert not true_cost_table(world, only_gcp, [Pick(A100)]).allowed[0]
    only_region = LORA_7B.model_copy(update={"allowed_regions": ("eu-west-1",)})
    assert not true_cost_table(world, only_region, [Pick(A100)]).allowed[0]


def test_spot_without_checkpoints_is_not_cheap_in_truth() -> None:
    world = World(0)
    fragile = LORA_7B.model_copy(update={"checkpointing": False, "num_epochs": 30})
    runpod = offering(provider="RunPod", price=2.0, spot=0.9)
    table = true_cost_table(world, fragile, [Pick(runpod), Pick(runpod, spot=True)])
    expected_spot = table.expected[1]
    # The expected cost to success exceeds the naive "hours x spot price".
    assert table.cost[1] > expected_spot.hours * expected_spot.price_per_hour * 1.05


def test_budget_is_reported() -> None:
    world = World(0)
    table = true_cost_table(world, LORA_7B, [Pick(A100), Pick(H100)])
    budget = float(np.mean(table.cost))
    capped = true_cost_table(
        world, LORA_7B.model_copy(update={"budget": budget}), [Pick(A100), Pick(H100)]
    )
    assert list(capped.within_budget) == [bool(c <= budget) for c in table.cost]
    assert capped.within_budget.any() and not capped.within_budget.all()


def test_costs_are_converted_with_an_explicit_rate() -> None:
    world = World(0)
    rates = ExchangeRates({"EUR": 0.5}, source="test")
    table = true_cost_table(world, LORA_7B, [Pick(EUR_A100)], currency="USD", rates=rates)
    native = world.expected(LORA_7B, EUR_A100).expected_cost
    assert table.cost[0] == pytest.approx(native * 2.0)
    gbp = offering(currency="GBP", instance_type="gbp")
    with pytest.raises(CurrencyError, match="GBP"):
        true_cost_table(world, LORA_7B, [Pick(gbp)])


def test_relevance_grades_follow_the_cost_ratio() -> None:
    world = World(0)
    candidates = [Pick(A100), Pick(H100), Pick(L4), Pick(A100, spot=True)]
    table = true_cost_table(world, LORA_7B, candidates)
    best = table.best_cost
    assert best is not None
    for grade, cost, ok in zip(table.relevance(), table.cost, table.eligible, strict=True):
        ratio = cost / best
        if not ok:
            assert grade == 0
        elif ratio <= 1.05:
            assert grade == 4
        elif ratio <= 1.25:
            assert grade == 3
        elif ratio <= 1.5:
            assert grade == 2
        else:
            assert grade == 1


def test_regret_index_out_of_range() -> None:
    table = true_cost_table(World(0), LORA_7B, [Pick(A100)])
    with pytest.raises(InvalidInputError, match="index"):
        table.regret(3)


def test_empty_candidate_list() -> None:
    table = true_cost_table(World(0), LORA_7B, [])
    assert table.best_index is None
    assert table.relevance().shape == (0,)


def test_works_with_workloads_from_the_generator_on_the_catalog() -> None:
    from artenic_opt.catalog import load_catalog
    from artenic_opt.simulate import generate_workloads

    offerings = load_catalog().offerings
    world = World(1)
    for workload in generate_workloads(1, 5):
        candidates = [RunSpec(o) for o in offerings]
        table = true_cost_table(world, workload, candidates)
        assert table.best_index is not None, workload.name
        assert table.relevance().max() == 4


def test_unused_workload_profile_fields_do_not_matter() -> None:
    renamed = WorkloadProfile(**{**LORA_7B.model_dump(), "name": "other"})
    world = World(0)
    a = true_cost_table(world, LORA_7B, [Pick(A100)])
    b = true_cost_table(world, renamed, [Pick(A100)])
    assert a.cost[0] == b.cost[0]


def test_an_ineligible_pick_pays_one_attempt_and_regret_stays_finite() -> None:
    world = World(0)
    # A long job without checkpoints on flaky spot capacity almost never finishes: rerunning it
    # until it does would cost without bound, but the regret counts one paid attempt.
    hopeless = LORA_7B.model_copy(update={"checkpointing": False, "num_epochs": 200})
    vast = offering(provider="Vast.ai", price=1.0, spot=0.5, instance_type="vast")
    table = true_cost_table(world, hopeless, [Pick(vast, spot=True), Pick(H100)])
    assert table.best_index == 1
    expected = table.expected[0]
    assert expected.success_probability < 0.01
    assert expected.attempt_cost < expected.expected_cost
    regret = table.regret(0)
    assert regret is not None and math.isfinite(regret)
    assert regret == max(INELIGIBLE_REGRET, table.attempt_cost[0] / table.cost[1])
    # An expensive disallowed pick: its attempt alone costs more than twice the best job.
    pricey = offering(gpu_type="H100 SXM", price=70.0, spot=None, instance_type="pricey")
    gcp_only = LORA_7B.model_copy(update={"allowed_providers": ("GCP",)})
    gcp = offering(provider="GCP", price=4.0, spot=None, instance_type="gcp")
    table = true_cost_table(world, gcp_only, [Pick(pricey), Pick(gcp)])
    assert table.regret(0) == pytest.approx(table.attempt_cost[0] / table.cost[1])
    assert (table.regret(0) or 0) > 2
