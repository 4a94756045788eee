"""Storage use cases shared by the CLI and the dashboard: load from the state, call the pillar.

* ``analyze_target`` takes a dataset id known to the state (synced from the platform or analysed
  before) or a local path. A local path is scanned read-only; the dataset, its file list and the
  file-time evidence are remembered in the state so that ``storage recommendations`` covers it
  later. The user's files are never modified.
* ``storage_recommendations`` analyses every dataset of the state, sorted by monthly savings. A
  local folder that can no longer be scanned (now a pipe, say) is analysed from its stored scan.
* ``import_access_file`` stores access events from a JSONL or CSV log; bad lines are reported
  with their line numbers and the good ones kept. Re-importing the same file adds nothing. The
  log is streamed into the state in batches (one transaction), never held whole.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

from artenic_opt.catalog import Catalog
from artenic_opt.errors import InvalidInputError, NotFoundError
from artenic_opt.schemas import (
    AccessEvent,
    AccessImport,
    AccessOperation,
    DatasetFileInfo,
    DatasetInfo,
    DatasetOrigin,
    FileProblem,
    FileProblemKind,
    LineError,
    StorageAdvice,
    StorageAnalysis,
)
from artenic_opt.state import platform_records
from artenic_opt.state.datasets import (
    add_access_events,
    find_dataset,
    list_access_events,
    list_dataset_files,
    list_datasets,
    replace_dataset_files,
    upsert_dataset,
)
from artenic_opt.state.store import StateStore
from artenic_opt.storage_optimizer import StorageOptimizer, iter_access_file, scan_path

ProgressCallback = Callable[[int, int, str], None]
#: Access events parsed and stored at a time by ``import_access_file``.
IMPORT_BATCH = 10_000


def make_optimizer(
    catalog: Catalog,
    provider: str,
    region: str | None = None,
    *,
    now: datetime | None = None,
    read_files: bool = True,
) -> StorageOptimizer:
    known = sorted({p.provider for p in catalog.storage_prices})
    if not any(p.provider.lower() == provider.lower() for p in catalog.storage_prices):
        raise InvalidInputError(
            f"--provider: no storage prices for {provider!r}; known: {', '.join(known)}"
        )
    if read_files:
        return StorageOptimizer(catalog.storage_prices, provider=provider, region=region, now=now)
    return StorageOptimizer(
        catalog.storage_prices, provider=provider, region=region, now=now, sample_reader=None
    )


def _to_schema_event(event: platform_records.AccessEvent) -> AccessEvent:
    return AccessEvent(
        dataset_id=event.dataset_id,
        timestamp=event.timestamp,
        operation=AccessOperation(event.operation),
        source=event.source,
        weak_evidence=event.weak_evidence,
    )


def _to_record_event(event: AccessEvent) -> platform_records.AccessEvent:
    return platform_records.AccessEvent(
        dataset_id=event.dataset_id,
        timestamp=event.timestamp,
        operation=event.operation.value,
        source=event.source,
        weak_evidence=event.weak_evidence,
    )


def _remember_local(store: StateStore, dataset: DatasetInfo, events: Sequence[AccessEvent]) -> None:
    record = platform_records.DatasetRecord(
        id=dataset.id,
        name=dataset.name,
        version=dataset.version,
        format=dataset.format or None,
        status=dataset.status,
        total_size_bytes=dataset.total_size_bytes,
        created_at=dataset.created_at,
        origin=platform_records.DatasetOrigin.LOCAL,
        local_path=dataset.local_path,
    )
    files = [
        platform_records.DatasetFileRecord(
            dataset_id=dataset.id,
            path=f.path,
            size_bytes=f.size_bytes,
            num_records=f.num_records,
            modified_at=f.modified_at,
        )
        for f in dataset.files
    ]
    with store.transaction():
        upsert_dataset(store, record)
        replace_dataset_files(store, dataset.id, files)
        add_access_events(store, [_to_record_event(e) for e in events])


def _dataset_from_state(store: StateStore, record: platform_records.DatasetRecord) -> DatasetInfo:
    files = tuple(
        DatasetFileInfo(
            path=f.path,
            size_bytes=f.size_bytes,
            num_records=f.num_records,
            modified_at=f.modified_at,
        )
        for f in list_dataset_files(store, record.id)
    )
    return DatasetInfo(
        id=record.id,
        name=record.name,
        version=record.version or 1,
        format=(record.format or "")[:50],
        total_size_bytes=record.total_size_bytes or sum(f.size_bytes for f in files),
        status=record.status or "active",
        created_at=record.created_at,
        origin=DatasetOrigin(record.origin.value),
        local_path=record.local_path,
        files=files,
    )


def _events_for(store: StateStore, dataset_id: str) -> list[AccessEvent]:
    return [_to_schema_event(e) for e in list_access_events(store, dataset_id=dataset_id)]


def _load(
    store: StateStore, record: platform_records.DatasetRecord, on_progress: ProgressCallback | None
) -> tuple[DatasetInfo, list[AccessEvent], tuple[FileProblem, ...]]:
    """A stored dataset; a local one is re-scanned when its folder is still there."""
    local = record.origin is platform_records.DatasetOrigin.LOCAL and record.local_path
    if local and record.local_path and Path(record.local_path).exists():
        try:
            scan = scan_path(record.local_path, on_progress=on_progress)
        except (InvalidInputError, NotFoundError) as exc:
            # The folder is now something else (a pipe, a device) or went away mid-way: its
            # stored scan still describes it, and one such path must not fail every dataset.
            problem = FileProblem(
                path=record.local_path,
                kind=FileProblemKind.UNREADABLE,
                message=f"cannot be scanned again ({exc}); the stored scan is used",
            )
            return _dataset_from_state(store, record), _events_for(store, record.id), (problem,)
        if store.readonly:
            # A state opened read-only (not writable here): use the fresh scan, store nothing.
            stored = _events_for(store, scan.dataset.id)
            return scan.dataset, [*stored, *scan.access_events], scan.problems
        _remember_local(store, scan.dataset, scan.access_events)
        return scan.dataset, _events_for(store, scan.dataset.id), scan.problems
    return _dataset_from_state(store, record), _events_for(store, record.id), ()


def analyze_target(
    store: StateStore,
    catalog: Catalog,
    target: str,
    *,
    provider: str,
    region: str | None = None,
    on_progress: ProgressCallback | None = None,
) -> StorageAnalysis:
    if not target:
        # Path("") is the current directory: never scan (and store) it for an empty argument.
        raise InvalidInputError("target: empty; give a dataset id or a path")
    optimizer = make_optimizer(catalog, provider, region)
    record = find_dataset(store, target)
    if record is None:
        path = Path(target).expanduser()
        if not path.exists() and not path.is_symlink():
            raise NotFoundError(
                f"{target}: neither a dataset id in the state nor an existing path "
                "(run `sync` to fetch platform datasets)"
            )
        scan = scan_path(path, on_progress=on_progress)
        _remember_local(store, scan.dataset, scan.access_events)
        dataset, events, problems = (
            scan.dataset,
            _events_for(store, scan.dataset.id),
            scan.problems,
        )
    else:
        dataset, events, problems = _load(store, record, on_progress)
    versions = [
        _dataset_from_state(store, other)
        for other in list_datasets(store, name=dataset.name)
        if other.id != dataset.id
    ]
    advice = optimizer.analyze(dataset, events, versions)
    return StorageAnalysis(advice=advice, problems=problems)


def storage_recommendations(
    store: StateStore,
    catalog: Catalog,
    *,
    provider: str,
    region: str | None = None,
    now: datetime | None = None,
    read_only: bool = False,
) -> list[StorageAdvice]:
    """Advice for every stored dataset, biggest savings first.

    ``read_only`` (the dashboard) neither re-scans local folders (which stores the fresh scan)
    nor reads any file: conversion figures are then the documented estimates.
    """
    optimizer = make_optimizer(catalog, provider, region, now=now, read_files=not read_only)
    datasets: list[DatasetInfo] = []
    events: list[AccessEvent] = []
    for record in list_datasets(store):
        if read_only:
            dataset, dataset_events = (
                _dataset_from_state(store, record),
                _events_for(store, record.id),
            )
        else:
            dataset, dataset_events, _ = _load(store, record, None)
        datasets.append(dataset)
        events.extend(dataset_events)
    return optimizer.analyze_all(datasets, events)


def import_access_file(store: StateStore, path: Path) -> AccessImport:
    """Store the events of an access log in batches of ``IMPORT_BATCH``, in one transaction:
    memory stays bounded whatever the log's length, and a failure stores nothing."""
    errors: list[LineError] = []
    events = iter_access_file(path, errors)
    read = added = 0
    datasets: set[str] = set()
    with store.transaction():
        while batch := list(itertools.islice(events, IMPORT_BATCH)):
            read += len(batch)
            datasets.update(e.dataset_id for e in batch)
            added += add_access_events(store, [_to_record_event(e) for e in batch])
    return AccessImport(
        file=str(path),
        events_read=read,
        events_added=added,
        already_present=read - added,
        datasets=tuple(sorted(datasets)),
        errors=tuple(sorted(errors, key=lambda error: error.line)),
    )
