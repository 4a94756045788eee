"""Synced and imported data: catalog overlay, platform jobs, datasets, budgets, meta, sync runs.

The repeated theme: a second identical write changes nothing, and the stored rows read back equal
to what was written.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, strategies as st

from artenic_opt.errors import InvalidInputError, NotFoundError
from artenic_opt.schemas import StoragePrice
from artenic_opt.state import (
    AccessEvent,
    BudgetRecord,
    BudgetSpendingRecord,
    DatasetFileRecord,
    DatasetOrigin,
    DatasetRecord,
    OverlayOrigin,
    PlatformJob,
    StateStore,
    SyncStatus,
    add_access_events,
    all_meta,
    count_access_events,
    count_offerings,
    count_platform_jobs,
    delete_dataset,
    delete_meta,
    delete_offerings,
    delete_storage_prices,
    find_dataset,
    finish_sync_run,
    get_dataset,
    get_meta,
    get_platform_job,
    get_sync_run,
    last_sync_at,
    last_sync_run,
    list_access_events,
    list_budget_spending,
    list_budgets,
    list_dataset_files,
    list_datasets,
    list_offerings,
    list_overlay_offerings,
    list_overlay_storage_prices,
    list_platform_jobs,
    list_storage_prices,
    list_sync_runs,
    open_state,
    replace_budget_spending,
    replace_budgets,
    replace_dataset_files,
    replace_offerings,
    replace_storage_prices,
    set_last_sync_at,
    set_meta,
    start_sync_run,
    upsert_budget,
    upsert_budget_spending,
    upsert_dataset,
    upsert_datasets,
    upsert_offerings,
    upsert_platform_job,
    upsert_platform_jobs,
    upsert_storage_prices,
)
from artenic_opt.state._codec import decode_datetime, encode_datetime
from artenic_opt.types import JobStatus
from tests.factories import T0, make_p4d_offering


@pytest.fixture
def store(tmp_path: Path) -> Iterator[StateStore]:
    with open_state(tmp_path / "state.db") as opened:
        yield opened


def _total_changes(store: StateStore) -> int:
    return store.db.conn.total_changes


# --------------------------------------------------------------------------------------------
# Catalog overlay
# --------------------------------------------------------------------------------------------


def test_offerings_round_trip_and_idempotent_upsert(store: StateStore) -> None:
    offerings = [make_p4d_offering(instance_type=f"p{i}") for i in range(3)]
    offerings.append(
        make_p4d_offering("lambda", "us-west-1", "gpu_1x_h100", gpu_type="H100", gpu_count=1)
    )
    assert upsert_offerings(store, offerings, origin=OverlayOrigin.PLATFORM, fetched_at=T0) == 4
    listed = list_offerings(store)
    assert sorted(o.offering.offering_id for o in listed) == sorted(
        o.offering_id for o in offerings
    )
    assert {o.offering for o in listed} == set(offerings)
    assert all(o.origin is OverlayOrigin.PLATFORM and o.fetched_at == T0 for o in listed)

    changes = _total_changes(store)
    later = T0 + timedelta(days=1)
    assert upsert_offerings(store, offerings, origin=OverlayOrigin.PLATFORM, fetched_at=later) == 0
    assert _total_changes(store) == changes, "an identical sync writes nothing"
    assert all(o.fetched_at == T0 for o in list_offerings(store))

    cheaper = make_p4d_offering(instance_type="p0", price_per_hour=20.0)
    assert upsert_offerings(store, [cheaper], origin=OverlayOrigin.PLATFORM, fetched_at=later) == 1
    (row,) = [o for o in list_offerings(store) if o.offering.instance_type == "p0"]
    assert row.offering.price_per_hour == 20.0 and row.fetched_at == later
    assert count_offerings(store) == 4
    assert count_offerings(store, origin=OverlayOrigin.IMPORT) == 0


def test_cpu_offering_without_gpu_or_spot(store: StateStore) -> None:
    cpu = make_p4d_offering(instance_type="c7i.8xlarge", gpu_type=None, spot_price_per_hour=None)
    upsert_offerings(store, [cpu], origin=OverlayOrigin.IMPORT)
    assert list_offerings(store)[0].offering == cpu


def test_replace_offerings_scopes_by_origin_and_provider(store: StateStore) -> None:
    aws = [make_p4d_offering(instance_type=f"a{i}") for i in range(3)]
    gcp = [make_p4d_offering("gcp", "europe-west4", f"g{i}") for i in range(2)]
    replace_offerings(store, aws + gcp, origin=OverlayOrigin.PLATFORM)
    assert count_offerings(store) == 5

    # A sync of AWS only: a1 disappears, a3 appears, GCP rows are untouched.
    new_aws = [aws[0], aws[2], make_p4d_offering(instance_type="a3")]
    assert replace_offerings(store, new_aws, origin=OverlayOrigin.PLATFORM, providers=["aws"]) == 2
    names = {o.offering.instance_type for o in list_offerings(store)}
    assert names == {"a0", "a2", "a3", "g0", "g1"}
    assert replace_offerings(store, new_aws, origin=OverlayOrigin.PLATFORM, providers=["aws"]) == 0
    assert [o.offering.provider for o in list_offerings(store, providers=["gcp"])] == ["gcp"] * 2
    assert list_offerings(store, providers=[]) == []


def test_imported_prices_win_over_platform_rows(store: StateStore) -> None:
    listed = make_p4d_offering(instance_type="p5", price_per_hour=98.0)
    negotiated = make_p4d_offering(instance_type="p5", price_per_hour=60.0)
    upsert_offerings(store, [listed], origin=OverlayOrigin.PLATFORM)
    upsert_offerings(store, [negotiated], origin=OverlayOrigin.IMPORT)
    # The next sync brings the list price again: the user's price stays.
    replace_offerings(store, [listed], origin=OverlayOrigin.PLATFORM)
    upsert_offerings(store, [listed], origin=OverlayOrigin.PLATFORM)
    (row,) = list_offerings(store)
    assert row.origin is OverlayOrigin.IMPORT and row.offering.price_per_hour == 60.0
    assert list_overlay_offerings(store) == [negotiated]

    assert delete_offerings(store, origin=OverlayOrigin.IMPORT) == 1
    replace_offerings(store, [listed], origin=OverlayOrigin.PLATFORM)
    (row,) = list_offerings(store)
    assert row.origin is OverlayOrigin.PLATFORM and row.offering.price_per_hour == 98.0


def test_import_is_all_or_nothing_inside_a_transaction(store: StateStore) -> None:
    with pytest.raises(InvalidInputError), store.transaction():
        upsert_offerings(
            store, [make_p4d_offering(instance_type="ok")], origin=OverlayOrigin.IMPORT
        )
        raise InvalidInputError("prices.csv line 3: price_per_hour: must be > 0")
    assert count_offerings(store) == 0


def test_many_offerings_use_one_table_scan(store: StateStore) -> None:
    offerings = [make_p4d_offering(instance_type=f"t{i}") for i in range(200)]
    assert upsert_offerings(store, offerings, origin=OverlayOrigin.PLATFORM) == 200
    assert upsert_offerings(store, offerings, origin=OverlayOrigin.PLATFORM) == 0
    assert delete_offerings(store, providers=["aws"]) == 200


def _storage(tier_name: str = "S3 Standard", price: float = 0.023) -> StoragePrice:
    return StoragePrice(
        provider="aws",
        tier_name=tier_name,
        tier="hot",
        price_per_gb_month=price,
        retrieval_per_gb=0.0,
        min_storage_days=0,
        currency="USD",
        region="us-east-1",
        source="https://aws.amazon.com/s3/pricing/",
        price_date=date(2026, 2, 1),
    )


def test_storage_prices(store: StateStore) -> None:
    prices = [_storage(), _storage("S3 Glacier Instant Retrieval", 0.004)]
    assert upsert_storage_prices(store, prices, origin=OverlayOrigin.PLATFORM, fetched_at=T0) == 2
    assert upsert_storage_prices(store, prices, origin=OverlayOrigin.PLATFORM) == 0
    listed = list_storage_prices(store)
    assert {p.price for p in listed} == set(prices)
    assert set(list_overlay_storage_prices(store)) == set(prices)
    assert all(p.fetched_at == T0 for p in listed)
    assert replace_storage_prices(store, prices[:1], origin=OverlayOrigin.PLATFORM) == 1
    assert [p.price.tier_name for p in list_storage_prices(store)] == ["S3 Standard"]
    assert delete_storage_prices(store, origin=OverlayOrigin.PLATFORM) == 1
    assert list_storage_prices(store) == []


# --------------------------------------------------------------------------------------------
# Platform jobs
# --------------------------------------------------------------------------------------------


def _job(job_id: str = "9b4ada26", **changes: object) -> PlatformJob:
    data: dict[str, object] = {
        "id": job_id,
        "status": JobStatus.RUNNING,
        "service": "sentiment",
        "model": "distilbert",
        "provider": "mock",
        "provider_job_id": "mock-1660211d",
        "instance_type": "mock-gpu-a100",
        "region": "eu-west",
        "is_spot": True,
        "cost_estimate_eur": 3.0,
        "cost_per_hour_eur": 0.75,
        # The platform on SQLite sends naive timestamps, meaning UTC.
        "created_at": datetime(2026, 11, 27, 19, 35, 19),
        "started_at": datetime(2026, 11, 27, 19, 35, 19, 271520),
        "config": {"epochs": 1, "dataset_id": "reviews_v1"},
    }
    data.update(changes)
    return PlatformJob.model_validate(data)


def test_platform_jobs_upsert_reports_changes(store: StateStore) -> None:
    job = _job()
    assert job.created_at == datetime(2026, 11, 27, 19, 35, 19, tzinfo=UTC)
    assert upsert_platform_job(store, job, synced_at=T0)
    assert get_platform_job(store, job.id) == job

    changes = _total_changes(store)
    assert not upsert_platform_job(store, job, synced_at=T0 + timedelta(hours=1))
    assert _total_changes(store) == changes

    done = _job(
        status=JobStatus.COMPLETED,
        cost_actual_eur=2.4,
        duration_seconds=11520.0,
        completed_at=datetime(2026, 11, 28, 2, 0, tzinfo=timezone(timedelta(hours=1))),
        metrics={"accuracy": 0.95},
    )
    assert upsert_platform_job(store, done)
    stored = get_platform_job(store, job.id)
    assert stored == done
    assert stored is not None and stored.completed_at == datetime(2026, 11, 28, 1, 0, tzinfo=UTC)
    assert get_platform_job(store, "missing") is None


def test_list_platform_jobs(store: StateStore) -> None:
    jobs = [
        _job("a", created_at=T0, status=JobStatus.COMPLETED),
        _job("b", created_at=T0 + timedelta(days=1)),
        _job("c", created_at=None, status=JobStatus.PENDING, config={}, metrics=None),
    ]
    assert upsert_platform_jobs(store, jobs) == 3
    assert upsert_platform_jobs(store, jobs) == 0
    assert [j.id for j in list_platform_jobs(store)] == ["b", "a", "c"]
    assert [j.id for j in list_platform_jobs(store, status=JobStatus.COMPLETED)] == ["a"]
    assert [j.id for j in list_platform_jobs(store, since=T0 + timedelta(hours=1))] == ["b"]
    assert count_platform_jobs(store) == 3


# --------------------------------------------------------------------------------------------
# Datasets, files, access events
# --------------------------------------------------------------------------------------------


def _dataset(dataset_id: str = "iris_v1", **changes: object) -> DatasetRecord:
    data: dict[str, object] = {
        "id": dataset_id,
        "name": dataset_id.split("_")[0],
        "version": 1,
        "format": "csv",
        "description": "Iris subset",
        "status": "created",
        "total_size_bytes": 218,
        "created_at": datetime(2026, 11, 27, 19, 35, 7),
        "metadata": {"source": "capture-test", "rows": 5},
    }
    data.update(changes)
    return DatasetRecord.model_validate(data)


def _file(path: str, size: int, dataset_id: str = "iris_v1") -> DatasetFileRecord:
    return DatasetFileRecord(
        dataset_id=dataset_id, path=path, sha256="0" * 64, size_bytes=size, num_records=6
    )


def test_datasets_round_trip(store: StateStore) -> None:
    iris = _dataset()
    local = _dataset(
        "logs_v2",
        origin=DatasetOrigin.LOCAL,
        local_path="/data/logs",
        version=2,
        created_at=None,
        metadata={},
    )
    assert upsert_datasets(store, [iris, local]) == 2
    assert upsert_dataset(store, iris) is False
    assert upsert_dataset(store, _dataset(status="active")) is True
    assert get_dataset(store, "iris_v1") == _dataset(status="active")
    assert find_dataset(store, "nope") is None
    with pytest.raises(NotFoundError, match="dataset nope not found"):
        get_dataset(store, "nope")
    assert [d.id for d in list_datasets(store)] == ["iris_v1", "logs_v2"]
    assert [d.id for d in list_datasets(store, origin=DatasetOrigin.LOCAL)] == ["logs_v2"]
    assert [d.id for d in list_datasets(store, name="iris")] == ["iris_v1"]


def test_dataset_files_are_replaced_as_a_set(store: StateStore) -> None:
    upsert_dataset(store, _dataset())
    files = [_file("iris.csv", 210), _file("extra.csv", 8)]
    assert replace_dataset_files(store, "iris_v1", files) == 2
    assert replace_dataset_files(store, "iris_v1", files) == 0
    assert [f.path for f in list_dataset_files(store, "iris_v1")] == ["extra.csv", "iris.csv"]
    assert list_dataset_files(store, "iris_v1")[1] == files[0]

    changed = [_file("iris.csv", 400)]
    assert replace_dataset_files(store, "iris_v1", changed) == 2  # one update, one delete
    assert list_dataset_files(store, "iris_v1") == changed

    with pytest.raises(NotFoundError, match="dataset ghost not found"):
        replace_dataset_files(store, "ghost", [_file("a", 1, "ghost")])
    with pytest.raises(InvalidInputError, match="belongs to dataset other_v1, not iris_v1"):
        replace_dataset_files(store, "iris_v1", [_file("a", 1, "other_v1")])

    delete_dataset(store, "iris_v1")
    assert find_dataset(store, "iris_v1") is None
    assert list_dataset_files(store, "iris_v1") == []
    with pytest.raises(NotFoundError):
        delete_dataset(store, "iris_v1")


def test_access_events_import_is_idempotent(store: StateStore) -> None:
    events = [
        AccessEvent(dataset_id="iris_v1", timestamp=T0, operation="read", source="log.jsonl"),
        AccessEvent(
            dataset_id="iris_v1",
            timestamp=T0 + timedelta(days=3),
            operation="download",
            source="log.jsonl",
        ),
        AccessEvent(
            dataset_id="not_synced_yet",
            timestamp=datetime(2026, 3, 1, 13, 0, tzinfo=timezone(timedelta(hours=1))),
            operation="read",
            source="mtime",
            weak_evidence=True,
        ),
    ]
    assert add_access_events(store, events) == 3
    assert add_access_events(store, events) == 0
    assert add_access_events(store, []) == 0
    listed = list_access_events(store)
    assert listed[0].timestamp == listed[1].timestamp == T0  # 13:00+01:00 is T0
    assert set(listed) == set(events)
    assert list_access_events(store, dataset_id="iris_v1", since=T0 + timedelta(days=1)) == [
        events[1]
    ]
    assert count_access_events(store) == 3
    assert count_access_events(store, dataset_id="iris_v1") == 2


# --------------------------------------------------------------------------------------------
# Budgets
# --------------------------------------------------------------------------------------------


def _budget(budget_id: int, **changes: object) -> BudgetRecord:
    data: dict[str, object] = {
        "id": budget_id,
        "scope": "global",
        "scope_value": "*",
        "period": "monthly",
        "limit_eur": 500.0,
        "alert_threshold_pct": 75.0,
        "enabled": True,
        "created_at": "2026-11-27T19:34:54",
    }
    data.update(changes)
    return BudgetRecord.model_validate(data)


def test_budgets(store: StateStore) -> None:
    budgets = [_budget(1), _budget(2, scope="service", scope_value="sentiment", enabled=False)]
    assert replace_budgets(store, budgets) == 2
    assert replace_budgets(store, budgets) == 0
    assert list_budgets(store) == budgets
    assert list_budgets(store, enabled_only=True) == budgets[:1]
    assert upsert_budget(store, _budget(1, limit_eur=600.0)) is True
    assert upsert_budget(store, _budget(1, limit_eur=600.0)) is False
    assert replace_budgets(store, [_budget(1, limit_eur=600.0)]) == 1
    assert [b.id for b in list_budgets(store)] == [1]


def test_budget_spending(store: StateStore) -> None:
    alert = {"id": 3, "alert_type": "threshold_exceeded", "pct_used": 85.0}
    spending = BudgetSpendingRecord(
        scope="service",
        scope_value="sentiment",
        period="weekly",
        spent_eur=42.5,
        limit_eur=50.0,
        pct_used=85.0,
        alerts=(alert,),
        fetched_at=T0,
    )
    assert upsert_budget_spending(store, spending) is True
    assert upsert_budget_spending(store, spending.model_copy(update={"fetched_at": None})) is False
    assert list_budget_spending(store) == [spending]
    other = spending.model_copy(update={"scope": "global", "scope_value": "*", "alerts": ()})
    assert replace_budget_spending(store, [other]) == 2
    (stored,) = list_budget_spending(store)
    assert stored.scope == "global" and stored.alerts == ()


# --------------------------------------------------------------------------------------------
# Meta and sync runs
# --------------------------------------------------------------------------------------------


def test_meta(store: StateStore) -> None:
    assert get_meta(store, "k") is None
    set_meta(store, "k", "1")
    set_meta(store, "k", "2")
    assert get_meta(store, "k") == "2"
    assert all_meta(store) == {"k": "2"}
    assert delete_meta(store, "k") is True
    assert delete_meta(store, "k") is False
    with pytest.raises(InvalidInputError, match="meta key"):
        set_meta(store, "", "x")
    assert last_sync_at(store) is None
    set_last_sync_at(store, datetime(2026, 3, 1, 14, 0, tzinfo=timezone(timedelta(hours=2))))
    assert last_sync_at(store) == T0


def test_sync_runs(store: StateStore) -> None:
    assert last_sync_run(store) is None
    first = start_sync_run(store, ["catalog", "jobs"], started_at=T0)
    run = get_sync_run(store, first)
    assert run.status is SyncStatus.RUNNING and run.parts == ("catalog", "jobs")
    assert run.finished_at is None

    finished = finish_sync_run(
        store,
        first,
        status=SyncStatus.PARTIAL,
        summary={"jobs": {"changed": 3}},
        error="catalog: platform timed out",
        finished_at=T0 + timedelta(minutes=2),
    )
    assert finished.status is SyncStatus.PARTIAL
    assert finished.summary == {"jobs": {"changed": 3}}
    assert finished.error == "catalog: platform timed out"
    assert finished.finished_at == T0 + timedelta(minutes=2)

    second = start_sync_run(store, ["budgets"], started_at=T0 + timedelta(hours=1))
    assert [r.id for r in list_sync_runs(store)] == [second, first]
    last = last_sync_run(store)
    assert last is not None and last.id == second
    assert finish_sync_run(store, second, status=SyncStatus.OK).summary is None

    with pytest.raises(InvalidInputError, match=f"sync run {first} already finished"):
        finish_sync_run(store, first, status=SyncStatus.OK)
    with pytest.raises(InvalidInputError, match="finishes as ok, partial or failed"):
        finish_sync_run(store, second, status=SyncStatus.RUNNING)
    with pytest.raises(NotFoundError, match="sync run 99 not found"):
        finish_sync_run(store, 99, status=SyncStatus.FAILED)
    with pytest.raises(InvalidInputError, match="limit"):
        list_sync_runs(store, limit=0)


# --------------------------------------------------------------------------------------------
# Timestamp encoding
# --------------------------------------------------------------------------------------------

_aware = st.datetimes(
    min_value=datetime(1, 1, 2),
    max_value=datetime(9999, 12, 30),
    timezones=st.sampled_from(
        [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(-timedelta(hours=8))]
    ),
)


@given(a=_aware, b=_aware)
def test_encoded_timestamps_round_trip_and_sort_like_time(a: datetime, b: datetime) -> None:
    assert decode_datetime(encode_datetime(a)) == a
    assert (encode_datetime(a) < encode_datetime(b)) == (a < b)


def test_years_before_1000_are_padded_and_old_unpadded_text_still_reads() -> None:
    first = datetime(1, 1, 1, tzinfo=UTC)
    assert encode_datetime(first) == "0001-01-01T00:00:00.000000+00:00"
    assert encode_datetime(datetime(999, 12, 31, tzinfo=UTC)) < encode_datetime(
        datetime(1000, 1, 1, tzinfo=UTC)
    )
    # What glibc's strftime("%Y") wrote before: "1-01-01...", which fromisoformat refuses.
    assert decode_datetime("1-01-01T00:00:00.000000+00:00") == first
