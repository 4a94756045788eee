"""TrainingAdvisor: rank every way to run a workload on the catalog, and say why.

``TrainingAdvisor.recommend`` builds the candidates (offering x nodes x spot/on-demand), runs the
estimators, applies the heuristic ranker's hard filters, scores the feasible candidates and
returns ``AdviceResult``: the ``TrainingAdvice`` (ranked ``InstanceRecommendation``s with
factor breakdown, estimates, reasons and warnings) plus what the caller stores for learning
(the feature rows of the returned candidates, their ids and the feature schema version).

Modes (``OptimizerMode``):

* ``heuristic``: the weighted heuristic score.
* ``ltr``: a learned ranking model's scores (min-max normalised over the candidates it ranks
  for display; the order is the model's).
* ``hybrid``: 0.5 x LTR + 0.5 x heuristic, both min-max normalised over the candidates the model
  ranks, so that neither scale dominates by accident.

The model ranks the heuristic's top ``LTR_SHORTLIST`` *widened by outcomes*: every candidate
whose configuration has outcomes for this or a similar workload joins it, however low the
heuristic ranks it (``outcome_support``). The rest follow in heuristic order; the dominance rule
is applied once, last.
* ``auto``: heuristic until a model is given, then hybrid.

The advice records the mode actually used. A model is anything with
``predict(features) -> scores`` (``RankingScorer``); when it declares a
``feature_schema_version`` or ``feature_names`` that differ from the extractor's, it is refused
(``ModelFileError``) rather than fed columns it was not trained on. ``ltr`` or ``hybrid`` without
a model is an input error; ``auto`` is the mode that falls back.

Decisions:

* The library does not store anything: the caller persists the advice and ``feature_rows``
  (one row per returned recommendation, in rank order) with the query id.
* Set-relative features (cost rank) are computed over the feasible candidates, the set the
  model ranks, so stored rows match what a model sees at inference.
* Machines whose memory the catalog does not publish report ``memory_available_gb = 0`` with a
  warning, because the schema's floats must survive a JSON round trip (NaN would not).
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from artenic_opt._internal.arrays import FloatArray
from artenic_opt._internal.math_utils import min_max_normalize
from artenic_opt._internal.money import ExchangeRates, normalize_currency
from artenic_opt.catalog.loader import Catalog, CatalogArrays
from artenic_opt.errors import InfeasibleError, InvalidInputError, ModelFileError
from artenic_opt.estimate import assumptions as asm
from artenic_opt.estimate.candidates import (
    CandidateArrays,
    CandidateEstimates,
    as_exchange_rates,
    build_candidates,
    validate_reliability,
)
from artenic_opt.estimate.cost import validate_preemption_rates
from artenic_opt.estimate.pipeline import enforce_dominance
from artenic_opt.estimate.runtime import PeakSource
from artenic_opt.schemas import (
    FactorScore,
    InstanceRecommendation,
    TrainingAdvice,
    TrainingPlan,
    WorkloadProfile,
    parse_model,
)
from artenic_opt.training_advisor.alternatives import (
    DEFAULT_ALTERNATIVES_THRESHOLD,
    describe_alternatives,
    parameter_efficient_alternatives,
)
from artenic_opt.training_advisor.blend import blend_weight_of, hybrid_blend
from artenic_opt.training_advisor.feature_extractor import (
    FEATURE_NAMES,
    FEATURE_SCHEMA_VERSION,
    extract_features,
)
from artenic_opt.training_advisor.heuristic_ranker import (
    FACTOR_NAMES,
    HeuristicRanking,
    RankingWeights,
    order_by_score,
    rank_candidates,
    weights_for_goal,
)
from artenic_opt.training_advisor.outcome_support import learned_shortlist
from artenic_opt.types import OptimizationGoal, OptimizerMode, ShardingMode

#: How many of the heuristic's best candidates the learned model ranks at least (ltr and hybrid);
#: candidates with outcome support join them (``learned_shortlist``).
LTR_SHORTLIST = 10
#: Spare usable memory below which a recommendation warns of out-of-memory risk.
LOW_HEADROOM = 0.10
MAX_TOP = 1000


@runtime_checkable
class RankingScorer(Protocol):
    """A learned ranking model: one score per feature row, higher ranks first."""

    def predict(self, features: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]: ...


@dataclass(frozen=True, slots=True, eq=False)
class AdviceResult:
    """The advice, plus the feature rows of its recommendations for storing."""

    advice: TrainingAdvice
    #: ``(len(advice.recommendations) x len(feature_names))``, in rank order.
    feature_rows: FloatArray
    candidate_ids: tuple[str, ...]
    feature_names: tuple[str, ...] = FEATURE_NAMES
    feature_schema_version: int = FEATURE_SCHEMA_VERSION
    ranking: HeuristicRanking | None = None


def _coerce_weights(weights: RankingWeights | Mapping[str, Any] | None) -> RankingWeights | None:
    if weights is None or isinstance(weights, RankingWeights):
        return weights
    return RankingWeights.from_mapping(weights)


def check_model_schema(model: object) -> None:
    """Refuse a model that declares another feature schema than the extractor's."""
    sources = [model, getattr(model, "metadata", None)]
    for source in sources:
        if source is None:
            continue
        version = getattr(source, "feature_schema_version", None)
        if isinstance(version, int) and version != FEATURE_SCHEMA_VERSION:
            raise ModelFileError(
                f"ltr model: trained on feature schema {version}, the advisor extracts "
                f"schema {FEATURE_SCHEMA_VERSION}; retrain the model"
            )
        names = getattr(source, "feature_names", None)
        if isinstance(names, Sequence) and names and tuple(names) != FEATURE_NAMES:
            raise ModelFileError(
                "ltr model: its feature names differ from the advisor's; retrain the model"
            )


class TrainingAdvisor:
    """Ranks the catalog's offerings for training workloads."""

    def __init__(
        self,
        catalog_arrays: CatalogArrays | Catalog,
        *,
        reliability: Mapping[str, float] | None = None,
        weights: RankingWeights | Mapping[str, Any] | None = None,
        display_currency: str = "USD",
        rates: ExchangeRates | Mapping[str, float] | None = None,
        ltr_model: RankingScorer | None = None,
        mode: OptimizerMode = OptimizerMode.HEURISTIC,
        preemption_rates: Mapping[str, float] | None = None,
        model_version: int | None = None,
        alternatives_threshold: float = DEFAULT_ALTERNATIVES_THRESHOLD,
    ) -> None:
        if not alternatives_threshold >= 1.0:
            raise InvalidInputError(
                f"alternatives_threshold: must be at least 1 (a cost ratio), got "
                f"{alternatives_threshold!r}"
            )
        self.alternatives_threshold = float(alternatives_threshold)
        arrays = catalog_arrays.arrays if isinstance(catalog_arrays, Catalog) else catalog_arrays
        self.arrays: CatalogArrays = arrays
        self.reliability = validate_reliability(reliability)
        self.preemption_rates = validate_preemption_rates(preemption_rates)
        self.weights = _coerce_weights(weights)
        self.display_currency = normalize_currency(display_currency)
        self.rates = as_exchange_rates(rates)
        if ltr_model is not None:
            if not callable(getattr(ltr_model, "predict", None)):
                raise InvalidInputError("ltr_model: needs a predict(features) method")
            check_model_schema(ltr_model)
        self.ltr_model = ltr_model
        self.mode = OptimizerMode(mode)
        self.model_version = model_version
        self.effective_mode()  # fail at construction, not at the first recommendation

    def effective_mode(self) -> OptimizerMode:
        """The mode ``recommend`` will use: ``auto`` resolves to hybrid once a model exists."""
        if self.mode is OptimizerMode.AUTO:
            return OptimizerMode.HYBRID if self.ltr_model is not None else OptimizerMode.HEURISTIC
        if self.mode in (OptimizerMode.LTR, OptimizerMode.HYBRID) and self.ltr_model is None:
            raise InvalidInputError(
                f"mode: {self.mode.value} needs a trained ranking model; train one first, or "
                "use mode heuristic or auto"
            )
        return self.mode

    def _weights(
        self,
        goal: OptimizationGoal | None,
        weights: RankingWeights | Mapping[str, Any] | None,
    ) -> RankingWeights:
        explicit = _coerce_weights(weights)
        if explicit is not None:
            return explicit
        if goal is not None:
            return weights_for_goal(goal)
        return self.weights or weights_for_goal(OptimizationGoal.BALANCED)

    def recommend(
        self,
        workload: WorkloadProfile,
        *,
        top: int = 10,
        goal: OptimizationGoal | None = None,
        weights: RankingWeights | Mapping[str, Any] | None = None,
    ) -> AdviceResult:
        """Rank the catalog for ``workload`` and return the best ``top`` candidates.

        Weights: ``weights`` if given, else the ``goal`` preset if given, else the advisor's
        configured weights, else the balanced preset. Raises ``InfeasibleError`` when nothing
        satisfies the workload's constraints.
        """
        if not 1 <= top <= MAX_TOP:
            raise InvalidInputError(f"top: must be between 1 and {MAX_TOP}, got {top}")
        # ``model_copy(update=...)`` (how callers apply flag overrides) skips validation;
        # re-validating turns strings back into enums and rejects contradictions.
        workload = parse_model(
            WorkloadProfile, workload.model_dump(warnings=False), context="workload"
        )
        mode = self.effective_mode()
        chosen = self._weights(goal, weights)
        candidates = build_candidates(
            workload,
            self.arrays,
            currency=self.display_currency,
            rates=self.rates,
            reliability=self.reliability,
            preemption_rates=self.preemption_rates,
        )
        try:
            ranking = rank_candidates(workload, candidates, weights=chosen)
        except InfeasibleError as exc:
            # Never change the user's method: say what a parameter-efficient run would cost.
            others = parameter_efficient_alternatives(
                workload, candidates, weights=chosen, full_cheapest_cost=None
            )
            if others:
                raise InfeasibleError(f"{exc}; {describe_alternatives(others)}") from None
            raise
        alternatives = parameter_efficient_alternatives(
            workload,
            candidates,
            weights=chosen,
            full_cheapest_cost=float(ranking.feasible_estimates.total_cost.min()),
            threshold=self.alternatives_threshold,
        )
        index = ranking.feasible_index
        subset = ranking.feasible_candidates
        subset_estimates = ranking.feasible_estimates
        features = extract_features(workload, subset, estimates=subset_estimates)

        heuristic = ranking.scores
        # ``effective_mode`` guarantees a model for the ltr and hybrid modes.
        model = None if mode is OptimizerMode.HEURISTIC else self.ltr_model
        ltr_raw: FloatArray | None = None
        if model is None:
            final = heuristic
            order = ranking.order
        else:
            # Only what the model saw outcomes of joins the shortlist: scoring every feasible row
            # made hybrid rank worse than the heuristic (``outcome_support``).
            shortlist = learned_shortlist(
                ranking.order,
                features.values,
                model,
                LTR_SHORTLIST,
                cost=subset_estimates.total_cost,
                hours=subset_estimates.hours,
            )
            rest = ranking.order[~np.isin(ranking.order, shortlist)]
            short_candidates = subset.take(shortlist)
            short_estimates = subset_estimates.take(shortlist)
            short_raw = _predict(model, features.values[shortlist])
            ltr_raw = np.full(len(subset), np.nan)
            ltr_raw[shortlist] = short_raw
            final = heuristic.copy()
            if mode is OptimizerMode.LTR:
                final[shortlist] = min_max_normalize(short_raw)
                # Order by the raw model score; normalisation keeps the order but can tie
                # values that differ only below float resolution.
                short_order = order_by_score(short_raw, short_candidates, short_estimates)
            else:
                final[shortlist] = hybrid_blend(
                    short_raw, heuristic[shortlist], blend_weight_of(model)
                )
                short_order = order_by_score(final[shortlist], short_candidates, short_estimates)
            # The model's order meets the ranking rule again as the pipeline's last step.
            order = enforce_dominance(
                np.concatenate([shortlist[short_order], rest]),
                subset_estimates.total_cost,
                subset_estimates.hours,
            )

        chosen_rows = order[:top]
        recommendations = tuple(
            self._recommendation(
                rank=rank,
                row=int(row),
                workload=workload,
                candidates=subset,
                estimates=subset_estimates,
                ranking=ranking,
                final=final,
                ltr_raw=ltr_raw,
            )
            for rank, row in enumerate(chosen_rows, start=1)
        )
        advice = TrainingAdvice(
            recommendation_id=uuid.uuid4().hex,
            query_id=workload.query_id,
            workload=workload,
            mode=mode,
            goal=goal or OptimizationGoal.BALANCED,
            model_version=self.model_version if mode is not OptimizerMode.HEURISTIC else None,
            candidates_considered=len(candidates),
            candidates_feasible=int(index.shape[0]),
            display_currency=self.display_currency,
            recommendations=recommendations,
            warnings=_advice_warnings(ranking),
            alternatives=alternatives,
        )
        return AdviceResult(
            advice=advice,
            feature_rows=features.values[chosen_rows].copy(),
            candidate_ids=tuple(subset.candidate_id(int(row)) for row in chosen_rows),
            ranking=ranking,
        )

    def _recommendation(
        self,
        *,
        rank: int,
        row: int,
        workload: WorkloadProfile,
        candidates: CandidateArrays,
        estimates: CandidateEstimates,
        ranking: HeuristicRanking,
        final: FloatArray,
        ltr_raw: FloatArray | None,
    ) -> InstanceRecommendation:
        weights = ranking.weights.as_dict()
        factors = tuple(
            FactorScore(
                name=name,
                value=float(ranking.factors[name][row]),
                weight=weights[name],
                contribution=float(ranking.factors[name][row]) * weights[name],
            )
            for name in FACTOR_NAMES
        )
        memory = estimates.memory
        nodes = int(candidates.nodes[row])
        spot_cost = float(estimates.cost.spot_cost[row])
        available = float(memory.available_gb[row])
        return InstanceRecommendation(
            rank=rank,
            offering=candidates.offering(row),
            nodes=nodes,
            spot=bool(candidates.spot[row]),
            score=float(final[row]),
            heuristic_score=float(ranking.scores[row]),
            ltr_score=None if ltr_raw is None or np.isnan(ltr_raw[row]) else float(ltr_raw[row]),
            factors=factors,
            price_per_hour=float(candidates.price_per_hour[row]) * nodes,
            estimated_hours=float(estimates.hours[row]),
            estimated_cost=float(estimates.total_cost[row]),
            estimated_cost_on_demand=float(estimates.cost.on_demand_cost[row]),
            estimated_cost_spot=spot_cost if np.isfinite(spot_cost) else None,
            currency=candidates.currency,
            memory_needed_gb=float(memory.needed_gb[row]),
            memory_available_gb=available if np.isfinite(available) else 0.0,
            reasons=_reasons(row, workload, candidates, estimates, self.reliability),
            warnings=_warnings(row, workload, candidates, estimates),
            plan=_plan(row, workload, estimates),
        )


def _predict(model: RankingScorer, features: FloatArray) -> FloatArray:
    """The model's scores of the feature rows, checked: one finite score per row."""
    try:
        raw = np.asarray(model.predict(features), dtype=np.float64).reshape(-1)
    except (TypeError, ValueError) as exc:
        raise ModelFileError(f"ltr model: prediction failed: {exc}") from None
    finite = bool(np.all(np.isfinite(raw)))
    if raw.shape[0] != features.shape[0] or not finite:
        raise ModelFileError(
            f"ltr model: expected {features.shape[0]} finite scores, got {raw.shape[0]} values"
            + ("" if finite else " including NaN or infinity")
        )
    return raw


# --------------------------------------------------------------------------------------------
# Plain-language reasons and warnings
# --------------------------------------------------------------------------------------------


def _money(amount: float, currency: str) -> str:
    return f"{amount:,.2f} {currency}"


def _hours(hours: float) -> str:
    return f"{hours:,.1f} h" if hours >= 1 else f"{hours * 60:,.0f} min"


def _machine(candidates: CandidateArrays, row: int) -> str:
    gpus = int(candidates.gpu_count[row])
    nodes = int(candidates.nodes[row])
    shape = f"{gpus} x {candidates.gpu_type[row]}" if gpus else "CPU only"
    return f"{nodes} nodes of {shape}" if nodes > 1 else shape


def _reasons(
    row: int,
    workload: WorkloadProfile,
    candidates: CandidateArrays,
    estimates: CandidateEstimates,
    reliability: Mapping[str, float],
) -> tuple[str, ...]:
    currency = candidates.currency
    cost = float(estimates.total_cost[row])
    cheapest = float(estimates.total_cost.min())
    hours = float(estimates.hours[row])
    fastest = float(estimates.hours.min())
    reasons: list[str] = []
    if cost <= cheapest:
        reasons.append(f"cheapest feasible option: {_money(cost, currency)} for the whole job")
    else:
        reasons.append(
            f"{_money(cost, currency)} for the whole job, "
            f"{(cost / cheapest - 1) * 100:,.0f}% above the cheapest feasible option"
        )
    if hours <= fastest:
        reasons.append(f"fastest feasible option: about {_hours(hours)}")
    else:
        reasons.append(f"about {_hours(hours)} ({hours / fastest:,.1f}x the fastest option)")
    memory = estimates.memory
    needed = float(memory.needed_gb[row])
    available = float(memory.available_gb[row])
    if memory.on_gpu[row]:
        spare = float(memory.headroom_ratio[row])
        text = f"needs {needed:,.1f} of {available:,.0f} GB per GPU ({spare:.0%} left free)"
        if int(candidates.gpu_count[row]) * int(candidates.nodes[row]) == 1:
            text += f"; fits on a single {candidates.gpu_type[row]}"
        reasons.append(text)
        plan = _plan(row, workload, estimates)
        if plan is not None:
            reasons.append(f"plan: {plan_sentence(plan, workload)}")
    elif np.isfinite(available):
        reasons.append(f"needs {needed:,.1f} of {available:,.0f} GB of RAM")
    if candidates.spot[row]:
        on_demand = float(estimates.cost.on_demand_cost[row])
        if on_demand > 0 and cost < on_demand:
            reasons.append(
                f"spot: {(1 - cost / on_demand) * 100:,.0f}% cheaper than on-demand "
                f"({_money(on_demand, currency)}), expected preemption retries included"
            )
    provider = str(candidates.provider[row])
    rate = reliability.get(provider.lower())
    if rate is not None:
        reasons.append(f"{provider} completed {rate:.0%} of past runs")
    if workload.framework.is_cpu_bound and not candidates.gpu_count[row]:
        reasons.append(f"{workload.framework.value} runs on CPUs: no GPU to pay for")
    elif workload.is_data_processing and not candidates.gpu_count[row]:
        reasons.append("data processing on CPUs: no GPU to pay for")
    return tuple(reasons)


def _plan(
    row: int, workload: WorkloadProfile, estimates: CandidateEstimates
) -> TrainingPlan | None:
    """The row's training plan (GPU rows only: host-RAM jobs have no plan to choose)."""
    if not estimates.memory.on_gpu[row]:
        return None
    return estimates.plans.plan(row, workload, float(estimates.memory.needed_gb[row]))


_SHARDING_WORDS = {
    ShardingMode.DDP: "data parallel (full replica per GPU)",
    ShardingMode.ZERO1: "ZeRO-1 (optimiser states sharded)",
    ShardingMode.ZERO2: "ZeRO-2 (optimiser states and gradients sharded)",
    ShardingMode.ZERO3: "ZeRO-3 (all model states sharded)",
    ShardingMode.FSDP: "FSDP full shard (all model states sharded)",
}


def plan_sentence(plan: TrainingPlan, workload: WorkloadProfile) -> str:
    """One line for ``--explain``: how the job runs on the offering."""
    parts = [
        f"micro-batch {plan.micro_batch_size} x {plan.accumulation_steps} accumulation step(s)"
        f" x {plan.data_parallel} replica(s) for the global batch of {workload.batch_size}",
        _SHARDING_WORDS[plan.sharding],
        f"activation checkpointing {plan.gradient_checkpointing.value}",
    ]
    if plan.tensor_parallel > 1:
        parts.append(f"tensor parallel {plan.tensor_parallel} within the node")
    if plan.offload:
        parts.append("optimiser states and gradients offloaded to CPU RAM")
    parts.append(f"{plan.optimizer.value}{' (pure bf16)' if plan.pure_bf16 else ''}")
    return ", ".join(parts)


def _warnings(
    row: int,
    workload: WorkloadProfile,
    candidates: CandidateArrays,
    estimates: CandidateEstimates,
) -> tuple[str, ...]:
    warnings: list[str] = []
    gpu = str(candidates.gpu_type[row])
    source = PeakSource(int(estimates.time.peak_source[row]))
    if source is PeakSource.SUBSTITUTE:
        warnings.append(
            f"{gpu} has no native {workload.precision.value}: estimated with "
            f"{'fp16' if workload.precision.value != 'fp16' else 'bf16'} mixed precision"
        )
    elif source is PeakSource.FP32_FALLBACK:
        warnings.append(
            f"{gpu} has no published tensor-core figure: throughput estimated as "
            f"{asm.FP32_TO_TENSOR_FALLBACK_FACTOR:g} x its fp32 rate"
        )
    elif (
        source is PeakSource.CPU
        and not workload.framework.is_cpu_bound
        and not workload.is_data_processing
    ):
        warnings.append(
            "deep learning on CPUs only: estimated at "
            f"{asm.CPU_PEAK_GFLOPS_PER_VCPU:g} GFLOP/s per vCPU, expect it to be slow"
        )
    memory = estimates.memory
    if not memory.available_known[row]:
        warnings.append(
            f"memory of this machine is not published: check that it holds "
            f"{float(memory.needed_gb[row]):,.1f} GB"
        )
    elif float(memory.headroom_ratio[row]) < LOW_HEADROOM:
        warnings.append(
            f"only {float(memory.headroom_ratio[row]):.0%} of usable memory spare: risk of "
            "running out of memory with longer sequences or larger batches"
        )
    if memory.host_min_gb > 0 and not memory.host_known[row]:
        warnings.append(
            f"system memory not published; the workload asks for {memory.host_min_gb:g} GB"
        )
    if estimates.time.vcpus_assumed[row]:
        warnings.append("vCPU count not published: estimated with a default count")
    if candidates.spot[row]:
        preemptions = float(estimates.cost.expected_preemptions[row])
        if not workload.checkpointing:
            chance = 1.0 - math.exp(-preemptions)
            warnings.append(
                "spot without checkpointing: a preemption restarts the run from the start "
                + (
                    f"(about {preemptions:,.1f} expected)"
                    if preemptions >= 0.5
                    else f"(about a {chance:.0%} chance of at least one)"
                )
            )
        elif preemptions >= 0.5:
            warnings.append(
                f"spot: about {preemptions:,.1f} preemptions expected; each loses up to "
                f"{workload.checkpoint_interval_hours:g} h of work since the last checkpoint"
            )
    nodes = int(candidates.nodes[row])
    if nodes > 1:
        warnings.append(
            f"multi-node: assumes a fast interconnect between the {nodes} nodes "
            f"({_machine(candidates, row)})"
        )
    return tuple(warnings)


def _advice_warnings(ranking: HeuristicRanking) -> tuple[str, ...]:
    warnings = list(ranking.estimates.notes)
    unknown = ranking.excluded.get("throughput", 0)
    if unknown:
        candidates = ranking.candidates
        hours = ranking.estimates.time.hours
        gpus = sorted({str(g) for g in candidates.gpu_type[hours != hours].tolist() if g})
        warnings.append(
            f"{unknown} candidates not ranked: no throughput figure for {', '.join(gpus)}"
        )
    return tuple(warnings)
