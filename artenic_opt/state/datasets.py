"""Datasets, their files, and dataset access events.

Decisions:

* A dataset is either synced from the platform (origin ``platform``) or a local directory that
  ``storage analyze PATH`` scanned (origin ``local``, with its ``local_path``). Dataset and file
  writes compare content and skip unchanged rows, so a repeated sync writes nothing.
* ``replace_dataset_files`` makes a dataset's file list exactly the given one (a file deleted on
  the platform disappears here too).
* The platform records no access data, so access events come from imported logs and, for local
  datasets, from file times (``weak_evidence``). An event is unique by (dataset, timestamp,
  operation, source): importing the same log twice adds nothing. Events may name a dataset that
  is not (yet) stored, because logs can arrive before the first sync.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from artenic_opt.errors import InvalidInputError, NotFoundError
from artenic_opt.state._codec import (
    decode_bool,
    decode_datetime,
    decode_json,
    decode_optional_datetime,
    encode_bool,
    encode_datetime,
    encode_json,
    encode_optional_datetime,
    reads_row,
    utc_now,
)
from artenic_opt.state._rows import replace_rows, upsert_changed
from artenic_opt.state.platform_records import (
    AccessEvent,
    DatasetFileRecord,
    DatasetOrigin,
    DatasetRecord,
)
from artenic_opt.state.store import StateStore

_BOOKKEEPING = ("synced_at",)


def _dataset_row(dataset: DatasetRecord, synced_at: str) -> dict[str, Any]:
    return {
        "id": dataset.id,
        "name": dataset.name,
        "version": dataset.version,
        "format": dataset.format,
        "description": dataset.description,
        "status": dataset.status,
        "total_size_bytes": dataset.total_size_bytes,
        "created_at": encode_optional_datetime(dataset.created_at),
        "origin": dataset.origin.value,
        "local_path": dataset.local_path,
        "metadata_json": encode_json(dataset.metadata),
        "synced_at": synced_at,
    }


def upsert_datasets(
    store: StateStore, datasets: Iterable[DatasetRecord], *, synced_at: datetime | None = None
) -> int:
    """Store datasets that are new or changed; return how many were written."""
    stamp = encode_datetime(synced_at or utc_now())
    rows = [_dataset_row(dataset, stamp) for dataset in datasets]
    return upsert_changed(store, "datasets", ("id",), rows, ignore=_BOOKKEEPING)


def upsert_dataset(
    store: StateStore, dataset: DatasetRecord, *, synced_at: datetime | None = None
) -> bool:
    return upsert_datasets(store, [dataset], synced_at=synced_at) > 0


@reads_row("datasets")
def _dataset(row: dict[str, Any]) -> DatasetRecord:
    return DatasetRecord(
        id=row["id"],
        name=row["name"],
        version=row["version"],
        format=row["format"],
        description=row["description"],
        status=row["status"],
        total_size_bytes=row["total_size_bytes"],
        created_at=decode_optional_datetime(row["created_at"]),
        origin=row["origin"],
        local_path=row["local_path"],
        metadata=decode_json(row["metadata_json"]) or {},
    )


def find_dataset(store: StateStore, dataset_id: str) -> DatasetRecord | None:
    row = store.query_one("SELECT * FROM datasets WHERE id = ?", [dataset_id])
    return None if row is None else _dataset(row)


def get_dataset(store: StateStore, dataset_id: str) -> DatasetRecord:
    found = find_dataset(store, dataset_id)
    if found is None:
        raise NotFoundError(f"dataset {dataset_id} not found")
    return found


def list_datasets(
    store: StateStore, *, origin: DatasetOrigin | None = None, name: str | None = None
) -> list[DatasetRecord]:
    """Datasets by name, then version."""
    clauses: list[str] = []
    params: list[Any] = []
    if origin is not None:
        clauses.append("origin = ?")
        params.append(origin.value)
    if name is not None:
        clauses.append("name = ?")
        params.append(name)
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    rows = store.query(f"SELECT * FROM datasets {where} ORDER BY name, version, id", params)
    return [_dataset(row) for row in rows]


def delete_dataset(store: StateStore, dataset_id: str) -> None:
    """Remove a dataset and its files (its access events stay: they are history)."""
    with store.transaction():
        get_dataset(store, dataset_id)
        store.execute("DELETE FROM dataset_files WHERE dataset_id = ?", [dataset_id])
        store.execute("DELETE FROM datasets WHERE id = ?", [dataset_id])


# --------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------


def _file_row(dataset_id: str, file: DatasetFileRecord) -> dict[str, Any]:
    return {
        "dataset_id": dataset_id,
        "path": file.path,
        "sha256": file.sha256,
        "size_bytes": file.size_bytes,
        "num_records": file.num_records,
        "modified_at": encode_optional_datetime(file.modified_at),
    }


def replace_dataset_files(
    store: StateStore, dataset_id: str, files: Iterable[DatasetFileRecord]
) -> int:
    """Make the file list of ``dataset_id`` exactly ``files``; return rows written or deleted."""
    wanted = list(files)
    for file in wanted:
        if file.dataset_id != dataset_id:
            raise InvalidInputError(
                f"file {file.path} belongs to dataset {file.dataset_id}, not {dataset_id}"
            )
    with store.transaction():
        get_dataset(store, dataset_id)
        return replace_rows(
            store,
            "dataset_files",
            ("dataset_id", "path"),
            [_file_row(dataset_id, file) for file in wanted],
            scope_sql="dataset_id = ?",
            scope_params=[dataset_id],
        )


def list_dataset_files(store: StateStore, dataset_id: str) -> list[DatasetFileRecord]:
    rows = store.query(
        "SELECT * FROM dataset_files WHERE dataset_id = ? ORDER BY path", [dataset_id]
    )
    return [
        DatasetFileRecord(
            dataset_id=row["dataset_id"],
            path=row["path"],
            sha256=row["sha256"],
            size_bytes=row["size_bytes"],
            num_records=row["num_records"],
            modified_at=decode_optional_datetime(row["modified_at"]),
        )
        for row in rows
    ]


# --------------------------------------------------------------------------------------------
# Access events
# --------------------------------------------------------------------------------------------


def add_access_events(store: StateStore, events: Iterable[AccessEvent]) -> int:
    """Store events not seen before; return how many were new."""
    rows = [
        (
            event.dataset_id,
            encode_datetime(event.timestamp),
            event.operation,
            event.source,
            encode_bool(event.weak_evidence),
        )
        for event in events
    ]
    if not rows:
        return 0
    with store.transaction():
        cursor = store.executemany(
            "INSERT OR IGNORE INTO access_events "
            "(dataset_id, timestamp, operation, source, weak_evidence) VALUES (?, ?, ?, ?, ?)",
            rows,
        )
        return cursor.rowcount


def list_access_events(
    store: StateStore, *, dataset_id: str | None = None, since: datetime | None = None
) -> list[AccessEvent]:
    """Events in time order, optionally of one dataset and at or after ``since``."""
    clauses: list[str] = []
    params: list[Any] = []
    if dataset_id is not None:
        clauses.append("dataset_id = ?")
        params.append(dataset_id)
    if since is not None:
        clauses.append("timestamp >= ?")
        params.append(encode_datetime(since))
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    rows = store.query(f"SELECT * FROM access_events {where} ORDER BY timestamp, id", params)
    return [
        AccessEvent(
            dataset_id=row["dataset_id"],
            timestamp=decode_datetime(row["timestamp"]),
            operation=row["operation"],
            source=row["source"],
            weak_evidence=decode_bool(row["weak_evidence"]),
        )
        for row in rows
    ]


def count_access_events(store: StateStore, *, dataset_id: str | None = None) -> int:
    if dataset_id is None:
        return int(store.scalar("SELECT count(*) FROM access_events"))
    return int(
        store.scalar("SELECT count(*) FROM access_events WHERE dataset_id = ?", [dataset_id])
    )
