"""The log of ``sync`` runs: when each started and finished, which parts, and how it went.

A run is started (status ``running``) before the first request and finished with ``ok``,
``partial`` (some parts failed, what succeeded is kept) or ``failed``. A run left ``running``
is one whose process died; it is reported as such, never silently rewritten.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from artenic_opt.errors import InvalidInputError, NotFoundError
from artenic_opt.state._codec import (
    decode_datetime,
    decode_json,
    decode_optional_datetime,
    encode_datetime,
    encode_json,
    encode_optional_json,
    reads_row,
    utc_now,
)
from artenic_opt.state.platform_records import SyncRun, SyncStatus
from artenic_opt.state.store import StateStore


def start_sync_run(
    store: StateStore, parts: Sequence[str], *, started_at: datetime | None = None
) -> int:
    """Record the start of a sync of ``parts``; return the run id."""
    row = {
        "started_at": encode_datetime(started_at or utc_now()),
        "finished_at": None,
        "parts": encode_json(list(parts)),
        "status": SyncStatus.RUNNING.value,
        "summary_json": None,
        "error": None,
    }
    return store.insert("sync_runs", row)


def finish_sync_run(
    store: StateStore,
    run_id: int,
    *,
    status: SyncStatus,
    summary: Mapping[str, Any] | None = None,
    error: str | None = None,
    finished_at: datetime | None = None,
) -> SyncRun:
    """Record how run ``run_id`` ended; return the finished run."""
    if status is SyncStatus.RUNNING:
        raise InvalidInputError("status: a sync run finishes as ok, partial or failed")
    with store.transaction():
        run = get_sync_run(store, run_id)
        if run.status is not SyncStatus.RUNNING:
            raise InvalidInputError(f"sync run {run_id} already finished ({run.status.value})")
        store.execute(
            "UPDATE sync_runs SET finished_at = ?, status = ?, summary_json = ?, error = ? "
            "WHERE id = ?",
            [
                encode_datetime(finished_at or utc_now()),
                status.value,
                encode_optional_json(None if summary is None else dict(summary)),
                error,
                run_id,
            ],
        )
    return get_sync_run(store, run_id)


@reads_row("sync_runs")
def _run(row: dict[str, Any]) -> SyncRun:
    return SyncRun(
        id=row["id"],
        started_at=decode_datetime(row["started_at"]),
        finished_at=decode_optional_datetime(row["finished_at"]),
        parts=tuple(decode_json(row["parts"])),
        status=row["status"],
        summary=decode_json(row["summary_json"]),
        error=row["error"],
    )


def get_sync_run(store: StateStore, run_id: int) -> SyncRun:
    row = store.query_one("SELECT * FROM sync_runs WHERE id = ?", [run_id])
    if row is None:
        raise NotFoundError(f"sync run {run_id} not found")
    return _run(row)


def list_sync_runs(store: StateStore, *, limit: int = 20) -> list[SyncRun]:
    """The most recent runs, newest first."""
    if limit < 1:
        raise InvalidInputError(f"limit: must be at least 1, got {limit}")
    rows = store.query("SELECT * FROM sync_runs ORDER BY started_at DESC, id DESC LIMIT ?", [limit])
    return [_run(row) for row in rows]


def last_sync_run(store: StateStore) -> SyncRun | None:
    runs = list_sync_runs(store, limit=1)
    return runs[0] if runs else None
