"""Numbered, forward-only schema migrations of the state database (DESIGN §3, STYLE 8).

Each migration is a function of a ``sqlite_utils.Database`` registered with ``@migration(N,
name)``. ``apply_pending`` runs every migration whose number is above the highest one recorded in
``_migrations`` (version, name, applied_at), in order, and records each one; the caller holds
the write transaction, so a failing migration leaves nothing behind. The highest recorded number
is the file's schema version, and a file with a higher number than ``LATEST_VERSION`` is refused
by the store (it was written by a newer artenic-opt).

Decisions:

* Numbers, not names, identify migrations: "which version is this file" is the question the store
  must answer before touching a file, and numbers answer it with one ``max()``.
* Never edit a released migration; add the next number instead.
* Tables are created with sqlite-utils (typed columns, primary and foreign keys, NOT NULL); rules
  that SQLite cannot express portably (ranges, enumerations) are enforced by the typed repository
  functions and the pydantic schemas before anything is written.
* Timestamps are UTC ISO-8601 text (see ``_codec``); JSON columns hold compact JSON text.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from artenic_opt.state._codec import encode_datetime, utc_now

if TYPE_CHECKING:
    import sqlite_utils

MARKER_TABLE = "_migrations"

MigrationFunction = Callable[["sqlite_utils.Database"], None]


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    apply: MigrationFunction


_REGISTRY: list[Migration] = []


def migration(version: int, name: str) -> Callable[[MigrationFunction], MigrationFunction]:
    """Register ``function`` as migration number ``version``; numbers must follow each other."""

    def register(function: MigrationFunction) -> MigrationFunction:
        expected = len(_REGISTRY) + 1
        if version != expected:
            raise ValueError(f"migration {name!r} is numbered {version}, expected {expected}")
        _REGISTRY.append(Migration(version, name, function))
        return function

    return register


def current_version(conn: sqlite3.Connection) -> int:
    """The highest migration recorded in the file (0 for a file without migrations)."""
    row = conn.execute(f"SELECT max(version) FROM {MARKER_TABLE}").fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def ensure_marker_table(db: sqlite_utils.Database) -> None:
    db.table(MARKER_TABLE).create(
        {"version": int, "name": str, "applied_at": str},
        pk="version",
        not_null={"name", "applied_at"},
        if_not_exists=True,
    )


def apply_pending(db: sqlite_utils.Database) -> list[int]:
    """Apply the migrations the file lacks, in order; return their numbers.

    The caller must hold a write transaction (``StateStore.transaction``).
    """
    ensure_marker_table(db)
    current = current_version(db.conn)
    applied: list[int] = []
    for step in _REGISTRY:
        if step.version <= current:
            continue
        step.apply(db)
        db.table(MARKER_TABLE).insert(
            {"version": step.version, "name": step.name, "applied_at": encode_datetime(utc_now())}
        )
        applied.append(step.version)
    return applied


def all_migrations() -> tuple[Migration, ...]:
    return tuple(_REGISTRY)


# --------------------------------------------------------------------------------------------
# 1. Initial schema
# --------------------------------------------------------------------------------------------


@migration(1, "initial schema")
def _initial_schema(db: sqlite_utils.Database) -> None:
    db.table("meta").create({"key": str, "value": str}, pk="key", not_null={"value"})

    # Catalog overlay: rows from platform sync and `catalog import`, laid over the embedded
    # catalog by (provider, region, instance_type).
    db.table("offerings").create(
        {
            "provider": str,
            "region": str,
            "instance_type": str,
            "vcpus": int,
            "memory_gb": float,
            "gpu_type": str,
            "gpu_count": int,
            "gpu_memory_gb": float,
            "price_per_hour": float,
            "spot_price_per_hour": float,
            "currency": str,
            "source": str,
            "price_date": str,
            "origin": str,
            "fetched_at": str,
        },
        pk=("provider", "region", "instance_type"),
        not_null={"gpu_count", "price_per_hour", "currency", "source", "price_date", "origin"},
    )
    db.table("offerings").create_index(["origin", "provider"])

    db.table("storage_prices").create(
        {
            "provider": str,
            "region": str,
            "tier_name": str,
            "tier": str,
            "price_per_gb_month": float,
            "retrieval_per_gb": float,
            "min_storage_days": int,
            "currency": str,
            "source": str,
            "price_date": str,
            "origin": str,
            "fetched_at": str,
        },
        pk=("provider", "region", "tier_name"),
        not_null={"tier", "price_per_gb_month", "currency", "source", "price_date", "origin"},
    )
    db.table("storage_prices").create_index(["origin", "provider"])

    db.table("recommendations").create(
        {
            "id": str,
            "query_id": str,
            "created_at": str,
            "workload_json": str,
            "mode": str,
            "goal": str,
            "model_version": int,
            "display_currency": str,
            "advice_json": str,
            "job_id": str,
            "dispatched_rank": int,
            "dispatched_at": str,
        },
        pk="id",
        not_null={
            "query_id",
            "created_at",
            "workload_json",
            "mode",
            "goal",
            "display_currency",
            "advice_json",
        },
    )
    db.table("recommendations").create_index(["created_at"])
    db.table("recommendations").create_index(["query_id"])
    db.table("recommendations").create_index(["job_id"], unique=True)

    db.table("recommendation_candidates").create(
        {
            "recommendation_id": str,
            "rank": int,
            "candidate_id": str,
            "provider": str,
            "region": str,
            "instance_type": str,
            "gpu_type": str,
            "gpu_count": int,
            "nodes": int,
            "spot": int,
            "score": float,
            "estimated_hours": float,
            "estimated_cost": float,
            "currency": str,
            "features_json": str,
            "feature_schema_version": int,
        },
        pk=("recommendation_id", "rank"),
        foreign_keys=[("recommendation_id", "recommendations", "id")],
        not_null={
            "candidate_id",
            "provider",
            "region",
            "instance_type",
            "gpu_count",
            "nodes",
            "spot",
            "score",
            "estimated_hours",
            "estimated_cost",
            "currency",
        },
    )

    db.table("outcomes").create(
        {
            "id": int,
            "recommendation_id": str,
            "rank": int,
            "status": str,
            "hours": float,
            "cost": float,
            "currency": str,
            "preemptions": int,
            "metric_before": float,
            "metric_after": float,
            "metric_higher_is_better": int,
            "failure_reason": str,
            "source": str,
            "job_id": str,
            "provider": str,
            "region": str,
            "instance_type": str,
            "spot": int,
            "recorded_at": str,
            "label": int,
        },
        pk="id",
        foreign_keys=[("recommendation_id", "recommendations", "id")],
        not_null={
            "rank",
            "status",
            "hours",
            "cost",
            "currency",
            "preemptions",
            "metric_higher_is_better",
            "source",
            "provider",
            "region",
            "instance_type",
            "spot",
            "recorded_at",
        },
    )
    # SQLite treats NULLs as distinct in a unique index: many unlinked outcomes, one per job id.
    db.table("outcomes").create_index(["job_id"], unique=True)
    db.table("outcomes").create_index(["recommendation_id", "rank"])
    db.table("outcomes").create_index(["recorded_at"])
    db.table("outcomes").create_index(["provider"])

    db.table("training_samples").create(
        {
            "id": int,
            "outcome_id": int,
            "query_id": str,
            "recommendation_id": str,
            "rank": int,
            "candidate_id": str,
            "features_json": str,
            "feature_schema_version": int,
            "label": int,
            "source": str,
            "created_at": str,
        },
        pk="id",
        foreign_keys=[("outcome_id", "outcomes", "id")],
        not_null={
            "query_id",
            "recommendation_id",
            "rank",
            "candidate_id",
            "features_json",
            "feature_schema_version",
            "label",
            "source",
            "created_at",
        },
    )
    db.table("training_samples").create_index(["feature_schema_version", "query_id"])
    db.table("training_samples").create_index(["created_at"])
    db.table("training_samples").create_index(["outcome_id"])

    db.table("model_versions").create(
        {
            "version": int,
            "path": str,
            "trained_at": str,
            "sample_count": int,
            "query_count": int,
            "feature_schema_version": int,
            "metrics_json": str,
            "sha256": str,
            "active": int,
        },
        pk="version",
        not_null={
            "path",
            "trained_at",
            "sample_count",
            "query_count",
            "feature_schema_version",
            "sha256",
            "active",
        },
    )

    db.table("platform_jobs").create(
        {
            "id": str,
            "status": str,
            "service": str,
            "model": str,
            "provider": str,
            "provider_job_id": str,
            "instance_type": str,
            "region": str,
            "is_spot": int,
            "cost_estimate_eur": float,
            "cost_actual_eur": float,
            "cost_per_hour_eur": float,
            "duration_seconds": float,
            "created_at": str,
            "started_at": str,
            "completed_at": str,
            "config_json": str,
            "metrics_json": str,
            "error": str,
            "synced_at": str,
        },
        pk="id",
        not_null={"status", "is_spot", "synced_at"},
    )
    db.table("platform_jobs").create_index(["status"])
    db.table("platform_jobs").create_index(["created_at"])

    db.table("datasets").create(
        {
            "id": str,
            "name": str,
            "version": int,
            "format": str,
            "description": str,
            "status": str,
            "total_size_bytes": int,
            "created_at": str,
            "origin": str,
            "local_path": str,
            "metadata_json": str,
            "synced_at": str,
        },
        pk="id",
        not_null={"name", "origin", "synced_at"},
    )
    db.table("datasets").create_index(["origin", "name"])

    db.table("dataset_files").create(
        {
            "dataset_id": str,
            "path": str,
            "sha256": str,
            "size_bytes": int,
            "num_records": int,
            "modified_at": str,
        },
        pk=("dataset_id", "path"),
        foreign_keys=[("dataset_id", "datasets", "id")],
        not_null={"size_bytes"},
    )

    # No foreign key to datasets: access logs may be imported before the dataset is synced.
    db.table("access_events").create(
        {
            "id": int,
            "dataset_id": str,
            "timestamp": str,
            "operation": str,
            "source": str,
            "weak_evidence": int,
        },
        pk="id",
        not_null={"dataset_id", "timestamp", "operation", "source", "weak_evidence"},
    )
    # Re-importing the same log is idempotent.
    db.table("access_events").create_index(
        ["dataset_id", "timestamp", "operation", "source"], unique=True
    )

    db.table("budgets").create(
        {
            "id": int,
            "scope": str,
            "scope_value": str,
            "period": str,
            "limit_eur": float,
            "alert_threshold_pct": float,
            "enabled": int,
            "created_at": str,
            "synced_at": str,
        },
        pk="id",
        not_null={"scope", "scope_value", "period", "limit_eur", "enabled", "synced_at"},
    )

    db.table("budget_spending").create(
        {
            "scope": str,
            "scope_value": str,
            "period": str,
            "spent_eur": float,
            "limit_eur": float,
            "pct_used": float,
            "alerts_json": str,
            "fetched_at": str,
        },
        pk=("scope", "scope_value", "period"),
        not_null={"spent_eur", "limit_eur", "pct_used", "alerts_json", "fetched_at"},
    )

    db.table("sync_runs").create(
        {
            "id": int,
            "started_at": str,
            "finished_at": str,
            "parts": str,
            "status": str,
            "summary_json": str,
            "error": str,
        },
        pk="id",
        not_null={"started_at", "parts", "status"},
    )
    db.table("sync_runs").create_index(["started_at"])


# --------------------------------------------------------------------------------------------
# 2. Import keys (issue 13): re-importing a file is a no-op
# --------------------------------------------------------------------------------------------


@migration(2, "import keys and catalog imports")
def _import_keys(db: sqlite_utils.Database) -> None:
    # Outcomes from `feedback import` carry the sha256 of their canonical line, so the same
    # outcome imported twice is stored once. NULL (recorded by hand, synced) never collides.
    db.execute("ALTER TABLE outcomes ADD COLUMN import_key TEXT")
    db.table("outcomes").create_index(["import_key"], unique=True)

    # Each `catalog import` file: which rows it brought and when, so `catalog imports` can list
    # them and `catalog remove --file` remove them. Keyed by the file's absolute path.
    db.table("catalog_imports").create(
        {
            "file": str,
            "name": str,
            "sha256": str,
            "rows": int,
            "imported_at": str,
        },
        pk="file",
        not_null={"name", "sha256", "rows", "imported_at"},
    )
    db.execute("ALTER TABLE offerings ADD COLUMN import_file TEXT")
    db.table("offerings").create_index(["import_file"])


LATEST_VERSION = _REGISTRY[-1].version
