"""Typed rows of the state database that have no contract in ``artenic_opt.schemas``.

The repository functions take and return these (or the shared schemas: ``TrainingAdvice``,
``JobOutcome``, ``TrainingSample``, ``ModelInfo``, ``Offering``, ``StoragePrice``). They are frozen
pydantic models, so the CLI renders them with ``model_dump(mode="json")`` like every other object,
and a row read back from the file is validated on the way out.

Decisions:

* The platform-side records (jobs, datasets, budgets, spending, sync runs) are in
  ``state.platform_records``: a command that reads only catalog overlays, recommendations and
  outcomes (``recommend``) does not build them.
* Timestamps are timezone-aware UTC; a naive value is taken to be UTC (the platform emits naive
  timestamps on SQLite deployments).
"""

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from artenic_opt.schemas import JobOutcome, Offering, StoragePrice
from artenic_opt.state._codec import to_utc
from artenic_opt.types import JobStatus, OptimizationGoal, OptimizerMode


class OverlayOrigin(StrEnum):
    """Where an overlay offering or storage price came from."""

    PLATFORM = "platform"
    IMPORT = "import"


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
