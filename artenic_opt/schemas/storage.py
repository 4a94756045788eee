"""Storage optimizer contracts (DESIGN §2): datasets, access events and patterns, format and tier
advice, and the ``StorageAdvice`` that ``storage analyze`` and ``storage recommendations`` print.

Units: sizes are bytes; "MB" and "GB" mean MiB and GiB (2**20, 2**30 bytes), the units object
stores bill in. A "month" in access rates is 30 days. Timestamps are tz-aware UTC; naive input is
read as UTC (the platform's SQLite quirk, platform-api.md §1.6).

Importing ``artenic_opt.schemas`` does not load this module: its names are resolved from there on
first use, so commands that never touch storage do not pay for building these models.
"""

from datetime import UTC, datetime
from enum import StrEnum
from pathlib import PurePosixPath
from typing import Any, Literal, Self

from pydantic import Field, field_validator, model_validator

from artenic_opt.schemas import (
    CurrencyCode,
    _Frozen,
)
from artenic_opt.types import (
    DataFormat,
    RecommendationType,
    StorageTier,
)

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
    def _check_order(self) -> Self:
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
    def _check_order(self) -> Self:
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
