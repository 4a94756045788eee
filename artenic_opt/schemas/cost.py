"""Cost analyzer contracts (DESIGN §2): spend records, spot advice, the provider comparison with
its Pareto frontier, spending summaries with anomalies, and the savings report.

Importing ``artenic_opt.schemas`` does not load this module: its names are resolved from there on
first use, so commands that never analyse cost do not pay for building these models.
"""

from datetime import UTC, datetime
from typing import Self

from pydantic import Field, field_validator, model_validator

from artenic_opt.schemas import (
    CurrencyCode,
    NonNegativeFloat,
    PositiveFloat,
    WorkloadProfile,
    _Frozen,
    utc_now,
)
from artenic_opt.types import (
    JobStatus,
)

#: What ``spending_summary`` can group by; the last three are calendar buckets.
SPEND_DIMENSIONS: tuple[str, ...] = (
    "provider",
    "region",
    "instance",
    "gpu",
    "workload",
    "day",
    "week",
    "month",
)
#: Kinds of actionable savings items (values of ``RecommendationType`` plus ``region`` and
#: ``right_size``). The kind names the largest change: provider, then region, then instance (or
#: node count; ``right_size`` when the reason is unused GPU memory), then capacity (``spot``).
SAVINGS_ACTION_KINDS: tuple[str, ...] = (
    "provider_switch",
    "region",
    "instance",
    "right_size",
    "spot",
)
#: What a savings action changes in a setup, largest first.
SETUP_CHANGES: tuple[str, ...] = ("provider", "region", "instance", "nodes", "capacity")
#: Quantities that anomaly detection compares against comparable runs.
ANOMALY_METRICS: tuple[str, ...] = ("cost_per_hour", "cost_per_run", "hours_per_run")


class SpendRecord(_Frozen):
    """One finished job as the cost analyzer sees it (built by the CLI from stored outcomes).

    ``cost`` is what the whole job cost on all nodes, in ``currency``. The reference amounts
    (``predicted_cost``, ``recommended_cost`` and the two list prices) are in
    ``reference_currency``, or in ``currency`` when that is not given. List prices are per node
    and hour, as in ``Offering``.
    """

    record_id: str = Field(min_length=1, max_length=300)
    timestamp: datetime
    provider: str = Field(min_length=1, max_length=100)
    region: str = Field(min_length=1, max_length=200)
    instance_type: str = Field(min_length=1, max_length=300)
    gpu_type: str | None = None
    gpu_count: int = Field(default=0, ge=0, le=1024, description="GPUs per node")
    nodes: int = Field(default=1, ge=1, le=100_000)
    spot: bool = False
    status: JobStatus = JobStatus.COMPLETED
    hours: NonNegativeFloat
    cost: NonNegativeFloat
    currency: CurrencyCode = "USD"
    preemptions: int = Field(default=0, ge=0, le=100_000)
    metric_before: float | None = Field(default=None, allow_inf_nan=False)
    metric_after: float | None = Field(default=None, allow_inf_nan=False)
    metric_higher_is_better: bool = True
    query_id: str | None = None
    workload_name: str | None = None
    workload: WorkloadProfile | None = None
    predicted_hours: NonNegativeFloat | None = None
    predicted_cost: NonNegativeFloat | None = None
    recommended_cost: NonNegativeFloat | None = Field(
        default=None, description="Predicted cost of the top recommendation at the time"
    )
    recommended_candidate: str | None = Field(
        default=None, description="Candidate id of the top recommendation at the time"
    )
    reference_currency: CurrencyCode | None = None
    on_demand_price_per_hour: PositiveFloat | None = None
    spot_price_per_hour: PositiveFloat | None = None
    memory_needed_gb: PositiveFloat | None = Field(default=None, description="Per GPU")
    memory_available_gb: PositiveFloat | None = Field(default=None, description="Per GPU")

    @field_validator("timestamp")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        # Naive timestamps are taken as UTC so that windows and buckets never mix clocks.
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    @model_validator(mode="after")
    def _check_record(self) -> Self:
        if not self.status.is_final:
            raise ValueError(f"status: a spend record needs a final status, not {self.status}")
        if (self.metric_before is None) != (self.metric_after is None):
            raise ValueError("metric_after: give both metric_before and metric_after, or neither")
        if self.gpu_count > 0 and not self.gpu_type:
            raise ValueError("gpu_type: required when gpu_count > 0")
        return self

    @property
    def price_currency(self) -> str:
        """Currency of the reference amounts (predictions and list prices)."""
        return self.reference_currency or self.currency

    @property
    def candidate_id(self) -> str:
        """Same shape as ``InstanceRecommendation.candidate_id``."""
        kind = "spot" if self.spot else "on_demand"
        return f"{self.provider}/{self.region}/{self.instance_type}#{self.nodes}#{kind}"

    @property
    def workload_key(self) -> str | None:
        """The workload this run belongs to: its query id, else its name."""
        if self.query_id:
            return self.query_id
        if self.workload is not None:
            return self.workload.query_id
        return self.workload_name


class SpotThresholds(_Frozen):
    """When the spot advisor recommends spot (all conditions must hold)."""

    min_savings: float = Field(
        default=0.30, ge=0, lt=1, description="Average spot savings must be above this share"
    )
    max_preemption_rate: float = Field(
        default=0.20, gt=0, le=1, description="Share of spot runs preempted must be below this"
    )
    require_checkpointing: bool = True
    min_runs: int = Field(
        default=5, ge=1, le=100_000, description="Spot runs needed before history is trusted"
    )


class SpotAdvice(_Frozen):
    """Spot or on-demand for one provider / region / instance type, and why."""

    provider: str
    region: str
    instance_type: str
    gpu_type: str | None = None
    runs: int = Field(ge=0, description="All recorded runs of this group")
    spot_runs: int = Field(ge=0)
    preempted_runs: int = Field(ge=0)
    history_sufficient: bool
    basis: str = Field(description="history or prior")
    prior_preemptions_per_hour: float | None = Field(
        default=None, ge=0, description="Per instance-hour, when the prior was used"
    )
    preemption_rate: float = Field(ge=0, le=1, description="Share of spot runs preempted")
    preemptions_per_preempted_run: float = Field(ge=0)
    spot_savings: float | None = Field(
        default=None, description="Average share saved by spot against the on-demand price"
    )
    on_demand_price_per_hour: float | None = Field(default=None, description="All nodes")
    spot_price_per_hour: float | None = Field(default=None, description="All nodes")
    job_hours: float = Field(ge=0)
    nodes: int = Field(ge=1)
    checkpointing: bool
    checkpoint_interval_hours: float = Field(ge=0)
    restart_overhead_hours: float = Field(ge=0)
    lost_hours_per_preemption: float = Field(ge=0)
    on_demand_cost: float | None = None
    spot_cost: float | None = None
    retry_overhead: float | None = Field(
        default=None, description="Expected extra cost of a preempted run (its retries)"
    )
    expected_spot_cost: float | None = Field(
        default=None, description="spot_cost + preemption_rate x retry_overhead"
    )
    expected_savings: float | None = Field(
        default=None, description="on_demand_cost - expected_spot_cost"
    )
    expected_savings_pct: float | None = None
    currency: CurrencyCode
    recommend_spot: bool
    verdict_reason: str = Field(
        default="", description="The one reason that decided recommend_spot (shown in tables)"
    )
    reasons: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


class RegionBenchmark(_Frozen):
    """The best feasible candidate of one provider in one region."""

    provider: str
    region: str
    candidate_id: str
    instance_type: str
    gpu_type: str | None = None
    gpu_count: int = Field(ge=0)
    nodes: int = Field(ge=1)
    spot: bool
    price_per_hour: float = Field(description="All nodes, display currency")
    estimated_hours: float
    estimated_cost: float
    currency: CurrencyCode
    feasible_candidates: int = Field(ge=1)
    gpu_availability_score: float = Field(ge=0, le=1)


class GpuAvailability(_Frozen):
    """Which GPUs a provider sells in a region, and a 0..1 availability score."""

    provider: str
    region: str
    gpu_types: tuple[str, ...]
    gpu_configs: tuple[str, ...] = Field(description="GPU type x count per instance")
    max_gpus_per_instance: int = Field(ge=0)
    gpu_offerings: int = Field(ge=0)
    spot_offerings: int = Field(ge=0)
    breadth: float = Field(ge=0, le=1)
    scale: float = Field(ge=0, le=1)
    spot_share: float = Field(ge=0, le=1)
    score: float = Field(ge=0, le=1)


class ProviderCoverage(_Frozen):
    """How many regions a provider sells in, and in how many the workload fits."""

    provider: str
    regions: tuple[str, ...]
    feasible_regions: tuple[str, ...]
    coverage: float = Field(ge=0, le=1, description="Share of regions with a feasible candidate")
    gpu_types: tuple[str, ...]
    availability_score: float = Field(ge=0, le=1, description="Best region's GPU score")
    best_estimated_cost: float | None = None


class FrontierPoint(_Frozen):
    """A candidate on the cost / time Pareto frontier."""

    candidate_id: str
    provider: str
    region: str
    instance_type: str
    gpu_type: str | None = None
    gpu_count: int = Field(ge=0)
    nodes: int = Field(ge=1)
    spot: bool
    price_per_hour: float
    estimated_hours: float
    estimated_cost: float
    currency: CurrencyCode
    cheapest: bool = False
    fastest: bool = False
    balanced: bool = False


class CostReport(_Frozen):
    """The answer to ``cost compare``: providers side by side for one workload."""

    workload: WorkloadProfile
    query_id: str
    created_at: datetime = Field(default_factory=utc_now)
    display_currency: CurrencyCode
    rates_source: str | None = None
    candidates_considered: int = Field(ge=0)
    candidates_feasible: int = Field(ge=0)
    regions: tuple[RegionBenchmark, ...]
    providers: tuple[ProviderCoverage, ...]
    availability: tuple[GpuAvailability, ...]
    frontier: tuple[FrontierPoint, ...]
    cheapest: FrontierPoint
    fastest: FrontierPoint
    balanced: FrontierPoint
    warnings: tuple[str, ...] = ()


class SpendGroup(_Frozen):
    """Spend of one group (a provider, an instance type, a day, ...)."""

    key: str
    start: datetime | None = Field(default=None, description="Bucket start, for time groups")
    jobs: int = Field(ge=0)
    hours: float = Field(ge=0)
    cost: float = Field(ge=0)
    share: float = Field(ge=0, le=1, description="Share of the total cost")
    cost_per_hour: float | None = None
    failed_jobs: int = Field(ge=0, description="Runs that did not complete")
    failed_cost: float = Field(ge=0)


class MetricEfficiency(_Frozen):
    """Cost per unit of metric improvement of one workload in one time bucket."""

    workload: str
    bucket: str
    start: datetime
    runs: int = Field(ge=1)
    cost: float = Field(ge=0)
    improvement: float = Field(description="Sum of positive improvements (metric units)")
    cost_per_unit: float | None = Field(
        default=None, description="cost / improvement; none when nothing improved"
    )


class CostAnomaly(_Frozen):
    """A run whose cost or duration is far from comparable runs (robust z-score)."""

    record_id: str
    timestamp: datetime
    provider: str
    region: str
    instance_type: str
    gpu_type: str | None = None
    workload: str | None = None
    metric: str = Field(description="cost_per_hour, cost_per_run or hours_per_run")
    value: float
    median: float
    mad: float
    robust_z: float
    ratio_to_median: float | None = None
    comparable_runs: int = Field(ge=2)
    comparison: str = Field(description="What makes the runs comparable")
    unit: str = Field(description="Currency code, or 'h' for hours")
    reason: str


class SpendingSummary(_Frozen):
    """The answer to ``cost summary``: spend in a window, grouped, bucketed and checked."""

    period: str
    start: datetime
    end: datetime
    by: str
    bucket: str = Field(description="day, week or month: the timeline's bucket")
    display_currency: CurrencyCode
    jobs: int = Field(ge=0)
    total_hours: float = Field(ge=0)
    total_cost: float = Field(ge=0)
    failed_cost: float = Field(ge=0)
    groups: tuple[SpendGroup, ...] = ()
    timeline: tuple[SpendGroup, ...] = ()
    metric_efficiency: tuple[MetricEfficiency, ...] = ()
    anomalies: tuple[CostAnomaly, ...] = ()
    records_outside_period: int = Field(default=0, ge=0)
    empty: bool = False
    message: str | None = None


class SavingsRecord(_Frozen):
    """One completed run against what the top recommendation predicted at the time."""

    record_id: str
    timestamp: datetime
    workload: str | None = None
    candidate_id: str
    recommended_candidate: str | None = None
    followed_recommendation: bool | None = None
    actual_cost: float
    recommended_cost: float
    difference: float = Field(description="actual - recommended; above 0 means overspend")
    currency: CurrencyCode


class Setup(_Frozen):
    """Where a run ran: provider, region, instance type, node count and capacity type."""

    provider: str
    region: str
    instance_type: str
    nodes: int = Field(default=1, ge=1)
    spot: bool = False

    @classmethod
    def from_candidate_id(cls, candidate_id: str) -> Self:
        """Parse ``provider/region/instance#nodes#spot|on_demand`` (``candidate_id``)."""
        head, nodes, kind = candidate_id.rsplit("#", 2)
        provider, region, instance = head.split("/", 2)
        return cls(
            provider=provider,
            region=region,
            instance_type=instance,
            nodes=int(nodes),
            spot=kind == "spot",
        )

    def changes_to(self, other: "Setup") -> tuple[str, ...]:
        """What differs in ``other`` (values of ``SETUP_CHANGES``, largest first)."""
        differs = {
            "provider": self.provider.lower() != other.provider.lower(),
            "region": self.region.lower() != other.region.lower(),
            "instance": self.instance_type.lower() != other.instance_type.lower(),
            "nodes": self.nodes != other.nodes,
            "capacity": self.spot != other.spot,
        }
        return tuple(name for name in SETUP_CHANGES if differs[name])


class SavingsAction(_Frozen):
    """Something to change, with the monthly saving it is expected to bring.

    Typed: ``current_setup`` and ``suggested_setup`` say where the runs ran and where they
    should run, ``changes`` what differs. A report holds at most one action per run.
    """

    kind: str = Field(description="provider_switch, region, instance, right_size or spot")
    current_setup: Setup
    suggested_setup: Setup
    changes: tuple[str, ...] = Field(
        description="What the action changes: provider, region, instance, nodes, capacity"
    )
    workload: str | None = None
    title: str
    detail: str
    current: str
    suggested: str
    runs_per_month: float = Field(ge=0)
    current_cost_per_run: float = Field(ge=0)
    suggested_cost_per_run: float = Field(ge=0)
    estimated_monthly_savings: float = Field(gt=0)
    currency: CurrencyCode
    evidence_runs: int = Field(ge=1)
    record_ids: tuple[str, ...] = ()
    counted_in_total: bool = Field(
        default=True,
        description="Always true: an action whose runs a larger one covers is not reported",
    )


class SavingsReport(_Frozen):
    """The answer to ``cost savings``: what was overspent, and what to change."""

    period: str
    start: datetime
    end: datetime
    display_currency: CurrencyCode
    records: tuple[SavingsRecord, ...] = ()
    records_compared: int = Field(default=0, ge=0)
    records_without_recommendation: int = Field(default=0, ge=0)
    actual_total: float = Field(default=0.0, ge=0)
    recommended_total: float = Field(default=0.0, ge=0)
    difference_total: float = 0.0
    overspend_total: float = Field(default=0.0, ge=0)
    actions: tuple[SavingsAction, ...] = ()
    estimated_monthly_savings: float = Field(default=0.0, ge=0)
    empty: bool = False
    message: str | None = None
