"""``sync`` against the fake gateway on loopback, into a real state file."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from artenic_opt.errors import (
    InvalidInputError,
    PlatformAuthError,
    PlatformUnreachableError,
    StateError,
)
from artenic_opt.platform.client import PlatformClient
from artenic_opt.platform.models import PlatformJob
from artenic_opt.platform.sync import PART_NAMES, SyncReport, sync
from artenic_opt.platform.translation import DerivedOutcome, dispatch_config
from artenic_opt.schemas import (
    GpuSpec,
    InstanceRecommendation,
    JobOutcome,
    Offering,
    StoragePrice,
    TrainingAdvice,
    WorkloadProfile,
)
from artenic_opt.state import (
    DatasetOrigin,
    OverlayOrigin,
    StateStore,
    SyncStatus,
    count_platform_jobs,
    get_platform_job,
    insert_outcome,
    last_sync_at,
    last_sync_run,
    list_budget_spending,
    list_budgets,
    list_dataset_files,
    list_datasets,
    list_offerings,
    list_platform_jobs,
    list_storage_prices,
    open_state,
    outcome_for_job,
    save_recommendation,
    set_dispatch,
    upsert_offerings,
)
from artenic_opt.types import JobStatus, OptimizerMode
from tests.platform_server import (
    FakePlatform,
    compute_row,
    platform_server_fixture,  # noqa: F401
    serve_platform,
    storage_row,
)

SPECS = {
    "A100 40GB": GpuSpec(gpu_type="A100 40GB", memory_gb=40, source="test"),
    "L4": GpuSpec(gpu_type="L4", memory_gb=24, source="test"),
    "RTX 4090": GpuSpec(gpu_type="RTX 4090", memory_gb=24, source="test"),
    "P100": GpuSpec(gpu_type="P100", memory_gb=16, source="test"),
}
_LABELS = {"A100": "A100 40GB", "L4": "L4", "RTX 4090": "RTX 4090", "P100": "P100"}


def lookup(label: str) -> GpuSpec | None:
    canonical = _LABELS.get(label)
    return None if canonical is None else SPECS[canonical]


class Outcomes:
    """An ``on_outcome`` that stores each outcome as the feedback path would (unlinked ok)."""

    def __init__(self, store: StateStore) -> None:
        self.store = store
        self.seen: list[tuple[DerivedOutcome, PlatformJob]] = []

    def __call__(self, outcome: DerivedOutcome, job: PlatformJob) -> None:
        self.seen.append((outcome, job))
        linked = outcome.to_job_outcome()
        record = linked or JobOutcome(
            recommendation_id="",
            rank=1,
            status=outcome.status,
            hours=outcome.hours,
            cost=outcome.cost_eur or 0.0,
            currency="EUR",
            job_id=outcome.job_id,
        )
        insert_outcome(
            self.store,
            record,
            provider=job.provider,
            region=job.region or "unknown",
            instance_type=job.instance_type or "unknown",
            spot=job.is_spot,
            label=None,
        )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[StateStore]:
    with open_state(tmp_path / "state.db") as opened:
        yield opened


@pytest.fixture
def waits() -> list[float]:
    return []


@pytest.fixture
def client(platform_server: FakePlatform, waits: list[float]) -> Iterator[PlatformClient]:
    with PlatformClient(platform_server.url, max_retries=2, sleep=waits.append) as c:
        yield c


def run(store: StateStore, client: PlatformClient, **kwargs: Any) -> SyncReport:
    return sync(store, client, catalog_lookup=lookup, **kwargs)


# ------------------------------------------------------------------------------------------
# A clean sync, and a second one that changes nothing
# ------------------------------------------------------------------------------------------


def test_full_sync_stores_every_part(
    platform_server: FakePlatform, client: PlatformClient, store: StateStore
) -> None:
    platform_server.seed()
    progress: list[tuple[str, str]] = []
    outcomes = Outcomes(store)
    report = run(
        store, client, on_progress=lambda p, m: progress.append((p, m)), on_outcome=outcomes
    )

    assert report.status is SyncStatus.OK
    assert report.failures == {}
    assert list(report.parts) == list(PART_NAMES)
    assert report.url == platform_server.url

    catalog = report.parts["catalog"]
    assert catalog.fetched == 10
    assert catalog.details["rows_skipped"] == 1  # Azure row without a price
    offerings = {o.offering.offering_id: o for o in list_offerings(store)}
    assert all(o.origin is OverlayOrigin.PLATFORM for o in offerings.values())
    assert catalog.added == len(offerings) == 8  # two Vast.ai rows share one key
    vast = offerings["Vast.ai/Spain, ES/RTX 4090 x2"].offering
    assert vast.price_per_hour == 0.69
    assert vast.currency == "USD"
    p4d = offerings["AWS/eu-west-1/p4d.24xlarge"].offering
    assert (p4d.gpu_type, p4d.gpu_count, p4d.gpu_memory_gb) == ("A100 40GB", 8, 40)
    assert p4d.source == "platform:aws"
    storage = list_storage_prices(store)
    assert {s.price.tier for s in storage} == {"hot", "cold"}
    assert catalog.related_written == 3

    jobs = report.parts["jobs"]
    assert (jobs.fetched, jobs.added, jobs.details["refreshed"]) == (3, 3, 1)
    assert count_platform_jobs(store) == 3
    assert jobs.details["outcomes_derived"] == 2
    assert report.outcomes_derived == report.outcomes_recorded == 2
    assert {o.status for o, _ in outcomes.seen} == {JobStatus.COMPLETED, JobStatus.FAILED}

    datasets = report.parts["datasets"]
    assert (datasets.fetched, datasets.added) == (3, 3)
    stored = {d.id: d for d in list_datasets(store)}
    assert set(stored) == {"reviews_v1", "reviews_v2", "iris_v1"}
    assert stored["iris_v1"].created_at is None
    assert stored["iris_v1"].origin is DatasetOrigin.PLATFORM
    assert [f.path for f in list_dataset_files(store, "iris_v1")] == ["extra.csv", "iris.csv"]
    assert datasets.details["files"] == 3

    budgets = report.parts["budgets"]
    assert (budgets.fetched, budgets.added) == (3, 3)
    assert len(list_budgets(store)) == 3
    spending = list_budget_spending(store)
    # Spending only for enabled budgets: global/* and service/sentiment.
    assert {(s.scope, s.scope_value) for s in spending} == {
        ("global", "*"),
        ("service", "sentiment"),
    }

    run_row = last_sync_run(store)
    assert run_row is not None
    assert run_row.status is SyncStatus.OK
    assert run_row.id == report.run_id
    assert run_row.summary is not None
    assert set(run_row.summary["parts"]) == set(PART_NAMES)
    assert last_sync_at(store) == report.started_at
    assert any(part == "jobs" and "refreshing 1 running" in m for part, m in progress)
    assert report.model_dump(mode="json")["status"] == "ok"


def test_second_sync_changes_nothing(
    platform_server: FakePlatform, client: PlatformClient, store: StateStore
) -> None:
    platform_server.seed()
    outcomes = Outcomes(store)
    first = run(store, client, on_outcome=outcomes)
    assert first.changes > 0
    jobs_before = {j.id: j for j in list_platform_jobs(store)}
    synced_before = store.query("SELECT id, synced_at FROM platform_jobs ORDER BY id")
    files_before = store.query("SELECT * FROM dataset_files ORDER BY dataset_id, path")

    later = datetime.now(UTC) + timedelta(minutes=5)
    second = run(store, client, on_outcome=outcomes, clock=lambda: later)
    assert second.status is SyncStatus.OK
    assert second.changes == 0
    for part in second.parts.values():
        assert (part.added, part.updated, part.removed, part.related_written) == (0, 0, 0, 0)
        assert part.unchanged == part.fetched or part.part == "catalog"
    assert second.parts["catalog"].unchanged == 8
    assert second.outcomes_derived == 0
    assert len(outcomes.seen) == 2
    # Nothing was rewritten: bookkeeping columns keep the first sync's time.
    assert store.query("SELECT id, synced_at FROM platform_jobs ORDER BY id") == synced_before
    assert store.query("SELECT * FROM dataset_files ORDER BY dataset_id, path") == files_before
    assert {j.id: j for j in list_platform_jobs(store)} == jobs_before
    assert last_sync_at(store) == later


def test_changes_on_the_server_are_counted(
    platform_server: FakePlatform, client: PlatformClient, store: StateStore
) -> None:
    platform_server.seed()
    run(store, client)
    running = next(j for j in platform_server.jobs.values() if j["status"] == "running")
    platform_server.finish_job(running["id"], status="failed", error="preempted by provider")
    platform_server.add_dataset("new_v1")
    del platform_server.datasets["reviews_v2"]
    platform_server.add_file("iris_v1", "more.csv", size_bytes=5)
    platform_server.budgets[2]["limit_eur"] = 75.0
    platform_server.compute_rows[0]["price_per_hour"] = 1.2

    report = run(store, client)
    assert report.status is SyncStatus.OK
    assert (report.parts["jobs"].updated, report.parts["jobs"].unchanged) == (1, 2)
    assert report.outcomes_derived == 3  # nothing stored outcomes: all finals are offered again
    stored = get_platform_job(store, running["id"])
    assert stored is not None
    assert stored.status is JobStatus.FAILED
    datasets = report.parts["datasets"]
    assert (datasets.added, datasets.updated, datasets.removed) == (1, 1, 1)
    assert {d.id for d in list_datasets(store)} == {"reviews_v1", "iris_v1", "new_v1"}
    assert report.parts["budgets"].updated == 1
    assert report.parts["catalog"].updated == 1


# ------------------------------------------------------------------------------------------
# Outcomes and the recommendation link
# ------------------------------------------------------------------------------------------


def _advice() -> TrainingAdvice:
    workload = WorkloadProfile(model_params_m=340, dataset_size_gb=2)
    offering = Offering(
        provider="AWS",
        region="eu-west-1",
        instance_type="p4d.24xlarge",
        gpu_type="A100 40GB",
        gpu_count=8,
        gpu_memory_gb=40,
        price_per_hour=32.7,
        currency="USD",
        source="test",
        price_date=date(2026, 2, 20),
    )
    candidates = tuple(
        InstanceRecommendation(
            rank=rank,
            offering=offering,
            score=1.0 / rank,
            heuristic_score=1.0 / rank,
            price_per_hour=32.7,
            estimated_hours=2.0,
            estimated_cost=65.4,
            estimated_cost_on_demand=65.4,
            currency="USD",
            memory_needed_gb=20,
            memory_available_gb=40,
        )
        for rank in (1, 2)
    )
    return TrainingAdvice(
        recommendation_id="rec-0001",
        query_id=workload.query_id,
        workload=workload,
        mode=OptimizerMode.HEURISTIC,
        candidates_considered=2,
        candidates_feasible=2,
        recommendations=candidates,
    )


def test_dispatched_job_outcome_is_linked(
    platform_server: FakePlatform, client: PlatformClient, store: StateStore
) -> None:
    advice = _advice()
    save_recommendation(store, advice)
    job_id = client.dispatch(
        service="sentiment",
        model="bert",
        provider="mock",
        config=dispatch_config(advice.recommendation_id, advice.query_id, 2),
        instance_type="mock-gpu-a100",
    )
    set_dispatch(store, advice.recommendation_id, 2, job_id)
    outcomes = Outcomes(store)
    first = run(store, client, on_outcome=outcomes)
    assert first.outcomes_derived == 0  # still running
    platform_server.finish_job(
        job_id, duration_seconds=5400, cost_actual_eur=3.1, metrics={"f1": 0.7}
    )
    second = run(store, client, on_outcome=outcomes)
    assert second.parts["jobs"].updated == 1
    assert second.outcomes_recorded == 1
    outcome, job = outcomes.seen[-1]
    assert (outcome.recommendation_id, outcome.query_id, outcome.rank) == (
        advice.recommendation_id,
        advice.query_id,
        2,
    )
    assert outcome.hours == pytest.approx(1.5)
    assert outcome.cost_eur == 3.1
    assert outcome.primary_metric_name == "f1"
    assert job.id == job_id
    stored = outcome_for_job(store, job_id)
    assert stored is not None
    assert stored.linked
    third = run(store, client, on_outcome=outcomes)
    assert third.outcomes_derived == 0
    assert third.changes == 0


def test_state_dispatch_link_wins_over_config(
    platform_server: FakePlatform, client: PlatformClient, store: StateStore
) -> None:
    advice = _advice()
    save_recommendation(store, advice)
    job = platform_server.add_job(
        status="completed",
        config=dispatch_config("someone-else", "q", 5),
        duration_seconds=60.0,
        cost_actual_eur=0.1,
    )
    set_dispatch(store, advice.recommendation_id, 1, job["id"])
    outcomes = Outcomes(store)
    run(store, client, only={"jobs"}, on_outcome=outcomes)
    outcome, _ = outcomes.seen[0]
    assert (outcome.recommendation_id, outcome.rank) == (advice.recommendation_id, 1)


def test_failing_outcome_callback_is_reported_and_retried(
    platform_server: FakePlatform, client: PlatformClient, store: StateStore
) -> None:
    platform_server.add_job(status="completed", config=dispatch_config("missing-rec", "q", 1))
    outcomes = Outcomes(store)
    report = run(store, client, only={"jobs"}, on_outcome=outcomes)
    assert report.status is SyncStatus.PARTIAL
    assert "recommendation missing-rec not found" in report.failures["outcomes"]
    assert report.outcomes_derived == 1
    assert report.outcomes_recorded == 0
    assert count_platform_jobs(store) == 1  # the job itself is stored
    again = run(store, client, only={"jobs"}, on_outcome=outcomes)
    assert again.outcomes_derived == 1
    assert len(outcomes.seen) == 2


def test_unexpected_callback_error_propagates_and_logs_the_run(
    platform_server: FakePlatform, client: PlatformClient, store: StateStore
) -> None:
    platform_server.add_job(status="completed")

    def broken(outcome: DerivedOutcome, job: PlatformJob) -> None:
        raise RuntimeError("bug in the feedback path")

    with pytest.raises(RuntimeError, match="bug"):
        run(store, client, only={"jobs"}, on_outcome=broken)
    run_row = last_sync_run(store)
    assert run_row is not None
    assert run_row.status is SyncStatus.FAILED
    assert run_row.error == "bug in the feedback path"
    assert last_sync_at(store) is None


def test_refresh_failure_keeps_the_listed_copy(
    platform_server: FakePlatform, client: PlatformClient, store: StateStore
) -> None:
    job = platform_server.add_job(status="running")
    platform_server.fail(f"/api/v1/training/{job['id']}", 500)
    report = run(store, client, only={"jobs"})
    assert report.status is SyncStatus.OK
    assert report.parts["jobs"].details["refreshed"] == 0
    assert "refresh failed" in report.parts["jobs"].warnings[0]
    stored = get_platform_job(store, job["id"])
    assert stored is not None
    assert stored.status is JobStatus.RUNNING


# ------------------------------------------------------------------------------------------
# Catalog specifics
# ------------------------------------------------------------------------------------------


def test_provider_missing_from_catalog_keeps_its_rows(
    platform_server: FakePlatform, client: PlatformClient, store: StateStore
) -> None:
    run(store, client, only={"catalog"})
    before = {o.offering.offering_id for o in list_offerings(store)}
    platform_server.failing_catalog_providers.add("vastai")
    report = run(store, client, only={"catalog"})
    assert report.status is SyncStatus.OK
    assert report.parts["catalog"].removed == 0
    assert "Vast.ai is missing" in report.parts["catalog"].warnings[0]
    assert {o.offering.offering_id for o in list_offerings(store)} == before
    # A row that vanished from a provider that did answer is removed.
    platform_server.failing_catalog_providers.clear()
    platform_server.compute_rows = [r for r in platform_server.compute_rows if r["name"] != "GP1-S"]
    report = run(store, client, only={"catalog"})
    assert report.parts["catalog"].removed == 1


def test_imported_rows_win_over_platform_rows(
    platform_server: FakePlatform, client: PlatformClient, store: StateStore
) -> None:
    negotiated = Offering(
        provider="OVHcloud",
        region="global",
        instance_type="l4-90",
        gpu_type="L4",
        gpu_count=1,
        gpu_memory_gb=24,
        price_per_hour=0.5,
        currency="EUR",
        source="my contract",
        price_date=date(2026, 1, 1),
    )
    upsert_offerings(store, [negotiated], origin=OverlayOrigin.IMPORT)
    report = run(store, client, only={"catalog"})
    assert report.parts["catalog"].details["held_by_import"] == 1
    kept = [o for o in list_offerings(store) if o.offering.instance_type == "l4-90"]
    assert len(kept) == 1
    assert kept[0].origin is OverlayOrigin.IMPORT
    assert kept[0].offering.price_per_hour == 0.5
    assert report.parts["catalog"].added == 7


def test_catalog_price_date_is_the_fetch_date(
    platform_server: FakePlatform, client: PlatformClient, store: StateStore
) -> None:
    when = datetime(2026, 3, 1, 12, tzinfo=UTC)
    run(store, client, only={"catalog"}, clock=lambda: when)
    assert {o.offering.price_date for o in list_offerings(store)} == {date(2026, 3, 1)}
    assert {p.price.price_date for p in list_storage_prices(store)} == {date(2026, 3, 1)}
    # A new day re-dates every row: that is a change, reported as such.
    report = run(store, client, only={"catalog"}, clock=lambda: when + timedelta(days=1))
    assert report.parts["catalog"].updated == 8


def test_storage_price_mapping(
    platform_server: FakePlatform, client: PlatformClient, store: StateStore
) -> None:
    run(store, client, only={"catalog"})
    prices = {(p.price.provider, p.price.tier_name): p.price for p in list_storage_prices(store)}
    glacier: StoragePrice = prices[("Scaleway", "Object Storage \u2014 Glacier")]
    assert (glacier.tier, glacier.price_per_gb_month, glacier.currency) == ("cold", 0.0025, "EUR")
    assert glacier.source == "platform:scaleway"


def test_rows_in_a_currency_without_a_rate_or_out_of_range_are_left_out(
    platform_server: FakePlatform, client: PlatformClient, store: StateStore
) -> None:
    """One stored row in a currency the rate table lacks made every ranking and cost comparison
    of the state fail; a storage tier at 1e308 per GB-month aborted the sync (exit 1)."""
    platform_server.compute_rows = [
        compute_row("ovh", "in-xyz", 1.0, currency="XYZ"),
        compute_row("ovh", "in-eur", 1.0),
    ]
    platform_server.storage_rows = [
        storage_row("scaleway", "Object Storage \u2014 Standard", 1e308),
        storage_row("scaleway", "Object Storage \u2014 Glacier", 0.0025),
    ]
    report = run(store, client, only={"catalog"}, currencies={"EUR", "USD"})
    assert report.status is SyncStatus.OK
    part = report.parts["catalog"]
    assert part.details["rows_skipped"] == 1
    assert part.warnings == [
        "rows priced in XYZ were left out: no exchange rate for XYZ (add it under "
        "[exchange_rates] in the optimizer config file)"
    ]
    assert [o.offering.instance_type for o in list_offerings(store)] == ["in-eur"]
    assert [p.price.tier for p in list_storage_prices(store)] == ["cold"]


# ------------------------------------------------------------------------------------------
# Faults: each keeps complete parts and stores nothing of the failed one
# ------------------------------------------------------------------------------------------


def test_server_dying_mid_sync_keeps_complete_parts(
    platform_server: FakePlatform, client: PlatformClient, store: StateStore
) -> None:
    platform_server.seed()
    # health + compute + storage succeed; the server dies on the first jobs page.
    platform_server.die_after(3)
    report = run(store, client)
    assert report.status is SyncStatus.PARTIAL
    assert report.parts["catalog"].status == "ok"
    assert report.parts["jobs"].status == "failed"
    assert report.parts["datasets"].status == "skipped"
    assert report.parts["budgets"].status == "skipped"
    assert "unreachable" in report.failures["jobs"]
    assert list_offerings(store)
    assert count_platform_jobs(store) == 0
    assert list_datasets(store) == []
    assert list_budgets(store) == []
    run_row = last_sync_run(store)
    assert run_row is not None
    assert run_row.status is SyncStatus.PARTIAL
    assert last_sync_at(store) == report.started_at


def test_truncated_jobs_page_fails_only_that_part(
    platform_server: FakePlatform, client: PlatformClient, store: StateStore
) -> None:
    platform_server.seed()
    platform_server.truncate("/api/v1/training/jobs", times=None)
    report = run(store, client)
    assert report.status is SyncStatus.PARTIAL
    assert report.parts["jobs"].status == "failed"
    assert "cut short" in (report.parts["jobs"].error or "")
    # The server is still up (one probe), so later parts ran.
    assert report.parts["datasets"].status == "ok"
    assert report.parts["budgets"].status == "ok"
    assert count_platform_jobs(store) == 0
    assert len(list_datasets(store)) == 3


def test_failure_after_partial_fetch_stores_nothing_of_the_part(
    platform_server: FakePlatform, client: PlatformClient, store: StateStore
) -> None:
    platform_server.seed()
    # Budgets list succeeds, then a spending call fails: no budget may be stored either.
    platform_server.fail("/api/v1/budgets/spending", 500)
    # The files of one dataset come back malformed: no dataset may be stored.
    platform_server.malformed("/api/v1/datasets/iris_v1/files")
    report = run(store, client)
    assert report.status is SyncStatus.PARTIAL
    assert set(report.failures) == {"datasets", "budgets"}
    assert "malformed JSON" in report.failures["datasets"]
    assert list_budgets(store) == []
    assert list_budget_spending(store) == []
    assert list_datasets(store) == []
    assert count_platform_jobs(store) == 3


def test_timeout_on_one_part(platform_server: FakePlatform, store: StateStore) -> None:
    platform_server.seed()
    platform_server.delay("/api/v1/datasets", 1.0, times=None)
    with PlatformClient(
        platform_server.url, timeout=0.1, max_retries=1, sleep=lambda s: None
    ) as client:
        report = run(store, client)
    assert report.parts["datasets"].status == "failed"
    assert "timed out" in report.failures["datasets"]
    assert report.parts["budgets"].status == "ok"


def test_rate_limited_sync_recovers(
    platform_server: FakePlatform, client: PlatformClient, store: StateStore, waits: list[float]
) -> None:
    platform_server.seed()
    platform_server.rate_limit("/api/v1/datasets/*", times=2, retry_after=2)
    report = run(store, client)
    assert report.status is SyncStatus.OK
    assert waits == [2.0, 2.0]


def test_unreachable_platform_raises(store: StateStore) -> None:
    with serve_platform() as fake:
        url = fake.url
    with (
        PlatformClient(url, max_retries=1, sleep=lambda s: None) as client,
        pytest.raises(PlatformUnreachableError),
    ):
        run(store, client)
    run_row = last_sync_run(store)
    assert run_row is not None
    assert run_row.status is SyncStatus.FAILED
    assert last_sync_at(store) is None


def test_refused_key_raises_and_stores_nothing(store: StateStore) -> None:
    with serve_platform(api_key="server-key") as fake:
        fake.seed()
        with (
            PlatformClient(fake.url, "wrong", sleep=lambda s: None) as client,
            pytest.raises(PlatformAuthError),
        ):
            run(store, client)
        # Auth failure stops at the first part: the others are not attempted.
        assert fake.count("/api/v1/training/jobs") == 0
    assert list_offerings(store) == []
    assert count_platform_jobs(store) == 0
    run_row = last_sync_run(store)
    assert run_row is not None
    assert run_row.status is SyncStatus.FAILED


def test_database_down_returns_a_failed_report(
    platform_server: FakePlatform, store: StateStore
) -> None:
    platform_server.db_up = False
    with PlatformClient(platform_server.url, max_retries=0) as client:
        report = run(store, client)
    assert report.status is SyncStatus.FAILED
    assert "database is down" in report.failures["health"]
    assert all(p.status == "skipped" for p in report.parts.values())


def test_only_selects_parts_in_order(
    platform_server: FakePlatform, client: PlatformClient, store: StateStore
) -> None:
    report = run(store, client, only={"budgets", "Catalog"})
    assert list(report.parts) == ["catalog", "budgets"]
    assert platform_server.count("/api/v1/training/jobs") == 0
    with pytest.raises(InvalidInputError, match="unknown sync part outcomes"):
        run(store, client, only={"outcomes"})
    with pytest.raises(InvalidInputError, match="at least one"):
        run(store, client, only=set())


def test_dataset_vanishing_during_sync_is_skipped(
    platform_server: FakePlatform, client: PlatformClient, store: StateStore
) -> None:
    platform_server.seed()
    run(store, client, only={"datasets"})
    platform_server.fail("/api/v1/datasets/reviews_v2/files", 404)
    report = run(store, client, only={"datasets"})
    assert report.status is SyncStatus.OK
    assert "reviews_v2 disappeared" in report.parts["datasets"].warnings[0]
    assert report.parts["datasets"].removed == 1
    assert {d.id for d in list_datasets(store)} == {"reviews_v1", "iris_v1"}


def test_duplicate_file_paths_keep_the_newest(
    platform_server: FakePlatform, client: PlatformClient, store: StateStore
) -> None:
    platform_server.add_dataset("dup_v1")
    platform_server.add_file("dup_v1", "a.csv", size_bytes=10, sha256="old")
    platform_server.add_file("dup_v1", "a.csv", size_bytes=20, sha256="new")
    # Same path again, listed after the newest but with an older id: it must not win.
    stale = platform_server.add_file("dup_v1", "a.csv", size_bytes=30, sha256="stale")
    stale["id"] = 0
    run(store, client, only={"datasets"})
    files = list_dataset_files(store, "dup_v1")
    assert [(f.path, f.size_bytes, f.sha256) for f in files] == [("a.csv", 20, "new")]


def test_state_errors_propagate_and_log_the_run(
    platform_server: FakePlatform,
    client: PlatformClient,
    store: StateStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from artenic_opt.state import budgets as budgets_module

    def disk_full(*args: Any, **kwargs: Any) -> int:
        raise StateError("state.db: disk full")

    monkeypatch.setattr(budgets_module, "replace_budgets", disk_full)
    with pytest.raises(StateError, match="disk full"):
        run(store, client, only={"catalog", "budgets"})
    run_row = last_sync_run(store)
    assert run_row is not None
    assert run_row.status is SyncStatus.FAILED
    assert run_row.error == "state.db: disk full"
    # The catalog part was complete and stays; budgets wrote nothing.
    assert list_offerings(store)
    assert list_budgets(store) == []


def test_paged_jobs_sync(platform_server: FakePlatform, store: StateStore) -> None:
    base = datetime.now(UTC)
    for i in range(12):
        platform_server.add_job(
            job_id=f"job-{i:02d}", status="cancelled", created_at=base - timedelta(minutes=i)
        )
    with PlatformClient(platform_server.url) as client:
        from artenic_opt.platform import sync as sync_module

        original = client.list_jobs
        report = sync_module.sync(
            store,
            _PagedClient(client, original),  # type: ignore[arg-type]
            only={"jobs"},
            catalog_lookup=lookup,
        )
    assert report.parts["jobs"].fetched == 12
    assert count_platform_jobs(store) == 12
    assert report.outcomes_derived == 0  # cancelled jobs carry no outcome
    assert platform_server.count("/api/v1/training/jobs") == 3


class _PagedClient:
    """Wraps a client so that ``list_jobs`` pages by 5 (the real default is 500)."""

    def __init__(self, client: PlatformClient, list_jobs: Any) -> None:
        self._client = client
        self._list_jobs = list_jobs

    def list_jobs(self) -> Any:
        return self._list_jobs(page_size=5)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)
