"""Backtesting measured runs: grades, regret, leave-one-workload-out, bad input."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, strategies as st

from artenic_opt.catalog import load_catalog
from artenic_opt.errors import InvalidInputError
from artenic_opt.schemas import Offering, WorkloadProfile
from artenic_opt.simulate import (
    ReplayOutcome,
    ReplayRun,
    World,
    generate_workloads,
    read_replay_file,
    simulate_replay,
    write_replay_file,
)
from artenic_opt.training_advisor.evaluation import (
    BacktestReport,
    backtest,
    run_grades,
)
from artenic_opt.training_advisor.ltr_ranker import LTRParams
from artenic_opt.types import JobStatus, OptimizerMode

FAST = LTRParams(n_estimators=10, min_child_samples=3)
CATALOG = load_catalog()
SPECS = CATALOG.gpu_specs


def gpu_offering(name: str, gpu: str = "A100 80GB", price: float = 4.0, **extra: Any) -> Offering:
    return Offering(
        provider=extra.pop("provider", "Acme"),
        region="eu-1",
        instance_type=name,
        gpu_type=gpu,
        gpu_count=extra.pop("gpu_count", 1),
        vcpus=16,
        memory_gb=128,
        price_per_hour=price,
        source="measured",
        price_date=date(2025, 1, 1),
        **extra,
    )


def run(
    workload: WorkloadProfile,
    offering: Offering,
    cost: float,
    *,
    status: JobStatus = JobStatus.COMPLETED,
    hours: float = 2.0,
    currency: str = "USD",
    spot: bool = False,
    nodes: int = 1,
) -> ReplayRun:
    return ReplayRun(
        workload=workload,
        offering=offering,
        nodes=nodes,
        spot=spot,
        outcome=ReplayOutcome(status=status, hours=hours, cost=cost, currency=currency),
    )


def small_workload(index: int, **extra: Any) -> WorkloadProfile:
    return WorkloadProfile(
        name=f"bert-{index}",
        framework="pytorch",
        model_params_m=100 + 10 * index,
        dataset_size_gb=5,
        num_epochs=2,
        **extra,
    )


@pytest.fixture(scope="module")
def simulated_runs() -> list[ReplayRun]:
    world = World(0)
    workloads = generate_workloads(np.random.default_rng([0, 9]), 12, providers=CATALOG.providers)
    return simulate_replay(world, workloads, CATALOG.offerings, runs_per_workload=6)


def test_backtest_of_a_simulated_replay_file(
    simulated_runs: list[ReplayRun], tmp_path: Path
) -> None:
    path = tmp_path / "replay.jsonl"
    write_replay_file(path, simulated_runs)
    runs = read_replay_file(path)
    report = backtest(runs, catalog_specs=SPECS, params=FAST)
    assert report.runs == len(simulated_runs)
    assert report.workloads == 12
    assert report.scored_workloads + report.skipped_workloads == 12
    assert report.scored_workloads >= 8
    assert [m.mode for m in report.modes] == [
        OptimizerMode.HEURISTIC,
        OptimizerMode.LTR,
        OptimizerMode.HYBRID,
    ]
    for metrics in report.modes:
        assert metrics.workloads == report.scored_workloads
        assert 0.0 <= metrics.ndcg_at_5 <= 1.0 and 0.0 <= metrics.mrr <= 1.0
        assert metrics.mean_regret >= 0.0
    table = str(report)
    assert "leave-one-workload-out" in table and "hybrid" in table
    assert BacktestReport.model_validate(report.model_dump(mode="json")) == report
    again = backtest(read_replay_file(path), catalog_specs=SPECS, params=FAST)
    assert again == report


def test_csv_replay_gives_the_same_backtest(
    simulated_runs: list[ReplayRun], tmp_path: Path
) -> None:
    jsonl = tmp_path / "r.jsonl"
    csv = tmp_path / "r.csv"
    write_replay_file(jsonl, simulated_runs)
    write_replay_file(csv, simulated_runs)
    first = backtest(read_replay_file(jsonl), catalog_specs=SPECS, params=FAST)
    second = backtest(read_replay_file(csv), catalog_specs=SPECS, params=FAST)
    assert first.modes == second.modes


def _six_workloads(cheap_first: bool) -> list[ReplayRun]:
    """Six workloads, each run on a cheap and a dear A100: the cheap one is best in all."""
    cheap = gpu_offering("cheap", price=2.0)
    dear = gpu_offering("dear", price=8.0)
    runs: list[ReplayRun] = []
    for i in range(6):
        workload = small_workload(i)
        pair = [run(workload, cheap, 10.0), run(workload, dear, 40.0)]
        runs.extend(pair if cheap_first else pair[::-1])
    return runs


def test_every_mode_picks_the_cheaper_identical_machine() -> None:
    report = backtest(_six_workloads(cheap_first=False), catalog_specs=SPECS, params=FAST)
    heuristic = report.mode("heuristic")
    assert heuristic.mean_regret == 0.0
    assert heuristic.within_5pct_share == 1.0
    assert heuristic.ndcg_at_5 == pytest.approx(1.0)
    assert heuristic.mrr == pytest.approx(1.0)
    hybrid = report.mode(OptimizerMode.HYBRID)
    assert hybrid.mean_regret == 0.0
    assert report.infeasible_runs == 0


def test_a_failed_top_pick_costs_at_least_one() -> None:
    # The cheap machine is the heuristic's pick but every run there failed: regret >= 1.
    cheap = gpu_offering("cheap", price=2.0)
    dear = gpu_offering("dear", price=8.0)
    runs: list[ReplayRun] = []
    for i in range(6):
        workload = small_workload(i)
        runs.append(run(workload, cheap, 0.5, status=JobStatus.FAILED, hours=0.1))
        runs.append(run(workload, dear, 40.0))
    report = backtest(runs, catalog_specs=SPECS, params=FAST)
    heuristic = report.mode("heuristic")
    assert heuristic.mean_regret == pytest.approx(1.0)
    assert heuristic.within_5pct_share == 0.0
    # The model learns from the other workloads that the cheap machine fails.
    assert report.mode("ltr").mean_regret == pytest.approx(0.0)


def test_runs_the_advisor_rejects_rank_last() -> None:
    # A LoRA of a 13B model does not fit one 24 GB GPU without offloading its base (pinned off
    # here): the advisor would never pick it, even though its (failed) run was cheap.
    small = gpu_offering("small", gpu="A10G", price=0.5)
    big = gpu_offering("big", gpu="H100 SXM", price=3.0)
    runs: list[ReplayRun] = []
    for i in range(6):
        workload = WorkloadProfile(
            name=f"llm-{i}",
            framework="transformers",
            model_params_m=13_000 + i,
            fine_tuning="lora",
            dataset_size_gb=1,
            tokens=10_000_000,
            batch_size=1,
            gradient_checkpointing=True,
            offload=False,
        )
        runs.append(run(workload, small, 0.2, status=JobStatus.FAILED, hours=0.1))
        runs.append(run(workload, big, 100.0))
    report = backtest(runs, catalog_specs=SPECS, params=FAST)
    assert report.infeasible_runs == 6
    for metrics in report.modes:
        assert metrics.mean_regret == 0.0, metrics.mode


def test_runs_in_another_currency_are_converted() -> None:
    runs = _six_workloads(cheap_first=True)
    euro = [
        r.model_copy(update={"outcome": r.outcome.model_copy(update={"currency": "EUR"})})
        if r.offering.instance_type == "dear"
        else r
        for r in runs
    ]
    report = backtest(euro, catalog_specs=SPECS, params=FAST, rates=None)
    assert report.mode("heuristic").mean_regret == 0.0
    assert report.currency == "USD"


def test_a_workload_without_a_good_run_is_skipped_but_trains() -> None:
    runs = _six_workloads(cheap_first=True)
    doomed = small_workload(99, deadline_hours=1.0)
    runs.append(run(doomed, gpu_offering("cheap", price=2.0), 10.0, hours=5.0))
    runs.append(run(doomed, gpu_offering("dear", price=8.0), 3.0, status=JobStatus.FAILED))
    report = backtest(runs, catalog_specs=SPECS, params=FAST)
    assert report.workloads == 7
    assert report.skipped_workloads == 1
    assert report.mode("ltr").workloads == 6


def test_spot_runs_and_multi_node_runs_map_to_their_candidates() -> None:
    spot_offering = gpu_offering("spotty", price=4.0, spot_price_per_hour=1.0)
    runs: list[ReplayRun] = []
    for i in range(6):
        refuses_spot = small_workload(i, spot_allowed=False)
        runs.append(run(refuses_spot, spot_offering, 1.0, spot=True))  # not a candidate
        runs.append(run(refuses_spot, spot_offering, 8.0, nodes=2))  # not distributed
        runs.append(run(refuses_spot, spot_offering, 4.0))
    report = backtest(runs, catalog_specs=SPECS, params=FAST)
    assert report.infeasible_runs == 12
    # The only run the advisor could have recommended is the plain on-demand one: regret 3.
    assert report.mode("heuristic").mean_regret == pytest.approx(3.0)


def test_a_reference_gpu_nobody_ran_on_is_resolved_from_the_spec_table() -> None:
    runs = []
    for i in range(6):
        workload = small_workload(
            i, estimated_hours=2.0, reference_gpu="V100 16GB", reference_gpu_count=1
        )
        runs.append(run(workload, gpu_offering("cheap", price=2.0), 10.0))
        runs.append(run(workload, gpu_offering("dear", price=8.0), 40.0))
    report = backtest(runs, catalog_specs=SPECS, params=FAST)
    assert report.mode("heuristic").mean_regret == 0.0


def test_unknown_reference_gpu_is_named() -> None:
    workloads = [
        small_workload(i, estimated_hours=2.0, reference_gpu="Quantum 9000") for i in range(6)
    ]
    runs = [run(w, gpu_offering("cheap"), 1.0) for w in workloads]
    with pytest.raises(InvalidInputError, match="Quantum 9000"):
        backtest(runs, catalog_specs=SPECS, params=FAST)


def test_unknown_gpu_type_is_named_with_the_run_and_offering() -> None:
    runs = _six_workloads(cheap_first=True)
    odd = gpu_offering("mystery", gpu="Warp Drive X1")
    runs.insert(2, run(small_workload(0), odd, 5.0))
    with pytest.raises(InvalidInputError, match=r"run 3 \(offering Acme/eu-1/mystery\).*Warp"):
        backtest(runs, catalog_specs=SPECS, params=FAST)


def test_gpu_names_in_other_spellings_are_accepted() -> None:
    runs = [
        r.model_copy(update={"offering": r.offering.model_copy(update={"gpu_type": "a100-80gb"})})
        for r in _six_workloads(cheap_first=True)
    ]
    report = backtest(runs, catalog_specs=SPECS, params=FAST)
    assert report.mode("heuristic").mean_regret == 0.0


def test_too_few_workloads_are_refused() -> None:
    runs = _six_workloads(cheap_first=True)[:6]  # three workloads
    with pytest.raises(InvalidInputError, match="3 workloads"):
        backtest(runs, catalog_specs=SPECS, params=FAST)
    with pytest.raises(InvalidInputError, match="no measured runs"):
        backtest([], catalog_specs=SPECS)
    with pytest.raises(InvalidInputError, match="min_train_groups"):
        backtest(runs, catalog_specs=SPECS, min_train_groups=0)
    report = backtest(runs, catalog_specs=SPECS, params=FAST, min_train_groups=2)
    assert report.scored_workloads == 3


def test_unknown_mode_is_refused() -> None:
    report = backtest(_six_workloads(cheap_first=True), catalog_specs=SPECS, params=FAST)
    with pytest.raises(InvalidInputError, match="auto was not evaluated"):
        report.mode("auto")
    with pytest.raises(ValueError, match="'nope'"):
        report.mode("nope")


def test_grade_boundaries() -> None:
    workload = small_workload(0, deadline_hours=3.0)
    offering = gpu_offering("x")
    costs = [10.0, 10.5, 10.6, 15.0, 15.1, 20.0, 20.1, 1.0, 9.0]
    runs = [run(workload, offering, c) for c in costs[:7]]
    runs.append(run(workload, offering, 1.0, status=JobStatus.FAILED))
    runs.append(run(workload, offering, 9.0, hours=4.0))  # missed the deadline
    grades, reference = run_grades(runs, np.array(costs))
    assert reference == 10.0
    assert grades.tolist() == [4, 4, 3, 3, 2, 2, 1, 0, 0]


def test_no_good_run_means_no_reference() -> None:
    runs = [run(small_workload(0), gpu_offering("x"), 1.0, status=JobStatus.FAILED)]
    grades, reference = run_grades(runs, np.array([1.0]))
    assert reference is None and grades.tolist() == [0]


@given(
    st.lists(st.floats(min_value=0.01, max_value=1e6), min_size=1, max_size=12),
)
def test_grades_fall_with_cost(costs: list[float]) -> None:
    workload = small_workload(0)
    offering = gpu_offering("x")
    runs = [run(workload, offering, c) for c in costs]
    grades, reference = run_grades(runs, np.array(costs))
    assert reference == min(costs)
    order = np.argsort(costs, kind="stable")
    assert all(np.diff(grades[order]) <= 0)
    assert grades[int(np.argmin(costs))] == 4
    assert set(grades.tolist()) <= {1, 2, 3, 4}


def test_a_workload_nothing_suits_ranks_all_its_runs_last() -> None:
    runs = _six_workloads(cheap_first=True)
    picky = small_workload(50, allowed_providers=("Elsewhere",))
    runs.append(run(picky, gpu_offering("cheap", price=2.0), 10.0))
    runs.append(run(picky, gpu_offering("dear", price=8.0), 40.0))
    report = backtest(runs, catalog_specs=SPECS, params=FAST)
    assert report.infeasible_runs == 2
    assert report.scored_workloads == 7
    # Both runs tie in the heuristic (no score): the expected regret of a random pick.
    assert report.mode("heuristic").mean_regret == pytest.approx(1.5 / 7)


def test_when_nothing_can_be_scored_every_mode_reports_zero_workloads() -> None:
    runs = [
        r.model_copy(update={"outcome": r.outcome.model_copy(update={"status": "failed"})})
        for r in _six_workloads(cheap_first=True)
    ]
    report = backtest(runs, catalog_specs=SPECS, params=FAST)
    assert report.skipped_workloads == 6
    assert all(m.workloads == 0 and m.mean_regret == 0.0 for m in report.modes)
