"""Heuristic ranking: hard filters, then a weighted score, then a deterministic order.

**Hard filters** come first: ``estimate.filters.apply_hard_filters`` (shared with the cost
analyzer; its docstring lists them in order). When one leaves nothing, ``InfeasibleError`` names
it with the numbers that bind.

**Score** of each feasible candidate, every factor in [0, 1]:

* ``cost_efficiency``: cheapest feasible cost / this cost (so twice the price scores 0.5);
* ``gpu_match``: how well the hardware suits the job: native support of the precision (1.0;
  0.85 when a GPU substitutes fp16 for bf16; 0.6 when only an fp32 figure exists; deep learning on
  CPUs 0.3). GPU count is not judged here: the training plan puts every GPU to work, and what
  extra GPUs cost or save shows in ``cost_efficiency`` and ``speed``. For CPU-bound frameworks
  a CPU-only machine matches fully and a GPU machine, whose GPUs would idle, scores 0.25;
* ``memory_headroom``: spare usable memory as a share of usable memory, divided by 0.3 and capped
  at 1: headroom beyond 30% buys no more safety; unknown memory scores 0;
* ``provider_reliability``: the provider's success rate from stored outcomes (1.0 without);
* ``speed``: fastest feasible hours / these hours.

Weights must be non-negative and sum to 1 (``RankingWeights``). Goal presets:

* ``balanced`` (default): cost 0.40, speed 0.30, GPU match 0.10, memory headroom 0.10,
  reliability 0.10: time has a value (a run twice as slow as the fastest loses 0.15), so a
  cheap offering that takes 20x longer no longer wins on price alone;
* ``cost``: cost 0.70, GPU match 0.10, memory headroom 0.10, reliability 0.10;
* ``speed``: speed 0.50, cost 0.15, GPU match 0.15, memory headroom 0.10, reliability 0.10.

**Order**: by score, highest first, then the ranking rule (``estimate.pipeline``): no candidate
stays above one that is cheaper (whole-job cost, spot retries included) and no slower. Equal
scores are broken by lower estimated cost, then fewer hours, then provider, region and instance
type (lexicographic), fewer nodes, on-demand before spot, GPU type and per-hour price. Every
step is computed per row from the row's own content, so the same candidates in any row order
give the same ranking.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from artenic_opt._internal.arrays import FloatArray, IntArray
from artenic_opt._internal.math_utils import validate_weights, weighted_aggregate
from artenic_opt.catalog.loader import CatalogArrays
from artenic_opt.errors import InvalidInputError
from artenic_opt.estimate.candidates import (
    CandidateArrays,
    CandidateEstimates,
    build_candidates,
)
from artenic_opt.estimate.pipeline import enforce_dominance, filter_estimated
from artenic_opt.estimate.runtime import PeakSource
from artenic_opt.estimate.workload import WorkloadKind
from artenic_opt.schemas import WorkloadProfile
from artenic_opt.types import OptimizationGoal

FACTOR_NAMES: tuple[str, ...] = (
    "cost_efficiency",
    "gpu_match",
    "memory_headroom",
    "provider_reliability",
    "speed",
)

#: Headroom (share of usable memory left free) that counts as fully safe.
SAFE_HEADROOM = 0.30
_PRECISION_MATCH = {
    PeakSource.NATIVE: 1.0,
    PeakSource.SUBSTITUTE: 0.85,
    PeakSource.FP32_FALLBACK: 0.6,
    PeakSource.CPU: 0.3,
    PeakSource.UNKNOWN: 0.0,
}
_GPU_IDLE_MATCH = 0.25


@dataclass(frozen=True, slots=True)
class RankingWeights:
    """Weights of the heuristic factors; non-negative, summing to 1."""

    cost_efficiency: float = 0.40
    gpu_match: float = 0.10
    memory_headroom: float = 0.10
    provider_reliability: float = 0.10
    speed: float = 0.30

    def __post_init__(self) -> None:
        validate_weights(self.as_dict())

    def as_dict(self) -> dict[str, float]:
        return {name: float(getattr(self, name)) for name in FACTOR_NAMES}

    @classmethod
    def from_mapping(cls, weights: Mapping[str, Any]) -> RankingWeights:
        """Weights from a mapping such as a config table; missing factors weigh 0."""
        unknown = sorted(set(weights) - set(FACTOR_NAMES))
        if unknown:
            raise InvalidInputError(
                f"weights: unknown factor {', '.join(unknown)}; "
                f"known factors: {', '.join(FACTOR_NAMES)}"
            )
        checked = validate_weights(weights)
        return cls(**{name: checked.get(name, 0.0) for name in FACTOR_NAMES})


GOAL_WEIGHTS: Mapping[OptimizationGoal, RankingWeights] = {
    OptimizationGoal.BALANCED: RankingWeights(),
    OptimizationGoal.COST: RankingWeights(
        cost_efficiency=0.70,
        gpu_match=0.10,
        memory_headroom=0.10,
        provider_reliability=0.10,
        speed=0.0,
    ),
    OptimizationGoal.SPEED: RankingWeights(
        cost_efficiency=0.15,
        gpu_match=0.15,
        memory_headroom=0.10,
        provider_reliability=0.10,
        speed=0.50,
    ),
}


def weights_for_goal(goal: OptimizationGoal) -> RankingWeights:
    return GOAL_WEIGHTS[goal]


@dataclass(frozen=True, slots=True, eq=False)
class HeuristicRanking:
    """The feasible candidates, their factors and scores, and the ranked order."""

    candidates: CandidateArrays
    estimates: CandidateEstimates
    #: Positions (into ``candidates``) of the feasible rows; factor and score arrays align.
    feasible_index: IntArray
    #: The feasible rows themselves, in ``feasible_index`` order.
    feasible_candidates: CandidateArrays
    feasible_estimates: CandidateEstimates
    factors: Mapping[str, FloatArray]
    scores: FloatArray
    #: Positions into ``feasible_index``, best first.
    order: IntArray
    weights: RankingWeights
    #: Candidates removed by each filter, in filter order.
    excluded: Mapping[str, int]

    @property
    def ranked_index(self) -> IntArray:
        """Positions into ``candidates`` of the feasible rows, best first."""
        ranked: IntArray = self.feasible_index[self.order]
        return ranked


# --------------------------------------------------------------------------------------------
# Factors, score and order
# --------------------------------------------------------------------------------------------


_PRECISION_MATCH_TABLE = np.array([_PRECISION_MATCH[source] for source in PeakSource])


def _precision_match(estimates: CandidateEstimates) -> FloatArray:
    matched: FloatArray = _PRECISION_MATCH_TABLE[estimates.time.peak_source.astype(np.int64)]
    return matched


def compute_factors(
    workload: WorkloadProfile,
    candidates: CandidateArrays,
    estimates: CandidateEstimates,
) -> dict[str, FloatArray]:
    """The five factors, each in [0, 1], of every row of a (feasible) candidate set."""
    cost = estimates.total_cost
    hours = estimates.hours
    memory = estimates.memory
    cheapest = float(cost.min()) if cost.size else 1.0
    fastest = float(hours.min()) if hours.size else 1.0
    if estimates.facts.kind is WorkloadKind.TABULAR:
        gpu_match = np.where(candidates.gpu_count > 0, _GPU_IDLE_MATCH, 1.0)
    else:
        # Extra GPUs are not punished here: the plan puts them to work (data parallel or
        # sharding), and what they cost or save shows in the cost and speed factors.
        gpu_match = _precision_match(estimates)
    headroom = np.where(memory.available_known, memory.headroom_ratio, 0.0)
    return {
        "cost_efficiency": _share(cheapest, cost),
        "gpu_match": np.asarray(gpu_match, dtype=np.float64),
        "memory_headroom": np.clip(headroom / SAFE_HEADROOM, 0.0, 1.0),
        "provider_reliability": np.clip(candidates.reliability, 0.0, 1.0),
        "speed": _share(fastest, hours),
    }


def _share(best: float, values: FloatArray) -> FloatArray:
    """``best / values`` clipped to [0, 1]; a zero value (as cheap or fast as can be) scores 1."""
    out = np.ones(values.shape, dtype=np.float64)
    np.divide(best, values, out=out, where=values > 0)
    return np.clip(out, 0.0, 1.0)


def _codes(values: npt.NDArray[Any]) -> IntArray:
    # Lexicographic rank of each string; the same strings get the same codes in any row order.
    _, inverse = np.unique(values, return_inverse=True)
    codes: IntArray = inverse.astype(np.int64).reshape(-1)
    return codes


def order_by_score(
    scores: npt.ArrayLike, candidates: CandidateArrays, estimates: CandidateEstimates
) -> IntArray:
    """Positions of the rows, best first, with the documented tie-break rule."""
    score = np.asarray(scores, dtype=np.float64)
    keys = (
        candidates.on_demand_price_per_hour,
        _codes(candidates.gpu_type),
        candidates.spot.astype(np.int64),
        candidates.nodes,
        _codes(candidates.instance_type),
        _codes(candidates.region),
        _codes(candidates.provider),
        estimates.hours,
        estimates.total_cost,
        -score,
    )
    order = np.lexsort(keys).astype(np.int64)
    # The last step of every order (DESIGN §2 ranking rule): nothing above its dominator.
    return enforce_dominance(order, estimates.total_cost, estimates.hours)


def rank_candidates(
    workload: WorkloadProfile,
    candidates: CandidateArrays,
    estimates: CandidateEstimates | None = None,
    *,
    weights: RankingWeights | None = None,
    goal: OptimizationGoal = OptimizationGoal.BALANCED,
) -> HeuristicRanking:
    """Filter, score and order ``candidates``; ``weights`` override the ``goal`` preset."""
    chosen = weights or weights_for_goal(goal)
    front = filter_estimated(workload, candidates, estimates)
    estimates = front.estimates
    excluded = front.excluded
    index = front.feasible_index
    subset = candidates.take(index)
    subset_estimates = estimates.take(index)
    factors = compute_factors(workload, subset, subset_estimates)
    scores = weighted_aggregate(factors, chosen.as_dict())
    order = order_by_score(scores, subset, subset_estimates)
    return HeuristicRanking(
        candidates=candidates,
        estimates=estimates,
        feasible_index=index,
        feasible_candidates=subset,
        feasible_estimates=subset_estimates,
        factors=factors,
        scores=scores,
        order=order,
        weights=chosen,
        excluded=excluded,
    )


def rank_offerings(
    workload: WorkloadProfile,
    arrays: CatalogArrays,
    *,
    currency: str = "USD",
    rates: Mapping[str, float] | None = None,
    reliability: Mapping[str, float] | None = None,
    preemption_rates: Mapping[str, float] | None = None,
    weights: RankingWeights | None = None,
    goal: OptimizationGoal = OptimizationGoal.BALANCED,
) -> HeuristicRanking:
    """Build the candidates of ``arrays`` for ``workload``, estimate them and rank them."""
    candidates = build_candidates(
        workload,
        arrays,
        currency=currency,
        rates=rates,
        reliability=reliability,
        preemption_rates=preemption_rates,
    )
    return rank_candidates(workload, candidates, weights=weights, goal=goal)


__all__ = [
    "FACTOR_NAMES",
    "GOAL_WEIGHTS",
    "HeuristicRanking",
    "RankingWeights",
    "compute_factors",
    "order_by_score",
    "rank_candidates",
    "rank_offerings",
    "weights_for_goal",
]
