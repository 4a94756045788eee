"""View models: what each dashboard view shows, as plain frozen pydantic objects.

The views render these and nothing else, so they never depend on how the libraries compute a
figure; ``tui.data`` builds them from the same library calls the CLI makes (so the terminal tables,
the JSON output and the dashboard agree). Every amount carries its currency. Free of Textual.
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict


class _View(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


# --------------------------------------------------------------------------------------------
# Overview
# --------------------------------------------------------------------------------------------


class StatusCard(_View):
    """The status card: what the advisor will do and what it has learnt from."""

    source: str
    mode: str
    effective_mode: str
    recommendations: int
    outcomes: int
    training_samples: int
    model_version: int | None = None
    model_trained_at: datetime | None = None
    model_samples: int | None = None
    ndcg_at_5: float | None = None
    catalog_offerings: int
    catalog_providers: int
    price_date_oldest: date | None = None
    price_date_newest: date | None = None
    platform_url: str
    platform_state: str
    last_sync_at: datetime | None = None
    warnings: tuple[str, ...] = ()


class SavingsLine(_View):
    """One suggested change and the monthly saving it is expected to bring."""

    title: str
    monthly_savings: float


class SavingsCard(_View):
    """What past jobs cost against what the top recommendation predicted for them."""

    period: str
    currency: str
    records_compared: int
    actual_total: float
    recommended_total: float
    difference_total: float
    overspend_total: float
    estimated_monthly_savings: float
    actions: tuple[SavingsLine, ...] = ()
    message: str | None = None


class OverviewData(_View):
    status: StatusCard
    savings: SavingsCard


# --------------------------------------------------------------------------------------------
# Recommendations
# --------------------------------------------------------------------------------------------


class RecommendationRow(_View):
    """A stored recommendation, its top pick, and what happened when a candidate was run."""

    recommendation_id: str
    created_at: datetime
    workload: str
    mode: str
    goal: str
    provider: str | None = None
    instance_type: str | None = None
    gpu: str
    nodes: int | None = None
    spot: bool | None = None
    estimated_hours: float | None = None
    estimated_cost: float | None = None
    currency: str | None = None
    candidates: int
    outcome: str | None = None
    outcome_rank: int | None = None


class FactorLine(_View):
    name: str
    value: float
    weight: float
    contribution: float


class CandidateDetail(_View):
    """One ranked candidate of a recommendation, with its score breakdown and estimates."""

    rank: int
    candidate_id: str
    provider: str
    region: str
    instance_type: str
    gpu: str
    nodes: int
    spot: bool
    score: float
    heuristic_score: float
    ltr_score: float | None = None
    factors: tuple[FactorLine, ...] = ()
    price_per_hour: float
    estimated_hours: float
    estimated_cost: float
    estimated_cost_on_demand: float
    estimated_cost_spot: float | None = None
    currency: str
    memory_needed_gb: float
    memory_available_gb: float
    reasons: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


class OutcomeLine(_View):
    rank: int
    status: str
    hours: float
    cost: float
    currency: str
    preemptions: int
    label: int | None = None
    recorded_at: datetime


class RecommendationDetail(_View):
    recommendation_id: str
    created_at: datetime
    workload: str
    workload_summary: tuple[tuple[str, str], ...]
    mode: str
    goal: str
    model_version: int | None = None
    candidates_considered: int
    candidates_feasible: int
    candidates: tuple[CandidateDetail, ...]
    outcomes: tuple[OutcomeLine, ...] = ()
    warnings: tuple[str, ...] = ()


# --------------------------------------------------------------------------------------------
# Providers
# --------------------------------------------------------------------------------------------


class WorkloadChoice(_View):
    """A workload the providers view can compare on: an example file or one from history."""

    key: str
    label: str


class ProviderBar(_View):
    """The best feasible candidate of one provider for the chosen workload."""

    provider: str
    region: str
    instance_type: str
    gpu: str
    nodes: int
    spot: bool
    price_per_hour: float
    estimated_hours: float
    estimated_cost: float


class FrontierRow(_View):
    """A point of the cost / time plot; ``on_frontier`` marks the Pareto-optimal ones."""

    label: str
    provider: str
    price_per_hour: float
    estimated_hours: float
    estimated_cost: float
    on_frontier: bool = True
    cheapest: bool = False
    fastest: bool = False
    balanced: bool = False


class ProvidersData(_View):
    workload: str
    currency: str
    candidates_considered: int
    candidates_feasible: int
    bars: tuple[ProviderBar, ...]
    points: tuple[FrontierRow, ...]
    warnings: tuple[str, ...] = ()

    @property
    def frontier(self) -> tuple[FrontierRow, ...]:
        return tuple(p for p in self.points if p.on_frontier)


# --------------------------------------------------------------------------------------------
# Storage
# --------------------------------------------------------------------------------------------


class StorageRow(_View):
    dataset_id: str
    dataset: str
    provider: str
    size_bytes: int
    size_after_bytes: int
    current_format: str
    recommended_format: str
    current_tier: str
    recommended_tier: str
    monthly_cost_now: float
    monthly_cost_after: float
    monthly_savings: float
    one_time_cost: float
    payback_months: float | None = None
    currency: str
    evidence: str
    reasons: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


# --------------------------------------------------------------------------------------------
# Cost trends
# --------------------------------------------------------------------------------------------


class SpendSeries(_View):
    """Spend of one provider per time bucket (aligned with ``CostTrendData.buckets``)."""

    provider: str
    values: tuple[float, ...]
    total: float


class AnomalyPoint(_View):
    bucket_index: int
    timestamp: datetime
    provider: str
    metric: str
    value: float
    unit: str
    reason: str
    spend: float


class CostTrendData(_View):
    period: str
    bucket: str
    currency: str
    buckets: tuple[str, ...]
    series: tuple[SpendSeries, ...]
    anomalies: tuple[AnomalyPoint, ...] = ()
    total_cost: float
    jobs: int
    message: str | None = None


class DashboardSnapshot(_View):
    """Everything the dashboard shows at once (``dashboard --json``)."""

    source: str
    overview: OverviewData
    recommendations: tuple[RecommendationRow, ...]
    workloads: tuple[WorkloadChoice, ...]
    providers: ProvidersData | None = None
    providers_error: str | None = None
    storage: tuple[StorageRow, ...]
    cost_trends: CostTrendData
