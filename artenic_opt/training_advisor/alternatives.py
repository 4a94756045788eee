"""Parameter-efficient alternatives to a full fine-tune: the best LoRA and QLoRA plans.

When a full fine-tune fits nowhere allowed, or its best whole-job cost is more than
``threshold`` (default ``DEFAULT_ALTERNATIVES_THRESHOLD`` = 3x) the cost of the best LoRA plan,
the advice carries ``alternatives``: the top LoRA and QLoRA candidates under the same goal,
with their plan, time and cost and a one-line note on the quality trade-off. The user's method
is never changed: the ranked recommendations stay full fine-tunes, and an infeasible full
fine-tune still exits 4 (its message names the alternatives).

Decisions:

* Alternatives exist for neural networks (not the CPU-bound frameworks). LoRA keeps the
  workload's precision and rank; QLoRA uses a 4-bit (NF4) base, as in the QLoRA paper.
* "Best" is rank 1 under the same weights and the same ranking pipeline as the full fine-tune,
  so the comparison is like for like; the threshold compares the cheapest feasible costs.
* Quality notes cite: Hu et al. 2021 ("LoRA", matches full fine-tuning on GLUE and GPT-3
  benchmarks at a fraction of trainable parameters); Biderman et al. 2024 ("LoRA Learns Less
  and Forgets Less": below full fine-tuning on continued pre-training for code and maths);
  Dettmers et al. 2023 ("QLoRA": 4-bit NF4 base matched 16-bit LoRA on its benchmarks).
"""

from __future__ import annotations

from typing import Final

import numpy as np

from artenic_opt.errors import InfeasibleError
from artenic_opt.estimate.candidates import CandidateArrays
from artenic_opt.schemas import PlanAlternative, WorkloadProfile
from artenic_opt.training_advisor.heuristic_ranker import RankingWeights, rank_candidates
from artenic_opt.types import FineTuning, Precision

#: Full fine-tune cost over the best LoRA cost above which alternatives are shown.
DEFAULT_ALTERNATIVES_THRESHOLD: Final = 3.0

NOTES: Final = {
    FineTuning.LORA: (
        "LoRA trains low-rank adapters on a frozen base: close to full fine-tuning for "
        "instruction tuning, weaker for learning new domains (Hu et al. 2021; Biderman et al. "
        "2024)"
    ),
    FineTuning.QLORA: (
        "QLoRA adds a 4-bit NF4 base to LoRA: matched 16-bit LoRA in the QLoRA paper "
        "(Dettmers et al. 2023), at some speed cost from dequantisation"
    ),
}


def variant(workload: WorkloadProfile, method: FineTuning) -> WorkloadProfile:
    """The same job as a LoRA or QLoRA fine-tune (a measured full fine-tune time is dropped)."""
    data = workload.model_dump(warnings=False)
    data.update({"fine_tuning": method, "estimated_hours": None})
    if method is FineTuning.QLORA:
        data["precision"] = Precision.INT4
    return WorkloadProfile.model_validate(data)


def _best(
    job: WorkloadProfile, candidates: CandidateArrays, weights: RankingWeights
) -> tuple[PlanAlternative, float] | None:
    try:
        ranking = rank_candidates(job, candidates, weights=weights)
    except InfeasibleError:
        return None
    subset = ranking.feasible_candidates
    estimates = ranking.feasible_estimates
    row = int(ranking.order[0])
    alternative = PlanAlternative(
        fine_tuning=job.fine_tuning,
        offering_id=subset.offering(row).offering_id,
        nodes=int(subset.nodes[row]),
        spot=bool(subset.spot[row]),
        plan=estimates.plans.plan(row, job, float(estimates.memory.needed_gb[row])),
        estimated_hours=float(estimates.hours[row]),
        estimated_cost=float(estimates.total_cost[row]),
        currency=subset.currency,
        note=NOTES[job.fine_tuning],
    )
    return alternative, float(np.min(estimates.total_cost))


def parameter_efficient_alternatives(
    workload: WorkloadProfile,
    candidates: CandidateArrays,
    *,
    weights: RankingWeights,
    full_cheapest_cost: float | None,
    threshold: float = DEFAULT_ALTERNATIVES_THRESHOLD,
) -> tuple[PlanAlternative, ...]:
    """The LoRA and QLoRA alternatives of a full fine-tune, or ``()`` when none is due.

    ``candidates`` are the full fine-tune's candidates (the same rows: fine-tuning changes no
    offering, node count or price); ``full_cheapest_cost`` is None when the full fine-tune
    fits nowhere allowed.
    """
    if workload.fine_tuning is not FineTuning.FULL or workload.framework.is_cpu_bound:
        return ()
    found = [
        best
        for method in (FineTuning.LORA, FineTuning.QLORA)
        if (best := _best(variant(workload, method), candidates, weights)) is not None
    ]
    if not found:
        return ()
    lora_cost = min(cost for _, cost in found)
    if full_cheapest_cost is not None and full_cheapest_cost <= threshold * lora_cost:
        return ()
    return tuple(alternative for alternative, _ in found)


def describe_alternatives(alternatives: tuple[PlanAlternative, ...]) -> str:
    """One clause for an exit-4 message: what a parameter-efficient run would cost."""
    return "; ".join(
        f"a {alt.fine_tuning.value} fine-tune fits: {alt.offering_id} ({alt.plan.summary}), "
        f"about {alt.estimated_hours:,.1f} h for {alt.estimated_cost:,.2f} {alt.currency}"
        for alt in alternatives
    )
