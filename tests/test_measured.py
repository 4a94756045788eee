"""Learning from measured runs: the cost prior, the posterior over a workload's configurations,
expected improvement with its stopping rule, and the backtest's per-workload, baseline and k-shot
report on a small measured fixture where the learned model overrules the heuristic."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from artenic_opt.catalog import load_catalog
from artenic_opt.errors import InvalidInputError
from artenic_opt.schemas import Offering, WorkloadProfile
from artenic_opt.simulate import ReplayOutcome, ReplayRun
from artenic_opt.training_advisor.evaluation import BASELINES, BacktestReport, backtest
from artenic_opt.training_advisor.ltr_ranker import LTRParams
from artenic_opt.training_advisor.measured import (
    PRIOR_LOG_STD,
    Posterior,
    expected_improvement,
    neighbour_prior,
    next_to_measure,
    posterior,
    run_log_costs,
)
from artenic_opt.types import JobStatus

SHAPES = {  # instance: (vCPUs, GB of RAM, USD per hour); a made-up but consistent fixture
    "small": (2, 4.0, 0.10),
    "bigmem": (2, 16.0, 0.14),
    "fat": (8, 16.0, 0.40),
}
NODES = (2, 4, 6, 8, 12, 16, 24)
FAST = LTRParams(n_estimators=10, min_child_samples=3)


def offering(name: str) -> Offering:
    vcpus, memory, price = SHAPES[name]
    return Offering(
        provider="Acme",
        region="eu",
        instance_type=name,
        vcpus=vcpus,
        memory_gb=memory,
        price_per_hour=price,
        source="test fixture",
        price_date=date(2026, 1, 1),
    )


def true_hours(working_set: float, name: str, nodes: int) -> float:
    """A job that needs ``working_set`` GB in memory: below it, it spills and crawls."""
    vcpus, memory, _ = SHAPES[name]
    compute = 0.05 + 40.0 / (nodes * vcpus)
    shortfall = max(0.0, working_set - 0.6 * nodes * memory) / working_set
    return compute * (1.0 + 6.0 * shortfall)


def measured_fixture() -> list[ReplayRun]:
    runs: list[ReplayRun] = []
    for index, working_set in enumerate((60.0, 80.0, 100.0, 120.0, 140.0, 160.0, 180.0)):
        # Same declared fields, different names: seven queries (workload identity).
        workload = WorkloadProfile(
            name=f"etl-{index}",
            dataset_size_gb=20.0,
            gpu_required=False,
            distributed=True,
            max_nodes=24,
            spot_allowed=False,
        )
        for name in SHAPES:
            for nodes in NODES:
                hours = true_hours(working_set, name, nodes)
                runs.append(
                    ReplayRun(
                        workload=workload,
                        offering=offering(name),
                        nodes=nodes,
                        outcome=ReplayOutcome(
                            status=JobStatus.COMPLETED,
                            hours=hours,
                            cost=hours * nodes * SHAPES[name][2],
                        ),
                        attributes={"input_size_gb": 20.0 + index},
                    )
                )
    return runs


@pytest.fixture(scope="module")
def report() -> BacktestReport:
    return backtest(
        measured_fixture(),
        catalog_specs=load_catalog().gpu_specs,
        params=FAST,
        kshot=(0, 1, 3),
    )


def test_the_learned_model_promotes_what_the_heuristic_ranked_outside_its_top_10(
    report: BacktestReport,
) -> None:
    assert report.infeasible_runs == 0 and report.scored_workloads == 7
    promoted = 0
    for workload in report.per_workload:
        picks = {p.method: p for p in workload.picks}
        learned = picks["k=0"]
        assert learned.heuristic_rank is not None
        if learned.heuristic_rank > 10 and learned.regret < picks["heuristic"].regret:
            promoted += 1
    assert promoted >= 4, [
        [(p.method, p.heuristic_rank, round(p.regret, 2)) for p in w.picks]
        for w in report.per_workload
    ]
    k0 = {m.method: m for m in report.kshot}["k=0"]
    assert k0.mean_regret < report.mode("heuristic").mean_regret


def test_per_workload_report_has_every_method_and_the_best_run(report: BacktestReport) -> None:
    methods = {"heuristic", "ltr", "hybrid", *BASELINES, "k=0", "k=1", "k=3"}
    for workload in report.per_workload:
        assert workload.runs == 21 and workload.name.startswith("etl-")
        assert {p.method for p in workload.picks} == methods
        assert all(p.regret >= 0 for p in workload.picks)
        best = min(p.cost for p in workload.picks if p.cost is not None)
        assert workload.best_cost <= best + 1e-12
    assert [b.method for b in report.baselines] == list(BASELINES)
    k = {m.method: m.median_regret for m in report.kshot}
    assert k["k=3"] <= k["k=1"] + 1e-12
    text = report.table()
    assert "cheapest_price" in text and "k=3" in text


def test_run_log_costs_count_failures_twice() -> None:
    logs = run_log_costs([1.0, 1.0], [True, False])
    assert logs[1] - logs[0] == pytest.approx(math.log(2.0))


def test_posterior_reproduces_measured_runs_and_moves_their_neighbours() -> None:
    prior = np.zeros(5)
    configs = np.arange(5, dtype=np.float64).reshape(-1, 1) * np.ones((1, 5))
    none = posterior(prior, configs, [], [])
    assert np.all(none.std == PRIOR_LOG_STD) and not none.measured.any()
    one = posterior(prior, configs, [0], [1.0])
    assert one.mean[0] == pytest.approx(1.0) and one.mean[4] == pytest.approx(1.0)
    two = posterior(prior, configs, [0, 1], [1.0, 2.0])
    assert two.mean[0] == pytest.approx(1.0) and two.mean[1] == pytest.approx(2.0)
    assert two.std[4] > two.std[0]
    with pytest.raises(InvalidInputError):
        posterior(prior, configs, [9], [1.0])
    with pytest.raises(InvalidInputError):
        posterior(prior, configs, [0, 1], [1.0])


@settings(max_examples=40, deadline=None)
@given(
    mean=st.lists(st.floats(-5, 5), min_size=2, max_size=8),
    std=st.floats(0.01, 2.0),
)
def test_expected_improvement_is_non_negative_and_zero_where_measured(
    mean: list[float], std: float
) -> None:
    values = np.array(mean)
    measured = np.zeros(len(mean), dtype=bool)
    measured[0] = True
    ei = expected_improvement(Posterior(values, np.full(len(mean), std), measured))
    assert np.all(ei >= 0) and ei[0] == 0


def test_next_to_measure_starts_at_the_optimum_then_stops_within_tolerance() -> None:
    mean = np.array([1.0, 0.5, 2.0])
    fresh = next_to_measure(Posterior(mean, np.full(3, 0.5), np.zeros(3, dtype=bool)))
    assert fresh.row == 1 and not fresh.stop
    measured = np.array([False, True, False])
    # One run only: too few to stop, even though it looks optimal.
    early = next_to_measure(Posterior(mean, np.array([0.5, 0.05, 0.5]), measured))
    assert not early.stop and early.row is not None
    three = np.array([False, True, False, True, True])
    done = next_to_measure(Posterior(np.array([1.0, 0.5, 2.0, 0.6, 0.7]), np.full(5, 0.05), three))
    assert done.stop and done.row is None and "within 10%" in done.reason
    worse = next_to_measure(Posterior(np.array([0.2, 0.5, 2.0, 0.6, 0.7]), np.full(5, 0.05), three))
    assert not worse.stop and worse.row == 0
    everything = next_to_measure(Posterior(mean, np.full(3, 0.05), np.ones(3, dtype=bool)))
    assert everything.stop and everything.row is None
    with pytest.raises(InvalidInputError):
        next_to_measure(fresh_post := Posterior(mean, np.full(3, 0.5), measured), tolerance=0)
    assert fresh_post.best_measured() == pytest.approx(0.5)


def test_neighbour_prior_follows_the_workload_that_matches_the_runs() -> None:
    prior = np.zeros(4)
    others = np.array([[0.0, 1.0, 2.0, 3.0], [3.0, 2.0, 1.0, 0.0]])
    assert np.array_equal(neighbour_prior(prior, others, [], []), prior)
    # Measured runs rise like the first workload (level aside): its shape wins.
    blended = neighbour_prior(prior, others, [0, 1], [5.0, 6.0])
    assert blended[3] > blended[0]
    assert blended[3] - blended[0] == pytest.approx(3.0, abs=0.05)
    # No other workload: the prior stands.
    assert np.array_equal(neighbour_prior(prior, np.zeros((0, 4)), [0], [1.0]), prior)


def test_k_shot_never_settles_on_a_failed_run_when_a_measured_run_succeeded() -> None:
    # The two smallest "small" clusters crash after a few minutes: cheap, but no answer (the job
    # has to run again). Counted at twice their cost they still look cheapest, so the k-shot
    # mode, once it has measured one of them, must still pick the best run that succeeded.
    runs = [
        run
        if not (run.offering.instance_type == "small" and run.nodes <= 4)
        else run.model_copy(
            update={
                "outcome": ReplayOutcome(
                    status=JobStatus.FAILED, hours=0.05, cost=0.05 * run.nodes * 0.10
                )
            }
        )
        for run in measured_fixture()
    ]
    failed = {"Acme/eu/small#2#on_demand", "Acme/eu/small#4#on_demand"}
    report = backtest(runs, catalog_specs=load_catalog().gpu_specs, params=FAST, kshot=(0, 1, 3, 6))
    later = [p for w in report.per_workload for p in w.picks if p.method in ("k=3", "k=6")]
    assert later and all(p.config not in failed and p.regret < 1.0 for p in later), [
        (p.method, p.config, round(p.regret, 2)) for p in later
    ]


def test_backtest_ranks_the_heuristic_with_the_goal_it_is_given() -> None:
    from artenic_opt.types import OptimizationGoal

    specs = load_catalog().gpu_specs
    runs = measured_fixture()

    def nodes_picked(goal: OptimizationGoal | None) -> list[int]:
        kwargs = {} if goal is None else {"goal": goal}
        report = backtest(runs, catalog_specs=specs, params=FAST, **kwargs)
        return [
            int(str(p.config).split("#")[1])
            for w in report.per_workload
            for p in w.picks
            if p.method == "heuristic"
        ]

    # The speed preset buys time with nodes, the cost preset saves them; balanced is the default.
    cost, speed = nodes_picked(OptimizationGoal.COST), nodes_picked(OptimizationGoal.SPEED)
    assert sum(speed) > sum(cost)
    assert nodes_picked(None) == nodes_picked(OptimizationGoal.BALANCED)


def test_a_failed_run_is_neither_the_best_measured_nor_the_optimum() -> None:
    prior = np.log(np.array([1.0, 2.0, 3.0, 4.0]))
    configs = np.arange(4, dtype=np.float64).reshape(-1, 1)
    # Row 0 crashed cheaply (0.3, counted at twice that); row 2 succeeded at 2.5.
    values = [math.log(0.6), math.log(2.5)]
    post = posterior(prior, configs, [0, 2], values, [False, True])
    choice = next_to_measure(post)
    assert choice.best_measured_row == 2
    assert choice.best_measured_log_cost == pytest.approx(math.log(2.5))
    assert choice.optimum_row != 0
    # Without the success flags the crash is the best measured run (the old reading).
    assert next_to_measure(posterior(prior, configs, [0, 2], values)).best_measured_row == 0
    # Every measured run failed: the least costly failure is the best there is.
    failed = posterior(prior, configs, [0, 2], values, [False, False])
    assert next_to_measure(failed).best_measured_row == 0
    with pytest.raises(InvalidInputError, match="success flag"):
        posterior(prior, configs, [0, 2], values, [True])


def test_second_and_third_runs_are_the_predicted_cheapest_then_expected_improvement() -> None:
    # Row 0 measured. Row 1 is predicted a little dearer with little doubt; row 2 dearer still
    # with a wide spread, so expected improvement would rather explore it. With fewer than
    # MIN_RUNS_BEFORE_STOP configurations measured the spread means little: row 1 is next.
    mean = np.array([0.0, 0.1, 0.3, 0.4])
    std = np.array([0.05, 0.05, 2.0, 0.05])
    one = np.array([True, False, False, False])
    ei = expected_improvement(Posterior(mean, std, one))
    assert int(np.argmax(ei)) == 2
    early = next_to_measure(Posterior(mean, std, one))
    assert early.row == 1 and not early.stop and "predicted cheapest" in early.reason
    assert early.expected_improvement == pytest.approx(float(ei[1]))
    # Three configurations measured: expected improvement decides again.
    three = np.array([True, False, False, True, True])
    later = next_to_measure(Posterior(np.append(mean, 0.5), np.append(std, 0.05), three))
    assert later.row == 2 and "expected to lower" in later.reason
