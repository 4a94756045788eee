"""The local mirror of the platform's training jobs (platform-api.md §4).

``sync`` upserts every job it pulls. A job is written only when its content differs from the
stored copy (``synced_at`` is left out of the comparison), so the return values say whether a
sync changed anything and a repeated sync with nothing new writes nothing. ``synced_at`` is
therefore when the stored copy last changed.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from artenic_opt.state._codec import (
    decode_bool,
    decode_json,
    decode_optional_datetime,
    encode_bool,
    encode_datetime,
    encode_json,
    encode_optional_datetime,
    encode_optional_json,
    reads_row,
    utc_now,
)
from artenic_opt.state._rows import upsert_changed
from artenic_opt.state.platform_records import PlatformJob
from artenic_opt.state.store import StateStore
from artenic_opt.types import JobStatus

_KEY = ("id",)
_BOOKKEEPING = ("synced_at",)


def _job_row(job: PlatformJob, synced_at: str) -> dict[str, Any]:
    return {
        "id": job.id,
        "status": job.status.value,
        "service": job.service,
        "model": job.model,
        "provider": job.provider,
        "provider_job_id": job.provider_job_id,
        "instance_type": job.instance_type,
        "region": job.region,
        "is_spot": encode_bool(job.is_spot),
        "cost_estimate_eur": job.cost_estimate_eur,
        "cost_actual_eur": job.cost_actual_eur,
        "cost_per_hour_eur": job.cost_per_hour_eur,
        "duration_seconds": job.duration_seconds,
        "created_at": encode_optional_datetime(job.created_at),
        "started_at": encode_optional_datetime(job.started_at),
        "completed_at": encode_optional_datetime(job.completed_at),
        "config_json": encode_json(job.config),
        "metrics_json": encode_optional_json(job.metrics),
        "error": job.error,
        "synced_at": synced_at,
    }


def upsert_platform_jobs(
    store: StateStore, jobs: Iterable[PlatformJob], *, synced_at: datetime | None = None
) -> int:
    """Store jobs that are new or changed; return how many were written."""
    stamp = encode_datetime(synced_at or utc_now())
    rows = [_job_row(job, stamp) for job in jobs]
    return upsert_changed(store, "platform_jobs", _KEY, rows, ignore=_BOOKKEEPING)


def upsert_platform_job(
    store: StateStore, job: PlatformJob, *, synced_at: datetime | None = None
) -> bool:
    """Store ``job`` if it is new or changed; return whether anything was written."""
    return upsert_platform_jobs(store, [job], synced_at=synced_at) > 0


@reads_row("platform_jobs")
def _job(row: dict[str, Any]) -> PlatformJob:
    return PlatformJob(
        id=row["id"],
        status=row["status"],
        service=row["service"],
        model=row["model"],
        provider=row["provider"],
        provider_job_id=row["provider_job_id"],
        instance_type=row["instance_type"],
        region=row["region"],
        is_spot=decode_bool(row["is_spot"]),
        cost_estimate_eur=row["cost_estimate_eur"],
        cost_actual_eur=row["cost_actual_eur"],
        cost_per_hour_eur=row["cost_per_hour_eur"],
        duration_seconds=row["duration_seconds"],
        created_at=decode_optional_datetime(row["created_at"]),
        started_at=decode_optional_datetime(row["started_at"]),
        completed_at=decode_optional_datetime(row["completed_at"]),
        config=decode_json(row["config_json"]) or {},
        metrics=decode_json(row["metrics_json"]),
        error=row["error"],
    )


def get_platform_job(store: StateStore, job_id: str) -> PlatformJob | None:
    row = store.query_one("SELECT * FROM platform_jobs WHERE id = ?", [job_id])
    return None if row is None else _job(row)


def list_platform_jobs(
    store: StateStore,
    *,
    status: JobStatus | None = None,
    since: datetime | None = None,
) -> list[PlatformJob]:
    """Jobs newest first, optionally of one status or created at or after ``since``."""
    clauses: list[str] = []
    params: list[Any] = []
    if status is not None:
        clauses.append("status = ?")
        params.append(status.value)
    if since is not None:
        clauses.append("created_at >= ?")
        params.append(encode_datetime(since))
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    rows = store.query(f"SELECT * FROM platform_jobs {where} ORDER BY created_at DESC, id", params)
    return [_job(row) for row in rows]


def count_platform_jobs(store: StateStore) -> int:
    return int(store.scalar("SELECT count(*) FROM platform_jobs"))
