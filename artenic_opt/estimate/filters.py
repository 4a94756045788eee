"""Hard filters: which candidates can run the workload at all, and why none can.

Shared by the training advisor (``recommend``, evaluation) and the cost analyzer
(``cost compare``), so it lives below both pillars. Applied in this order; when one leaves
nothing, ``InfeasibleError`` names it with the numbers that bind (what the job needs against the
best the remaining offerings have):

1. allowed providers, then allowed regions (case-insensitive);
2. compute: deep-learning workloads with ``gpu_required`` need GPU offerings with at least
   ``num_workers`` GPUs per node; CPU-bound frameworks and ``gpu_required = false`` workloads may
   also use CPU-only offerings; ``cpu_only`` (``--cpu-only``) keeps CPU-only offerings alone, and
   so does a data-processing job (no model to train: a GPU on its machines would sit idle);
3. a known throughput (GPU types without any datasheet figure cannot be estimated);
4. device memory: a training plan that fits (``estimate.plans``; GPU memory per GPU minus the
   framework reserve of ``estimate.memory``, or host RAM where the job runs on CPUs). When none
   fits, the message names the smallest need found, where, and what would make it fit (or the
   pinned plan parts that prevent it);
5. the workload's ``min_system_memory_gb``;
6. spot candidates whose expected preemptions make the run endless;
7. the deadline (estimated wall-clock hours, spot retries included);
8. the budget (whole-job cost, converted to the display currency with the candidates' rates).

Spot candidates exist only when the workload allows spot (``build_candidates``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from artenic_opt._internal.arrays import BoolArray, IntArray
from artenic_opt.errors import InfeasibleError
from artenic_opt.estimate.candidates import CandidateArrays, CandidateEstimates
from artenic_opt.estimate.plans import describe_plan_pins
from artenic_opt.schemas import PLAN_PIN_FIELDS, WorkloadProfile
from artenic_opt.types import FineTuning


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
    #: Candidates alive when the deadline filter ran (the budget message looks past it).
    before_deadline: list[IntArray] = field(default_factory=list)


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


def _cpu_only(workload: WorkloadProfile) -> bool:
    return workload.cpu_only or workload.is_data_processing


def _compute_mask(ctx: _Context) -> BoolArray:
    if _cpu_only(ctx.workload):
        cpu: BoolArray = ctx.candidates.gpu_count == 0
        return cpu
    if not _needs_gpu(ctx.workload):
        return np.ones(len(ctx.candidates), dtype=np.bool_)
    return ctx.candidates.gpu_count >= max(1, ctx.workload.num_workers)


def _compute_message(ctx: _Context, rows: IntArray) -> str:
    if _cpu_only(ctx.workload):
        return (
            "no CPU-only offering among the allowed offerings (cpu_only / --cpu-only, or a "
            "data-processing job)"
        )
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
    workload = ctx.workload
    pressure = memory.pressure[rows]
    best = int(rows[int(np.argmin(np.where(np.isfinite(pressure), pressure, np.inf)))])
    needed = float(memory.needed_gb[best])
    usable = float(memory.usable_gb[best])
    if not bool(memory.on_gpu[best]):
        largest = float(np.nanmax(memory.available_gb[rows]))
        return (
            f"no offering has enough memory: the job needs {_fmt(needed)} GB of RAM per node "
            f"and the largest machine among the allowed offerings has {_fmt(largest)} GB"
        )
    parts = memory.breakdown(best)
    detail = (
        f"weights {_fmt(parts.weights_gb)} + gradients {_fmt(parts.gradients_gb)} + optimizer "
        f"{_fmt(parts.optimizer_gb)} + activations {_fmt(parts.activations_gb)} GB"
    )
    plan = ctx.estimates.plans.plan(best, workload, needed)
    where = (
        f"{candidates.candidate_id(best).split('#')[0]} ({_machine(candidates, best)}, "
        f"{_fmt(usable)} GB usable per GPU)"
    )
    host_needed = float(memory.host_needed_gb[best])
    if host_needed > 0 and needed <= usable:
        room = float(memory.host_usable_gb[best])
        where += (
            f", whose host RAM holds {_fmt(room)} GB of the {_fmt(host_needed)} GB offloaded"
            if room == room
            else ", whose host RAM is not published (an offload needs it)"
        )
    pins = describe_plan_pins(workload)
    if pins != "none" and _fits_unpinned(ctx, rows):
        return (
            f"the pinned training plan ({pins}) fits no allowed offering: the closest, {where}, "
            f"would need {_fmt(needed)} GB per GPU ({detail}) with plan {plan.summary}; "
            "unpin it (remove those workload fields) to let the advisor search"
        )
    fixes = [f"a GPU with at least {_fmt(needed + (float(memory.available_gb[best]) - usable))} GB"]
    if not workload.distributed:
        fixes.append(
            f"distributed = true with more GPUs or nodes, so ZeRO-3/FSDP shards the "
            f"{_fmt(memory.model_states_total_gb)} GB of model states"
        )
    elif int(candidates.nodes[best]) >= workload.max_nodes:
        fixes.append(f"a larger max_nodes than {workload.max_nodes}")
    if workload.fine_tuning is FineTuning.FULL:
        fixes.append("fine_tuning = lora or qlora")
    if parts.activations_gb > 0.25 * needed:
        fixes.append("a shorter sequence_length")
    return (
        f"no training plan fits any allowed offering: the smallest need found is "
        f"{_fmt(needed)} GB per GPU ({detail}) on {where} with plan {plan.summary}; "
        f"it would fit with {' or '.join(fixes)}"
    )


def _fits_unpinned(ctx: _Context, rows: IntArray) -> bool:
    """Whether some remaining candidate would fit with the plan pins removed (error path only)."""
    from artenic_opt.estimate.candidates import estimate_candidates

    cleared = {name: None for name in PLAN_PIN_FIELDS}
    free = ctx.workload.model_copy(update=cleared)
    subset = ctx.candidates.take(rows)
    return bool(estimate_candidates(free, subset).memory.fits.any())


def _machine(candidates: CandidateArrays, row: int) -> str:
    nodes = int(candidates.nodes[row])
    shape = f"{int(candidates.gpu_count[row])} x {candidates.gpu_type[row]}"
    return f"{nodes} nodes of {shape}" if nodes > 1 else shape


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
    if workload.deadline_hours is None or not ctx.before_deadline:
        return f"{budget} is below the cheapest feasible job, {_job(ctx, cheapest)}"
    # The deadline filtered first: say so, and whether dropping it alone would fit the budget
    # (else the user is told to raise a budget when relaxing the deadline would do).
    wider = ctx.before_deadline[0]
    overall = int(wider[int(np.argmin(ctx.estimates.total_cost[wider]))])
    message = (
        f"{budget} is below the cheapest feasible job within the "
        f"{workload.deadline_hours:g} h deadline, {_job(ctx, cheapest)}"
    )
    if overall != cheapest:
        message += f"; without it, {_job(ctx, overall)}"
    return message


def _job(ctx: _Context, row: int) -> str:
    kind = "spot" if ctx.candidates.spot[row] else "on-demand"
    return (
        f"{_fmt(float(ctx.estimates.total_cost[row]))} {ctx.candidates.currency} "
        f"({ctx.candidates.candidate_id(row).split('#')[0]}, {kind})"
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
        if name == "deadline":
            ctx.before_deadline.append(np.flatnonzero(alive))
        survivors = alive & mask_of(ctx)
        excluded[name] = int(np.count_nonzero(alive)) - int(np.count_nonzero(survivors))
        if not survivors.any():
            raise InfeasibleError(message_of(ctx, np.flatnonzero(alive)))
        alive = survivors
    return alive, excluded


__all__ = ["apply_hard_filters", "budget_in_currency"]
