"""The platform's wire formats: parsed records of its responses (``translation`` maps them onto
the optimizer's own shapes, ``gpu_counts`` corrects the GPU counts some providers report).

The models mirror the platform 0.7.0 responses (contract ``platform-api.md`` §3-§7) and are
tolerant of what the contract documents, strict about the rest:

* Timestamps: naive values are UTC (SQLite deployments, §1.6), aware values are converted to UTC,
  and ``""`` (dataset and run ``created_at``) or ``null`` mean unknown (``None``).
* ``null`` in a field that has a documented default (``vcpus``, ``memory_gb``, ``region``,
  ``config``, ``metadata``...) reads as that default, so one odd row does not fail a whole sync.
* Unknown extra fields are ignored (a newer platform may add some); a missing required field
  (``id``, ``status``...) or an unknown job status is an error, because the caller could not use
  the record anyway.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from artenic_opt.types import JobStatus

# --------------------------------------------------------------------------------------------
# Field helpers
# --------------------------------------------------------------------------------------------


def parse_platform_timestamp(value: Any) -> datetime | None:
    """Read a platform timestamp: naive means UTC, ``""``/``None`` mean unknown."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"not an ISO-8601 timestamp: {value!r}") from None
    else:
        raise ValueError(f"not an ISO-8601 timestamp: {value!r}")
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # year 1 east of UTC, or year 9999 west of it
        raise ValueError(f"timestamp out of range in UTC: {value!r}") from None


def _null_as(default: Any) -> Callable[[Any], Any]:
    def convert(value: Any) -> Any:
        if value is None:
            # Copy containers so that records never share one default object.
            return type(default)() if isinstance(default, dict | list) else default
        return value

    return convert


Timestamp = Annotated[datetime | None, BeforeValidator(parse_platform_timestamp)]
NullStr = Annotated[str, BeforeValidator(_null_as(""))]
#: Integers as SQLite stores them (signed 64-bit): a count or size of 10**30 would otherwise fail
#: the write with an ``OverflowError`` (exit 1) instead of naming the field.
SqlInt = Annotated[int, Field(ge=-(2**63), le=2**63 - 1)]
NullInt = Annotated[SqlInt, BeforeValidator(_null_as(0))]
NullFloat = Annotated[float, BeforeValidator(_null_as(0.0))]
NullBool = Annotated[bool, BeforeValidator(_null_as(False))]
#: Money amounts kept to a physical range (issue 13): a budget or spend of 1e308 or NaN would
#: overflow the sums of every later report, so such a body breaks the contract (exit 3).
BoundedEur = Annotated[float, Field(ge=0, le=1e12, allow_inf_nan=False)]
NullEur = Annotated[BoundedEur, BeforeValidator(_null_as(0.0))]
NullPct = Annotated[
    float, Field(ge=-1e9, le=1e9, allow_inf_nan=False), BeforeValidator(_null_as(0.0))
]
NullDict = Annotated[dict[str, Any], BeforeValidator(_null_as({}))]


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", defer_build=True)


# --------------------------------------------------------------------------------------------
# Health and providers
# --------------------------------------------------------------------------------------------


class HealthStatus(_Record):
    """``GET /health/ready``: the gateway is up and its database answers."""

    status: str
    database: NullStr = ""


class ProviderSummary(_Record):
    """One of the seven hub providers (``GET /api/v1/providers/``)."""

    id: str
    display_name: NullStr = ""
    connector_type: NullStr = ""
    enabled: NullBool = False
    status: NullStr = ""
    status_message: NullStr = ""


# --------------------------------------------------------------------------------------------
# Catalog
# --------------------------------------------------------------------------------------------


class CatalogComputeFlavor(_Record):
    """One row of the public compute price catalog (§3.4)."""

    provider_id: str
    name: str
    vcpus: NullInt = 0
    memory_gb: NullFloat = 0.0
    disk_gb: NullFloat = 0.0
    gpu_type: str | None = None
    gpu_count: NullInt = 0
    price_per_hour: float | None = None
    currency: Annotated[str, BeforeValidator(_null_as("EUR"))] = "EUR"
    region: NullStr = ""
    category: NullStr = ""


class CatalogStorageTier(_Record):
    """One row of the public storage price catalog (§3.4)."""

    provider_id: str
    name: str
    type: Annotated[str, BeforeValidator(_null_as("object_storage"))] = "object_storage"
    price_per_gb_month: float | None = None
    currency: Annotated[str, BeforeValidator(_null_as("EUR"))] = "EUR"
    region: NullStr = ""
    description: NullStr = ""


# --------------------------------------------------------------------------------------------
# Training jobs
# --------------------------------------------------------------------------------------------


class PlatformJob(_Record):
    """A training job as every training endpoint returns it (§4.1). Money is EUR."""

    id: str = Field(min_length=1)
    service: NullStr = ""
    model: NullStr = ""
    provider: NullStr = ""
    config: NullDict = Field(default_factory=dict)
    status: JobStatus
    metrics: dict[str, Any] | None = None
    error: str | None = None
    provider_job_id: str | None = None
    instance_type: str | None = None
    region: str | None = None
    is_spot: NullBool = False
    cost_estimate_eur: float | None = None
    cost_actual_eur: float | None = None
    cost_per_hour_eur: float | None = None
    duration_seconds: float | None = None
    artifacts_uri: str | None = None
    created_at: Timestamp = None
    started_at: Timestamp = None
    completed_at: Timestamp = None

    @property
    def is_final(self) -> bool:
        return self.status.is_final


# --------------------------------------------------------------------------------------------
# Datasets
# --------------------------------------------------------------------------------------------


class PlatformDataset(_Record):
    """A dataset version (§6.1). ``created_at`` may be ``""`` on the platform: read as None."""

    id: str = Field(min_length=1)
    name: str
    version: NullInt = 1
    format: NullStr = ""
    description: NullStr = ""
    metadata: NullDict = Field(default_factory=dict)
    status: NullStr = "created"
    total_size_bytes: NullInt = 0
    created_at: Timestamp = None


class DatasetFile(_Record):
    """One file of a dataset (§6.3). Identity is (dataset_id, path, sha256)."""

    id: SqlInt
    dataset_id: str
    path: str
    sha256: NullStr = ""
    size_bytes: NullInt = 0
    num_records: SqlInt | None = None
    storage_path: NullStr = ""


class DatasetStats(_Record):
    """``GET /api/v1/datasets/{id}/stats`` (§6.4); ``num_records`` only for csv/json/jsonl."""

    total_size_bytes: NullInt = 0
    total_files: NullInt = 0
    format_breakdown: Annotated[dict[str, int], BeforeValidator(_null_as({}))] = Field(
        default_factory=dict
    )
    num_records: SqlInt | None = None


# --------------------------------------------------------------------------------------------
# Budgets
# --------------------------------------------------------------------------------------------


class Budget(_Record):
    """A spending budget (§7.1). Money is EUR; percentages are on a 0-100 scale."""

    id: SqlInt
    scope: str
    scope_value: NullStr = ""
    period: str
    limit_eur: BoundedEur
    alert_threshold_pct: Annotated[float, BeforeValidator(_null_as(80.0))] = 80.0
    enabled: Annotated[bool, BeforeValidator(_null_as(True))] = True
    created_at: Timestamp = None


class BudgetAlert(_Record):
    id: SqlInt
    alert_type: NullStr = "threshold_exceeded"
    spent_eur: NullEur = 0.0
    limit_eur: NullEur = 0.0
    pct_used: NullPct = 0.0
    message: NullStr = ""
    webhook_sent: NullBool = False
    created_at: Timestamp = None


class BudgetSpending(_Record):
    """Spend against one enabled budget over its rolling window (§7.2)."""

    scope: str
    scope_value: NullStr = ""
    period: str
    spent_eur: NullEur = 0.0
    limit_eur: BoundedEur
    pct_used: NullPct = 0.0
    alerts: Annotated[tuple[BudgetAlert, ...], BeforeValidator(_null_as([]))] = ()
