"""Typed rows of the platform mirror in the state database: jobs, datasets (files, access
events), budgets and spending, and the sync runs that fetched them.

Decisions:

* They mirror the platform API's fields (platform-api.md §4, §6, §7) with money in EUR as the
  platform reports it; JSON-valued fields (``config``, ``metrics``, ``metadata``, ``alerts``)
  stay free-form.
* They live apart from ``state.records`` (catalog overlays, recommendations, outcomes) so that a
  command that touches none of them, such as ``recommend``, does not build these pydantic models
  (about 1% of its start-up).
"""

from enum import StrEnum
from typing import Any

from pydantic import Field

from artenic_opt.state.records import UtcDatetime, _Record
from artenic_opt.types import JobStatus


class DatasetOrigin(StrEnum):
    PLATFORM = "platform"
    LOCAL = "local"


class SyncStatus(StrEnum):
    RUNNING = "running"
    OK = "ok"
    PARTIAL = "partial"
    FAILED = "failed"


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
