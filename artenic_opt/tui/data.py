"""Where the dashboard's data comes from: the ``DashboardData`` protocol and its state provider.

Decisions:

* **One method per view**, each returning the view models of ``tui.view_models``; the Textual
  code calls these from worker threads and never touches the libraries itself.
* **Same calls as the CLI.** ``StateDashboardData`` calls the functions the CLI commands call
  (``build_status``, the state repositories, the cost analyzer and the storage optimizer), so
  the dashboard, the terminal tables and the JSON output show the same numbers.
* **Read-only.** The state is opened through a read-only ``Workspace``; a missing state is
  shown as empty views, never created. ``--demo`` builds a throwaway state in a temporary
  directory that is deleted when the dashboard closes.
* **A fixed clock** (``now``) can be given so that windows such as "the last 30 days" are
  reproducible in tests and in demo mode (whose history ends when it was simulated).
"""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from artenic_opt.cost_analyzer.periods import bucket_label, bucket_start
from artenic_opt.errors import InfeasibleError, NotFoundError
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
from artenic_opt.services.cost import load_history, make_analyzer
from artenic_opt.services.demo import build_demo_state
from artenic_opt.services.storage import storage_recommendations

# Everything the provider calls is imported here, on the thread that imports this module: the
# views' workers call the provider from several threads at once, and first imports racing in
# threads through the state package's circular imports can meet half-initialised modules.
from artenic_opt.services.workload_reader import build_workload, read_workload_file
from artenic_opt.state.outcomes import list_outcomes
from artenic_opt.state.recommendations import get_recommendation, list_recommendations
from artenic_opt.state.store import StateStore
from artenic_opt.status import build_status
from artenic_opt.tui.view_models import (
    AnomalyPoint,
    CandidateDetail,
    CostTrendData,
    DashboardSnapshot,
    FactorLine,
    FrontierRow,
    OutcomeLine,
    OverviewData,
    ProviderBar,
    ProvidersData,
    RecommendationDetail,
    RecommendationRow,
    SavingsCard,
    SavingsLine,
    SpendSeries,
    StatusCard,
    StorageRow,
    WorkloadChoice,
)
from artenic_opt.types import Period
from artenic_opt.workspace import Workspace, WorkspaceOptions

if TYPE_CHECKING:
    from artenic_opt.cost_analyzer.analyzer import CostAnalyzer
    from artenic_opt.state.records import RecommendationSummary, StoredOutcome


class DashboardData(Protocol):
    """What the dashboard asks for; every method may raise ``ArtenicOptError``."""

    @property
    def source(self) -> str:
        """Where the data comes from, for the title bar (a state path, or the demo)."""
        ...

    def overview(self) -> OverviewData: ...

    def recommendations(self) -> list[RecommendationRow]: ...

    def recommendation_detail(self, recommendation_id: str) -> RecommendationDetail: ...

    def workloads(self) -> list[WorkloadChoice]: ...

    def providers(self, workload_key: str) -> ProvidersData: ...

    def storage(self) -> list[StorageRow]: ...

    def cost_trends(self) -> CostTrendData: ...

    def close(self) -> None: ...


# --------------------------------------------------------------------------------------------
# The state provider
# --------------------------------------------------------------------------------------------

#: How far back the savings report and the cost trends look, as ``cost savings`` does by default.
SAVINGS_PERIOD = "90d"
#: How many stored recommendations the history view loads (newest first).
HISTORY_LIMIT = 1000
#: How many distinct workloads from the history the providers view offers besides the examples.
HISTORY_WORKLOADS = 8


def examples_dir() -> Path | None:
    """The ``examples/`` folder of a source checkout, when there is one."""
    candidate = Path(__file__).resolve().parents[2] / "examples"
    return candidate if candidate.is_dir() else None


def gpu_label(gpu_type: str | None, gpu_count: int | None, nodes: int | None = None) -> str:
    """``8x H100``, ``2 x 8x A100`` for two nodes, or ``CPU``."""
    label = "CPU" if not gpu_type or not gpu_count else f"{gpu_count}x {gpu_type}"
    return f"{nodes} x {label}" if nodes and nodes > 1 else label


def _quantity(value: float) -> str:
    for limit, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")):
        if value >= limit:
            return f"{value / limit:.3g}{suffix}"
    return f"{value:.3g}"


def workload_summary(workload: WorkloadProfile) -> tuple[tuple[str, str], ...]:
    """The workload fields worth reading in a detail header, as (label, value) pairs."""
    pairs = [
        ("framework", workload.framework.value),
        ("parameters", _quantity(workload.model_params_m * 1e6)),
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


class StateDashboardData:
    """``DashboardData`` read from a state database (read-only) and the catalog.

    Thread-safe: the views call it from several worker threads at once. The store serialises
    its own queries; the lazily built workspace pieces (settings, catalog, analyzer) are built
    under one lock.
    """

    def __init__(
        self,
        workspace: Workspace,
        *,
        source: str | None = None,
        now: datetime | None = None,
        examples: Path | None = None,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        self._workspace = workspace
        self._source = source or str(workspace.state_path)
        self._now = now
        self._examples = examples if examples is not None else examples_dir()
        self._on_close = on_close
        self._lock = threading.RLock()
        self._analyzer: CostAnalyzer | None = None

    # -- plumbing -----------------------------------------------------------------------------

    @property
    def source(self) -> str:
        return self._source

    @property
    def now(self) -> datetime:
        return self._now or datetime.now(UTC)

    def _store(self) -> StateStore | None:
        """The state, or None when there is no state file yet (the workspace is read-only, so
        looking never migrates, creates or locks the user's state)."""
        return self._workspace.existing_store()

    def _cost_analyzer(self) -> CostAnalyzer:
        with self._lock:
            if self._analyzer is None:
                self._store()
                self._analyzer = make_analyzer(
                    self._workspace.catalog(),
                    self._workspace.settings.optimizer.display_currency,
                    self._workspace.rates(),
                )
            return self._analyzer

    def close(self) -> None:
        with self._lock:
            self._workspace.close()
            if self._on_close is not None:
                self._on_close()
                self._on_close = None

    # -- views --------------------------------------------------------------------------------

    def overview(self) -> OverviewData:

        with self._lock:
            self._store()
            self._workspace.catalog()
        status = build_status(self._workspace, probe_platform=True)
        report = self._cost_analyzer().savings_opportunity(
            self._spend_records(), SAVINGS_PERIOD, now=self.now
        )
        return OverviewData(status=status_card(status, self.source), savings=savings_card(report))

    def recommendations(self) -> list[RecommendationRow]:

        store = self._store()
        if store is None:
            return []
        return [recommendation_row(s) for s in list_recommendations(store, limit=HISTORY_LIMIT)]

    def recommendation_detail(self, recommendation_id: str) -> RecommendationDetail:

        store = self._store()
        if store is None:
            raise NotFoundError(f"recommendation {recommendation_id}: there is no state yet")
        advice = get_recommendation(store, recommendation_id)
        outcomes = list_outcomes(store, recommendation_id=advice.recommendation_id)
        return recommendation_detail(advice, outcomes)

    def workloads(self) -> list[WorkloadChoice]:
        choices = [
            WorkloadChoice(key=f"example:{path.name}", label=f"{name} (example)")
            for path, name in self._example_files()
        ]
        store = self._store()
        if store is not None:
            seen: set[str] = set()
            for summary in list_recommendations(store, limit=200):
                if summary.query_id in seen or len(seen) >= HISTORY_WORKLOADS:
                    continue
                seen.add(summary.query_id)
                choices.append(
                    WorkloadChoice(
                        key=f"history:{summary.recommendation_id}",
                        label=f"{summary.workload_name} (history)",
                    )
                )
        return choices

    def providers(self, workload_key: str) -> ProvidersData:
        workload = self._workload(workload_key)
        return providers_data(self._cost_analyzer().compare_providers(workload))

    def storage(self) -> list[StorageRow]:
        advice = self._storage_advice()
        return [storage_row(a) for a in advice]

    def cost_trends(self) -> CostTrendData:
        analyzer = self._cost_analyzer()
        records = self._spend_records()
        now = self.now
        period = trend_period(records, now)
        summary = analyzer.spending_summary(records, period, "provider", now=now)
        bucket = Period(summary.bucket)
        per_provider = {
            group.key: analyzer.spending_summary(
                [r for r in records if r.provider == group.key],
                period,
                "provider",
                bucket=bucket,
                now=now,
            )
            for group in summary.groups
        }
        return cost_trend_data(summary, per_provider)

    # -- inputs -------------------------------------------------------------------------------

    def _example_files(self) -> list[tuple[Path, str]]:
        if self._examples is None:
            return []

        found: list[tuple[Path, str]] = []
        for path in sorted(self._examples.iterdir()):
            if path.suffix.lower() not in (".toml", ".json"):
                continue
            name = str(read_workload_file(str(path)).get("name") or path.stem)
            found.append((path, name))
        return found

    def _workload(self, key: str) -> WorkloadProfile:
        kind, _, ref = key.partition(":")
        if kind == "example" and self._examples is not None:
            return build_workload(str(self._examples / ref), {})
        if kind == "history":
            store = self._store()
            if store is not None:
                return get_recommendation(store, ref).workload
        raise NotFoundError(f"workload {key!r} is neither an example nor in the history")

    def _spend_records(self) -> list[SpendRecord]:

        store = self._store()
        if store is None:
            return []
        return load_history(store)

    def _storage_advice(self) -> list[StorageAdvice]:
        store = self._store()
        if store is None:
            return []
        return storage_advice(store, self._workspace, now=self.now)


# --------------------------------------------------------------------------------------------
# Loading library inputs from the state
# --------------------------------------------------------------------------------------------


def storage_advice(
    store: StateStore, workspace: Workspace, *, now: datetime
) -> list[StorageAdvice]:
    """What ``storage recommendations`` shows, computed read-only at the dashboard's clock (no
    re-scan of local folders, no file reads), so that a fixed ``now`` gives reproducible tiers."""
    return storage_recommendations(
        store,
        workspace.catalog(),
        provider=workspace.settings.optimizer.storage_provider,
        now=now,
        read_only=True,
    )


def dashboard_snapshot(data: DashboardData) -> DashboardSnapshot:
    """Every view's data in one object; the providers view uses the first workload offered.

    A workload that nothing can run (``InfeasibleError``) is reported in ``providers_error``
    rather than failing the whole snapshot, as the providers view shows it in place.
    """
    workloads = data.workloads()
    providers: ProvidersData | None = None
    providers_error: str | None = None
    if workloads:
        try:
            providers = data.providers(workloads[0].key)
        except InfeasibleError as exc:
            providers_error = str(exc)
    return DashboardSnapshot(
        source=data.source,
        overview=data.overview(),
        recommendations=tuple(data.recommendations()),
        workloads=tuple(workloads),
        providers=providers,
        providers_error=providers_error,
        storage=tuple(data.storage()),
        cost_trends=data.cost_trends(),
    )


# --------------------------------------------------------------------------------------------
# Demo mode
# --------------------------------------------------------------------------------------------

#: Simulated jobs and seed of ``dashboard --demo``: enough history for every view (a trained
#: model included), built in seconds, and the same history on every machine.
DEMO_JOBS = 120
DEMO_SEED = 7


def open_demo_data(
    *, jobs: int = DEMO_JOBS, seed: int = DEMO_SEED, now: datetime | None = None
) -> StateDashboardData:
    """Build a simulated history (``services.demo``, the ``demo`` command's builder) in a
    temporary directory and open it read-only.

    The directory, and the state in it, is deleted when the returned provider is closed, or at
    once if building fails. The provider's clock is the one the history was dated with.
    """
    clock = now or datetime.now(UTC)
    workdir = tempfile.TemporaryDirectory(prefix="artenic-opt-demo-")
    path = Path(workdir.name) / "state.db"
    try:
        builder = Workspace(WorkspaceOptions(state=path))
        try:
            build_demo_state(
                builder.store(),
                builder.catalog(),
                builder.settings,
                builder.rates(),
                jobs=jobs,
                seed=seed,
                now=clock,
            )
        finally:
            builder.close()
    except BaseException:
        workdir.cleanup()
        raise
    return StateDashboardData(
        Workspace(WorkspaceOptions(state=path), read_only=True),
        source=f"demo: {jobs} simulated jobs, seed {seed}",
        now=clock,
        on_close=workdir.cleanup,
    )
