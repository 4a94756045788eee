"""End to end over real HTTP on loopback: the platform flow and the fault matrix of issue 5.

Every fault must give the documented exit code (3 for every platform failure) or a partial
report, and the state must hold only complete records: for each part, either everything the
server has or nothing at all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from artenic_opt.errors import ExitCode, PlatformError
from artenic_opt.platform.client import PlatformClient
from artenic_opt.platform.models import PlatformJob
from artenic_opt.platform.sync import SyncReport, sync
from artenic_opt.platform.translation import DerivedOutcome, dispatch_config, make_gpu_lookup
from artenic_opt.schemas import GpuSpec, JobOutcome
from artenic_opt.state import (
    StateStore,
    SyncStatus,
    count_platform_jobs,
    insert_outcome,
    last_sync_run,
    list_budgets,
    list_datasets,
    list_offerings,
    open_state,
    outcome_for_job,
)
from artenic_opt.types import JobStatus
from tests.platform_server import FakePlatform, serve_platform

SPECS = {
    name: GpuSpec(gpu_type=name, memory_gb=memory, source="test")
    for name, memory in (("A100 40GB", 40), ("L4", 24), ("RTX 4090", 24), ("P100", 16))
}
LOOKUP = make_gpu_lookup(
    {"A100": "A100 40GB", "L4": "L4", "RTX 4090": "RTX 4090", "P100": "P100"}.get, SPECS
)
SECRET = "sk-integration-canary-42"


@pytest.fixture
def server() -> Iterator[FakePlatform]:
    with serve_platform(api_key=SECRET) as fake:
        fake.seed()
        yield fake


@pytest.fixture
def store(tmp_path: Path) -> Iterator[StateStore]:
    with open_state(tmp_path / "state.db") as opened:
        yield opened


def store_outcome(store: StateStore) -> Callable[[DerivedOutcome, PlatformJob], None]:
    def record(outcome: DerivedOutcome, job: PlatformJob) -> None:
        linked = outcome.to_job_outcome()
        insert_outcome(
            store,
            linked
            or JobOutcome(
                recommendation_id="",
                rank=1,
                status=outcome.status,
                hours=outcome.hours,
                cost=outcome.cost_eur or 0.0,
                currency="EUR",
                job_id=job.id,
            ),
            provider=job.provider,
            region=job.region or "unknown",
            instance_type=job.instance_type or "unknown",
            spot=job.is_spot,
            label=None,
        )

    return record


def do_sync(
    store: StateStore, url: str, *, timeout: float = 30.0, max_retries: int = 4
) -> SyncReport:
    with PlatformClient(
        url, SECRET, timeout, max_retries=max_retries, sleep=lambda s: None
    ) as client:
        return sync(store, client, catalog_lookup=LOOKUP, on_outcome=store_outcome(store))


def test_sync_dispatch_complete_sync(server: FakePlatform, store: StateStore) -> None:
    first = do_sync(store, server.url)
    assert first.status is SyncStatus.OK
    assert first.outcomes_recorded == 2
    second = do_sync(store, server.url)
    assert second.changes == 0

    with PlatformClient(server.url, SECRET) as client:
        job_id = client.dispatch(
            service="sentiment",
            model="bert",
            provider="mock",
            config=dispatch_config("unknown-rec", "q-1", 1),
            instance_type="mock-cpu-large",
            max_runtime_hours=2.0,
        )
    third = do_sync(store, server.url)
    assert third.parts["jobs"].added == 1
    assert outcome_for_job(store, job_id) is None  # still running

    server.finish_job(job_id, duration_seconds=900.0, cost_actual_eur=0.0125)
    # The outcome's recommendation is not in this state: the feedback path refuses it, the
    # sync reports that and keeps the job; nothing is half-stored.
    fourth = do_sync(store, server.url)
    assert fourth.status is SyncStatus.PARTIAL
    assert "unknown-rec" in fourth.failures["outcomes"]
    assert outcome_for_job(store, job_id) is None
    stored_jobs = {j["id"]: j for j in server.jobs.values()}
    assert stored_jobs[job_id]["status"] == JobStatus.COMPLETED.value
    assert count_platform_jobs(store) == 4


def _complete_or_empty(store: StateStore, server: FakePlatform, report: SyncReport | None) -> None:
    """Each part holds everything the server has, or nothing of it."""
    jobs = count_platform_jobs(store)
    assert jobs in (0, len(server.jobs))
    datasets = len(list_datasets(store))
    assert datasets in (0, len(server.datasets))
    budgets = len(list_budgets(store))
    assert budgets in (0, len(server.budgets))
    offerings = len(list_offerings(store))
    assert offerings in (0, 8)
    if report is not None:
        for name, part in report.parts.items():
            if part.status != "ok":
                count = {
                    "jobs": jobs,
                    "datasets": datasets,
                    "budgets": budgets,
                    "catalog": offerings,
                }[name]
                assert count == 0, f"failed part {name} left {count} rows"


FAULTS: dict[str, Callable[[FakePlatform], object]] = {
    "timeout": lambda s: s.delay("/api/v1/training/jobs", 1.0, times=None),
    "500": lambda s: s.fail("/api/v1/budgets", 500, times=None),
    "429-then-ok": lambda s: s.rate_limit("/api/v1/datasets", times=1, retry_after=1),
    "malformed": lambda s: s.malformed("/api/v1/datasets", times=None),
    "truncated": lambda s: s.truncate("/api/v1/training/jobs", times=None),
    "dies-mid-sync": lambda s: s.die_after(4),
    "wrong-key": lambda s: setattr(s, "api_key", "rotated-key"),
    "down-before-start": lambda s: s.stop(),
}

#: Fault -> (raises, report status when it does not raise).
EXPECTED: dict[str, tuple[bool, SyncStatus | None]] = {
    "timeout": (False, SyncStatus.PARTIAL),
    "500": (False, SyncStatus.PARTIAL),
    "429-then-ok": (False, SyncStatus.OK),
    "malformed": (False, SyncStatus.PARTIAL),
    "truncated": (False, SyncStatus.PARTIAL),
    "dies-mid-sync": (False, SyncStatus.PARTIAL),
    "wrong-key": (True, None),
    "down-before-start": (True, None),
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_fault_matrix(
    fault: str, server: FakePlatform, store: StateStore, caplog: pytest.LogCaptureFixture
) -> None:
    url = server.url
    FAULTS[fault](server)
    raises, status = EXPECTED[fault]
    report: SyncReport | None = None
    if raises:
        with pytest.raises(PlatformError) as info:
            do_sync(store, url, timeout=0.2, max_retries=1)
        assert info.value.exit_code is ExitCode.PLATFORM
        assert SECRET not in str(info.value)
        run = last_sync_run(store)
        assert run is not None
        assert run.status is SyncStatus.FAILED
    else:
        report = do_sync(store, url, timeout=0.2, max_retries=1)
        assert report.status is status
        for message in report.failures.values():
            assert SECRET not in message
    assert SECRET not in caplog.text
    _complete_or_empty(store, server, report)
