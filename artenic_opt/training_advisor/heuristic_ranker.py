"""Heuristic ranking: hard filters, then a weighted score, then a deterministic order.

**Hard filters**, applied in this order; when one leaves nothing, ``InfeasibleError`` names it
with the numbers that bind (what the job needs against the best the remaining offerings have):

1. allowed providers, then allowed regions (case-insensitive);
2. compute: deep-learning workloads with ``gpu_required`` need GPU offerings with at least
   ``num_workers`` GPUs per node; CPU-bound frameworks and ``gpu_required = false`` workloads may
   also use CPU-only offerings;
3. a known throughput (GPU types without any datasheet figure cannot be estimated);
4. device memory (GPU memory per GPU, or host RAM where the job runs on CPUs), with the 90%
   headroom rule of ``estimate.memory``;
5. the workload's ``min_system_memory_gb``;
6. spot candidates whose expected preemptions make the run endless;
7. the deadline (estimated wall-clock hours, spot retries included);
8. the budget (whole-job cost, converted to the display currency with the candidates' rates).

Spot candidates exist only when the workload allows spot (``build_candidates``).

**Score** of each feasible candidate, every factor in [0, 1]:

* ``cost_efficiency``: cheapest feasible cost / this cost (so twice the price scores 0.5);
* ``gpu_match``: how well the hardware suits the job: native support of the precision (1.0;
  0.85 when a GPU substitutes fp16 for bf16; 0.6 when only an fp32 figure exists; deep learning on
  CPUs 0.3) times right-sizing, ``devices the memory needs / devices paid for``: a job that fits
  one GPU matches a one-GPU machine fully and an eight-GPU one at 1/8, since the extra GPUs only
  buy data-parallel speed (which ``speed`` rewards) at a scaling loss. For CPU-bound frameworks
  a CPU-only machine matches fully and a GPU machine, whose GPUs would idle, scores 0.25;
* ``memory_headroom``: spare usable memory as a share of usable memory, divided by 0.3 and capped
  at 1: headroom beyond 30% buys no more safety; unknown memory scores 0;
* ``provider_reliability``: the provider's success rate from stored outcomes (1.0 without);
* ``speed``: fastest feasible hours / these hours.

Weights must be non-negative and sum to 1 (``RankingWeights``). Goal presets:

* ``balanced`` (default): cost 0.40, GPU match 0.30, memory headroom 0.20, reliability 0.10;
* ``cost``: cost 0.70, GPU match 0.10, memory headroom 0.10, reliability 0.10;
* ``speed``: speed 0.50, cost 0.15, GPU match 0.15, memory headroom 0.10, reliability 0.10.

**Order**: by score, highest first. Equal scores are broken by lower estimated cost, then fewer
hours, then provider, region and instance type (lexicographic), fewer nodes, on-demand before
spot, GPU type and per-hour price. Every step is computed per row from the row's own content, so
the same candidates in any row order give the same ranking.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from artenic_opt._internal.math_utils import validate_weights, weighted_aggregate
from artenic_opt.catalog.loader import CatalogArrays
from artenic_opt.errors import InfeasibleError, InvalidInputError
from artenic_opt.estimate.memory import min_devices_needed
from artenic_opt.estimate.runtime import PeakSource
from artenic_opt.estimate.workload import WorkloadKind
from artenic_opt.schemas import WorkloadProfile
from artenic_opt.training_advisor.candidates import (
    CandidateArrays,
    CandidateEstimates,
    build_candidates,
    estimate_candidates,
)
from artenic_opt.types import OptimizationGoal

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

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
    gpu_match: float = 0.30
    memory_headroom: float = 0.20
    provider_reliability: float = 0.10
    speed: float = 0.0

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
        cost_efficiency=0.70, gpu_match=0.10, memory_headroom=0.10, provider_reliability=0.10
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
# Filters
# --------------------------------------------------------------------------------------------


def _fmt(value: float) -> str:
    return f"{value:,.2f}" if value < 1000 else f"{value:,.0f}"


def _lower_set(names: tuple[str, ...]) -> list[str]:
    return sorted({name.strip().lower() for name in names})


@dataclass(frozen=True, slots=True)
class _Context:
    workload: WorkloadProfile
    candidates: CandidateArrays
    estimates: CandidateEstimates
    budget: float | None


_Filter = tuple[str, Callable[[_Context], BoolArray], Callable[[_Context, IntArray], str]]


def _provider_mask(ctx: _Context) -> BoolArray:
    allowed = _lower_set(ctx.workload.allowed_providers)
    if not allowed:
        return np.ones(len(ctx.candidates), dtype=np.bool_)
    return np.isin(np.char.lower(ctx.candidates.provider), allowed)


def _provider_message(ctx: _Context, rows: IntArray) -> str:
    present = sorted({str(p) for p in ctx.candidates.provider[rows].tolist()}, key=str.lower)
    return (
        f"no offering from the allowed providers ({', '.join(ctx.workload.allowed_providers)}); "
        f"the catalog has: {', '.join(present)}"
    )


def _region_mask(ctx: _Context) -> BoolArray:
    allowed = _lower_set(ctx.workload.allowed_regions)
    if not allowed:
        return np.ones(len(ctx.candidates), dtype=np.bool_)
    return np.isin(np.char.lower(ctx.candidates.region), allowed)


def _region_message(ctx: _Context, rows: IntArray) -> str:
    present = sorted({str(r) for r in ctx.candidates.region[rows].tolist()}, key=str.lower)
    shown = ", ".join(present[:12]) + (", ..." if len(present) > 12 else "")
    return (
        f"no offering in the allowed regions ({', '.join(ctx.workload.allowed_regions)}) "
        f"among the allowed providers; available regions: {shown}"
    )


def _needs_gpu(workload: WorkloadProfile) -> bool:
    return workload.gpu_required and not workload.framework.is_cpu_bound


def _compute_mask(ctx: _Context) -> BoolArray:
    if not _needs_gpu(ctx.workload):
        return np.ones(len(ctx.candidates), dtype=np.bool_)
    return ctx.candidates.gpu_count >= max(1, ctx.workload.num_workers)


def _compute_message(ctx: _Context, rows: IntArray) -> str:
    most = int(ctx.candidates.gpu_count[rows].max()) if rows.size else 0
    if most == 0:
        return (
            "no GPU offering among the allowed offerings, and the workload needs a GPU "
            "(set gpu_required = false to allow CPU-only machines)"
        )
    return (
        f"no offering has {ctx.workload.num_workers} GPUs per node (num_workers); the most "
        f"among the allowed offerings is {most}"
    )


def _throughput_mask(ctx: _Context) -> BoolArray:
    hours = ctx.estimates.time.hours
    mask: BoolArray = hours == hours
    return mask


def _throughput_message(ctx: _Context, rows: IntArray) -> str:
    gpus = sorted({str(g) for g in ctx.candidates.gpu_type[rows].tolist() if g})
    return (
        "no throughput figure is known for the GPUs of the remaining offerings "
        f"({', '.join(gpus)}), so their run time cannot be estimated"
    )


def _memory_mask(ctx: _Context) -> BoolArray:
    return ctx.estimates.memory.fits


def _memory_message(ctx: _Context, rows: IntArray) -> str:
    memory = ctx.estimates.memory
    candidates = ctx.candidates
    with np.errstate(divide="ignore", invalid="ignore"):
        pressure = memory.needed_gb[rows] / memory.usable_gb[rows]
    best = int(rows[int(np.argmin(np.where(np.isfinite(pressure), pressure, np.inf)))])
    needed = float(memory.needed_gb[best])
    usable = float(memory.usable_gb[best])
    on_gpu = bool(memory.on_gpu[best])
    if not on_gpu:
        largest = float(np.nanmax(memory.available_gb[rows]))
        return (
            f"no offering has enough memory: the job needs {_fmt(needed)} GB of RAM per node "
            f"and the largest machine among the allowed offerings has {_fmt(largest)} GB "
            f"({_fmt(largest * 0.9)} GB usable at 90%)"
        )
    parts = memory.breakdown(best)
    detail = (
        f"weights {_fmt(parts.weights_gb)} + gradients {_fmt(parts.gradients_gb)} + optimizer "
        f"{_fmt(parts.optimizer_gb)} + activations {_fmt(parts.activations_gb)} + overhead "
        f"{_fmt(parts.overhead_gb)} GB"
    )
    gpu_rows = rows[memory.on_gpu[rows]]
    largest_gpu = float(memory.available_gb[gpu_rows].max())
    if ctx.workload.distributed:
        nodes = int(candidates.nodes[best])
        gpus = int(candidates.gpu_count[best])
        return (
            f"no offering has enough GPU memory: the job needs "
            f"{_fmt(memory.model_states_total_gb)} GB of model states sharded over all GPUs "
            f"plus {_fmt(parts.activations_gb + parts.overhead_gb)} GB per GPU; the closest "
            f"candidate, {candidates.candidate_id(best).split('#')[0]} on {nodes} node(s) of "
            f"{gpus} x {candidates.gpu_type[best]} {_fmt(float(memory.available_gb[best]))} GB, "
            f"would need {_fmt(needed)} GB per GPU of {_fmt(usable)} GB usable "
            "(allow more nodes, or lower batch_size or enable gradient_checkpointing)"
        )
    return (
        f"no offering has enough GPU memory: the job needs {_fmt(needed)} GB per GPU "
        f"({detail}) and the largest GPU among the allowed offerings has "
        f"{_fmt(largest_gpu)} GB ({_fmt(largest_gpu * 0.9)} GB usable at 90%)"
    )


def _host_mask(ctx: _Context) -> BoolArray:
    return ctx.estimates.memory.host_fits


def _host_message(ctx: _Context, rows: IntArray) -> str:
    largest = float(np.nanmax(ctx.candidates.memory_gb[rows]))
    return (
        f"no offering has the {_fmt(ctx.estimates.memory.host_min_gb)} GB of system memory the "
        f"workload asks for (min_system_memory_gb); the largest has {_fmt(largest)} GB"
    )


def _spot_mask(ctx: _Context) -> BoolArray:
    return np.isfinite(ctx.estimates.total_cost)


def _spot_message(ctx: _Context, rows: IntArray) -> str:
    return (
        "only spot candidates remain and preemptions are expected too often for the run to "
        "finish; enable checkpointing or shorten checkpoint_interval_hours"
    )


def _deadline_mask(ctx: _Context) -> BoolArray:
    deadline = ctx.workload.deadline_hours
    if deadline is None:
        return np.ones(len(ctx.candidates), dtype=np.bool_)
    mask: BoolArray = ctx.estimates.hours <= deadline
    return mask


def _deadline_message(ctx: _Context, rows: IntArray) -> str:
    hours = ctx.estimates.hours[rows]
    fastest = int(rows[int(np.argmin(hours))])
    return (
        f"deadline {ctx.workload.deadline_hours:g} h is shorter than the fastest feasible job, "
        f"{_fmt(float(ctx.estimates.hours[fastest]))} h "
        f"({ctx.candidates.candidate_id(fastest).split('#')[0]})"
    )


def _budget_mask(ctx: _Context) -> BoolArray:
    if ctx.budget is None:
        return np.ones(len(ctx.candidates), dtype=np.bool_)
    mask: BoolArray = ctx.estimates.total_cost <= ctx.budget
    return mask


def _budget_message(ctx: _Context, rows: IntArray) -> str:
    costs = ctx.estimates.total_cost[rows]
    cheapest = int(rows[int(np.argmin(costs))])
    currency = ctx.candidates.currency
    workload = ctx.workload
    budget = f"budget {workload.budget:g} {workload.budget_currency}"
    if workload.budget_currency != currency and ctx.budget is not None:
        budget += f" ({_fmt(ctx.budget)} {currency})"
    kind = "spot" if ctx.candidates.spot[cheapest] else "on-demand"
    return (
        f"{budget} is below the cheapest feasible job, "
        f"{_fmt(float(ctx.estimates.total_cost[cheapest]))} {currency} "
        f"({ctx.candidates.candidate_id(cheapest).split('#')[0]}, {kind})"
    )


_FILTERS: tuple[_Filter, ...] = (
    ("provider", _provider_mask, _provider_message),
    ("region", _region_mask, _region_message),
    ("compute", _compute_mask, _compute_message),
    ("throughput", _throughput_mask, _throughput_message),
    ("memory", _memory_mask, _memory_message),
    ("system_memory", _host_mask, _host_message),
    ("spot", _spot_mask, _spot_message),
    ("deadline", _deadline_mask, _deadline_message),
    ("budget", _budget_mask, _budget_message),
)


def budget_in_currency(workload: WorkloadProfile, candidates: CandidateArrays) -> float | None:
    """The workload's budget in the candidates' currency (``CurrencyError`` without a rate)."""
    if workload.budget is None:
        return None
    return candidates.rates.convert(workload.budget, workload.budget_currency, candidates.currency)


def apply_hard_filters(
    workload: WorkloadProfile,
    candidates: CandidateArrays,
    estimates: CandidateEstimates,
) -> tuple[BoolArray, dict[str, int]]:
    """The feasible mask and how many candidates each filter removed.

    Raises ``InfeasibleError`` naming the first filter that leaves no candidate.
    """
    ctx = _Context(workload, candidates, estimates, budget_in_currency(workload, candidates))
    if len(candidates) == 0:
        raise InfeasibleError("no offering to rank: the catalog is empty")
    alive = np.ones(len(candidates), dtype=np.bool_)
    excluded: dict[str, int] = {}
    for name, mask_of, message_of in _FILTERS:
        survivors = alive & mask_of(ctx)
        excluded[name] = int(np.count_nonzero(alive)) - int(np.count_nonzero(survivors))
        if not survivors.any():
            raise InfeasibleError(message_of(ctx, np.flatnonzero(alive)))
        alive = survivors
    return alive, excluded


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
        needed = min_devices_needed(memory, distributed=workload.distributed)
        paid = np.where(memory.on_gpu, candidates.gpu_count, 1) * candidates.nodes
        sizing = np.clip(needed / paid, 0.0, 1.0)
        gpu_match = _precision_match(estimates) * sizing
    headroom = np.where(memory.available_known, memory.headroom_ratio, 0.0)
    return {
        "cost_efficiency": np.clip(cheapest / cost, 0.0, 1.0),
        "gpu_match": np.asarray(gpu_match, dtype=np.float64),
        "memory_headroom": np.clip(headroom / SAFE_HEADROOM, 0.0, 1.0),
        "provider_reliability": np.clip(candidates.reliability, 0.0, 1.0),
        "speed": np.clip(fastest / hours, 0.0, 1.0),
    }


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
    order: IntArray = np.lexsort(keys).astype(np.int64)
    return order


def rank_candidates(
    workload: WorkloadProfile,
    candidates: CandidateArrays,
    estimates: CandidateEstimates | None = None,
    *,
    weights: RankingWeights | None = None,
    goal: OptimizationGoal = OptimizationGoal.BALANCED,
) -> HeuristicRanking:
    """Filter, score and order ``candidates``; ``weights`` override the ``goal`` preset."""
    estimates = estimates or estimate_candidates(workload, candidates)
    chosen = weights or weights_for_goal(goal)
    feasible, excluded = apply_hard_filters(workload, candidates, estimates)
    index = np.flatnonzero(feasible).astype(np.int64)
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
    "apply_hard_filters",
    "budget_in_currency",
    "compute_factors",
    "order_by_score",
    "rank_candidates",
    "rank_offerings",
    "weights_for_goal",
]
