"""TrainingAdvisor: advice contents, modes, LTR hook and the must-hold scenarios."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from artenic_opt._internal.math_utils import min_max_normalize
from artenic_opt.catalog import Catalog, CatalogArrays, load_catalog
from artenic_opt.errors import CurrencyError, InfeasibleError, InvalidInputError, ModelFileError
from artenic_opt.schemas import TrainingAdvice, WorkloadProfile
from artenic_opt.training_advisor import (
    FEATURE_NAMES,
    FEATURE_SCHEMA_VERSION,
    HYBRID_LTR_WEIGHT,
    RankingScorer,
    RankingWeights,
    TrainingAdvisor,
    build_candidates,
    extract_features,
)
from artenic_opt.training_advisor.advisor import LTR_SHORTLIST
from artenic_opt.types import OptimizationGoal, OptimizerMode

CATALOG = load_catalog()
CHEAPNESS = FEATURE_NAMES.index("log_estimated_cost_usd")


class CheapestFirst:
    """A stand-in ranking model: prefers low estimated cost (features in, scores out)."""

    feature_schema_version = FEATURE_SCHEMA_VERSION

    def __init__(self) -> None:
        self.calls = 0

    def predict(self, features: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        self.calls += 1
        scores: npt.NDArray[np.float64] = -features[:, CHEAPNESS]
        return scores


def lora_7b(**fields: Any) -> WorkloadProfile:
    base: dict[str, Any] = {
        "name": "llama-7b-lora",
        "model_params_m": 7000,
        "dataset_size_gb": 1,
        "num_epochs": 3,
        "fine_tuning": "lora",
        "batch_size": 4,
        "gradient_checkpointing": True,
    }
    base.update(fields)
    return WorkloadProfile(**base)


def test_recommend_returns_ranked_advice_that_round_trips_json() -> None:
    workload = lora_7b()
    result = TrainingAdvisor(CATALOG).recommend(workload, top=5)
    advice = result.advice
    assert isinstance(advice, TrainingAdvice)
    assert TrainingAdvice.model_validate_json(advice.model_dump_json()) == advice
    assert [r.rank for r in advice.recommendations] == [1, 2, 3, 4, 5]
    scores = [r.score for r in advice.recommendations]
    assert scores == sorted(scores, reverse=True)
    assert advice.query_id == workload.query_id
    assert len(advice.recommendation_id) == 32
    assert advice.mode is OptimizerMode.HEURISTIC and advice.goal is OptimizationGoal.BALANCED
    assert advice.candidates_considered >= advice.candidates_feasible >= 5
    first = advice.recommendations[0]
    assert {f.name for f in first.factors} == {
        "cost_efficiency",
        "gpu_match",
        "memory_headroom",
        "provider_reliability",
        "speed",
    }
    assert sum(f.contribution for f in first.factors) == pytest.approx(first.heuristic_score)
    assert first.memory_needed_gb <= 0.9 * first.memory_available_gb
    assert first.estimated_hours > 0 and first.estimated_cost > 0
    assert first.reasons and any("whole job" in reason for reason in first.reasons)
    assert first.currency == "USD" and first.offering.currency == "USD"


def test_every_recommendation_carries_its_plan() -> None:
    advice = TrainingAdvisor(CATALOG).recommend(lora_7b(batch_size=16), top=10).advice
    for recommendation in advice.recommendations:
        plan = recommendation.plan
        assert plan is not None
        assert plan.micro_batch_size * plan.accumulation_steps * plan.data_parallel >= 16
        assert any(reason.startswith("plan: micro-batch") for reason in recommendation.reasons)
    dumped = advice.recommendations[0].model_dump(mode="json")
    assert {"micro_batch_size", "sharding", "gradient_checkpointing"} <= set(dumped["plan"])


def test_70b_full_fine_tune_lists_only_gpus_that_hold_it() -> None:
    workload = WorkloadProfile(
        framework="transformers",
        model_params_m=70000,
        dataset_size_gb=2,
        batch_size=1,
        gradient_checkpointing=True,
        distributed=True,
        max_nodes=8,
    )
    advice = TrainingAdvisor(CATALOG).recommend(workload, top=50).advice
    assert advice.recommendations
    for recommendation in advice.recommendations:
        assert recommendation.memory_needed_gb <= recommendation.memory_available_gb - 0.4
        total_gpu_memory = recommendation.offering.total_gpu_memory_gb * recommendation.nodes
        # 16 bytes per parameter of model states fit the GPUs paid for, or the plan offloads.
        assert recommendation.plan is not None
        assert total_gpu_memory >= 70e9 * 16 / 1e9 or recommendation.plan.offload


def test_budget_below_cheapest_job_raises_infeasible_naming_budget() -> None:
    with pytest.raises(InfeasibleError, match=r"^budget 5 USD is below the cheapest feasible job"):
        TrainingAdvisor(CATALOG).recommend(lora_7b(budget=5.0))


def test_budget_and_deadline_together_name_both_when_each_alone_could_be_met() -> None:
    # With a deadline, the budget message quoted the cheapest job *within the deadline* as "the
    # cheapest feasible job": a user told to raise the budget never learnt that relaxing the
    # deadline alone would also do (the cheapest job without it fitted the budget).
    advisor = TrainingAdvisor(CATALOG)
    free = advisor.recommend(lora_7b(), top=500).advice.recommendations
    cheapest = min(free, key=lambda r: r.estimated_cost)
    # A deadline just under the cheapest job's time, a budget just above its cost: each alone
    # is satisfiable, together they may not be.
    deadline = cheapest.estimated_hours * 0.99
    budget = cheapest.estimated_cost * 1.01
    within = [r for r in free if r.estimated_hours <= deadline]
    assert within and min(r.estimated_cost for r in within) > budget  # the premise holds
    with pytest.raises(InfeasibleError) as caught:
        advisor.recommend(lora_7b(budget=budget, deadline_hours=deadline))
    message = caught.value.message
    assert message.startswith(f"budget {budget:g} USD is below the cheapest feasible job")
    assert f"within the {deadline:g} h deadline" in message
    assert f"without it, {cheapest.estimated_cost:,.2f} USD" in message  # below 1,000: cents


def test_feature_rows_are_the_rows_of_the_returned_candidates() -> None:
    workload = lora_7b()
    result = TrainingAdvisor(CATALOG).recommend(workload, top=4)
    assert result.feature_rows.shape == (4, len(FEATURE_NAMES))
    assert result.feature_names == FEATURE_NAMES
    assert result.feature_schema_version == FEATURE_SCHEMA_VERSION
    ids = tuple(r.candidate_id for r in result.advice.recommendations)
    assert result.candidate_ids == ids
    ranking = result.ranking
    assert ranking is not None
    subset = ranking.candidates.take(ranking.feasible_index)
    features = extract_features(
        workload, subset, estimates=ranking.estimates.take(ranking.feasible_index)
    )
    for row, candidate_id in zip(result.feature_rows, ids, strict=True):
        position = next(i for i in range(len(subset)) if subset.candidate_id(i) == candidate_id)
        np.testing.assert_array_equal(row, features.values[position])


def test_display_currency_converts_prices_and_budget() -> None:
    advisor = TrainingAdvisor(CATALOG, display_currency="EUR", rates={"EUR": 0.9})
    result = advisor.recommend(lora_7b(budget=10_000, budget_currency="USD"), top=3)
    assert result.advice.display_currency == "EUR"
    usd = TrainingAdvisor(CATALOG).recommend(lora_7b(), top=3).advice
    for eur_rec, usd_rec in zip(result.advice.recommendations, usd.recommendations, strict=True):
        assert eur_rec.currency == "EUR"
        assert eur_rec.candidate_id == usd_rec.candidate_id
        assert eur_rec.estimated_cost == pytest.approx(usd_rec.estimated_cost * 0.9)
    with pytest.raises(CurrencyError, match="GBP"):
        TrainingAdvisor(CATALOG, display_currency="GBP").recommend(lora_7b())


def test_goal_and_weights_precedence() -> None:
    speedy = RankingWeights.from_mapping({"speed": 1.0})
    advisor = TrainingAdvisor(CATALOG, weights=speedy)
    configured = advisor.recommend(lora_7b(), top=1).advice.recommendations[0]
    assert {f.name: f.weight for f in configured.factors}["speed"] == 1.0
    by_goal = advisor.recommend(lora_7b(), top=1, goal=OptimizationGoal.COST)
    assert by_goal.advice.goal is OptimizationGoal.COST
    weights = {f.name: f.weight for f in by_goal.advice.recommendations[0].factors}
    assert weights["cost_efficiency"] == 0.7
    explicit = advisor.recommend(
        lora_7b(), top=1, goal=OptimizationGoal.COST, weights={"cost_efficiency": 1.0}
    )
    weights = {f.name: f.weight for f in explicit.advice.recommendations[0].factors}
    assert weights["cost_efficiency"] == 1.0


def test_hybrid_mode_blends_normalised_scores_over_the_shortlist() -> None:
    model = CheapestFirst()
    assert isinstance(model, RankingScorer)
    advisor = TrainingAdvisor(CATALOG, ltr_model=model, mode=OptimizerMode.HYBRID, model_version=3)
    result = advisor.recommend(lora_7b(), top=200)
    advice = result.advice
    assert advice.mode is OptimizerMode.HYBRID and advice.model_version == 3
    assert model.calls == 1
    ranking = result.ranking
    assert ranking is not None
    subset = ranking.candidates.take(ranking.feasible_index)
    features = extract_features(
        lora_7b(), subset, estimates=ranking.estimates.take(ranking.feasible_index)
    )
    shortlist = np.sort(ranking.order[:LTR_SHORTLIST])
    ltr = min_max_normalize(model.predict(features.values[shortlist]))
    heuristic = min_max_normalize(ranking.scores[shortlist])
    blended = HYBRID_LTR_WEIGHT * ltr + (1 - HYBRID_LTR_WEIGHT) * heuristic
    by_id = {subset.candidate_id(int(i)): blended[k] for k, i in enumerate(shortlist)}
    head = advice.recommendations[:LTR_SHORTLIST]
    assert {r.candidate_id for r in head} == set(by_id)
    for recommendation in head:
        assert recommendation.ltr_score is not None
        assert recommendation.score == pytest.approx(by_id[recommendation.candidate_id])
    scores = [r.score for r in head]
    assert scores == sorted(scores, reverse=True)
    # Beyond the shortlist the heuristic order stands, without a model score.
    tail = advice.recommendations[LTR_SHORTLIST:]
    expected_tail = [subset.candidate_id(int(i)) for i in ranking.order[LTR_SHORTLIST:200]]
    assert [r.candidate_id for r in tail] == expected_tail
    assert all(r.ltr_score is None for r in tail)


def test_ltr_mode_orders_by_the_model() -> None:
    advisor = TrainingAdvisor(CATALOG, ltr_model=CheapestFirst(), mode=OptimizerMode.LTR)
    advice = advisor.recommend(lora_7b(), top=5).advice
    assert advice.mode is OptimizerMode.LTR
    costs = [r.estimated_cost for r in advice.recommendations]
    assert costs == sorted(costs)
    assert advice.recommendations[0].score == 1.0


def test_auto_mode_uses_heuristic_until_a_model_exists() -> None:
    without = TrainingAdvisor(CATALOG, mode=OptimizerMode.AUTO)
    assert without.effective_mode() is OptimizerMode.HEURISTIC
    assert without.recommend(lora_7b(), top=1).advice.mode is OptimizerMode.HEURISTIC
    with_model = TrainingAdvisor(CATALOG, mode=OptimizerMode.AUTO, ltr_model=CheapestFirst())
    assert with_model.recommend(lora_7b(), top=1).advice.mode is OptimizerMode.HYBRID


@pytest.mark.parametrize("mode", [OptimizerMode.LTR, OptimizerMode.HYBRID])
def test_learned_modes_need_a_model(mode: OptimizerMode) -> None:
    with pytest.raises(InvalidInputError, match="needs a trained ranking model"):
        TrainingAdvisor(CATALOG, mode=mode)


def test_models_of_another_schema_or_output_are_refused() -> None:
    class OldSchema(CheapestFirst):
        feature_schema_version = FEATURE_SCHEMA_VERSION + 1

    with pytest.raises(ModelFileError, match="feature schema"):
        TrainingAdvisor(CATALOG, ltr_model=OldSchema(), mode=OptimizerMode.AUTO)

    class Metadata:
        feature_schema_version = FEATURE_SCHEMA_VERSION
        feature_names = ("a", "b")

    class OtherNames(CheapestFirst):
        metadata = Metadata()

    with pytest.raises(ModelFileError, match="feature names"):
        TrainingAdvisor(CATALOG, ltr_model=OtherNames(), mode=OptimizerMode.AUTO)

    class Broken:
        def predict(self, features: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
            return np.full(3, np.nan)

    advisor = TrainingAdvisor(CATALOG, ltr_model=Broken(), mode=OptimizerMode.HYBRID)
    with pytest.raises(ModelFileError, match="finite scores"):
        advisor.recommend(lora_7b())

    class Raises:
        def predict(self, features: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
            raise ValueError("wrong width")

    advisor = TrainingAdvisor(CATALOG, ltr_model=Raises(), mode=OptimizerMode.LTR)
    with pytest.raises(ModelFileError, match="wrong width"):
        advisor.recommend(lora_7b())

    with pytest.raises(InvalidInputError, match="predict"):
        TrainingAdvisor(CATALOG, ltr_model=object(), mode=OptimizerMode.AUTO)  # type: ignore[arg-type]


def test_reliability_and_preemption_history_change_the_advice() -> None:
    base = TrainingAdvisor(CATALOG).recommend(lora_7b(), top=1).advice.recommendations[0]
    provider = base.offering.provider
    distrusted = TrainingAdvisor(CATALOG, reliability={provider: 0.0})
    top = distrusted.recommend(lora_7b(), top=1).advice.recommendations[0]
    assert top.heuristic_score < base.heuristic_score
    trusted = TrainingAdvisor(CATALOG, reliability={provider: 0.97})
    reasons = trusted.recommend(lora_7b(), top=1).advice.recommendations[0].reasons
    assert any("97% of past runs" in reason for reason in reasons)
    assert base.spot
    stormy = TrainingAdvisor(CATALOG, preemption_rates={provider: 0.5})
    stormy_advice = stormy.recommend(lora_7b(), top=400).advice
    stormy_costs = {r.candidate_id: r.estimated_cost for r in stormy_advice.recommendations}
    assert stormy_costs[base.candidate_id] > base.estimated_cost


def test_bad_advisor_arguments() -> None:
    with pytest.raises(InvalidInputError, match="top"):
        TrainingAdvisor(CATALOG).recommend(lora_7b(), top=0)
    with pytest.raises(InvalidInputError, match=r"reliability\.aws"):
        TrainingAdvisor(CATALOG, reliability={"aws": 1.5})
    with pytest.raises(InvalidInputError, match="currency"):
        TrainingAdvisor(CATALOG, display_currency="euro")
    with pytest.raises(InvalidInputError, match="reference_gpu"):
        TrainingAdvisor(CATALOG).recommend(lora_7b(estimated_hours=3, reference_gpu="Voodoo 5"))


def test_calibrated_workload_uses_the_reference() -> None:
    workload = lora_7b(estimated_hours=10.0, reference_gpu="a100-80gb")
    advice = TrainingAdvisor(CATALOG).recommend(workload, top=400).advice
    same_gpu = [
        r
        for r in advice.recommendations
        if r.offering.gpu_type == "A100 80GB" and r.offering.gpu_count == 1 and not r.spot
    ]
    assert same_gpu and same_gpu[0].estimated_hours == pytest.approx(10.0)


def test_warnings_explain_spot_and_estimation_limits() -> None:
    advice = TrainingAdvisor(CATALOG).recommend(lora_7b(checkpointing=False), top=30).advice
    assert any("tokens derived" in warning for warning in advice.warnings)
    spot = [r for r in advice.recommendations if r.spot]
    assert spot and all(
        any("spot without checkpointing" in warning for warning in r.warnings) for r in spot
    )
    assert not any("not ranked" in warning for warning in advice.warnings)


def test_gpus_without_a_throughput_figure_are_named_in_one_warning() -> None:
    specs = dict(CATALOG.gpu_specs)
    specs["T4G"] = specs["T4G"].model_copy(
        update={"bf16_tflops": None, "fp16_tflops": None, "fp32_tflops": None}
    )
    catalog = Catalog(
        offerings=CATALOG.offerings,
        arrays=CatalogArrays.from_offerings(CATALOG.offerings, specs),
        gpu_specs=specs,
        storage_prices=CATALOG.storage_prices,
    )
    advice = TrainingAdvisor(catalog).recommend(lora_7b(), top=5).advice
    assert [w for w in advice.warnings if "not ranked" in w] == [
        "2 candidates not ranked: no throughput figure for T4G"
    ]


def test_cpu_bound_advice_runs_on_cpus() -> None:
    workload = WorkloadProfile(framework="xgboost", model_params_m=1, dataset_size_gb=5)
    advice = TrainingAdvisor(CATALOG).recommend(workload, top=3).advice
    for recommendation in advice.recommendations:
        assert recommendation.offering.gpu_count == 0
        assert any("no GPU to pay for" in reason for reason in recommendation.reasons)


def test_multi_node_and_unpublished_memory_warnings() -> None:
    workload = WorkloadProfile(
        framework="transformers",
        model_params_m=70000,
        dataset_size_gb=2,
        batch_size=1,
        gradient_checkpointing=True,
        distributed=True,
        max_nodes=4,
        spot_allowed=False,
    )
    advice = TrainingAdvisor(CATALOG).recommend(workload, top=200).advice
    multi = [r for r in advice.recommendations if r.nodes > 1]
    assert multi and all(any("multi-node" in w for w in r.warnings) for r in multi)
    assert any("all model states sharded" in reason for r in multi for reason in r.reasons)
    small = WorkloadProfile(
        model_params_m=10, dataset_size_gb=1, tokens=1e7, gpu_required=False, min_system_memory_gb=8
    )
    cpu_advice = TrainingAdvisor(CATALOG).recommend(small, top=400).advice
    unknown = [r for r in cpu_advice.recommendations if r.offering.memory_gb is None]
    assert unknown and all(
        any("system memory not published" in w for w in r.warnings) for r in unknown
    )


def test_candidate_arrays_are_reused_by_the_advisor() -> None:
    workload = lora_7b()
    candidates = build_candidates(workload, CATALOG.arrays)
    result = TrainingAdvisor(CATALOG.arrays).recommend(workload, top=1)
    assert result.advice.candidates_considered == len(candidates)


def test_unpublished_machine_memory_is_flagged() -> None:
    workload = WorkloadProfile(
        framework="xgboost", model_params_m=1, dataset_size_gb=5, allowed_providers=("RunPod",)
    )
    advice = TrainingAdvisor(CATALOG).recommend(workload, top=3).advice
    for recommendation in advice.recommendations:
        assert recommendation.memory_available_gb == 0.0
        assert any("memory of this machine is not published" in w for w in recommendation.warnings)
