"""Pure mappers from library results (status, advice, reports, spend records) to the dashboard's
view models (``tui.view_models``): labels, cards, rows, chart series. No I/O, no Textual.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from artenic_opt.cost_analyzer.periods import bucket_label, bucket_start
from artenic_opt.presentation.format import gpus
from artenic_opt.schemas import (
    CostReport,
    InstanceRecommendation,
    OptimizerStatus,
    RegionBenchmark,
    SavingsReport,
    SpendingSummary,
    SpendRecord,
    StorageAdvice,
    TrainingAdvice,
    WorkloadProfile,
)

# Everything the provider calls is imported here, on the thread that imports this module: the
# views' workers call the provider from several threads at once, and first imports racing in
# threads through the state package's circular imports can meet half-initialised modules.
from artenic_opt.tui.view_models import (
    AnomalyPoint,
    CandidateDetail,
    CostTrendData,
    FactorLine,
    FrontierRow,
    OutcomeLine,
    ProviderBar,
    ProvidersData,
    RecommendationDetail,
    RecommendationRow,
    SavingsCard,
    SavingsLine,
    SpendSeries,
    StatusCard,
    StorageRow,
)
from artenic_opt.types import Period

if TYPE_CHECKING:
    from artenic_opt.state.history_records import RecommendationSummary, StoredOutcome


def gpu_label(gpu_type: str | None, gpu_count: int | None, nodes: int | None = None) -> str:
    """``8x H100``, ``2 x 8x A100`` for two nodes, or ``CPU`` (the CLI's format, without memory)."""
    return gpus(gpu_count, gpu_type, None, nodes or 1)


def _quantity(value: float) -> str:
    for limit, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")):
        if value >= limit:
            return f"{value / limit:.3g}{suffix}"
    return f"{value:.3g}"


def workload_summary(workload: WorkloadProfile) -> tuple[tuple[str, str], ...]:
    """The workload fields worth reading in a detail header, as (label, value) pairs."""
    pairs = [
        ("framework", workload.framework.value),
        (
            "parameters",
            "-" if workload.model_params_m is None else _quantity(workload.model_params_m * 1e6),
        ),
        ("dataset", f"{workload.dataset_size_gb:g} GB"),
        ("epochs", f"{workload.num_epochs:g}"),
        ("precision", workload.precision.value),
        ("fine-tuning", workload.fine_tuning.value),
    ]
    if workload.tokens:
        pairs.append(("tokens", _quantity(workload.tokens)))
    if workload.distributed:
        pairs.append(("nodes", f"up to {workload.max_nodes}"))
    if workload.budget is not None:
        pairs.append(("budget", f"{workload.budget:g} {workload.budget_currency}"))
    if workload.deadline_hours is not None:
        pairs.append(("deadline", f"{workload.deadline_hours:g} h"))
    pairs.append(("spot", "allowed" if workload.spot_allowed else "not allowed"))
    return tuple(pairs)


def platform_state(status: OptimizerStatus) -> str:
    if not status.platform_configured:
        return "not configured"
    if status.platform_reachable is None:
        return "configured"
    return "answering" if status.platform_reachable else "not answering"


def status_card(status: OptimizerStatus, source: str) -> StatusCard:
    model = status.model
    return StatusCard(
        source=source,
        mode=status.mode.value,
        effective_mode=status.effective_mode.value,
        recommendations=status.recommendations,
        outcomes=status.outcomes,
        training_samples=status.training_samples,
        model_version=model.version if model else None,
        model_trained_at=model.trained_at if model else None,
        model_samples=model.sample_count if model else None,
        ndcg_at_5=model.metrics.ndcg_at_5 if model and model.metrics else None,
        catalog_offerings=status.catalog_offerings,
        catalog_providers=status.catalog_providers,
        price_date_oldest=status.catalog_price_date_oldest,
        price_date_newest=status.catalog_price_date_newest,
        platform_url=status.platform_url,
        platform_state=platform_state(status),
        last_sync_at=status.last_sync_at,
        warnings=status.warnings,
    )


def savings_card(report: SavingsReport) -> SavingsCard:
    counted = sorted(
        (a for a in report.actions if a.counted_in_total),
        key=lambda a: (-a.estimated_monthly_savings, a.title),
    )
    return SavingsCard(
        period=report.period,
        currency=report.display_currency,
        records_compared=report.records_compared,
        actual_total=report.actual_total,
        recommended_total=report.recommended_total,
        difference_total=report.difference_total,
        overspend_total=report.overspend_total,
        estimated_monthly_savings=report.estimated_monthly_savings,
        actions=tuple(
            SavingsLine(title=a.title, monthly_savings=a.estimated_monthly_savings)
            for a in counted[:3]
        ),
        message=report.message,
    )


def recommendation_row(summary: RecommendationSummary) -> RecommendationRow:
    return RecommendationRow(
        recommendation_id=summary.recommendation_id,
        created_at=summary.created_at,
        workload=summary.workload_name,
        mode=summary.mode.value,
        goal=summary.goal.value,
        provider=summary.top_provider,
        instance_type=summary.top_instance_type,
        gpu=gpu_label(summary.top_gpu_type, summary.top_gpu_count, summary.top_nodes)
        if summary.top_provider
        else "",
        nodes=summary.top_nodes,
        spot=summary.top_spot,
        estimated_hours=summary.top_estimated_hours,
        estimated_cost=summary.top_estimated_cost,
        currency=summary.top_currency,
        candidates=summary.candidate_count,
        outcome=summary.outcome_status.value if summary.outcome_status else None,
        outcome_rank=summary.outcome_rank,
    )


def candidate_detail(candidate: InstanceRecommendation) -> CandidateDetail:
    offering = candidate.offering
    return CandidateDetail(
        rank=candidate.rank,
        candidate_id=candidate.candidate_id,
        provider=offering.provider,
        region=offering.region,
        instance_type=offering.instance_type,
        gpu=gpu_label(offering.gpu_type, offering.gpu_count, candidate.nodes),
        nodes=candidate.nodes,
        spot=candidate.spot,
        score=candidate.score,
        heuristic_score=candidate.heuristic_score,
        ltr_score=candidate.ltr_score,
        factors=tuple(
            FactorLine(name=f.name, value=f.value, weight=f.weight, contribution=f.contribution)
            for f in candidate.factors
        ),
        price_per_hour=candidate.price_per_hour,
        estimated_hours=candidate.estimated_hours,
        estimated_cost=candidate.estimated_cost,
        estimated_cost_on_demand=candidate.estimated_cost_on_demand,
        estimated_cost_spot=candidate.estimated_cost_spot,
        currency=candidate.currency,
        memory_needed_gb=candidate.memory_needed_gb,
        memory_available_gb=candidate.memory_available_gb,
        reasons=candidate.reasons,
        warnings=candidate.warnings,
    )


def recommendation_detail(
    advice: TrainingAdvice, outcomes: Sequence[StoredOutcome]
) -> RecommendationDetail:
    return RecommendationDetail(
        recommendation_id=advice.recommendation_id,
        created_at=advice.created_at,
        workload=advice.workload.name,
        workload_summary=workload_summary(advice.workload),
        mode=advice.mode.value,
        goal=advice.goal.value,
        model_version=advice.model_version,
        candidates_considered=advice.candidates_considered,
        candidates_feasible=advice.candidates_feasible,
        candidates=tuple(candidate_detail(c) for c in advice.recommendations),
        outcomes=tuple(
            OutcomeLine(
                rank=o.outcome.rank,
                status=o.outcome.status.value,
                hours=o.outcome.hours,
                cost=o.outcome.cost,
                currency=o.outcome.currency,
                preemptions=o.outcome.preemptions,
                label=o.label,
                recorded_at=o.outcome.recorded_at,
            )
            for o in outcomes
        ),
        warnings=advice.warnings,
    )


def providers_data(report: CostReport) -> ProvidersData:
    """Bars from each provider's best region, points from the regions and the frontier."""
    best: dict[str, RegionBenchmark] = {}
    for region in report.regions:
        current = best.get(region.provider)
        if current is None or (region.estimated_cost, region.candidate_id) < (
            current.estimated_cost,
            current.candidate_id,
        ):
            best[region.provider] = region
    bars = tuple(
        ProviderBar(
            provider=r.provider,
            region=r.region,
            instance_type=r.instance_type,
            gpu=gpu_label(r.gpu_type, r.gpu_count, r.nodes),
            nodes=r.nodes,
            spot=r.spot,
            price_per_hour=r.price_per_hour,
            estimated_hours=r.estimated_hours,
            estimated_cost=r.estimated_cost,
        )
        for r in sorted(best.values(), key=lambda r: r.provider.casefold())
    )
    frontier_ids = {p.candidate_id for p in report.frontier}
    points = [
        FrontierRow(
            label=_candidate_label(p.provider, p.region, p.instance_type, p.nodes, p.spot),
            provider=p.provider,
            price_per_hour=p.price_per_hour,
            estimated_hours=p.estimated_hours,
            estimated_cost=p.estimated_cost,
            on_frontier=True,
            cheapest=p.cheapest,
            fastest=p.fastest,
            balanced=p.balanced,
        )
        for p in report.frontier
    ]
    points.extend(
        FrontierRow(
            label=_candidate_label(r.provider, r.region, r.instance_type, r.nodes, r.spot),
            provider=r.provider,
            price_per_hour=r.price_per_hour,
            estimated_hours=r.estimated_hours,
            estimated_cost=r.estimated_cost,
            on_frontier=False,
        )
        for r in report.regions
        if r.candidate_id not in frontier_ids
    )
    return ProvidersData(
        workload=report.workload.name,
        currency=report.display_currency,
        candidates_considered=report.candidates_considered,
        candidates_feasible=report.candidates_feasible,
        bars=bars,
        points=tuple(points),
        warnings=report.warnings,
    )


def _candidate_label(provider: str, region: str, instance: str, nodes: int, spot: bool) -> str:
    label = f"{provider} {region} {instance}"
    if nodes > 1:
        label += f" x{nodes}"
    return label + (" spot" if spot else "")


def storage_row(advice: StorageAdvice) -> StorageRow:
    evidence = advice.evidence
    parts = [f"figures {evidence.format_figures.value}", f"access {evidence.access.value}"]
    if evidence.tier_assumed:
        parts.append("tier assumed")
    return StorageRow(
        dataset_id=advice.dataset_id,
        dataset=advice.dataset_name,
        provider=advice.provider,
        size_bytes=advice.size_bytes,
        size_after_bytes=advice.size_after_bytes,
        current_format=advice.current_format.value,
        recommended_format=advice.recommended_format.value,
        current_tier=advice.current_tier.value,
        recommended_tier=advice.recommended_tier.value,
        monthly_cost_now=advice.monthly_cost_now,
        monthly_cost_after=advice.monthly_cost_after,
        monthly_savings=advice.monthly_savings,
        one_time_cost=advice.one_time_cost,
        payback_months=advice.payback_months,
        currency=advice.currency,
        evidence=", ".join(parts),
        reasons=advice.reasons,
        warnings=advice.warnings,
    )


def bucket_sequence(start: datetime, end: datetime, period: Period) -> list[tuple[str, datetime]]:
    """Every bucket (label, start) from the one holding ``start`` to the one holding ``end``.

    The chart needs the empty buckets too: a day without spend is a zero, not a gap.
    """
    buckets: list[tuple[str, datetime]] = []
    current = bucket_start(start, period)
    while current <= end:
        buckets.append((bucket_label(current, period), current))
        if period is Period.MONTH:
            year, month = divmod(current.month, 12)
            current = current.replace(year=current.year + year, month=month + 1)
        else:
            current += timedelta(days=7 if period is Period.WEEK else 1)
    return buckets


def cost_trend_data(
    summary: SpendingSummary, per_provider: Mapping[str, SpendingSummary]
) -> CostTrendData:
    """The overall summary and one summary per provider (same window and bucket) as a chart."""
    if summary.empty:
        return CostTrendData(
            period=summary.period,
            bucket=summary.bucket,
            currency=summary.display_currency,
            buckets=(),
            series=(),
            total_cost=0.0,
            jobs=0,
            message=summary.message or "nothing recorded yet",
        )
    period = Period(summary.bucket)
    buckets = bucket_sequence(summary.start, summary.end, period)
    index = {label: position for position, (label, _) in enumerate(buckets)}
    series: list[SpendSeries] = []
    for provider in sorted(per_provider, key=lambda p: (-per_provider[p].total_cost, p)):
        values = [0.0] * len(buckets)
        for group in per_provider[provider].timeline:
            if group.key in index:
                values[index[group.key]] += group.cost
        series.append(
            SpendSeries(
                provider=provider, values=tuple(values), total=per_provider[provider].total_cost
            )
        )
    by_provider = {s.provider: s for s in series}
    anomalies: list[AnomalyPoint] = []
    for anomaly in summary.anomalies:
        position = index.get(bucket_label(bucket_start(anomaly.timestamp, period), period))
        if position is None:
            continue
        line = by_provider.get(anomaly.provider)
        anomalies.append(
            AnomalyPoint(
                bucket_index=position,
                timestamp=anomaly.timestamp,
                provider=anomaly.provider,
                metric=anomaly.metric,
                value=anomaly.value,
                unit=anomaly.unit,
                reason=anomaly.reason,
                spend=line.values[position] if line else 0.0,
            )
        )
    return CostTrendData(
        period=summary.period,
        bucket=summary.bucket,
        currency=summary.display_currency,
        buckets=tuple(label for label, _ in buckets),
        series=tuple(series),
        anomalies=tuple(anomalies),
        total_cost=summary.total_cost,
        jobs=summary.jobs,
    )


def trend_period(records: Sequence[SpendRecord], now: datetime) -> str:
    """A window that shows the whole recent history: 30 days, 90 days or a year."""
    if not records:
        return "30d"
    span_days = (now - min(r.timestamp for r in records)).total_seconds() / 86_400
    if span_days <= 30:
        return "30d"
    return "90d" if span_days <= 90 else "1y"
