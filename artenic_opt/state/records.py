"""Typed rows of the state database that have no contract in ``artenic_opt.schemas``.

The repository functions take and return these (or the shared schemas: ``TrainingAdvice``,
``JobOutcome``, ``TrainingSample``, ``ModelInfo``, ``Offering``, ``StoragePrice``). They are frozen
pydantic models, so the CLI renders them with ``model_dump(mode="json")`` like every other object,
and a row read back from the file is validated on the way out.

Decisions:

* Platform-side records (jobs, datasets, budgets, spending) mirror the platform API's fields
  (platform-api.md §4, §6, §7) with money in EUR as the platform reports it; JSON-valued fields
  (``config``, ``metrics``, ``metadata``, ``alerts``) stay free-form.
* Timestamps are timezone-aware UTC; a naive value is taken to be UTC (the platform emits naive
  timestamps on SQLite deployments).
"""

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from artenic_opt.schemas import JobOutcome, Offering, StoragePrice
from artenic_opt.state._codec import to_utc
from artenic_opt.types import JobStatus, OptimizationGoal, OptimizerMode


class OverlayOrigin(StrEnum):
    """Where an overlay offering or storage price came from."""

    PLATFORM = "platform"
    IMPORT = "import"


class DatasetOrigin(StrEnum):
    PLATFORM = "platform"
    LOCAL = "local"


class SyncStatus(StrEnum):
    RUNNING = "running"
    OK = "ok"
    PARTIAL = "partial"
    FAILED = "failed"


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


#: A timestamp normalised to UTC (naive values are taken to be UTC).
UtcDatetime = Annotated[datetime, AfterValidator(to_utc)]


# --------------------------------------------------------------------------------------------
# Catalog overlay
# --------------------------------------------------------------------------------------------


class OverlayOffering(_Record):
    offering: Offering
    origin: OverlayOrigin
    fetched_at: UtcDatetime | None = None


class OverlayStoragePrice(_Record):
    price: StoragePrice
    origin: OverlayOrigin
    fetched_at: UtcDatetime | None = None


# --------------------------------------------------------------------------------------------
# Recommendations and outcomes
# --------------------------------------------------------------------------------------------


class RecommendationSummary(_Record):
    """One line of ``history``: a stored recommendation, its top candidate and what happened."""

    recommendation_id: str
    query_id: str
    created_at: UtcDatetime
    workload_name: str
    mode: OptimizerMode
    goal: OptimizationGoal
    model_version: int | None
    display_currency: str
    candidate_count: int = Field(ge=0)
    top_provider: str | None = None
    top_region: str | None = None
    top_instance_type: str | None = None
    top_gpu_type: str | None = None
    top_gpu_count: int | None = None
    top_nodes: int | None = None
    top_spot: bool | None = None
    top_estimated_hours: float | None = None
    top_estimated_cost: float | None = None
    top_currency: str | None = None
    job_id: str | None = None
    dispatched_rank: int | None = None
    dispatched_at: UtcDatetime | None = None
    outcome_status: JobStatus | None = Field(default=None, description="Latest recorded outcome")
    outcome_rank: int | None = None


class StoredCandidate(_Record):
    """A ranked candidate as stored with its recommendation, with its feature row if any."""

    recommendation_id: str
    query_id: str
    rank: int = Field(ge=1)
    candidate_id: str
    provider: str
    region: str
    instance_type: str
    gpu_type: str | None
    gpu_count: int
    nodes: int
    spot: bool
    score: float
    estimated_hours: float
    estimated_cost: float
    currency: str
    features: tuple[float, ...] | None = None
    feature_schema_version: int | None = None


class DispatchLink(_Record):
    """Which recommendation (and rank) a platform job was dispatched from."""

    recommendation_id: str
    query_id: str
    rank: int
    job_id: str
    dispatched_at: UtcDatetime | None


class StoredOutcome(_Record):
    """A recorded outcome with its row id, the machine it ran on and its relevance label.

    ``outcome.recommendation_id`` is ``""`` for a platform job that did not come from one of our
    recommendations (``linked`` is then false).
    """

    id: int
    outcome: JobOutcome
    provider: str
    region: str
    instance_type: str
    spot: bool
    label: int | None = Field(default=None, ge=0, le=4)

    @property
    def linked(self) -> bool:
        return bool(self.outcome.recommendation_id)


class ProviderOutcomeCounts(_Record):
    """Outcome tallies of one provider (the advisor's reliability factor)."""

    provider: str
    total: int = Field(ge=0)
    completed: int = Field(ge=0)

    @property
    def success_rate(self) -> float:
        return self.completed / self.total if self.total else 1.0


# --------------------------------------------------------------------------------------------
# Platform mirror
# --------------------------------------------------------------------------------------------


class PlatformJob(_Record):
    """A training job as the platform reports it (platform-api.md §4.1)."""

    id: str = Field(min_length=1)
    status: JobStatus
    service: str | None = None
    model: str | None = None
    provider: str | None = None
    provider_job_id: str | None = None
    instance_type: str | None = None
    region: str | None = None
    is_spot: bool = False
    cost_estimate_eur: float | None = None
    cost_actual_eur: float | None = None
    cost_per_hour_eur: float | None = None
    duration_seconds: float | None = None
    created_at: UtcDatetime | None = None
    started_at: UtcDatetime | None = None
    completed_at: UtcDatetime | None = None
    config: dict[str, Any] = Field(default_factory=dict)
    metrics: dict[str, Any] | None = None
    error: str | None = None


class DatasetRecord(_Record):
    """A dataset: synced from the platform (§6.1) or a local directory that was analysed."""

    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    version: int | None = None
    format: str | None = None
    description: str | None = None
    status: str | None = None
    total_size_bytes: int | None = Field(default=None, ge=0)
    created_at: UtcDatetime | None = None
    origin: DatasetOrigin = DatasetOrigin.PLATFORM
    local_path: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)


class DatasetFileRecord(_Record):
    dataset_id: str = Field(min_length=1)
    path: str = Field(min_length=1)
    sha256: str | None = None
    size_bytes: int = Field(ge=0)
    num_records: int | None = Field(default=None, ge=0)
    modified_at: UtcDatetime | None = None


class AccessEvent(_Record):
    """One read, download or write of a dataset. ``weak_evidence``: inferred from file times."""

    dataset_id: str = Field(min_length=1)
    timestamp: UtcDatetime
    operation: str = Field(min_length=1)
    source: str = Field(min_length=1)
    weak_evidence: bool = False


class BudgetRecord(_Record):
    """A platform budget (§7.1)."""

    id: int
    scope: str
    scope_value: str
    period: str
    limit_eur: float
    alert_threshold_pct: float | None = None
    enabled: bool = True
    created_at: UtcDatetime | None = None


class BudgetSpendingRecord(_Record):
    """Spend against one budget over its rolling window (§7.2)."""

    scope: str
    scope_value: str
    period: str
    spent_eur: float
    limit_eur: float
    pct_used: float
    alerts: tuple[dict[str, Any], ...] = ()
    fetched_at: UtcDatetime | None = None


# --------------------------------------------------------------------------------------------
# Sync runs
# --------------------------------------------------------------------------------------------


class SyncRun(_Record):
    id: int
    started_at: UtcDatetime
    finished_at: UtcDatetime | None = None
    parts: tuple[str, ...]
    status: SyncStatus
    summary: dict[str, Any] | None = None
    error: str | None = None
