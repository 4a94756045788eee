"""PlatformClient against the fake gateway on loopback: happy paths, paging, retries, errors."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from artenic_opt import __version__
from artenic_opt.errors import (
    ConfigError,
    ExitCode,
    InvalidInputError,
    PlatformAuthError,
    PlatformError,
    PlatformResponseError,
    PlatformUnreachableError,
)
from artenic_opt.platform.client import PlatformClient
from artenic_opt.platform.translation import dispatch_config
from artenic_opt.types import JobStatus
from tests.platform_server import FakePlatform, platform_server_fixture  # noqa: F401

SECRET = "sk-ARTENIC-leak-canary-7f3a9c"


class SleepRecorder:
    """Stands in for ``time.sleep``: records the waits instead of waiting."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


@pytest.fixture
def client(platform_server: FakePlatform, sleeps: SleepRecorder) -> Iterator[PlatformClient]:
    with PlatformClient(platform_server.url, timeout=5.0, sleep=sleeps) as c:
        yield c


# ------------------------------------------------------------------------------------------
# Happy paths
# ------------------------------------------------------------------------------------------


def test_health_and_headers(platform_server: FakePlatform, client: PlatformClient) -> None:
    health = client.health_ready()
    assert health.status == "ready"
    assert health.database == "connected"
    request = platform_server.requests[-1]
    assert request.headers["user-agent"] == f"artenic-opt/{__version__}"
    assert re.fullmatch(r"[0-9a-f]{32}", request.headers["x-request-id"])
    # No key configured: no Authorization header at all.
    assert "authorization" not in request.headers


def test_each_call_has_its_own_request_id(
    platform_server: FakePlatform, client: PlatformClient
) -> None:
    client.health_ready()
    client.health_ready()
    ids = [r.headers["x-request-id"] for r in platform_server.requests]
    assert len(set(ids)) == 2


def test_bearer_key_is_sent(sleeps: SleepRecorder) -> None:
    from tests.platform_server import serve_platform

    with serve_platform(api_key=SECRET) as fake, PlatformClient(fake.url, SECRET) as client:
        assert client.list_budgets() == []
        assert fake.requests[-1].headers["authorization"] == f"Bearer {SECRET}"
        assert fake.requests[-1].query["enabled_only"] == ["false"]


def test_provider_list_uses_trailing_slash_and_redirect_is_followed(
    platform_server: FakePlatform, client: PlatformClient
) -> None:
    providers = client.list_providers()
    assert [p.id for p in providers][:3] == ["ovh", "infomaniak", "scaleway"]
    assert len(providers) == 7
    # A bare request on the unslashed path answers 307; the client follows it.
    raw = client._request("GET", "/api/v1/providers")
    assert isinstance(raw, list)
    assert len(raw) == 7
    assert [r.status for r in platform_server.requests[-2:]] == [307, 200]


def test_catalog_uses_the_long_timeout(
    platform_server: FakePlatform, sleeps: SleepRecorder
) -> None:
    platform_server.delay("/api/v1/providers/catalog/compute", 0.4)
    with PlatformClient(
        platform_server.url, timeout=0.2, catalog_timeout=5.0, max_retries=0, sleep=sleeps
    ) as client:
        rows = client.catalog_compute()
        assert {r.provider_id for r in rows} >= {"aws", "vastai", "scaleway"}
        platform_server.delay("/api/v1/budgets", 0.4)
        with pytest.raises(PlatformUnreachableError, match="timed out"):
            client.list_budgets()


def test_catalog_filters_and_per_provider(
    platform_server: FakePlatform, client: PlatformClient
) -> None:
    gpu = client.catalog_compute(gpu_only=True)
    assert gpu
    assert all(r.gpu_count > 0 for r in gpu)
    assert platform_server.requests[-1].query["gpu_only"] == ["true"]
    scaleway = client.catalog_compute("scaleway")
    assert {r.provider_id for r in scaleway} == {"scaleway"}
    storage = client.catalog_storage()
    assert storage[0].name == "Object Storage \u2014 Standard"
    assert {t.provider_id for t in client.catalog_storage("scaleway")} == {"scaleway"}


def test_per_provider_catalog_failure_is_not_found_or_rejected(
    platform_server: FakePlatform, client: PlatformClient
) -> None:
    platform_server.failing_catalog_providers.add("aws")
    with pytest.raises(PlatformResponseError, match="not found or rejected") as info:
        client.catalog_compute("aws")
    assert info.value.status_code == 500
    # The aggregate silently drops the failing provider (contract §3.4).
    assert "aws" not in {r.provider_id for r in client.catalog_compute()}


def test_unknown_provider_is_404_with_the_route_message(client: PlatformClient) -> None:
    with pytest.raises(PlatformResponseError, match=r"404.*Unknown provider: nope"):
        client.catalog_compute("nope")


def test_jobs_datasets_budgets_parse(platform_server: FakePlatform, client: PlatformClient) -> None:
    platform_server.seed()
    jobs = client.list_jobs()
    assert [j.status for j in jobs] == [JobStatus.RUNNING, JobStatus.FAILED, JobStatus.COMPLETED]
    assert all(j.created_at is not None and j.created_at.tzinfo is not None for j in jobs)
    datasets = client.list_datasets()
    assert [d.id for d in datasets] == ["reviews_v2", "reviews_v1", "iris_v1"]
    assert datasets[-1].created_at is None  # "" on the platform
    files = client.dataset_files("iris_v1")
    assert [f.path for f in files] == ["extra.csv", "iris.csv"]
    stats = client.dataset_stats("iris_v1")
    assert (stats.total_files, stats.num_records, stats.format_breakdown) == (2, 7, {"csv": 2})
    budgets = client.list_budgets()
    assert len(budgets) == 3
    assert any(not b.enabled for b in budgets)
    assert len(client.list_budgets(enabled_only=True)) == 2
    spending = client.budget_spending("service", "sentiment")
    assert len(spending) == 1
    assert spending[0].spent_eur == pytest.approx(0.02)
    assert platform_server.requests[-1].query == {
        "scope": ["service"],
        "scope_value": ["sentiment"],
    }


def test_list_jobs_filters_are_sent(platform_server: FakePlatform, client: PlatformClient) -> None:
    platform_server.seed()
    jobs = client.list_jobs(service="sentiment", status="failed")
    assert [j.service for j in jobs] == ["sentiment"]
    query = platform_server.requests[-1].query
    assert query["service"] == ["sentiment"]
    assert query["status"] == ["failed"]
    assert "provider" not in query


def test_dataset_ids_are_escaped(platform_server: FakePlatform, client: PlatformClient) -> None:
    platform_server.add_dataset("odd id/v1", name="odd")
    with pytest.raises(PlatformResponseError, match="404"):
        client.dataset_files("other/v1")
    assert platform_server.requests[-1].path in ("/api/v1/datasets/other%2Fv1/files",)
    with pytest.raises(InvalidInputError, match="id: must not be empty"):
        client.get_job(" ")


# ------------------------------------------------------------------------------------------
# Paging
# ------------------------------------------------------------------------------------------


def test_paging_reads_every_page(platform_server: FakePlatform, client: PlatformClient) -> None:
    for i in range(7):
        platform_server.add_job(service=f"svc-{i}")
    jobs = client.list_jobs(page_size=3)
    assert len(jobs) == 7
    offsets = [
        r.query["offset"][0] for r in platform_server.requests if r.path == "/api/v1/training/jobs"
    ]
    assert offsets == ["0", "3", "6"]


def test_paging_full_last_page_needs_one_empty_page(
    platform_server: FakePlatform, client: PlatformClient
) -> None:
    for _ in range(6):
        platform_server.add_job()
    assert len(client.list_jobs(page_size=3)) == 6
    assert platform_server.count("/api/v1/training/jobs") == 3


def test_paging_default_limit_is_500(platform_server: FakePlatform, client: PlatformClient) -> None:
    client.list_jobs()
    client.list_datasets()
    for request in platform_server.requests[-2:]:
        assert request.query["limit"] == ["500"]
        assert request.query["offset"] == ["0"]
    with pytest.raises(InvalidInputError, match="page_size: must be between 1 and 500"):
        client.list_jobs(page_size=501)


def test_paging_deduplicates_an_item_shifted_by_a_new_job(
    platform_server: FakePlatform, client: PlatformClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import timedelta

    base = platform_server.clock()
    for i in range(4):
        platform_server.add_job(job_id=f"job-{i}", created_at=base - timedelta(minutes=10 - i))

    original = platform_server.handle

    def handle_and_insert(method: str, raw_path: str, headers: Any, body: bytes) -> Any:
        response = original(method, raw_path, headers, body)
        if "offset=0" in raw_path:
            # A job arrives between page 1 and page 2: page 2 repeats page 1's last item.
            platform_server.add_job(job_id="job-new", created_at=base)
        return response

    monkeypatch.setattr(platform_server, "handle", handle_and_insert)
    jobs = client.list_jobs(page_size=2)
    ids = [j.id for j in jobs]
    assert len(ids) == len(set(ids))
    assert set(ids) >= {"job-0", "job-1", "job-2", "job-3"}


def test_paging_that_never_advances_is_an_error(
    platform_server: FakePlatform, client: PlatformClient
) -> None:
    for _ in range(2):
        platform_server.add_job()
    first_page = client._request("GET", "/api/v1/training/jobs", params={"limit": "2"})
    import json

    platform_server.malformed(
        "/api/v1/training/jobs", body=json.dumps(first_page).encode(), times=None
    )
    with pytest.raises(PlatformResponseError, match="paging did not advance"):
        client.list_jobs(page_size=2)


def test_a_page_that_is_not_an_array_is_an_error(
    platform_server: FakePlatform, client: PlatformClient
) -> None:
    platform_server.malformed("/api/v1/training/jobs", body=b'{"items": []}')
    with pytest.raises(PlatformResponseError, match="expected a JSON array, got an object"):
        client.list_jobs()


def test_truncated_page_on_the_second_page_fails_the_whole_listing(
    platform_server: FakePlatform, sleeps: SleepRecorder
) -> None:
    for _ in range(5):
        platform_server.add_job()
    with PlatformClient(platform_server.url, max_retries=1, sleep=sleeps) as client:
        # Let page 1 through, then cut every later page short.
        list(client.list_jobs(page_size=5))
        platform_server.requests.clear()
        for _ in range(2):
            platform_server.add_job()
        platform_server.truncate("/api/v1/training/jobs", times=None)
        with pytest.raises(PlatformUnreachableError, match="cut short"):
            client.list_jobs(page_size=5)
    assert sleeps.waits == [0.5]


def test_truncated_page_is_retried_and_recovers(
    platform_server: FakePlatform, client: PlatformClient, sleeps: SleepRecorder
) -> None:
    platform_server.seed()
    platform_server.truncate("/api/v1/training/jobs", times=1)
    assert len(client.list_jobs()) == 3
    assert sleeps.waits == [0.5]


def test_body_cut_mid_json_with_honest_length_is_malformed(
    platform_server: FakePlatform, client: PlatformClient
) -> None:
    platform_server.seed()
    platform_server.malformed("/api/v1/training/jobs")
    with pytest.raises(PlatformResponseError) as info:
        client.list_jobs()
    assert str(info.value).startswith(
        "platform returned malformed JSON for GET /api/v1/training/jobs"
    )
    assert info.value.status_code == 200
    assert info.value.exit_code is ExitCode.PLATFORM


@pytest.mark.parametrize("body", [b"NaN", b"[1, NaN]", b"\xff\xfe", b"<html>oops</html>"])
def test_non_json_bodies_are_malformed(
    platform_server: FakePlatform, client: PlatformClient, body: bytes
) -> None:
    platform_server.malformed("/api/v1/budgets", body=body)
    with pytest.raises(PlatformResponseError, match="malformed JSON for GET /api/v1/budgets"):
        client.list_budgets()


def test_wrong_shape_item_names_the_item_and_field(
    platform_server: FakePlatform, client: PlatformClient
) -> None:
    platform_server.seed()
    platform_server.jobs[next(iter(platform_server.jobs))]["status"] = "exploded"
    with pytest.raises(PlatformResponseError, match=r"item \d: status"):
        client.list_jobs()


def test_wrong_shape_object(platform_server: FakePlatform, client: PlatformClient) -> None:
    platform_server.malformed("/health/ready", body=b"[]")
    with pytest.raises(PlatformResponseError, match="expected a JSON object, got an array"):
        client.health_ready()
    platform_server.malformed("/api/v1/budgets", body=b'["x"]')
    with pytest.raises(PlatformResponseError, match="item 0 is a string"):
        client.list_budgets()


# ------------------------------------------------------------------------------------------
# Retries
# ------------------------------------------------------------------------------------------


def test_429_honours_retry_after(
    platform_server: FakePlatform, client: PlatformClient, sleeps: SleepRecorder
) -> None:
    platform_server.rate_limit("/api/v1/budgets", times=2, retry_after=3)
    assert client.list_budgets() == []
    assert sleeps.waits == [3.0, 3.0]
    ids = [r.headers["x-request-id"] for r in platform_server.requests]
    assert ids[1] == f"{ids[0]}-r1"
    assert ids[2] == f"{ids[0]}-r2"


def test_retry_after_is_capped(platform_server: FakePlatform, sleeps: SleepRecorder) -> None:
    platform_server.rate_limit("/api/v1/budgets", times=1, retry_after=3600)
    with PlatformClient(platform_server.url, max_backoff=7.0, sleep=sleeps) as client:
        client.list_budgets()
    assert sleeps.waits == [7.0]


def test_429_gives_up_after_max_retries(
    platform_server: FakePlatform, sleeps: SleepRecorder
) -> None:
    platform_server.rate_limit("/api/v1/budgets", times=10, retry_after=1)
    with (
        PlatformClient(platform_server.url, max_retries=2, sleep=sleeps) as client,
        pytest.raises(PlatformResponseError, match="rate limit still exceeded") as info,
    ):
        client.list_budgets()
    assert info.value.status_code == 429
    assert sleeps.waits == [1.0, 1.0]
    assert platform_server.count("/api/v1/budgets") == 3


@pytest.mark.parametrize("status", [502, 503, 504])
def test_gateway_errors_are_retried_with_exponential_backoff(
    platform_server: FakePlatform, client: PlatformClient, sleeps: SleepRecorder, status: int
) -> None:
    platform_server.fail("/api/v1/budgets", status, times=3)
    assert client.list_budgets() == []
    assert sleeps.waits == [0.5, 1.0, 2.0]


def test_backoff_is_bounded(platform_server: FakePlatform, sleeps: SleepRecorder) -> None:
    platform_server.fail("/api/v1/budgets", 503, times=None)
    with (
        PlatformClient(
            platform_server.url, max_retries=6, backoff=1.0, max_backoff=5.0, sleep=sleeps
        ) as client,
        pytest.raises(PlatformResponseError, match="server error 503") as info,
    ):
        client.list_budgets()
    assert sleeps.waits == [1.0, 2.0, 4.0, 5.0, 5.0, 5.0]
    assert info.value.status_code == 503
    assert info.value.request_id


def test_500_is_not_retried(
    platform_server: FakePlatform, client: PlatformClient, sleeps: SleepRecorder
) -> None:
    platform_server.fail("/api/v1/budgets", 500, times=1)
    with pytest.raises(PlatformResponseError, match="server error 500") as info:
        client.list_budgets()
    assert sleeps.waits == []
    assert platform_server.count("/api/v1/budgets") == 1
    assert info.value.request_id == platform_server.requests[-1].headers["x-request-id"]


def test_connection_refused_is_unreachable_after_retries(sleeps: SleepRecorder) -> None:
    from tests.platform_server import serve_platform

    with serve_platform() as fake:
        url = fake.url
    with (
        PlatformClient(url, max_retries=2, sleep=sleeps) as client,
        pytest.raises(PlatformUnreachableError) as info,
    ):
        client.health_ready()
    assert "connection refused" in str(info.value)
    assert "after 3 attempts" in str(info.value)
    assert info.value.exit_code is ExitCode.PLATFORM
    assert sleeps.waits == [0.5, 1.0]


def test_timeout_is_unreachable(platform_server: FakePlatform, sleeps: SleepRecorder) -> None:
    platform_server.delay("/api/v1/budgets", 2.0, times=None)
    with (
        PlatformClient(platform_server.url, timeout=0.15, max_retries=1, sleep=sleeps) as client,
        pytest.raises(PlatformUnreachableError, match="timed out"),
    ):
        client.list_budgets()
    assert sleeps.waits == [0.5]


def test_timeout_then_success(platform_server: FakePlatform, sleeps: SleepRecorder) -> None:
    platform_server.delay("/api/v1/budgets", 1.0, times=1)
    with PlatformClient(platform_server.url, timeout=0.15, sleep=sleeps) as client:
        assert client.list_budgets() == []
    assert sleeps.waits == [0.5]


def test_a_body_that_never_ends_is_refused_at_the_cap(
    platform_server: FakePlatform, client: PlatformClient, sleeps: SleepRecorder
) -> None:
    platform_server.endless("/api/v1/budgets", times=None)
    with pytest.raises(PlatformResponseError) as info:
        client.list_budgets()
    assert "platform response to GET /api/v1/budgets is larger than 64 MiB" in str(info.value)
    assert info.value.exit_code is ExitCode.PLATFORM
    assert sleeps.waits == []  # a server that answers this way is not asked again
    platform_server.reset_faults()
    assert client.list_budgets() == []  # the client is still usable


def test_a_trickling_body_times_out_as_a_whole(
    platform_server: FakePlatform, sleeps: SleepRecorder
) -> None:
    # Every read arrives within the 0.3 s timeout, but the whole answer never does.
    platform_server.trickle("/api/v1/budgets", 0.05, times=None)
    with (
        PlatformClient(platform_server.url, timeout=0.3, max_retries=1, sleep=sleeps) as client,
        pytest.raises(PlatformUnreachableError, match="timed out"),
    ):
        client.list_budgets()
    assert sleeps.waits == [0.5]  # retried once, like any timeout


def test_a_compressed_body_is_capped_after_decoding(
    platform_server: FakePlatform, client: PlatformClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    import artenic_opt.platform.client as module

    monkeypatch.setattr(module, "MAX_RESPONSE_BYTES", 2**20)
    platform_server.gzipped("/api/v1/budgets", b"[]" + b" " * 2**20)  # about 1 kB on the wire
    with pytest.raises(PlatformResponseError, match="larger than 1 MiB"):
        client.list_budgets()
    platform_server.gzipped("/api/v1/budgets", b"[]" + b" " * 1000)
    assert client.list_budgets() == []  # decoded once, parsed as JSON


def test_server_dying_mid_run(platform_server: FakePlatform, sleeps: SleepRecorder) -> None:
    platform_server.seed()
    with PlatformClient(platform_server.url, max_retries=1, sleep=sleeps) as client:
        platform_server.die_after(1)
        assert len(client.list_budgets()) == 3
        with pytest.raises(PlatformUnreachableError):
            client.list_jobs()
    assert platform_server.dead


# ------------------------------------------------------------------------------------------
# Error mapping
# ------------------------------------------------------------------------------------------


def test_401_maps_to_auth_error() -> None:
    from tests.platform_server import serve_platform

    with serve_platform(api_key="right-key") as fake:
        with PlatformClient(fake.url, "wrong-key") as client:
            with pytest.raises(PlatformAuthError) as info:
                client.list_jobs()
            assert "check ARTENIC_API_KEY" in str(info.value)
            assert info.value.exit_code is ExitCode.PLATFORM
            # Health stays open without a key.
            assert client.health_ready().status == "ready"
        with (
            PlatformClient(fake.url) as anonymous,
            pytest.raises(PlatformAuthError, match="requires an API key"),
        ):
            anonymous.list_jobs()
        # Auth failures are never retried.
        assert fake.count("/api/v1/training/jobs") == 2


def test_unknown_job_500_means_not_found_or_rejected(client: PlatformClient) -> None:
    with pytest.raises(PlatformResponseError) as info:
        client.get_job("00000000-0000-0000-0000-000000000000")
    message = str(info.value)
    assert "not found or rejected" in message
    assert "GET /api/v1/training/00000000-0000-0000-0000-000000000000" in message
    assert info.value.status_code == 500
    assert info.value.request_id is not None
    assert info.value.request_id in message


def test_404_uses_the_route_message(client: PlatformClient) -> None:
    with pytest.raises(PlatformResponseError, match=r"404 for GET .*: Dataset not found"):
        client.dataset_files("nosuch")


def test_422_names_the_failing_parameter(client: PlatformClient) -> None:
    with pytest.raises(PlatformResponseError, match=r"422.*query\.limit"):
        client._request("GET", "/api/v1/training/jobs", params={"limit": "0"})
    with pytest.raises(PlatformResponseError, match=r"422.*query\.scope_value: Field required"):
        client._request("GET", "/api/v1/budgets/spending", params={"scope": "global"})


def test_database_down(platform_server: FakePlatform, sleeps: SleepRecorder) -> None:
    platform_server.db_up = False
    with (
        PlatformClient(platform_server.url, max_retries=0, sleep=sleeps) as client,
        pytest.raises(PlatformResponseError, match="database is down") as info,
    ):
        client.health_ready()
    assert info.value.status_code == 503


def test_error_body_that_is_not_the_contract_shape(
    platform_server: FakePlatform, client: PlatformClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.platform_server import _Response

    monkeypatch.setattr(
        platform_server, "_respond", lambda *a: _Response(418, b'{"detail": "I am a teapot"}')
    )
    with pytest.raises(PlatformResponseError, match="418 for GET /health/ready: I am a teapot"):
        client.health_ready()


def test_all_platform_errors_exit_3() -> None:
    for cls in (PlatformUnreachableError, PlatformAuthError, PlatformResponseError):
        assert issubclass(cls, PlatformError)
        assert cls("x").exit_code is ExitCode.PLATFORM


# ------------------------------------------------------------------------------------------
# Dispatch and the job lifecycle
# ------------------------------------------------------------------------------------------


def test_dispatch_then_poll_completes_the_job(
    platform_server: FakePlatform, client: PlatformClient
) -> None:
    config = dispatch_config("rec-1", "q-1", 2, extra={"epochs": 3})
    job_id = client.dispatch(
        service="sentiment",
        model="bert",
        provider="mock",
        config=config,
        instance_type="mock-gpu-a100",
        region="eu-west",
        is_spot=True,
        max_runtime_hours=4.0,
        workload_spec={"model_params_m": 340},
    )
    sent = platform_server.requests[-1].body
    assert sent["config"] == {
        "epochs": 3,
        "artenic_opt_recommendation_id": "rec-1",
        "artenic_opt_query_id": "q-1",
        "artenic_opt_rank": 2,
    }
    assert sent["is_spot"] is True
    assert sent["max_runtime_hours"] == 4.0
    assert platform_server.workload_specs[job_id] == {"model_params_m": 340}

    job = client.get_job(job_id)
    assert job.status is JobStatus.RUNNING
    assert job.cost_estimate_eur == pytest.approx(3.0)  # spot 0.75 x 4 h
    assert job.config["artenic_opt_rank"] == 2

    platform_server.finish_job(job_id, duration_seconds=1800.0, cost_actual_eur=0.4)
    # The list does not refresh status (contract §4.2): only the single-job GET does.
    assert client.list_jobs()[0].status is JobStatus.RUNNING
    done = client.get_job(job_id)
    assert done.status is JobStatus.COMPLETED
    assert done.duration_seconds == 1800.0
    assert done.cost_actual_eur == 0.4
    assert done.completed_at is not None
    assert client.list_jobs()[0].status is JobStatus.COMPLETED


def test_dispatch_rejections(platform_server: FakePlatform, client: PlatformClient) -> None:
    with pytest.raises(PlatformResponseError, match="dispatch: not found or rejected"):
        client.dispatch(service="s", model="m", provider="aws")
    platform_server.add_budget("service", "tight", "daily", 1.0)
    with pytest.raises(PlatformResponseError, match="not found or rejected"):
        client.dispatch(
            service="tight",
            model="m",
            provider="mock",
            instance_type="mock-gpu-a100",
            max_runtime_hours=10,
        )
    assert platform_server.jobs == {}
    with pytest.raises(InvalidInputError, match="max_runtime_hours"):
        client.dispatch(service="s", model="m", provider="mock", max_runtime_hours=0)


def test_dispatch_is_not_retried_after_a_timeout_or_5xx(
    platform_server: FakePlatform, sleeps: SleepRecorder
) -> None:
    platform_server.fail("/api/v1/training/dispatch", 503, method="POST")
    with PlatformClient(platform_server.url, sleep=sleeps) as client:
        with pytest.raises(PlatformResponseError, match="503"):
            client.dispatch(service="s", model="m", provider="mock")
        assert platform_server.count("/api/v1/training/dispatch", "POST") == 1
    platform_server.delay("/api/v1/training/dispatch", 1.0, method="POST", times=1)
    with (
        PlatformClient(platform_server.url, timeout=0.15, sleep=sleeps) as client,
        pytest.raises(PlatformUnreachableError, match="may have processed it"),
    ):
        client.dispatch(service="s", model="m", provider="mock")
    assert platform_server.count("/api/v1/training/dispatch", "POST") == 2
    assert sleeps.waits == []


def test_dispatch_is_retried_on_429(
    platform_server: FakePlatform, client: PlatformClient, sleeps: SleepRecorder
) -> None:
    platform_server.rate_limit("/api/v1/training/dispatch", method="POST", retry_after=2)
    job_id = client.dispatch(service="s", model="m", provider="mock")
    assert job_id in platform_server.jobs
    assert len(platform_server.jobs) == 1
    assert sleeps.waits == [2.0]


def test_dispatch_without_job_id_is_an_error(
    platform_server: FakePlatform, client: PlatformClient
) -> None:
    platform_server.malformed("/api/v1/training/dispatch", method="POST", body=b'{"id": 1}')
    with pytest.raises(PlatformResponseError, match="no job_id"):
        client.dispatch(service="s", model="m", provider="mock")


def test_cancel(platform_server: FakePlatform, client: PlatformClient) -> None:
    job = platform_server.add_job()
    cancelled = client.cancel_job(job["id"])
    assert cancelled.status is JobStatus.CANCELLED
    with pytest.raises(PlatformResponseError, match="not found or rejected"):
        client.cancel_job(job["id"])


# ------------------------------------------------------------------------------------------
# Construction and secrecy
# ------------------------------------------------------------------------------------------


def test_constructor_validation() -> None:
    with pytest.raises(ConfigError, match="http"):
        PlatformClient("localhost:9000")
    with pytest.raises(ConfigError, match="timeout"):
        PlatformClient("http://x", timeout=0)
    with pytest.raises(ConfigError, match="retries"):
        PlatformClient("http://x", max_retries=-1)
    with pytest.raises(ConfigError) as info:
        PlatformClient("http://x", api_key="has space-" + SECRET)
    assert SECRET not in str(info.value)


def test_trailing_slash_in_url_is_dropped() -> None:
    with PlatformClient("http://127.0.0.1:1/", api_key=SECRET) as client:
        assert client.url == "http://127.0.0.1:1"
        assert client.has_api_key


def _leak_everything(fake: FakePlatform, sleeps: SleepRecorder) -> list[str]:
    """Drive the client through every failure path with the canary key; collect the texts."""
    texts: list[str] = []
    client = PlatformClient(fake.url, SECRET, timeout=0.15, max_retries=1, sleep=sleeps)
    texts.append(repr(client))
    texts.append(str(client.__dict__))
    fake.api_key = "another-key"
    for call in (client.list_jobs, client.health_ready):
        try:
            call()
        except PlatformError as exc:
            texts += [str(exc), repr(exc)]
    fake.api_key = SECRET
    fake.fail("/api/v1/budgets", 500)
    fake.rate_limit("/api/v1/datasets", times=5)
    fake.malformed("/api/v1/training/jobs")
    fake.truncate("/api/v1/providers/catalog/storage", times=None)
    fake.delay("/api/v1/providers/catalog/compute", 1.0, times=None)
    calls: list[Any] = [
        client.list_budgets,
        client.list_datasets,
        client.list_jobs,
        client.catalog_storage,
        lambda: client.get_job("missing"),
    ]
    for call in calls:
        try:
            call()
        except PlatformError as exc:
            texts += [str(exc), repr(exc), repr(exc.args)]
    client.catalog_timeout = 0.15
    try:
        client.catalog_compute()
    except PlatformError as exc:
        texts += [str(exc), repr(exc)]
    client.close()
    try:
        client.list_budgets()
    except Exception as exc:
        texts += [str(exc), repr(exc)]
    return texts


def test_api_key_never_leaks(
    platform_server: FakePlatform, sleeps: SleepRecorder, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    texts = _leak_everything(platform_server, sleeps)
    assert len(texts) > 10
    for text in texts:
        assert SECRET not in text
    assert caplog.records, "the client should log its calls"
    assert SECRET not in caplog.text
    for record in caplog.records:
        assert SECRET not in record.getMessage()
        assert SECRET not in repr(record.args)


def test_auth_object_repr_hides_the_key() -> None:
    with PlatformClient("http://127.0.0.1:1", SECRET) as client:
        assert SECRET not in repr(client._http.auth)
        assert SECRET not in repr(client._http.headers)


def test_custom_transport_is_used() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"status": "ready", "database": "connected"})

    with PlatformClient("http://platform.test", transport=httpx.MockTransport(handler)) as c:
        assert c.health_ready().status == "ready"


def test_credentials_in_the_url_are_not_shown(sleeps: SleepRecorder) -> None:
    with PlatformClient("http://user:pa55word@127.0.0.1:1", max_retries=0, sleep=sleeps) as c:
        assert c.url == "http://127.0.0.1:1"
        assert "pa55word" not in repr(c)
        with pytest.raises(PlatformUnreachableError) as info:
            c.health_ready()
    assert "pa55word" not in str(info.value)
