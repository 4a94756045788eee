"""Usage of one dataset: size, files, formats, version growth and access pattern.

Pure logic: a ``DatasetInfo``, its access events and its other versions in, a ``DatasetUsage``
out. Nothing here reads files.

Decisions:

* Size is the sum of the listed files. The platform double-lists a path that was uploaded twice
  (platform-api.md §6.3 quirk); such a path is counted once (its last listing) with a warning. A
  dataset without a file list falls back to ``total_size_bytes`` and its declared ``format``.
* Evidence: when a dataset has any event from an access log (strong), file-time events (weak)
  are ignored, because atime/mtime only say "last touched" and would distort a real log. With
  only weak events the pattern is computed from them and flagged.
* "Last access" is the latest read, download or write; listing and deleting do not count. Reads
  per month count reads and downloads only: those are what retrieval fees charge for.
* Rates are per 30-day month over the policy window (180 days by default), shortened to the
  dataset's age (from ``created_at`` or its first event) but never below ``min_window_days``, so
  a dataset created last week is not judged on six months it did not exist, and one early burst
  does not extrapolate to a huge rate.
* Events later than ``now`` (clock skew) count as happening now.
* Versions (for growth) are platform datasets sharing a name; a local folder has none (two
  folders with the same base name are unrelated datasets).
* The monthly table is by calendar month (UTC), every month of the window, zeros included.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from itertools import pairwise

from artenic_opt.schemas import (
    DAYS_PER_MONTH,
    AccessEvent,
    AccessEvidence,
    AccessPattern,
    DatasetFileInfo,
    DatasetInfo,
    DatasetOrigin,
    DatasetUsage,
    FormatShare,
    MonthlyAccess,
    TierPolicy,
    VersionGrowth,
)
from artenic_opt.types import DataFormat

_SECONDS_PER_DAY = 86_400.0
_DECLARED_FORMATS = {fmt.value: fmt for fmt in DataFormat}


def effective_files(dataset: DatasetInfo) -> tuple[tuple[DatasetFileInfo, ...], tuple[str, ...]]:
    """The files to analyse (duplicates removed, or one stand-in entry), and warnings."""
    warnings: list[str] = []
    if not dataset.files:
        if dataset.total_size_bytes == 0:
            return (), ()
        declared = _DECLARED_FORMATS.get(dataset.format.strip().lower(), DataFormat.OTHER)
        warnings.append(
            f"no file list: the dataset's declared format ({dataset.format or 'none'}) and "
            "total_size_bytes are used"
        )
        stand_in = DatasetFileInfo(
            path=f"{dataset.name} (all files)",
            size_bytes=dataset.total_size_bytes,
            format=declared,
        )
        return (stand_in,), tuple(warnings)
    latest: dict[str, DatasetFileInfo] = {}
    counts: dict[str, int] = {}
    for file in dataset.files:
        latest[file.path] = file
        counts[file.path] = counts.get(file.path, 0) + 1
    for path, count in counts.items():
        if count > 1:
            warnings.append(
                f"file {path} is listed {count} times (a re-upload on the platform); counted once"
            )
    files = tuple(latest.values())
    listed = sum(file.size_bytes for file in files)
    if dataset.total_size_bytes not in (0, listed):
        warnings.append(
            f"total_size_bytes ({dataset.total_size_bytes}) differs from the sum of the files "
            f"({listed}); the files are used"
        )
    return files, tuple(warnings)


def dataset_size_bytes(dataset: DatasetInfo) -> int:
    files, _ = effective_files(dataset)
    return sum(file.size_bytes for file in files)


def format_distribution(files: Sequence[DatasetFileInfo]) -> tuple[FormatShare, ...]:
    """Bytes and files per format, largest share first."""
    totals: dict[DataFormat, list[int]] = {}
    for file in files:
        entry = totals.setdefault(file.format, [0, 0])
        entry[0] += file.size_bytes
        entry[1] += 1
    all_bytes = sum(size for size, _ in totals.values())
    shares = [
        FormatShare(
            format=fmt,
            files=count,
            size_bytes=size,
            share_of_bytes_pct=round(100.0 * size / all_bytes, 4) if all_bytes else 0.0,
        )
        for fmt, (size, count) in totals.items()
    ]
    return tuple(sorted(shares, key=lambda share: (-share.size_bytes, share.format.value)))


def version_growth(
    dataset: DatasetInfo, versions: Iterable[DatasetInfo]
) -> tuple[tuple[VersionGrowth, ...], float | None]:
    """Growth from each version to the next (same name), and bytes per month first to last.

    Only platform datasets have versions: a local folder is one dataset, and two folders with
    the same base name are unrelated (nor is a platform dataset a version of a folder).
    """
    if dataset.origin is DatasetOrigin.LOCAL:
        return (), None
    by_id = {dataset.id: dataset}
    for other in versions:
        if other.name == dataset.name and other.origin is not DatasetOrigin.LOCAL:
            by_id.setdefault(other.id, other)
    history = sorted(by_id.values(), key=lambda item: (item.version, item.id))
    steps: list[VersionGrowth] = []
    for older, newer in pairwise(history):
        before, after = dataset_size_bytes(older), dataset_size_bytes(newer)
        days = _days_between(older.created_at, newer.created_at)
        steps.append(
            VersionGrowth(
                from_version=older.version,
                to_version=newer.version,
                from_dataset_id=older.id,
                to_dataset_id=newer.id,
                from_size_bytes=before,
                to_size_bytes=after,
                growth_bytes=after - before,
                growth_pct=round(100.0 * (after - before) / before, 4) if before else None,
                days_between=None if days is None else round(days, 4),
            )
        )
    per_month: float | None = None
    if len(history) > 1:
        span = _days_between(history[0].created_at, history[-1].created_at)
        if span is not None and span > 0:
            change = dataset_size_bytes(history[-1]) - dataset_size_bytes(history[0])
            per_month = round(change / (span / DAYS_PER_MONTH), 4)
    return tuple(steps), per_month


def _days_between(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return (end - start).total_seconds() / _SECONDS_PER_DAY


def _month_keys(start: datetime, end: datetime) -> list[str]:
    keys: list[str] = []
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        keys.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return keys


def access_pattern(
    dataset: DatasetInfo,
    events: Iterable[AccessEvent],
    *,
    policy: TierPolicy,
    now: datetime,
) -> AccessPattern:
    """Reads and writes per month, last access and evidence strength of one dataset."""
    own = [event for event in events if event.dataset_id == dataset.id]
    strong = [event for event in own if not event.weak_evidence]
    if strong:
        used, evidence, ignored = strong, AccessEvidence.STRONG, len(own) - len(strong)
    elif own:
        used, evidence, ignored = own, AccessEvidence.WEAK, 0
    else:
        used, evidence, ignored = [], AccessEvidence.NONE, 0

    window_start = now - timedelta(days=policy.window_days)
    moments = [(min(event.timestamp, now), event.operation) for event in used]
    origin_candidates = [moment for moment, _ in moments]
    if dataset.created_at is not None:
        origin_candidates.append(min(dataset.created_at, now))
    age_days = (
        (now - min(origin_candidates)).total_seconds() / _SECONDS_PER_DAY
        if origin_candidates
        else float(policy.window_days)
    )
    effective = max(policy.min_window_days, min(float(policy.window_days), age_days))

    months = {key: [0, 0] for key in _month_keys(window_start, now)}
    reads = writes = 0
    last_access: datetime | None = None
    last_read: datetime | None = None
    for moment, operation in moments:
        if operation.touches_data and (last_access is None or moment > last_access):
            last_access = moment
        if operation.is_read and (last_read is None or moment > last_read):
            last_read = moment
        if moment < window_start or not operation.touches_data:
            continue
        bucket = months[f"{moment.year:04d}-{moment.month:02d}"]
        if operation.is_read:
            reads += 1
            bucket[0] += 1
        else:
            writes += 1
            bucket[1] += 1

    months_in_window = effective / DAYS_PER_MONTH
    return AccessPattern(
        evidence=evidence,
        window_days=policy.window_days,
        window_start=window_start,
        window_end=now,
        effective_window_days=round(effective, 6),
        reads_in_window=reads,
        writes_in_window=writes,
        reads_per_month=reads / months_in_window,
        writes_per_month=writes / months_in_window,
        monthly=tuple(
            MonthlyAccess(month=key, reads=counts[0], writes=counts[1])
            for key, counts in months.items()
        ),
        last_access_at=last_access,
        last_read_at=last_read,
        days_since_last_access=(
            None if last_access is None else (now - last_access).total_seconds() / _SECONDS_PER_DAY
        ),
        events_used=len(used),
        weak_events_ignored=ignored,
    )


def analyze_usage(
    dataset: DatasetInfo,
    events: Iterable[AccessEvent],
    *,
    versions: Iterable[DatasetInfo] = (),
    policy: TierPolicy,
    now: datetime,
) -> DatasetUsage:
    """Everything the storage optimizer knows about how one dataset is stored and used."""
    files, warnings = effective_files(dataset)
    growth, per_month = version_growth(dataset, versions)
    pattern = access_pattern(dataset, events, policy=policy, now=now)
    notes = list(warnings)
    if pattern.weak_events_ignored:
        notes.append(
            f"{pattern.weak_events_ignored} file-time events ignored: an access log is available"
        )
    return DatasetUsage(
        dataset_id=dataset.id,
        name=dataset.name,
        version=dataset.version,
        origin=dataset.origin,
        total_size_bytes=sum(file.size_bytes for file in files),
        file_count=len(files),
        formats=format_distribution(files),
        growth=growth,
        growth_bytes_per_month=per_month,
        access=pattern,
        warnings=tuple(notes),
    )


__all__ = [
    "access_pattern",
    "analyze_usage",
    "dataset_size_bytes",
    "effective_files",
    "format_distribution",
    "version_growth",
]
