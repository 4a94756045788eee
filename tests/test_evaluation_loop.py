"""End-to-end: the feedback loop on the simulator makes hybrid rank better than the heuristic."""

from __future__ import annotations

import numpy as np
import pytest

from artenic_opt.catalog import load_catalog
from artenic_opt.errors import InfeasibleError, InvalidInputError
from artenic_opt.evaluation import simulator as evaluation_module
from artenic_opt.evaluation.simulator import (
    ModeEvaluation,
    collect_feedback,
    evaluate_modes,
    mode_orders,
)
from artenic_opt.schemas import WorkloadProfile
from artenic_opt.simulate import World, generate_workloads
from artenic_opt.training_advisor import TrainingAdvisor
from artenic_opt.training_advisor.advisor import LTR_SHORTLIST
from artenic_opt.training_advisor.evaluation import (
    EVALUATED_MODES,
)
from artenic_opt.training_advisor.ltr_ranker import LTRParams
from artenic_opt.types import OptimizerMode

SEEDS = (0, 1, 2)


@pytest.fixture(scope="module")
def evaluations() -> dict[int, ModeEvaluation]:
    return {seed: evaluate_modes(seed, train_jobs=300, test_workloads=80) for seed in SEEDS}


@pytest.mark.slow
@pytest.mark.parametrize("seed", SEEDS)
def test_hybrid_beats_heuristic_on_ndcg_for_every_seed(
    evaluations: dict[int, ModeEvaluation], seed: int
) -> None:
    evaluation = evaluations[seed]
    hybrid = evaluation.mode(OptimizerMode.HYBRID)
    heuristic = evaluation.mode(OptimizerMode.HEURISTIC)
    assert hybrid.ndcg_at_5 > heuristic.ndcg_at_5, f"seed {seed}:\n{evaluation}"


@pytest.mark.slow
def test_hybrid_beats_heuristic_on_mean_regret_across_seeds(
    evaluations: dict[int, ModeEvaluation],
) -> None:
    hybrid = np.mean([e.mode("hybrid").mean_regret for e in evaluations.values()])
    heuristic = np.mean([e.mode("heuristic").mean_regret for e in evaluations.values()])
    assert hybrid < heuristic, "\n".join(str(e) for e in evaluations.values())


@pytest.mark.slow
def test_the_evaluation_is_real_and_reported(evaluations: dict[int, ModeEvaluation]) -> None:
    for evaluation in evaluations.values():
        assert evaluation.train_jobs >= 300
        assert evaluation.samples == evaluation.train_jobs
        assert sum(evaluation.label_counts) == evaluation.samples
        assert evaluation.runs_per_workload == 4 and evaluation.explore_top == 10
        assert [m.mode for m in evaluation.modes] == list(EVALUATED_MODES)
        scored = evaluation.mode("heuristic").workloads
        assert scored + evaluation.skipped_workloads == evaluation.test_workloads == 80
        assert scored >= 70
        # Some workloads have fewer than 10 feasible candidates.
        assert 8.0 <= evaluation.mean_candidates <= 10.0
        # The modes really disagree: otherwise the comparison would be vacuous.
        assert len({round(m.ndcg_at_5, 6) for m in evaluation.modes}) == 3
        for metrics in evaluation.modes:
            assert metrics.mean_regret >= metrics.median_regret >= 0.0
        table = str(evaluation)
        for mode in ("heuristic", "ltr", "hybrid", "NDCG@5", "mean regret", "within 5%"):
            assert mode in table
        dumped = evaluation.model_dump(mode="json")
        assert ModeEvaluation.model_validate(dumped) == evaluation


@pytest.mark.slow
def test_evaluation_is_deterministic_for_a_seed() -> None:
    small = {"train_jobs": 60, "test_workloads": 8, "params": LTRParams(n_estimators=10)}
    first = evaluate_modes(5, **small)  # type: ignore[arg-type]
    again = evaluate_modes(5, **small)  # type: ignore[arg-type]
    assert first.modes == again.modes
    assert first.label_counts == again.label_counts


def test_mode_orders_match_the_advisor() -> None:
    catalog = load_catalog()
    world = World(3)
    advisor = TrainingAdvisor(catalog)
    samples, jobs, workloads = collect_feedback(
        world, advisor, seed=3, train_jobs=60, runs_per_workload=3
    )
    assert jobs == len(samples) >= 60 and workloads >= 20
    ranker = evaluation_module.new_ranker(LTRParams(n_estimators=20), holdout_share=0.0)
    ranker.train(samples)
    checked = 0
    for workload in generate_workloads(np.random.default_rng(77), 6):
        try:
            orders = mode_orders(workload, advisor, ranker, top=LTR_SHORTLIST, widen=True)
        except InfeasibleError:
            continue
        subset = orders.candidates
        for mode in EVALUATED_MODES:
            shown = TrainingAdvisor(catalog, ltr_model=ranker, mode=mode).recommend(
                workload, top=10
            )
            mine = tuple(subset.candidate_id(int(r)) for r in orders.orders[mode][:10])
            assert mine == shown.candidate_ids, mode
        checked += 1
    assert checked >= 3


def test_a_top_n_restriction_ranks_only_the_heuristic_shortlist() -> None:
    catalog = load_catalog()
    advisor = TrainingAdvisor(catalog)
    samples, _, _ = collect_feedback(World(4), advisor, seed=4, train_jobs=40)
    ranker = evaluation_module.new_ranker(LTRParams(n_estimators=5), holdout_share=0.0)
    ranker.train(samples)
    workload = generate_workloads(11, 1, families=["llm-lora"])[0]
    full = mode_orders(workload, advisor, ranker)
    short = mode_orders(workload, advisor, ranker, top=5)
    assert len(short.candidates) == 5
    best_five = {
        full.candidates.candidate_id(int(r)) for r in full.orders[OptimizerMode.HEURISTIC][:5]
    }
    assert {short.candidates.candidate_id(i) for i in range(5)} == best_five
    for order in short.orders.values():
        assert sorted(order.tolist()) == list(range(5))


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"train_jobs": 0}, "train_jobs"),
        ({"runs_per_workload": 0}, "runs_per_workload"),
        ({"explore_top": 0}, "explore_top"),
        ({"test_workloads": 0}, "test_workloads"),
        ({"eval_top": 0}, "eval_top"),
    ],
)
def test_bad_sizes_are_refused(kwargs: dict[str, int], field: str) -> None:
    with pytest.raises(InvalidInputError, match=field):
        evaluate_modes(0, **{"train_jobs": 10, **kwargs})  # type: ignore[arg-type]


def test_a_loop_with_nothing_feasible_stops_with_a_clear_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    catalog = load_catalog()
    cpu_only = catalog.arrays.take(catalog.arrays.gpu_count == 0)
    original = generate_workloads

    def llm_only(rng: np.random.Generator, n: int, **_: object) -> list[WorkloadProfile]:
        # Full LLM fine-tunes need GPUs: a CPU-only catalog can run none of them.
        return original(rng, n, families=["llm-full"])

    monkeypatch.setattr(evaluation_module, "generate_workloads", llm_only)
    with pytest.raises(InfeasibleError, match="train_jobs"):
        collect_feedback(World(0), TrainingAdvisor(cpu_only), seed=0, train_jobs=5, max_workloads=3)


def test_a_widened_evaluation_ranks_the_set_recommend_lets_the_model_rank() -> None:
    small = {"train_jobs": 60, "test_workloads": 8, "params": LTRParams(n_estimators=10)}
    plain = evaluate_modes(6, **small)  # type: ignore[arg-type]
    widened = evaluate_modes(6, widen=True, **small)  # type: ignore[arg-type]
    assert not plain.widened and widened.widened
    assert plain.mean_candidates <= 10 < widened.mean_candidates
    assert "widened by outcomes" in str(widened) and "widened" not in str(plain)
    assert ModeEvaluation.model_validate(widened.model_dump(mode="json")) == widened
