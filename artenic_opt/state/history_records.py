"""Typed rows of the recommendation history: summaries (``history``), stored candidates with
their feature rows, dispatch links, and recorded outcomes with their labels.

Decisions:

* They live apart from ``state.records`` so that ``recommend``, which stores a recommendation
  but reads none back, does not build these pydantic models (about 0.7% of its start-up);
  ``state.recommendations`` and ``state.outcomes`` import them where they build one.
"""

from pydantic import Field

from artenic_opt.schemas import JobOutcome
from artenic_opt.state.records import UtcDatetime, _Record
from artenic_opt.types import JobStatus, OptimizationGoal, OptimizerMode


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
