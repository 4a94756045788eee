"""Result documents of the use cases in ``services`` (what ``--json`` prints for them).

Every ``--json`` document is a model of ``artenic_opt.schemas``; these are the ones that belong to
no pillar: what ``demo`` built, what a replay file received, what ``storage analyze`` found, what
``feedback`` and ``retrain`` stored, what ``storage import-access`` read, what ``dispatch`` sent.
The training, storage and dispatch results keep their own ``model_config`` (frozen, no
``extra="forbid"``) so their validation and JSON schema are unchanged by the move.
"""

from pydantic import BaseModel, ConfigDict, Field

from artenic_opt.schemas import ModelInfo, RankingMetrics, _Frozen
from artenic_opt.schemas.storage import FileProblem, LineError, StorageAdvice


class DemoSummary(_Frozen):
    """``demo``: what the simulated history holds."""

    seed: int
    jobs: int
    workloads: int
    infeasible_workloads: int
    outcomes: int
    training_samples: int
    model_version: int | None
    datasets: int
    access_events: int


class ReplayWritten(_Frozen):
    """``demo --replay-out``: the replay file written."""

    file: str
    runs: int
    workloads: int
    seed: int


class StorageAnalysis(_Frozen):
    """``storage analyze``: the advice and the per-file problems met on the way."""

    advice: StorageAdvice
    problems: tuple[FileProblem, ...] = ()


# -- Training (feedback, retrain, metrics)


class RecordedOutcome(BaseModel):
    """What ``feedback record`` stored: the outcome, its label and the training sample."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    outcome_id: int
    sample_id: int | None
    recommendation_id: str
    rank: int
    label: int | None
    retrained: ModelInfo | None = None


class ImportLineError(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    line: int
    message: str


class OutcomeImport(BaseModel):
    """``feedback import``: good lines are stored, bad lines are reported with their number."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    file: str
    stored: int
    already_present: int = Field(
        default=0, description="Lines whose outcome an earlier import already stored (skipped)"
    )
    errors: tuple[ImportLineError, ...] = ()
    retrained: ModelInfo | None = None


class RetrainResult(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    trained: bool
    reason: str
    model: ModelInfo | None = None
    samples: int


class LearningMetrics(BaseModel):
    """``metrics``: the active model's held-out ranking quality and what it was trained on."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    samples: int
    model_version: int | None
    trained_at: str | None
    model_samples: int | None
    metrics: RankingMetrics | None


# -- Storage


class AccessImport(BaseModel):
    """``storage import-access``: how many events were read, stored, and which lines failed."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    file: str
    events_read: int
    events_added: int
    already_present: int = 0  # events read that were stored before (or twice in the file)
    datasets: tuple[str, ...]
    errors: tuple[LineError, ...] = ()


# -- Platform


class DispatchResult(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    recommendation_id: str
    rank: int
    job_id: str
    instance_type: str
    region: str
    spot: bool
    max_runtime_hours: float
