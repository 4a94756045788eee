"""Training plans (estimate.plans), the ranking rule (estimate.pipeline) and alternatives."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from artenic_opt.catalog import CatalogArrays, load_catalog
from artenic_opt.errors import InfeasibleError, InvalidInputError
from artenic_opt.estimate.pipeline import (
    _lift_dense,
    _lift_sweep,
    dominated_pairs,
    enforce_dominance,
    feasible_candidates,
)
from artenic_opt.estimate.plans import describe_plan_pins, has_plan_pins, search_plans
from artenic_opt.schemas import Offering, TrainingPlan, WorkloadProfile
from artenic_opt.training_advisor import TrainingAdvisor
from artenic_opt.training_advisor.alternatives import parameter_efficient_alternatives
from artenic_opt.training_advisor.heuristic_ranker import rank_offerings, weights_for_goal
from artenic_opt.types import CheckpointMode, OptimizationGoal, ShardingMode

CATALOG = load_catalog()


def llm(**fields: Any) -> WorkloadProfile:
    base: dict[str, Any] = {
        "framework": "transformers",
        "model_params_m": 7000,
        "dataset_size_gb": 1,
        "tokens": 1e8,
        "batch_size": 16,
    }
    base.update(fields)
    return WorkloadProfile(**base)


def one_shape(w: WorkloadProfile, gpus: int, gb: float, nodes: int = 1, host: float = 1000.0):  # type: ignore[no-untyped-def]
    return search_plans(
        w, gpu_count=[gpus], nodes=[nodes], gpu_memory_gb=[gb], memory_gb=[host], base_hours=[10.0]
    )


# -- must show (issue 12) ------------------------------------------------------------------------


def test_13b_full_fine_tune_is_feasible_on_8x80gb_sharded() -> None:
    w = llm(model_params_m=13000, batch_size=64)
    choice = one_shape(w, 8, 80.0)
    assert bool(choice.found[0])
    plan = choice.plan(0, w, 70.0)
    assert plan.sharding is not ShardingMode.DDP  # 13B x 16 B = 208 GB: needs sharding
    assert not plan.offload
    assert plan.micro_batch_size * plan.accumulation_steps * plan.data_parallel == 64
    # And through the whole pipeline, on real catalog offerings of 8 x 80 GB.
    ranking = rank_offerings(w, CATALOG.arrays)
    rows = ranking.feasible_index
    eight_80 = rows[
        (ranking.candidates.gpu_count[rows] == 8) & (ranking.candidates.gpu_memory_gb[rows] == 80)
    ]
    assert eight_80.size > 0


@pytest.mark.parametrize("gb", [24.0, 40.0, 48.0])
def test_7b_lora_batch_16_fits_one_card_by_accumulation_or_checkpointing(gb: float) -> None:
    w = llm(fine_tuning="lora")
    choice = one_shape(w, 1, gb)
    assert bool(choice.found[0])
    plan = choice.plan(0, w, 1.0)
    assert not plan.offload
    assert plan.micro_batch_size * plan.accumulation_steps == 16
    assert plan.accumulation_steps > 1 or plan.gradient_checkpointing is not CheckpointMode.OFF


# -- search behaviour -------------------------------------------------------------------------


def test_simplest_plan_when_everything_fits() -> None:
    w = llm(model_params_m=125)
    plan = one_shape(w, 1, 80.0).plan(0, w, 1.0)
    assert plan == TrainingPlan(
        micro_batch_size=16,
        accumulation_steps=1,
        gradient_checkpointing=CheckpointMode.OFF,
        sharding=ShardingMode.DDP,
        tensor_parallel=1,
        data_parallel=1,
        offload=False,
        optimizer=w.optimizer,
        memory_per_gpu_gb=1.0,
    )
    assert plan.summary == "mb16x1 ddp"


def test_offload_comes_last_and_tensor_parallel_only_when_needed() -> None:
    w = llm(model_params_m=7000, batch_size=8)
    one_gpu = one_shape(w, 1, 24.0).plan(0, w, 1.0)
    assert one_gpu.offload  # 7B x 16 B cannot sit on 24 GB otherwise
    assert one_gpu.tensor_parallel == 1
    no_host = one_shape(w, 1, 24.0, host=float("nan"))
    assert not bool(no_host.found[0])  # an offload needs a host whose RAM is known
    roomy = one_shape(w, 8, 80.0).plan(0, w, 1.0)
    assert not roomy.offload and roomy.tensor_parallel == 1


def test_pins_are_kept_and_an_unfittable_pin_finds_nothing() -> None:
    w = llm(model_params_m=1000, micro_batch_size=2, sharding="zero2", gradient_checkpointing="off")
    plan = one_shape(w, 4, 80.0).plan(0, w, 1.0)
    assert (plan.micro_batch_size, plan.sharding, plan.gradient_checkpointing) == (
        2,
        ShardingMode.ZERO2,
        CheckpointMode.OFF,
    )
    assert plan.accumulation_steps == 2  # 16 = 2 x 2 x 4 replicas
    assert has_plan_pins(w) and "sharding=zero2" in describe_plan_pins(w)
    assert describe_plan_pins(llm()) == "none"
    tight = llm(model_params_m=13000, sharding="ddp", offload=False, tensor_parallel=1)
    assert not bool(one_shape(tight, 8, 80.0).found[0])
    pinned_tp = llm(model_params_m=1000, tensor_parallel=2, offload=True, sharding="zero3")
    plan = one_shape(pinned_tp, 8, 80.0).plan(0, pinned_tp, 1.0)
    assert plan.tensor_parallel == 2 and plan.offload and plan.sharding is ShardingMode.ZERO3


def test_idle_replicas_cost_time_and_recompute_is_counted_once() -> None:
    w = llm(model_params_m=125, batch_size=2)
    choice = one_shape(w, 8, 80.0)
    plan = choice.plan(0, w, 1.0)
    assert plan.data_parallel <= 2
    assert float(choice.time_factor[0]) > 1.0
    full = llm(model_params_m=125, gradient_checkpointing="full")
    assert float(one_shape(full, 1, 80.0).time_factor[0]) == pytest.approx(8 / 6)


def test_legacy_checkpointing_booleans_and_bad_tensor_parallel() -> None:
    assert llm(gradient_checkpointing=True).gradient_checkpointing is CheckpointMode.FULL
    assert llm(gradient_checkpointing=False).gradient_checkpointing is None
    with pytest.raises(ValueError, match="power of two"):
        llm(tensor_parallel=3)
    assert llm().query_id == llm(gradient_checkpointing=False).query_id
    assert llm(sharding="fsdp").query_id != llm().query_id


def test_tabular_workloads_have_a_trivial_plan() -> None:
    w = WorkloadProfile(framework="xgboost", model_params_m=1, dataset_size_gb=5)
    choice = search_plans(w, gpu_count=[0], nodes=[1], gpu_memory_gb=[0.0], memory_gb=[64.0])
    assert bool(choice.found[0]) and int(choice.columns.micro_batch[0]) == 1


# -- the ranking rule -------------------------------------------------------------------------


def test_enforce_dominance_moves_only_what_it_must() -> None:
    cost = np.array([10.0, 5.0, 20.0, 1.0])
    hours = np.array([5.0, 5.0, 1.0, 100.0])
    order = enforce_dominance([0, 1, 2, 3], cost, hours)
    # Row 1 (cheaper, as fast) must come before row 0; rows 2 and 3 dominate nothing.
    assert order.tolist() == [1, 0, 2, 3]
    assert dominated_pairs(order, cost, hours) == 0
    assert dominated_pairs([0, 1, 2, 3], cost, hours) == 1
    untouched = enforce_dominance([2, 1, 3], cost, hours)
    assert untouched.tolist() == [2, 1, 3]
    assert enforce_dominance([3], cost, hours).tolist() == [3]


@settings(max_examples=80, deadline=None)
@given(
    values=st.lists(
        st.tuples(
            st.sampled_from([1.0, 2.0, 3.0, 5.0, 8.0, float("nan")]),
            st.sampled_from([1.0, 2.0, 4.0, 8.0]),
        ),
        min_size=1,
        max_size=40,
    ),
    seed=st.integers(0, 1000),
)
def test_dense_and_sweep_lifts_agree_and_the_rule_holds(
    values: list[tuple[float, float]], seed: int
) -> None:
    cost = np.array([c for c, _ in values])
    hours = np.array([h for _, h in values])
    position = np.random.default_rng(seed).permutation(len(values)).astype(np.float64)
    np.testing.assert_array_equal(
        _lift_dense(position, cost, hours), _lift_sweep(position, cost, hours)
    )
    order = enforce_dominance(np.argsort(position), cost, hours)
    assert sorted(order.tolist()) == list(range(len(values)))
    assert dominated_pairs(order, cost, hours) == 0


def _offering(i: int, gpus: int, gpu: str, price: float, spot: float | None) -> Offering:
    return Offering(
        provider=f"p{i % 3}",
        region=f"r{i % 2}",
        instance_type=f"i{i}",
        vcpus=8 * gpus,
        memory_gb=256.0 * gpus,
        gpu_type=gpu,
        gpu_count=gpus,
        price_per_hour=price,
        spot_price_per_hour=spot,
        source="test",
        price_date=date(2026, 1, 1),
    )


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from([1, 2, 4, 8]),
            st.sampled_from(["A100 80GB", "H100 SXM", "L4", "A10G", "V100 32GB"]),
            st.floats(min_value=0.2, max_value=40.0),
            st.one_of(st.none(), st.floats(min_value=0.1, max_value=20.0)),
        ),
        min_size=2,
        max_size=12,
    ),
    params=st.sampled_from([125.0, 1300.0, 7000.0, 13000.0]),
    method=st.sampled_from(["full", "lora"]),
    batch=st.sampled_from([1, 4, 16, 64]),
    goal=st.sampled_from(list(OptimizationGoal)),
)
def test_no_dominated_candidate_above_its_dominator_in_any_goal(
    rows: list[tuple[int, str, float, float | None]],
    params: float,
    method: str,
    batch: int,
    goal: OptimizationGoal,
) -> None:
    offerings = [
        _offering(i, gpus, gpu, price, None if spot is None else min(spot, price))
        for i, (gpus, gpu, price, spot) in enumerate(rows)
    ]
    catalog = CatalogArrays.from_offerings(offerings, CATALOG.gpu_specs)
    w = llm(model_params_m=params, fine_tuning=method, batch_size=batch)
    try:
        ranking = rank_offerings(w, catalog, goal=goal)
    except InfeasibleError:
        return
    estimates = ranking.feasible_estimates
    assert dominated_pairs(ranking.order, estimates.total_cost, estimates.hours) == 0
    advice = TrainingAdvisor(catalog).recommend(w, goal=goal, top=50).advice
    recs = advice.recommendations
    for i, upper in enumerate(recs):
        for lower in recs[i + 1 :]:
            assert not (
                lower.estimated_cost < upper.estimated_cost
                and lower.estimated_hours <= upper.estimated_hours
            )


def test_the_issue_lora_example_in_balanced_mode() -> None:
    w = llm(fine_tuning="lora", dataset_size_gb=2, tokens=5e8, num_epochs=3, batch_size=4)
    advice = TrainingAdvisor(CATALOG).recommend(w, goal=OptimizationGoal.BALANCED, top=10)
    recs = advice.advice.recommendations
    top = recs[0]
    front = feasible_candidates(w, CATALOG.arrays)
    est = front.estimates
    rows = front.feasible_index
    dominators = rows[
        (est.total_cost[rows] < top.estimated_cost) & (est.hours[rows] <= top.estimated_hours)
    ]
    assert dominators.size == 0


# -- alternatives and --cpu-only -----------------------------------------------------------------


def test_alternatives_when_full_costs_far_more_or_fits_nowhere() -> None:
    w = llm(model_params_m=13000, batch_size=64)
    low = TrainingAdvisor(CATALOG, alternatives_threshold=1.0).recommend(w, top=3).advice
    kinds = [alt.fine_tuning.value for alt in low.alternatives]
    assert kinds == ["lora", "qlora"]
    for alt in low.alternatives:
        assert alt.estimated_cost > 0 and alt.note and alt.plan.micro_batch_size >= 1
    # The user's method is kept: every recommendation is still a full fine-tune.
    assert low.workload.fine_tuning.value == "full"
    assert not TrainingAdvisor(CATALOG).recommend(w, top=3).advice.alternatives
    huge = llm(model_params_m=200_000, offload=False)
    with pytest.raises(InfeasibleError, match="a lora fine-tune fits"):
        TrainingAdvisor(CATALOG).recommend(huge)
    with pytest.raises(InvalidInputError, match="alternatives_threshold"):
        TrainingAdvisor(CATALOG, alternatives_threshold=0.5)
    lora = llm(fine_tuning="lora")
    front = feasible_candidates(lora, CATALOG.arrays)
    assert (
        parameter_efficient_alternatives(
            lora,
            front.candidates,
            weights=weights_for_goal(OptimizationGoal.BALANCED),
            full_cheapest_cost=None,
        )
        == ()
    )


def test_cpu_only_keeps_cpu_offerings_alone() -> None:
    w = llm(model_params_m=10, tokens=1e6, gpu_required=False, cpu_only=True)
    ranking = rank_offerings(w, CATALOG.arrays)
    assert np.all(ranking.candidates.gpu_count[ranking.feasible_index] == 0)
    gpu_only = CatalogArrays.from_offerings(
        [_offering(0, 1, "A100 80GB", 2.0, None)], CATALOG.gpu_specs
    )
    with pytest.raises(InfeasibleError, match="no CPU-only offering"):
        rank_offerings(w, gpu_only)


# -- the CLI -------------------------------------------------------------------------------------


def test_cli_pinned_plan_that_cannot_fit_exits_4_naming_it(tmp_path: Path) -> None:
    workload = tmp_path / "pinned.json"
    workload.write_text(
        json.dumps(
            {
                "framework": "transformers",
                "model_params_m": 200000,
                "dataset_size_gb": 1,
                "tokens": 1e8,
                "sharding": "ddp",
                "offload": False,
            }
        )
    )
    result = subprocess.run(
        [sys.executable, "-m", "artenic_opt", "recommend", "--workload", str(workload), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        env={"ARTENIC_OPT_CONFIG": str(tmp_path / "none.toml"), "PATH": ""}
        | {k: v for k, v in __import__("os").environ.items() if k != "ARTENIC_OPT_CONFIG"},
    )
    assert result.returncode == 4, result.stderr
    assert "Traceback" not in result.stderr
    assert "pinned training plan (sharding=ddp, offload=false)" in result.stderr
    assert json.loads(result.stdout)["error"]["exit_code"] == 4


def test_cli_plan_pin_flags_reach_the_plan(tmp_path: Path) -> None:
    import os

    env = {**os.environ, "ARTENIC_OPT_CONFIG": str(tmp_path / "none.toml")}
    args = [
        sys.executable,
        "-m",
        "artenic_opt",
        "--state",
        str(tmp_path / "state.db"),
        "recommend",
        "--framework",
        "transformers",
        "--params",
        "7B",
        "--dataset-gb",
        "1",
        "--fine-tuning",
        "lora",
        "--batch-size",
        "16",
        "--micro-batch-size",
        "2",
        "--no-gradient-checkpointing",
        "--sharding",
        "ddp",
        "--no-offload",
        "--top",
        "3",
        "--json",
    ]
    result = subprocess.run(args, capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stderr
    for rec in json.loads(result.stdout)["recommendations"]:
        plan = rec["plan"]
        assert plan["micro_batch_size"] == 2
        assert plan["gradient_checkpointing"] == "off"
        assert plan["sharding"] == "ddp" and plan["offload"] is False
