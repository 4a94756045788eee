"""Build the cost analyzer's history records from stored outcomes and recommendations.

The CLI and TUI read outcomes and recommendations from the state and call
``spend_record_from_outcome`` for each outcome; the analyzer never touches the store.

Mapping, for an outcome of rank ``k`` of a recommendation:

* machine (provider, region, instance type, GPU type and count, nodes, spot): the rank-``k``
  candidate; for an outcome without a recommendation (a platform job that did not come from us)
  the caller passes them;
* ``predicted_cost`` / ``predicted_hours``: that candidate's estimates; ``recommended_cost`` /
  ``recommended_candidate``: the rank-1 candidate's, which is what the optimizer advised at the
  time (the savings report compares against it); all in the advice's display currency;
* list prices: the candidate offering's, when they are in that same currency (the advisor stores
  offerings converted to the display currency); otherwise they are left out and the analyzer
  falls back to the catalog;
* memory needed and available per GPU: the candidate's, for right-sizing;
* workload, query id and name: the advice's.
"""

from __future__ import annotations

from artenic_opt.errors import InvalidInputError
from artenic_opt.schemas import InstanceRecommendation, JobOutcome, SpendRecord, TrainingAdvice


def _candidate(advice: TrainingAdvice, rank: int) -> InstanceRecommendation:
    for recommendation in advice.recommendations:
        if recommendation.rank == rank:
            return recommendation
    raise InvalidInputError(
        f"outcome: recommendation {advice.recommendation_id} has no candidate of rank {rank} "
        f"(it holds {len(advice.recommendations)})"
    )


def spend_record_from_outcome(
    outcome: JobOutcome,
    *,
    record_id: str,
    advice: TrainingAdvice | None = None,
    provider: str | None = None,
    region: str | None = None,
    instance_type: str | None = None,
    spot: bool | None = None,
    gpu_type: str | None = None,
    gpu_count: int = 0,
    nodes: int = 1,
) -> SpendRecord:
    """A ``SpendRecord`` for ``outcome``; machine arguments override the advice's candidate."""
    common = {
        "record_id": record_id,
        "timestamp": outcome.recorded_at,
        "status": outcome.status,
        "hours": outcome.hours,
        "cost": outcome.cost,
        "currency": outcome.currency,
        "preemptions": outcome.preemptions,
        "metric_before": outcome.metric_before,
        "metric_after": outcome.metric_after,
        "metric_higher_is_better": outcome.metric_higher_is_better,
    }
    if advice is None:
        missing = [
            name
            for name, value in (
                ("provider", provider),
                ("region", region),
                ("instance_type", instance_type),
            )
            if not value
        ]
        if missing:
            raise InvalidInputError(
                f"outcome {record_id}: without its recommendation, give {', '.join(missing)}"
            )
        return SpendRecord(
            **common,
            provider=provider,
            region=region,
            instance_type=instance_type,
            spot=bool(spot),
            gpu_type=gpu_type,
            gpu_count=gpu_count if gpu_type else 0,
            nodes=nodes,
        )

    chosen = _candidate(advice, outcome.rank)
    top = min(advice.recommendations, key=lambda r: r.rank)
    offering = chosen.offering
    same_currency = offering.currency == chosen.currency
    return SpendRecord(
        **common,
        provider=provider or offering.provider,
        region=region or offering.region,
        instance_type=instance_type or offering.instance_type,
        spot=chosen.spot if spot is None else spot,
        gpu_type=offering.gpu_type,
        gpu_count=offering.gpu_count,
        nodes=chosen.nodes,
        query_id=advice.query_id,
        workload_name=advice.workload.name,
        workload=advice.workload,
        predicted_hours=chosen.estimated_hours,
        predicted_cost=chosen.estimated_cost,
        recommended_cost=top.estimated_cost,
        recommended_candidate=top.candidate_id,
        reference_currency=chosen.currency,
        on_demand_price_per_hour=offering.price_per_hour if same_currency else None,
        spot_price_per_hour=offering.spot_price_per_hour if same_currency else None,
        memory_needed_gb=chosen.memory_needed_gb if chosen.memory_needed_gb > 0 else None,
        memory_available_gb=(
            chosen.memory_available_gb if chosen.memory_available_gb > 0 else None
        ),
    )
