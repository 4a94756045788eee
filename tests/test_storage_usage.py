"""Usage analyzer: sizes, formats, version growth, access rates and evidence (known answers)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from artenic_opt.schemas import (
    AccessEvent,
    AccessEvidence,
    AccessOperation,
    DatasetFileInfo,
    DatasetInfo,
    DatasetOrigin,
    TierPolicy,
)
from artenic_opt.storage_optimizer.usage_analyzer import (
    access_pattern,
    analyze_usage,
    effective_files,
    format_distribution,
    version_growth,
)
from artenic_opt.types import DataFormat

NOW = datetime(2026, 6, 1, tzinfo=UTC)
POLICY = TierPolicy()


def _event(
    days_ago: float,
    operation: AccessOperation = AccessOperation.READ,
    *,
    weak: bool = False,
    dataset_id: str = "ds",
) -> AccessEvent:
    return AccessEvent(
        dataset_id=dataset_id,
        timestamp=NOW - timedelta(days=days_ago),
        operation=operation,
        weak_evidence=weak,
    )


def _dataset(**fields: object) -> DatasetInfo:
    base: dict[str, object] = {"id": "ds", "name": "sales", "total_size_bytes": 0}
    base.update(fields)
    return DatasetInfo.model_validate(base)


def test_rates_monthly_table_and_last_access() -> None:
    events = [
        _event(1, AccessOperation.DOWNLOAD),
        _event(10),
        _event(40, AccessOperation.WRITE),
        _event(200),  # outside the 180-day window: counts for last access only
        _event(0.5, AccessOperation.LIST),  # not an access
        _event(2, dataset_id="other"),
    ]
    pattern = access_pattern(_dataset(), events, policy=POLICY, now=NOW)
    assert pattern.evidence is AccessEvidence.STRONG
    assert (pattern.reads_in_window, pattern.writes_in_window) == (2, 1)
    # No created_at: the window starts at the oldest event, older than 180 days -> 6 months.
    assert pattern.effective_window_days == 180
    assert pattern.reads_per_month == pytest.approx(2 / 6)
    assert pattern.writes_per_month == pytest.approx(1 / 6)
    assert pattern.last_access_at == NOW - timedelta(days=1)
    assert pattern.last_read_at == NOW - timedelta(days=1)
    assert pattern.days_since_last_access == pytest.approx(1.0)
    assert pattern.events_used == 5
    months = {month.month: (month.reads, month.writes) for month in pattern.monthly}
    assert list(months) == [
        "2025-12",
        "2026-01",
        "2026-02",
        "2026-03",
        "2026-04",
        "2026-05",
        "2026-06",
    ]
    assert months["2026-05"] == (2, 0)
    assert months["2026-04"] == (0, 1)
    assert sum(reads for reads, _ in months.values()) == 2


def test_young_dataset_rate_uses_its_age_but_at_least_the_minimum_window() -> None:
    reads = [_event(days) for days in (1, 5, 20, 30, 44)]
    # Created 60 days ago: 5 reads over 2 months = 2.5 a month (not 5 / 6 over the full window).
    young = _dataset(created_at=NOW - timedelta(days=60))
    assert access_pattern(young, reads, policy=POLICY, now=NOW).reads_per_month == pytest.approx(
        2.5
    )
    # Created 3 days ago, read twice: the 30-day floor keeps a burst from reading as 20 a month.
    newborn = _dataset(created_at=NOW - timedelta(days=3))
    pattern = access_pattern(newborn, [_event(1), _event(2)], policy=POLICY, now=NOW)
    assert pattern.effective_window_days == 30
    assert pattern.reads_per_month == pytest.approx(2.0)


def test_strong_evidence_wins_over_file_times() -> None:
    events = [_event(2, weak=True), _event(3, weak=True), _event(100)]
    pattern = access_pattern(_dataset(), events, policy=POLICY, now=NOW)
    assert pattern.evidence is AccessEvidence.STRONG
    assert pattern.weak_events_ignored == 2
    assert pattern.days_since_last_access == pytest.approx(100)

    weak_only = access_pattern(_dataset(), events[:2], policy=POLICY, now=NOW)
    assert weak_only.evidence is AccessEvidence.WEAK
    assert weak_only.days_since_last_access == pytest.approx(2)

    nothing = access_pattern(_dataset(), [], policy=POLICY, now=NOW)
    assert nothing.evidence is AccessEvidence.NONE
    assert nothing.last_access_at is None and nothing.days_since_last_access is None
    assert nothing.reads_per_month == 0


def test_future_events_count_as_now() -> None:
    pattern = access_pattern(_dataset(), [_event(-3)], policy=POLICY, now=NOW)
    assert pattern.last_access_at == NOW
    assert pattern.days_since_last_access == 0
    assert pattern.reads_in_window == 1


def test_duplicate_paths_and_size_mismatch_are_warned() -> None:
    dataset = _dataset(
        total_size_bytes=500,
        files=[
            {"path": "a.csv", "size_bytes": 100},
            {"path": "a.csv", "size_bytes": 150},
            {"path": "b.parquet", "size_bytes": 200},
        ],
    )
    files, warnings = effective_files(dataset)
    assert [(file.path, file.size_bytes) for file in files] == [("a.csv", 150), ("b.parquet", 200)]
    assert warnings == (
        "file a.csv is listed 2 times (a re-upload on the platform); counted once",
        "total_size_bytes (500) differs from the sum of the files (350); the files are used",
    )


def test_dataset_without_file_list_uses_declared_format() -> None:
    files, warnings = effective_files(_dataset(total_size_bytes=1000, format="CSV"))
    (stand_in,) = files
    assert (stand_in.format, stand_in.size_bytes, stand_in.tabular) == (DataFormat.CSV, 1000, True)
    assert "no file list" in warnings[0]
    (json_stand_in,), _ = effective_files(_dataset(total_size_bytes=10, format="json"))
    assert json_stand_in.tabular is None
    (other,), _ = effective_files(_dataset(total_size_bytes=10, format="images"))
    assert other.format is DataFormat.OTHER
    assert effective_files(_dataset()) == ((), ())


def test_format_distribution() -> None:
    files = [
        DatasetFileInfo(path="a.csv", size_bytes=300),
        DatasetFileInfo(path="b.csv", size_bytes=100),
        DatasetFileInfo(path="c.parquet", size_bytes=600),
        DatasetFileInfo(path="d.png", size_bytes=0),
    ]
    shares = [
        (s.format, s.files, s.size_bytes, s.share_of_bytes_pct) for s in format_distribution(files)
    ]
    assert shares == [
        (DataFormat.PARQUET, 1, 600, 60.0),
        (DataFormat.CSV, 2, 400, 40.0),
        (DataFormat.OTHER, 1, 0, 0.0),
    ]
    assert (
        format_distribution([DatasetFileInfo(path="e.csv", size_bytes=0)])[0].share_of_bytes_pct
        == 0
    )


def test_version_growth_known_answer() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)

    def version(number: int, size: int, days: int, name: str = "sales") -> DatasetInfo:
        return DatasetInfo(
            id=f"{name}_v{number}",
            name=name,
            version=number,
            total_size_bytes=size,
            created_at=start + timedelta(days=days),
        )

    v1, v2, v3 = version(1, 0, 0), version(2, 1000, 30), version(3, 1500, 90)
    steps, per_month = version_growth(v3, [v2, v1, v3, version(9, 1, 1, name="other")])
    assert [
        (s.from_version, s.to_version, s.growth_bytes, s.growth_pct, s.days_between) for s in steps
    ] == [
        (1, 2, 1000, None, 30.0),
        (2, 3, 500, 50.0, 60.0),
    ]
    assert per_month == pytest.approx(1500 / 3)

    undated = DatasetInfo(id="sales_v4", name="sales", version=4, total_size_bytes=900)
    steps, per_month = version_growth(undated, [v3])
    assert (steps[0].growth_bytes, steps[0].growth_pct, steps[0].days_between) == (
        -600,
        -40.0,
        None,
    )
    assert per_month is None
    assert version_growth(v1, []) == ((), None)


def test_analyze_usage_puts_it_together() -> None:
    dataset = _dataset(
        total_size_bytes=300,
        files=[{"path": "a.csv", "size_bytes": 100}, {"path": "b.json", "size_bytes": 200}],
    )
    usage = analyze_usage(
        dataset,
        [_event(3, weak=True), _event(5)],
        versions=[DatasetInfo(id="old", name="sales", version=0, total_size_bytes=100)],
        policy=POLICY,
        now=NOW,
    )
    assert (usage.total_size_bytes, usage.file_count) == (300, 2)
    assert [share.format for share in usage.formats] == [DataFormat.JSON, DataFormat.CSV]
    assert usage.growth[0].growth_bytes == 200
    assert usage.access.evidence is AccessEvidence.STRONG
    assert usage.warnings == ("1 file-time events ignored: an access log is available",)


def test_local_folders_have_no_versions() -> None:
    """Two local folders named alike are unrelated, and a platform dataset is no version of one."""
    when = datetime(2026, 1, 1, tzinfo=UTC)

    def local(path: str, size: int) -> DatasetInfo:
        return DatasetInfo(
            id=f"local:{path}",
            name="data",
            total_size_bytes=size,
            created_at=when,
            origin=DatasetOrigin.LOCAL,
            local_path=path,
        )

    platform = DatasetInfo(
        id="data_v2", name="data", version=2, total_size_bytes=9, created_at=when
    )
    a, b = local("/a/data", 4), local("/b/data", 2_000_004)
    assert version_growth(b, [a, platform]) == ((), None)
    assert version_growth(platform, [a, b]) == ((), None)
