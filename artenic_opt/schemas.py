"""Pydantic v2 models: the data contracts shared by every layer (DESIGN §2).

Decisions:

* Models are strict about nonsense: sizes must be positive, counts at least one, and "absurd"
  values (a model of more than 100 trillion parameters, a deadline of more than ten years) are
  rejected, so that a typo fails loudly instead of producing a silly ranking.
* ``extra="forbid"`` on user-facing inputs (workloads, outcomes), so a misspelt field in a workload
  file is an error that names it instead of being ignored.
* Money is always an amount plus an ISO currency code; nothing here converts currencies.
* ``parse_model`` is the one place that turns a ``ValidationError`` into the one-line
  ``field: message`` text the CLI prints (exit code 2).
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from artenic_opt.errors import InvalidInputError
from artenic_opt.types import (
    FailureReason,
    FineTuning,
    JobStatus,
    ModelFramework,
    OptimizationGoal,
    OptimizerKind,
    OptimizerMode,
    OutcomeSource,
    Precision,
)

CurrencyCode = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code")]
PositiveFloat = Annotated[float, Field(gt=0, allow_inf_nan=False)]
NonNegativeFloat = Annotated[float, Field(ge=0, allow_inf_nan=False)]


def utc_now() -> datetime:
    return datetime.now(UTC)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", use_enum_values=False, defer_build=True)


# --------------------------------------------------------------------------------------------
# Workloads
# --------------------------------------------------------------------------------------------

#: Fields that define *what* is trained. Constraints (budget, deadline, providers) and the name do
#: not change how a job behaves on an offering, so they are not part of the query id.
QUERY_ID_FIELDS: tuple[str, ...] = (
    "framework",
    "model_params_m",
    "dataset_size_gb",
    "num_epochs",
    "batch_size",
    "sequence_length",
    "precision",
    "tokens",
    "fine_tuning",
    "optimizer",
    "gradient_checkpointing",
    "gpu_required",
    "distributed",
    "max_nodes",
)


class WorkloadProfile(_Frozen):
    """A training job to place: what is trained, on what data, under which constraints."""

    name: str = Field(default="workload", min_length=1, max_length=200)
    framework: ModelFramework = ModelFramework.PYTORCH
    model_params_m: float = Field(
        gt=0, le=100_000_000, allow_inf_nan=False, description="Model size, millions of params"
    )
    dataset_size_gb: float = Field(gt=0, le=100_000_000, allow_inf_nan=False)
    num_epochs: float = Field(default=1, gt=0, le=100_000, allow_inf_nan=False)
    batch_size: int = Field(default=8, ge=1, le=1_000_000, description="Per-device micro-batch")
    sequence_length: int = Field(default=2048, ge=1, le=10_000_000)
    precision: Precision = Precision.BF16
    tokens: float | None = Field(
        default=None,
        gt=0,
        le=1e16,
        allow_inf_nan=False,
        description="Training tokens in one epoch; derived from dataset size when absent",
    )
    fine_tuning: FineTuning = FineTuning.FULL
    lora_rank: int = Field(default=16, ge=1, le=4096)
    optimizer: OptimizerKind = OptimizerKind.ADAMW
    gradient_checkpointing: bool = False
    gpu_required: bool = True
    num_workers: int = Field(default=1, ge=1, le=1024, description="GPUs wanted per node")
    distributed: bool = False
    max_nodes: int = Field(default=1, ge=1, le=512)
    checkpointing: bool = True
    checkpoint_interval_hours: float = Field(default=1.0, gt=0, le=1000, allow_inf_nan=False)
    estimated_hours: float | None = Field(default=None, gt=0, le=1_000_000, allow_inf_nan=False)
    reference_gpu: str | None = Field(
        default=None, description="GPU type that estimated_hours was measured on"
    )
    reference_gpu_count: int = Field(default=1, ge=1, le=100_000)
    budget: float | None = Field(default=None, gt=0, le=1e12, allow_inf_nan=False)
    budget_currency: CurrencyCode = "USD"
    deadline_hours: float | None = Field(default=None, gt=0, le=87_600, allow_inf_nan=False)
    min_system_memory_gb: float | None = Field(default=None, gt=0, le=100_000)
    allowed_providers: tuple[str, ...] = ()
    allowed_regions: tuple[str, ...] = ()
    spot_allowed: bool = True

    @field_validator("allowed_providers", "allowed_regions", mode="before")
    @classmethod
    def _listify(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @model_validator(mode="after")
    def _check_consistency(self) -> WorkloadProfile:
        if self.max_nodes > 1 and not self.distributed:
            raise ValueError("max_nodes: more than one node needs distributed = true")
        if self.fine_tuning is FineTuning.QLORA and self.precision not in (
            Precision.INT4,
            Precision.INT8,
        ):
            # QLoRA means a quantised frozen base; say so instead of silently changing precision.
            raise ValueError("precision: qlora fine-tuning needs precision int4 or int8")
        if self.framework.is_cpu_bound and self.fine_tuning is not FineTuning.FULL:
            raise ValueError(
                f"fine_tuning: {self.fine_tuning.value} applies to neural networks, "
                f"not to {self.framework.value}"
            )
        return self

    @property
    def query_id(self) -> str:
        """Stable hash of the canonical fields: all outcomes of one workload share it."""
        payload = self.model_dump(mode="json", include=set(QUERY_ID_FIELDS))
        canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]


# --------------------------------------------------------------------------------------------
# Catalog
# --------------------------------------------------------------------------------------------


class Offering(_Frozen):
    """One purchasable machine shape at one provider and region, with its list prices."""

    provider: str = Field(min_length=1, max_length=100)
    region: str = Field(min_length=1, max_length=200)
    instance_type: str = Field(min_length=1, max_length=300)
    vcpus: int | None = Field(default=None, ge=1, le=100_000)
    memory_gb: float | None = Field(default=None, gt=0, le=1_000_000)
    gpu_type: str | None = Field(default=None, description="Canonical key of the GPU spec table")
    gpu_count: int = Field(default=0, ge=0, le=1024)
    gpu_memory_gb: float | None = Field(default=None, gt=0, le=10_000, description="Per GPU")
    price_per_hour: PositiveFloat
    spot_price_per_hour: PositiveFloat | None = None
    currency: CurrencyCode = "USD"
    source: str = Field(min_length=1)
    price_date: date

    @model_validator(mode="after")
    def _check_gpu(self) -> Offering:
        if self.gpu_count > 0 and not self.gpu_type:
            raise ValueError("gpu_type: required when gpu_count > 0")
        if self.gpu_count == 0 and self.gpu_type:
            raise ValueError("gpu_count: must be at least 1 when gpu_type is set")
        return self

    @property
    def offering_id(self) -> str:
        return f"{self.provider}/{self.region}/{self.instance_type}"

    @property
    def total_gpu_memory_gb(self) -> float:
        return (self.gpu_memory_gb or 0.0) * self.gpu_count


class GpuSpec(_Frozen):
    """Datasheet figures of one GPU type (dense, without sparsity)."""

    gpu_type: str
    memory_gb: PositiveFloat
    bf16_tflops: PositiveFloat | None = None
    fp16_tflops: PositiveFloat | None = None
    fp32_tflops: PositiveFloat | None = None
    memory_bandwidth_gbps: PositiveFloat | None = None
    vendor: str = "NVIDIA"
    source: str


class StoragePrice(_Frozen):
    """Object-storage price of one provider tier."""

    provider: str
    tier_name: str
    tier: str = Field(description="hot, warm, cold (or archive for the coldest tiers)")
    price_per_gb_month: PositiveFloat
    retrieval_per_gb: NonNegativeFloat = 0.0
    retrieval_fee_known: bool = Field(
        default=True,
        description="False when the tier charges for retrieval but no citable figure was found "
        "(retrieval_per_gb is then 0.0 and understates the cost of reading the data back)",
    )
    min_storage_days: int = Field(default=0, ge=0)
    currency: CurrencyCode = "USD"
    region: str = ""
    source: str
    price_date: date


# --------------------------------------------------------------------------------------------
# Training advice
# --------------------------------------------------------------------------------------------


class FactorScore(_Frozen):
    """One factor of the heuristic score: its normalised value, weight and contribution."""

    name: str
    value: float = Field(ge=0, le=1)
    weight: float = Field(ge=0, le=1)
    contribution: float


class MemoryEstimate(_Frozen):
    """GPU memory a workload needs per GPU, and what each part contributes (GB)."""

    weights_gb: float
    gradients_gb: float
    optimizer_gb: float
    activations_gb: float
    overhead_gb: float
    total_gb: float
    inputs_used: tuple[str, ...] = ()


class InstanceRecommendation(_Frozen):
    """One ranked candidate: an offering on some nodes, spot or on-demand."""

    rank: int = Field(ge=1)
    offering: Offering
    nodes: int = Field(default=1, ge=1)
    spot: bool = False
    score: float
    heuristic_score: float
    ltr_score: float | None = None
    factors: tuple[FactorScore, ...] = ()
    price_per_hour: float = Field(description="Effective price of all nodes, display currency")
    estimated_hours: float
    estimated_cost: float = Field(description="Whole-job cost of this candidate")
    estimated_cost_on_demand: float
    estimated_cost_spot: float | None = None
    currency: CurrencyCode
    memory_needed_gb: float = Field(description="Per GPU (or host RAM for CPU jobs)")
    memory_available_gb: float
    reasons: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def candidate_id(self) -> str:
        kind = "spot" if self.spot else "on_demand"
        return f"{self.offering.offering_id}#{self.nodes}#{kind}"


class TrainingAdvice(_Frozen):
    """The answer to ``recommend``: ranked candidates for one workload."""

    recommendation_id: str
    query_id: str
    created_at: datetime = Field(default_factory=utc_now)
    workload: WorkloadProfile
    mode: OptimizerMode
    goal: OptimizationGoal = OptimizationGoal.BALANCED
    model_version: int | None = None
    candidates_considered: int = Field(ge=0)
    candidates_feasible: int = Field(ge=0)
    display_currency: CurrencyCode = "USD"
    recommendations: tuple[InstanceRecommendation, ...]
    warnings: tuple[str, ...] = ()


# --------------------------------------------------------------------------------------------
# Feedback and learning
# --------------------------------------------------------------------------------------------


class JobOutcome(_Frozen):
    """What really happened when a recommended candidate was run."""

    recommendation_id: str
    rank: int = Field(ge=1)
    status: JobStatus
    hours: NonNegativeFloat
    cost: NonNegativeFloat
    currency: CurrencyCode = "USD"
    preemptions: int = Field(default=0, ge=0, le=100_000)
    metric_before: float | None = Field(default=None, allow_inf_nan=False)
    metric_after: float | None = Field(default=None, allow_inf_nan=False)
    metric_higher_is_better: bool = True
    failure_reason: FailureReason | None = None
    source: OutcomeSource = OutcomeSource.MANUAL
    job_id: str | None = None
    recorded_at: datetime = Field(default_factory=utc_now)

    @model_validator(mode="after")
    def _check_status(self) -> JobOutcome:
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


# --------------------------------------------------------------------------------------------
# Status
# --------------------------------------------------------------------------------------------


class OptimizerStatus(_Frozen):
    """What ``status`` reports: where state lives, what is in it, and what the advisor will do."""

    version: str
    state_path: str
    schema_version: int
    mode: OptimizerMode
    effective_mode: OptimizerMode
    display_currency: CurrencyCode
    catalog_offerings: int
    catalog_providers: int
    catalog_gpu_types: int
    catalog_price_date_oldest: date | None
    catalog_price_date_newest: date | None
    recommendations: int = 0
    outcomes: int = 0
    training_samples: int = 0
    model: ModelInfo | None = None
    platform_url: str
    platform_configured: bool
    platform_reachable: bool | None = None
    last_sync_at: datetime | None = None
    data_age_hours: float | None = Field(default=None, description="Hours since the last sync")
    platform_jobs: int = 0
    datasets: int = 0
    budgets: int = 0
    warnings: tuple[str, ...] = ()


# --------------------------------------------------------------------------------------------
# Storage optimizer (issue: storage)
# --------------------------------------------------------------------------------------------
# Units: sizes are bytes; "MB" and "GB" mean MiB and GiB (2**20, 2**30 bytes), the units object
# stores bill in. A "month" in access rates is 30 days. Timestamps are tz-aware UTC; naive input
# is read as UTC (the platform's SQLite quirk, platform-api.md §1.6).

# These imports serve only the storage models; they sit here so this section stays self-contained
# while several people edit the file.
from enum import StrEnum  # noqa: E402
from pathlib import PurePosixPath  # noqa: E402
from typing import Literal  # noqa: E402

from artenic_opt.types import DataFormat, RecommendationType, StorageTier  # noqa: E402

BYTES_PER_MB = 1024**2
BYTES_PER_GB = 1024**3
DAYS_PER_MONTH = 30.0

#: File extensions the storage optimizer maps to a format (TSV is CSV with another delimiter).
EXTENSION_FORMATS: dict[str, DataFormat] = {
    ".csv": DataFormat.CSV,
    ".tsv": DataFormat.CSV,
    ".json": DataFormat.JSON,
    ".jsonl": DataFormat.JSONL,
    ".ndjson": DataFormat.JSONL,
    ".parquet": DataFormat.PARQUET,
    ".pq": DataFormat.PARQUET,
}


def data_format_from_name(name: str) -> DataFormat:
    """The format a file name's extension announces (``other`` when unknown)."""
    return EXTENSION_FORMATS.get(PurePosixPath(name).suffix.lower(), DataFormat.OTHER)


def _to_utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _empty_to_none(value: Any) -> Any:
    # The platform sends "" for an unknown dataset created_at (platform-api.md §1.6).
    return None if value == "" else value


class AccessOperation(StrEnum):
    """What an access event did to a dataset."""

    READ = "read"
    DOWNLOAD = "download"
    WRITE = "write"
    LIST = "list"
    DELETE = "delete"

    @property
    def is_read(self) -> bool:
        """Reads and downloads move bytes out of storage (they pay retrieval fees)."""
        return self in (AccessOperation.READ, AccessOperation.DOWNLOAD)

    @property
    def touches_data(self) -> bool:
        """Reads, downloads and writes count as an access; listing and deleting do not."""
        return self.is_read or self is AccessOperation.WRITE


#: Spellings found in object-store and web logs, mapped onto ``AccessOperation``.
ACCESS_OPERATION_ALIASES: dict[str, AccessOperation] = {
    "get": AccessOperation.READ,
    "head": AccessOperation.LIST,
    "put": AccessOperation.WRITE,
    "upload": AccessOperation.WRITE,
}


class DatasetOrigin(StrEnum):
    PLATFORM = "platform"
    LOCAL = "local"


class AccessEvidence(StrEnum):
    """How much the access figures can be trusted."""

    STRONG = "strong"  # an access log (``storage import-access``)
    WEAK = "weak"  # file access/modification times only
    NONE = "none"  # no event at all


class FigureEvidence(StrEnum):
    """Where a size or compression figure comes from."""

    MEASURED = "measured"  # a sample of the real file was converted
    ESTIMATED = "estimated"  # documented typical ratios
    NOT_APPLICABLE = "not_applicable"  # nothing to convert


class FileProblemKind(StrEnum):
    UNREADABLE = "unreadable"
    BROKEN_SYMLINK = "broken_symlink"
    SYMLINK_LOOP = "symlink_loop"
    OUTSIDE_TREE = "outside_tree"
    DUPLICATE = "duplicate"
    NOT_REGULAR = "not_regular"
    MALFORMED = "malformed"
    FORMAT_MISMATCH = "format_mismatch"


class DatasetFileInfo(_Frozen):
    """One file of a dataset.

    ``format`` defaults to what the extension says; a local scan sets it from the content.
    ``tabular`` is True for CSV and Parquet, None when a JSON file's structure was not inspected,
    and False for nested or malformed content (``note`` then says why). ``local_path`` is the
    absolute path when the file is on this machine.
    """

    path: str = Field(min_length=1, max_length=8192)
    size_bytes: int = Field(ge=0)
    num_records: int | None = Field(default=None, ge=0)
    modified_at: datetime | None = None
    accessed_at: datetime | None = None
    format: DataFormat = DataFormat.OTHER
    tabular: bool | None = None
    note: str | None = None
    local_path: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _fill_format(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        filled = dict(data)
        if filled.get("format") is None and isinstance(filled.get("path"), str):
            filled["format"] = data_format_from_name(filled["path"])
        if "tabular" not in filled:
            fmt = DataFormat(filled.get("format") or DataFormat.OTHER)
            if fmt in (DataFormat.CSV, DataFormat.PARQUET):
                filled["tabular"] = True
            elif fmt is DataFormat.OTHER:
                filled["tabular"] = False
        return filled

    @field_validator("modified_at", "accessed_at", mode="before")
    @classmethod
    def _blank_time(cls, value: Any) -> Any:
        return _empty_to_none(value)

    @field_validator("modified_at", "accessed_at")
    @classmethod
    def _utc_time(cls, value: datetime | None) -> datetime | None:
        return _to_utc(value)


class DatasetInfo(_Frozen):
    """A dataset as the storage optimizer sees it, from the platform (§6.1) or a local scan.

    ``format`` is the platform's free text; the files' own formats drive the analysis. ``tier``
    is the storage tier the data sits in when known; the platform reports none (§6.1), and the
    optimizer then assumes the provider's hot tier and says so.
    """

    id: str = Field(min_length=1, max_length=8192)
    name: str = Field(min_length=1, max_length=8192)
    version: int = Field(default=1, ge=0)
    format: str = Field(default="", max_length=50)
    total_size_bytes: int = Field(default=0, ge=0)
    status: str = "active"
    created_at: datetime | None = None
    origin: DatasetOrigin = DatasetOrigin.PLATFORM
    local_path: str | None = None
    tier: StorageTier | None = None
    files: tuple[DatasetFileInfo, ...] = ()

    @field_validator("created_at", mode="before")
    @classmethod
    def _blank_created(cls, value: Any) -> Any:
        return _empty_to_none(value)

    @field_validator("created_at")
    @classmethod
    def _utc_created(cls, value: datetime | None) -> datetime | None:
        return _to_utc(value)


class AccessEvent(_Frozen):
    """One access to a dataset. ``weak_evidence`` marks events inferred from file times."""

    dataset_id: str = Field(min_length=1, max_length=8192)
    timestamp: datetime
    operation: AccessOperation
    source: str = Field(default="import", min_length=1, max_length=200)
    weak_evidence: bool = False

    @field_validator("operation", mode="before")
    @classmethod
    def _normalise_operation(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip().lower()
            return ACCESS_OPERATION_ALIASES.get(text, text)
        return value

    @field_validator("timestamp")
    @classmethod
    def _utc_timestamp(cls, value: datetime) -> datetime:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class LineError(_Frozen):
    """A line of an input file that could not be used (1-based line number)."""

    line: int = Field(ge=1)
    message: str


class AccessParseResult(_Frozen):
    """Events read from an access file, and the lines that were rejected."""

    events: tuple[AccessEvent, ...] = ()
    errors: tuple[LineError, ...] = ()


class FileProblem(_Frozen):
    """A file a local scan skipped or could not fully use; ``path`` is relative to the root."""

    path: str
    kind: FileProblemKind
    message: str


class LocalScanResult(_Frozen):
    """A local file or tree read as a dataset, its file-time access events, and the problems."""

    dataset: DatasetInfo
    access_events: tuple[AccessEvent, ...] = ()
    problems: tuple[FileProblem, ...] = ()


class FormatShare(_Frozen):
    format: DataFormat
    files: int = Field(ge=0)
    size_bytes: int = Field(ge=0)
    share_of_bytes_pct: float = Field(ge=0, le=100)


class VersionGrowth(_Frozen):
    """Size change from one version of a dataset to the next."""

    from_version: int
    to_version: int
    from_dataset_id: str
    to_dataset_id: str
    from_size_bytes: int
    to_size_bytes: int
    growth_bytes: int
    growth_pct: float | None = Field(description="None when the older version was empty")
    days_between: float | None = None


class MonthlyAccess(_Frozen):
    """Accesses in one calendar month (UTC), ``YYYY-MM``."""

    month: str = Field(pattern=r"^\d{4}-\d{2}$")
    reads: int = Field(ge=0, description="reads + downloads")
    writes: int = Field(ge=0)


class AccessPattern(_Frozen):
    """How a dataset was used over the analysis window.

    Rates are per 30-day month over ``effective_window_days`` (the window, shortened to the
    dataset's age but never below the policy's minimum).
    """

    evidence: AccessEvidence
    window_days: int
    window_start: datetime
    window_end: datetime
    effective_window_days: float
    reads_in_window: int = Field(ge=0)
    writes_in_window: int = Field(ge=0)
    reads_per_month: float = Field(ge=0)
    writes_per_month: float = Field(ge=0)
    monthly: tuple[MonthlyAccess, ...] = ()
    last_access_at: datetime | None = None
    last_read_at: datetime | None = None
    days_since_last_access: float | None = None
    events_used: int = Field(ge=0)
    weak_events_ignored: int = Field(default=0, ge=0)


class DatasetUsage(_Frozen):
    """Size, formats, growth and access pattern of one dataset."""

    dataset_id: str
    name: str
    version: int
    origin: DatasetOrigin
    total_size_bytes: int = Field(ge=0)
    file_count: int = Field(ge=0)
    formats: tuple[FormatShare, ...] = ()
    growth: tuple[VersionGrowth, ...] = ()
    growth_bytes_per_month: float | None = None
    access: AccessPattern
    warnings: tuple[str, ...] = ()


class FormatThresholds(_Frozen):
    """When the format advisor calls for a conversion, and how it measures.

    Size thresholds apply to the bytes of one format within one dataset: a 150 MB CSV and 150
    CSV files of 1 MB both qualify. A dataset under ``keep_below_bytes`` is kept as it is.
    """

    csv_min_bytes: int = Field(default=100 * BYTES_PER_MB, ge=0)
    json_min_bytes: int = Field(default=50 * BYTES_PER_MB, ge=0)
    keep_below_bytes: int = Field(default=10 * BYTES_PER_MB, ge=0)
    csv_ratio_low: float = Field(default=3.0, ge=1, allow_inf_nan=False)
    csv_ratio_high: float = Field(default=5.0, ge=1, allow_inf_nan=False)
    json_ratio_low: float = Field(default=2.0, ge=1, allow_inf_nan=False)
    json_ratio_high: float = Field(default=4.0, ge=1, allow_inf_nan=False)
    min_ratio: float = Field(
        default=1.2, ge=1, allow_inf_nan=False, description="Measured gain worth converting"
    )
    sample_bytes: int = Field(default=8 * BYTES_PER_MB, ge=1024)
    max_sample_files: int = Field(default=3, ge=1, le=100)
    compression: Literal["zstd", "snappy"] = "zstd"

    @model_validator(mode="after")
    def _check_order(self) -> FormatThresholds:
        if self.keep_below_bytes > min(self.csv_min_bytes, self.json_min_bytes):
            raise ValueError("keep_below_bytes: must not exceed csv_min_bytes or json_min_bytes")
        if self.csv_ratio_low > self.csv_ratio_high:
            raise ValueError("csv_ratio_low: must not exceed csv_ratio_high")
        if self.json_ratio_low > self.json_ratio_high:
            raise ValueError("json_ratio_low: must not exceed json_ratio_high")
        return self


class FormatGroupAdvice(_Frozen):
    """Advice for the files of one format (and JSON structure) within a dataset.

    ``ratio`` is original size / Parquet size (3.0 means a third of the bytes).
    """

    format: DataFormat
    structure: Literal["tabular", "not_tabular", "unknown"]
    files: int = Field(ge=0)
    size_bytes: int = Field(ge=0)
    action: Literal["convert", "keep"]
    recommended_format: DataFormat
    alternative_format: DataFormat | None = None
    ratio: float | None = None
    ratio_low: float | None = None
    ratio_high: float | None = None
    size_after_bytes: int = Field(ge=0)
    evidence: FigureEvidence
    sampled_files: int = Field(default=0, ge=0)
    sample_input_bytes: int = Field(default=0, ge=0)
    sample_output_bytes: int = Field(default=0, ge=0)
    reason: str


class FormatAdvice(_Frozen):
    """Format advice for a whole dataset: one entry per format group."""

    current_format: DataFormat
    recommended_format: DataFormat
    size_bytes: int = Field(ge=0)
    size_after_bytes: int = Field(ge=0)
    convert_bytes: int = Field(ge=0, description="Bytes that would be converted")
    evidence: FigureEvidence
    compression: Literal["zstd", "snappy"]
    groups: tuple[FormatGroupAdvice, ...] = ()
    warnings: tuple[str, ...] = ()


class TierPolicy(_Frozen):
    """Tier rules (days since last access, reads per 30-day month).

    hot: last access within ``hot_days`` or more than ``hot_reads_per_month``;
    warm: last access within ``warm_days`` or at least ``warm_reads_per_month``;
    cold: ``cold_days`` or more since last access and under ``warm_reads_per_month``;
    between ``warm_days`` and ``cold_days`` with under ``warm_reads_per_month``: warm.
    """

    hot_days: float = Field(default=7.0, ge=0, allow_inf_nan=False)
    hot_reads_per_month: float = Field(default=4.0, ge=0, allow_inf_nan=False)
    warm_days: float = Field(default=30.0, ge=0, allow_inf_nan=False)
    warm_reads_per_month: float = Field(default=1.0, ge=0, allow_inf_nan=False)
    cold_days: float = Field(default=90.0, ge=0, allow_inf_nan=False)
    window_days: int = Field(default=180, ge=1, le=3650)
    min_window_days: float = Field(default=30.0, gt=0, allow_inf_nan=False)

    @model_validator(mode="after")
    def _check_order(self) -> TierPolicy:
        if not self.hot_days <= self.warm_days <= self.cold_days:
            raise ValueError("hot_days, warm_days, cold_days: must be in increasing order")
        if self.warm_reads_per_month > self.hot_reads_per_month:
            raise ValueError("warm_reads_per_month: must not exceed hot_reads_per_month")
        if self.min_window_days > self.window_days:
            raise ValueError("min_window_days: must not exceed window_days")
        return self


class TierClassification(_Frozen):
    """The tier an access pattern calls for (None without access evidence), and the rule."""

    tier: StorageTier | None
    rule: str


class TierCost(_Frozen):
    """Monthly cost of holding ``size_bytes`` in one priced tier with the expected access."""

    tier: StorageTier
    tier_name: str
    currency: CurrencyCode
    size_bytes: int = Field(ge=0)
    price_per_gb_month: float = Field(ge=0)
    retrieval_per_gb: float = Field(ge=0)
    min_storage_days: int = Field(ge=0)
    storage_per_month: float = Field(ge=0)
    retrieval_per_month: float = Field(ge=0)
    early_deletion_per_month: float = Field(ge=0)
    total_per_month: float = Field(ge=0)


class TierDecision(_Frozen):
    """Which tier to hold a dataset in, with the priced options that were compared."""

    current_tier: StorageTier
    current_tier_assumed: bool
    access_tier: StorageTier | None
    rule: str
    recommended_tier: StorageTier
    current: TierCost
    recommended: TierCost
    options: tuple[TierCost, ...] = ()
    reasons: tuple[str, ...] = ()


class ConversionAssumptions(_Frozen):
    """Compute assumed for a one-time format conversion.

    The default is one vCPU of a general-purpose VM (about 0.10 per hour) converting at 50 MB/s,
    pyarrow's order of magnitude for CSV to Parquet. ``currency`` None means the storage prices'
    currency: the price is then an assumption stated in that currency, not a converted amount.
    """

    throughput_mb_per_s: float = Field(default=50.0, gt=0, allow_inf_nan=False)
    price_per_hour: float = Field(default=0.10, ge=0, allow_inf_nan=False)
    currency: CurrencyCode | None = None


class AdviceEvidence(_Frozen):
    """How much of a piece of advice rests on measurement rather than assumption."""

    format_figures: FigureEvidence
    access: AccessEvidence
    weak_access_evidence: bool
    tier_assumed: bool


class StorageAdvice(_Frozen):
    """What ``storage analyze`` reports for one dataset. Money is per month unless one-time."""

    dataset_id: str
    dataset_name: str
    version: int
    origin: DatasetOrigin
    provider: str
    currency: CurrencyCode
    size_bytes: int = Field(ge=0)
    size_after_bytes: int = Field(ge=0)
    current_format: DataFormat
    recommended_format: DataFormat
    current_tier: StorageTier
    recommended_tier: StorageTier
    access_tier: StorageTier | None
    monthly_cost_now: float = Field(ge=0)
    monthly_cost_after: float = Field(ge=0)
    monthly_savings: float
    retrieval_cost_per_month: float = Field(ge=0, description="At the recommended tier")
    one_time_conversion_cost: float = Field(ge=0)
    one_time_retrieval_cost: float = Field(ge=0)
    one_time_early_deletion_cost: float = Field(ge=0)
    one_time_cost: float = Field(ge=0)
    payback_months: float | None = Field(description="None when nothing is saved")
    actions: tuple[RecommendationType, ...] = ()
    evidence: AdviceEvidence
    usage: DatasetUsage
    format_advice: FormatAdvice
    tier_decision: TierDecision
    assumptions: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    analyzed_at: datetime


# --------------------------------------------------------------------------------------------
# Cost analyzer (issue: cost)
# --------------------------------------------------------------------------------------------

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
#: Kinds of actionable savings items (values of ``RecommendationType`` plus ``right_size``).
SAVINGS_ACTION_KINDS: tuple[str, ...] = ("provider_switch", "instance", "right_size", "spot")
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
    def _check_record(self) -> SpendRecord:
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


class SavingsAction(_Frozen):
    """Something to change, with the monthly saving it is expected to bring."""

    kind: str = Field(description="provider_switch, instance, right_size or spot")
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
        default=True, description="False when another action already covers the same runs"
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


# --------------------------------------------------------------------------------------------
# Parsing helpers
# --------------------------------------------------------------------------------------------

M = TypeVar("M", bound=BaseModel)


def format_validation_error(exc: ValidationError, *, context: str | None = None) -> str:
    """Render a pydantic error as one line: ``field: message; field: message``."""
    parts: list[str] = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"] if p != "__root__")
        msg = str(err["msg"])
        msg = msg.removeprefix("Value error, ")
        if not loc and ":" in msg:
            parts.append(msg)
        else:
            parts.append(f"{loc}: {msg}" if loc else msg)
    text = "; ".join(parts)
    return f"{context}: {text}" if context else text


def parse_model(model: type[M], data: Any, *, context: str | None = None) -> M:
    """Validate ``data`` into ``model``; raise ``InvalidInputError`` with a one-line message."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidInputError(format_validation_error(exc, context=context)) from None
