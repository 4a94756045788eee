"""Feedback and learning contracts: job outcomes, training samples, trained model versions, and
the ``feedback list``/``feedback delete`` documents.

Importable from ``artenic_opt.schemas`` like every contract; they load on first use (PEP 562
module ``__getattr__`` there), so that ``recommend``, which records no outcome and loads no
model when none is active, does not build them.
"""

from datetime import datetime
from typing import Self

from pydantic import Field, model_validator

from artenic_opt.schemas import CurrencyCode, Hours, Metric, Money, _Frozen, utc_now
from artenic_opt.types import FailureReason, JobStatus, OutcomeSource


class JobOutcome(_Frozen):
    """What really happened when a recommended candidate was run."""

    recommendation_id: str
    rank: int = Field(ge=1)
    status: JobStatus
    hours: Hours
    cost: Money
    currency: CurrencyCode = "USD"
    preemptions: int = Field(default=0, ge=0, le=100_000)
    metric_before: Metric | None = None
    metric_after: Metric | None = None
    metric_higher_is_better: bool = True
    failure_reason: FailureReason | None = None
    source: OutcomeSource = OutcomeSource.MANUAL
    job_id: str | None = None
    recorded_at: datetime = Field(default_factory=utc_now)

    @model_validator(mode="after")
    def _check_status(self) -> Self:
        if not self.status.is_final:
            raise ValueError(
                f"status: an outcome needs a final status (completed, failed, cancelled, "
                f"preempted), not {self.status.value}"
            )
        if (self.metric_before is None) != (self.metric_after is None):
            raise ValueError("metric_after: give both metric_before and metric_after, or neither")
        return self


class TrainingSample(_Frozen):
    """A labelled feature row for learning to rank, grouped by query id."""

    query_id: str
    recommendation_id: str
    rank: int = Field(ge=1)
    candidate_id: str
    features: tuple[float, ...]
    feature_schema_version: int
    label: int = Field(ge=0, le=4)
    source: OutcomeSource = OutcomeSource.MANUAL
    created_at: datetime = Field(default_factory=utc_now)


class RankingMetrics(_Frozen):
    ndcg_at_5: float
    ndcg_at_10: float
    mrr: float
    groups: int = Field(ge=0)


class ModelInfo(_Frozen):
    """A trained LTR model version as recorded in the state."""

    version: int = Field(ge=1)
    path: str
    trained_at: datetime
    sample_count: int = Field(ge=0)
    query_count: int = Field(ge=0)
    feature_schema_version: int
    metrics: RankingMetrics | None = None
    sha256: str
    active: bool = True


class OutcomeDeleted(_Frozen):
    """``feedback delete``: the outcome removed and the training samples removed with it."""

    outcome_id: int
    training_samples_deleted: int = Field(ge=0)


class OutcomeEntry(_Frozen):
    """``feedback list``: one stored outcome, so that its id can be found and deleted.

    A row written before today's bounds existed (``hours = 1e308``) is listed with
    ``valid = false`` and ``problem`` naming the field; analyses leave it out until it is deleted.
    A value that is not a finite number is listed as null.
    """

    outcome_id: int
    recorded_at: datetime | None = None
    recommendation_id: str | None = Field(default=None, description="None for a platform job")
    rank: int | None = None
    provider: str
    region: str
    instance_type: str
    spot: bool
    status: str
    hours: float | None = None
    cost: float | None = None
    currency: str
    label: int | None = None
    source: str | None = None
    job_id: str | None = None
    valid: bool = True
    problem: str | None = None
