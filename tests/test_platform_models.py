"""Parsed platform records, outcome derivation (contract §4.7) and catalog mapping (§3.4)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, strategies as st
from pydantic import ValidationError

from artenic_opt.platform.gpu_counts import AWS_GPU_COUNTS
from artenic_opt.platform.models import (
    Budget,
    BudgetSpending,
    CatalogComputeFlavor,
    CatalogStorageTier,
    DatasetFile,
    DatasetStats,
    PlatformDataset,
    PlatformJob,
    parse_platform_timestamp,
)
from artenic_opt.platform.translation import (
    CONFIG_QUERY_ID,
    CONFIG_RANK,
    CONFIG_RECOMMENDATION_ID,
    catalog_row_to_offering,
    catalog_rows_to_offerings,
    catalog_tier_to_storage_price,
    derive_outcome,
    dispatch_config,
    make_gpu_lookup,
    offering_provider,
    primary_metric,
    storage_access_tier,
)
from artenic_opt.schemas import GpuSpec
from artenic_opt.types import JobStatus, OutcomeSource
from tests.platform_server import compute_row

SPECS = {
    "A100 40GB": GpuSpec(gpu_type="A100 40GB", memory_gb=40, source="test"),
    "L4": GpuSpec(gpu_type="L4", memory_gb=24, source="test"),
    "RTX 4090": GpuSpec(gpu_type="RTX 4090", memory_gb=24, source="test"),
    "P100": GpuSpec(gpu_type="P100", memory_gb=16, source="test"),
}
_LABELS = {"A100": "A100 40GB", "L4": "L4", "RTX 4090": "RTX 4090", "P100": "P100"}
LOOKUP = make_gpu_lookup(_LABELS.get, SPECS)
TODAY = date(2026, 2, 20)


def job_dict(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "3f1c2a9e-8b7d-4c1e-9a55-2b0e6f1d7c34",
        "service": "fraud-detection",
        "model": "xgboost-v2",
        "provider": "mock",
        "config": {"epochs": 10},
        "status": "completed",
        "metrics": {"accuracy": 0.95, "loss": 0.05},
        "error": None,
        "provider_job_id": "mock-1a2b3c4d",
        "instance_type": "mock-gpu-a100",
        "region": None,
        "is_spot": True,
        "cost_estimate_eur": 18.0,
        "cost_actual_eur": 1.5,
        "cost_per_hour_eur": 0.75,
        "duration_seconds": 7200.0,
        "artifacts_uri": None,
        "created_at": "2026-02-20T10:15:00",
        "started_at": "2026-02-20T10:15:00.412345",
        "completed_at": "2026-02-20T12:15:03.108112+00:00",
    }
    base.update(overrides)
    return base


def job(**overrides: Any) -> PlatformJob:
    return PlatformJob.model_validate(job_dict(**overrides))


# ------------------------------------------------------------------------------------------
# Timestamps and tolerant parsing
# ------------------------------------------------------------------------------------------


def test_timestamps_naive_is_utc_and_offsets_are_converted() -> None:
    assert parse_platform_timestamp("2026-02-20T10:15:00") == datetime(
        2026, 2, 20, 10, 15, tzinfo=UTC
    )
    assert parse_platform_timestamp("2026-02-20T10:15:00+02:00") == datetime(
        2026, 2, 20, 8, 15, tzinfo=UTC
    )
    assert parse_platform_timestamp("2026-02-20T10:00:00.512341Z") == datetime(
        2026, 2, 20, 10, 0, 0, 512341, tzinfo=UTC
    )
    assert parse_platform_timestamp("") is None
    assert parse_platform_timestamp(None) is None
    aware = datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=-5)))
    assert parse_platform_timestamp(aware) == datetime(2026, 1, 1, 5, tzinfo=UTC)
    for bad in ("yesterday", 12, "2026-13-01"):
        with pytest.raises(ValueError, match="ISO-8601"):
            parse_platform_timestamp(bad)


def test_a_timestamp_out_of_range_in_utc_is_a_value_error() -> None:
    # Year 1 east of UTC, year 9999 west of it: no UTC datetime exists (OverflowError before).
    for text in ("0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00"):
        with pytest.raises(ValueError, match="out of range in UTC"):
            parse_platform_timestamp(text)


@given(st.datetimes(timezones=st.timezones()))
def test_timestamp_round_trip_keeps_the_instant(moment: datetime) -> None:
    try:
        expected = moment.astimezone(UTC)
    except OverflowError:
        with pytest.raises(ValueError, match="out of range in UTC"):
            parse_platform_timestamp(moment.isoformat())
        return
    parsed = parse_platform_timestamp(moment.isoformat())
    assert parsed is not None
    assert parsed.tzinfo is UTC
    assert parsed == expected


@given(st.datetimes())
def test_naive_timestamp_keeps_wall_time_as_utc(moment: datetime) -> None:
    parsed = parse_platform_timestamp(moment.isoformat())
    assert parsed == moment.replace(tzinfo=UTC)


def test_job_parses_the_documented_shape() -> None:
    parsed = job()
    assert parsed.status is JobStatus.COMPLETED
    assert parsed.created_at == datetime(2026, 2, 20, 10, 15, tzinfo=UTC)
    assert parsed.completed_at is not None
    assert parsed.completed_at.tzinfo is UTC
    assert parsed.is_final


def test_job_tolerates_nulls_and_extra_fields() -> None:
    parsed = job(config=None, is_spot=None, service=None, metrics=None, preempted=True)
    assert parsed.config == {}
    assert parsed.is_spot is False
    assert parsed.service == ""
    assert not hasattr(parsed, "preempted")
    again = job(config=None)
    assert again.config is not parsed.config


def test_job_rejects_unknown_status_and_missing_id() -> None:
    with pytest.raises(ValidationError, match="status"):
        job(status="exploded")
    data = job_dict()
    del data["id"]
    with pytest.raises(ValidationError, match="id"):
        PlatformJob.model_validate(data)


def test_dataset_file_budget_parse() -> None:
    dataset = PlatformDataset.model_validate(
        {
            "id": "iris_v1",
            "name": "iris",
            "version": 1,
            "format": "csv",
            "description": None,
            "metadata": None,
            "status": "created",
            "total_size_bytes": 218,
            "created_at": "",
        }
    )
    assert dataset.created_at is None
    assert dataset.metadata == {}
    assert dataset.description == ""
    f = DatasetFile.model_validate(
        {
            "id": 2,
            "dataset_id": "iris_v1",
            "path": "iris.csv",
            "sha256": "ab",
            "size_bytes": 210,
            "num_records": None,
            "storage_path": "iris_v1/iris.csv",
        }
    )
    assert f.num_records is None
    stats = DatasetStats.model_validate(
        {"total_size_bytes": 1, "total_files": 1, "format_breakdown": None}
    )
    assert stats.format_breakdown == {}
    assert stats.num_records is None
    budget = Budget.model_validate(
        {
            "id": 1,
            "scope": "global",
            "scope_value": "*",
            "period": "monthly",
            "limit_eur": 500.0,
            "alert_threshold_pct": None,
            "enabled": None,
            "created_at": "2026-11-27T19:34:54",
        }
    )
    assert (budget.alert_threshold_pct, budget.enabled) == (80.0, True)
    spending = BudgetSpending.model_validate(
        {
            "scope": "service",
            "scope_value": "fraud-detection",
            "period": "monthly",
            "spent_eur": 412.5,
            "limit_eur": 500.0,
            "pct_used": 82.5,
            "alerts": [
                {
                    "id": 3,
                    "alert_type": "threshold_exceeded",
                    "spent_eur": 400.0,
                    "limit_eur": 500.0,
                    "pct_used": 85.0,
                    "message": "service/fraud-detection monthly budget at 85.0%",
                    "webhook_sent": False,
                    "created_at": "2026-02-19T16:02:11+00:00",
                }
            ],
        }
    )
    assert spending.alerts[0].pct_used == 85.0
    assert (
        BudgetSpending.model_validate(
            {"scope": "global", "period": "daily", "limit_eur": 1.0, "alerts": None}
        ).alerts
        == ()
    )


def test_catalog_rows_tolerate_nulls() -> None:
    flavor = CatalogComputeFlavor.model_validate(
        {"provider_id": "azure", "name": "x", "vcpus": None, "memory_gb": None, "currency": None}
    )
    assert (flavor.vcpus, flavor.memory_gb, flavor.currency, flavor.region) == (0, 0.0, "EUR", "")
    tier = CatalogStorageTier.model_validate(
        {"provider_id": "gcp", "name": "Standard", "type": None, "price_per_gb_month": 0.02}
    )
    assert tier.type == "object_storage"


# ------------------------------------------------------------------------------------------
# derive_outcome
# ------------------------------------------------------------------------------------------


def test_derive_completed_job() -> None:
    config = dispatch_config("rec-9", "query-9", 3, extra={"epochs": 2})
    outcome = derive_outcome(job(config=config))
    assert outcome is not None
    assert outcome.success
    assert outcome.hours == pytest.approx(2.0)
    assert outcome.hours_source == "duration_seconds"
    assert outcome.cost_eur == 1.5
    assert outcome.currency == "EUR"
    assert outcome.predicted_cost_eur == 18.0
    assert (outcome.primary_metric_name, outcome.primary_metric_value) == ("accuracy", 0.95)
    assert outcome.metric_higher_is_better
    assert (outcome.recommendation_id, outcome.query_id, outcome.rank) == ("rec-9", "query-9", 3)
    assert outcome.is_spot
    assert outcome.is_linked


@pytest.mark.parametrize("status", ["pending", "running", "cancelled"])
def test_no_outcome_for_unfinished_or_cancelled_jobs(status: str) -> None:
    assert derive_outcome(job(status=status)) is None


def test_failed_job_is_a_failure_outcome() -> None:
    outcome = derive_outcome(job(status="failed", cost_actual_eur=None, metrics=None))
    assert outcome is not None
    assert not outcome.success
    assert outcome.status is JobStatus.FAILED
    assert outcome.cost_eur is None
    assert outcome.primary_metric_name is None


def test_preempted_job_is_an_outcome() -> None:
    outcome = derive_outcome(job(status="preempted"))
    assert outcome is not None
    assert outcome.status is JobStatus.PREEMPTED
    assert not outcome.success


def test_hours_fall_back_to_timestamps_then_unknown() -> None:
    outcome = derive_outcome(
        job(
            duration_seconds=None,
            started_at="2026-02-20T10:00:00",
            completed_at="2026-02-20T11:30:00+00:00",
        )
    )
    assert outcome is not None
    assert outcome.hours == pytest.approx(1.5)
    assert outcome.hours_source == "timestamps"
    unknown = derive_outcome(job(duration_seconds=None, started_at=None))
    assert unknown is not None
    assert (unknown.hours, unknown.hours_source) == (0.0, "unknown")
    backwards = derive_outcome(
        job(
            duration_seconds=None,
            started_at="2026-02-20T12:00:00",
            completed_at="2026-02-20T11:00:00",
        )
    )
    assert backwards is not None
    assert backwards.hours_source == "unknown"
    negative = derive_outcome(job(duration_seconds=-5.0, cost_actual_eur=-1.0))
    assert negative is not None
    assert negative.hours_source == "timestamps"
    assert negative.cost_eur is None


def test_mock_provider_zero_duration_and_cost() -> None:
    outcome = derive_outcome(job(duration_seconds=0.0, cost_actual_eur=0.0))
    assert outcome is not None
    assert (outcome.hours, outcome.cost_eur, outcome.hours_source) == (
        0.0,
        0.0,
        "duration_seconds",
    )


@pytest.mark.parametrize(
    ("metrics", "expected", "higher"),
    [
        ({"loss": 0.3, "f1": 0.8}, ("f1", 0.8), True),
        ({"mae": 2.0, "rmse": 3.0}, ("rmse", 3.0), False),
        ({"accuracy": True, "loss": 0.2}, ("loss", 0.2), False),
        ({"accuracy": "0.9", "mae": 1}, ("mae", 1.0), False),
        ({"accuracy": float("nan"), "f1": 0.5}, ("f1", 0.5), True),
        ({"bleu": 30.0}, None, True),
        ({}, None, True),
    ],
)
def test_primary_metric_order(
    metrics: dict[str, Any], expected: tuple[str, float] | None, higher: bool
) -> None:
    assert primary_metric(metrics) == expected
    outcome = derive_outcome(job(metrics=metrics))
    assert outcome is not None
    assert outcome.metric_higher_is_better is higher


@pytest.mark.parametrize(
    ("rank", "expected"),
    [(2, 2), ("4", 4), (3.0, 3), (0, None), (-1, None), (True, None), ("x", None), (1.5, None)],
)
def test_rank_from_config(rank: Any, expected: int | None) -> None:
    outcome = derive_outcome(job(config={CONFIG_RECOMMENDATION_ID: "r", CONFIG_RANK: rank}))
    assert outcome is not None
    assert outcome.rank == expected


def test_unlinked_job_gives_no_job_outcome() -> None:
    outcome = derive_outcome(job(config={CONFIG_RECOMMENDATION_ID: "  ", CONFIG_QUERY_ID: 7}))
    assert outcome is not None
    assert outcome.recommendation_id is None
    assert outcome.query_id is None
    assert not outcome.is_linked
    assert outcome.to_job_outcome() is None


def test_to_job_outcome() -> None:
    outcome = derive_outcome(
        job(status="failed", cost_actual_eur=None, config=dispatch_config("rec-1", "q", 1))
    )
    assert outcome is not None
    recorded = outcome.to_job_outcome()
    assert recorded is not None
    assert recorded.recommendation_id == "rec-1"
    assert recorded.rank == 1
    assert recorded.status is JobStatus.FAILED
    assert recorded.cost == 0.0
    assert recorded.currency == "EUR"
    assert recorded.source is OutcomeSource.PLATFORM
    assert recorded.job_id == outcome.job_id
    assert recorded.recorded_at == outcome.completed_at
    no_end = derive_outcome(job(completed_at=None, config=dispatch_config("r", "q", 1)))
    assert no_end is not None
    later = no_end.to_job_outcome()
    assert later is not None
    assert later.recorded_at.tzinfo is not None


# ------------------------------------------------------------------------------------------
# Catalog mapping
# ------------------------------------------------------------------------------------------


def flavor(**fields: Any) -> CatalogComputeFlavor:
    provider = fields.pop("provider_id", "infomaniak")
    name = fields.pop("name", "a4-ram8-disk100-perf1")
    price = fields.pop("price", 0.0345)
    return CatalogComputeFlavor.model_validate(compute_row(provider, name, price, **fields))


def test_cpu_row_maps_to_an_offering() -> None:
    offering = catalog_row_to_offering(flavor(vcpus=4, memory_gb=8.0), LOOKUP, price_date=TODAY)
    assert offering is not None
    assert offering.provider == "Infomaniak"
    assert offering.region == "global"
    assert offering.instance_type == "a4-ram8-disk100-perf1"
    assert (offering.vcpus, offering.memory_gb) == (4, 8.0)
    assert (offering.gpu_type, offering.gpu_count, offering.gpu_memory_gb) == (None, 0, None)
    assert offering.price_per_hour == 0.0345
    assert offering.spot_price_per_hour is None
    assert offering.currency == "EUR"
    assert offering.source == "platform:infomaniak"
    assert offering.price_date == TODAY


def test_unknown_sizes_become_none_and_date_defaults_to_today() -> None:
    offering = catalog_row_to_offering(
        flavor(provider_id="azure", name="Standard_D4s_v5", vcpus=0, memory_gb=0.0, currency="usd"),
        LOOKUP,
    )
    assert offering is not None
    assert (offering.vcpus, offering.memory_gb, offering.currency) == (None, None, "USD")
    assert offering.provider == "Azure"
    assert offering.price_date == datetime.now(UTC).date()


@pytest.mark.parametrize("price", [None, 0.0, -1.0, float("inf"), float("nan")])
def test_rows_without_a_usable_price_are_skipped(price: float | None) -> None:
    assert catalog_row_to_offering(flavor(price=price), LOOKUP) is None


def test_bad_currency_and_unknown_gpu_are_skipped() -> None:
    assert catalog_row_to_offering(flavor(currency="EURO"), LOOKUP) is None
    assert (
        catalog_row_to_offering(
            flavor(provider_id="ovh", name="t1-45", gpu_type="V100S", gpu_count=1), LOOKUP
        )
        is None
    )
    assert (
        catalog_row_to_offering(flavor(name="mystery", gpu_type=None, gpu_count=2), LOOKUP) is None
    )
    # A row that breaks the Offering contract (a 2000-GPU machine) is skipped, not raised.
    assert (
        catalog_row_to_offering(flavor(name="huge", gpu_type="L4", gpu_count=2000), LOOKUP) is None
    )


def test_gpu_row_gets_canonical_type_and_memory() -> None:
    offering = catalog_row_to_offering(
        flavor(provider_id="ovh", name="l4-90", gpu_type="L4", gpu_count=1), LOOKUP
    )
    assert offering is not None
    assert (offering.provider, offering.gpu_type, offering.gpu_count) == ("OVHcloud", "L4", 1)
    assert offering.gpu_memory_gb == 24
    labelled = catalog_row_to_offering(
        flavor(provider_id="scaleway", name="RENDER-S", gpu_type="P100", gpu_count=0), LOOKUP
    )
    assert labelled is not None
    assert labelled.gpu_count == 1
    assert labelled.region == "fr-par-1"


def test_aws_gpu_count_quirk_is_fixed_where_documented() -> None:
    p4d = catalog_row_to_offering(
        flavor(
            provider_id="aws",
            name="p4d.24xlarge",
            price=32.77,
            gpu_type="A100",
            gpu_count=1,
            currency="USD",
            region="EU (Ireland)",
        ),
        LOOKUP,
    )
    assert p4d is not None
    assert (p4d.provider, p4d.region, p4d.gpu_type, p4d.gpu_count) == (
        "AWS",
        "eu-west-1",
        "A100 40GB",
        8,
    )
    assert AWS_GPU_COUNTS["g5.12xlarge"] == 4
    single = catalog_row_to_offering(
        flavor(provider_id="aws", name="g6.xlarge", gpu_type="L4", gpu_count=1), LOOKUP
    )
    assert single is not None
    assert single.gpu_count == 1
    unknown = catalog_row_to_offering(
        flavor(provider_id="aws", name="g9.hypothetical", gpu_type="L4", gpu_count=1), LOOKUP
    )
    assert unknown is not None
    assert unknown.gpu_count == 1
    # Only the reported count of 1 is the quirk; another count is left as reported.
    two = catalog_row_to_offering(
        flavor(provider_id="aws", name="p4d.24xlarge", gpu_type="A100", gpu_count=2), LOOKUP
    )
    assert two is not None
    assert two.gpu_count == 2


@pytest.mark.parametrize(
    ("name", "reported", "expected"),
    [
        ("g2-standard-8", 8, 1),
        ("g2-standard-24", 24, 2),
        ("g2-standard-96", 96, 8),
        ("a2-highgpu-4g", 4, 4),
        ("a2-megagpu-16g", 16, 16),
        ("a3-highgpu-8g", 1, 8),
        ("n1-custom", 2, 2),
    ],
)
def test_gcp_gpu_count_quirk(name: str, reported: int, expected: int) -> None:
    label = "L4" if name.startswith("g2") else "A100"
    offering = catalog_row_to_offering(
        flavor(provider_id="gcp", name=name, gpu_type=label, gpu_count=reported, currency="USD"),
        LOOKUP,
    )
    assert offering is not None
    assert offering.gpu_count == expected
    assert offering.region == "us"


def test_dedupe_keeps_the_cheapest_and_counts_skips() -> None:
    rows = [
        flavor(
            provider_id="vastai",
            name="RTX 4090 x2",
            price=0.74,
            gpu_type="RTX 4090",
            gpu_count=2,
            region="Spain, ES",
        ),
        flavor(
            provider_id="vastai",
            name="RTX 4090 x2",
            price=0.69,
            gpu_type="RTX 4090",
            gpu_count=2,
            region="Spain, ES",
        ),
        flavor(
            provider_id="vastai",
            name="RTX 4090 x2",
            price=0.71,
            gpu_type="RTX 4090",
            gpu_count=2,
            region="Spain, ES",
        ),
        flavor(
            provider_id="vastai",
            name="RTX 4090 x2",
            price=0.9,
            gpu_type="RTX 4090",
            gpu_count=2,
            region="Norway, NO",
        ),
        flavor(price=None),
    ]
    offerings, skipped = catalog_rows_to_offerings(rows, LOOKUP, price_date=TODAY)
    assert skipped == 1
    assert [(o.region, o.price_per_hour) for o in offerings] == [
        ("Spain, ES", 0.69),
        ("Norway, NO", 0.9),
    ]
    assert all(o.provider == "Vast.ai" for o in offerings)


_row_strategy = st.builds(
    lambda provider, name, region, price: compute_row(provider, name, price, region=region),
    st.sampled_from(["ovh", "vastai", "aws"]),
    st.sampled_from(["a", "b", "c"]),
    st.sampled_from(["", "x", "y"]),
    st.one_of(st.none(), st.floats(min_value=-1, max_value=100, allow_nan=False)),
)


@given(st.lists(_row_strategy, max_size=30))
def test_dedupe_properties(raw_rows: list[dict[str, Any]]) -> None:
    rows = [CatalogComputeFlavor.model_validate(r) for r in raw_rows]
    offerings, skipped = catalog_rows_to_offerings(rows, LOOKUP, price_date=TODAY)
    keys = [o.offering_id for o in offerings]
    assert len(keys) == len(set(keys))
    usable = [r for r in rows if r.price_per_hour is not None and r.price_per_hour > 0]
    assert skipped == len(rows) - len(usable)
    for offering in offerings:
        same = [
            r.price_per_hour
            for r in usable
            if offering_provider(r.provider_id) == offering.provider
            and r.name == offering.instance_type
            and (r.region or "global") == offering.region
        ]
        assert offering.price_per_hour == min(p for p in same if p is not None)


def test_lookup_with_the_real_gpu_table() -> None:
    from artenic_opt.catalog import load_catalog, normalize_gpu_type_or_none

    lookup = make_gpu_lookup(normalize_gpu_type_or_none, load_catalog().gpu_specs)
    a100 = lookup("A100")
    assert a100 is not None
    assert a100.memory_gb == 40
    assert lookup("GPU") is None
    rows = [CatalogComputeFlavor.model_validate(r) for r in _default_rows()]
    offerings, _ = catalog_rows_to_offerings(rows, lookup, price_date=TODAY)
    by_name = {o.instance_type: o for o in offerings}
    assert by_name["GPU-3070-S"].gpu_type == "RTX 3070"
    assert by_name["p4d.24xlarge"].gpu_count == 8


def _default_rows() -> list[dict[str, Any]]:
    from tests.platform_server import default_compute_rows

    return [
        *default_compute_rows(),
        compute_row(
            "scaleway",
            "GPU-3070-S",
            0.65,
            vcpus=8,
            memory_gb=16.0,
            gpu_type="RTX 3070",
            gpu_count=1,
        ),
    ]


# ------------------------------------------------------------------------------------------
# Storage tiers
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "tier"),
    [
        ("Object Storage \u2014 Standard", "hot"),
        ("Object Storage \u2014 Glacier", "cold"),
        ("S3 Standard-IA", "warm"),
        ("Nearline", "warm"),
        ("Blob Cool", "warm"),
        ("Coldline", "cold"),
        ("Cloud Archive", "cold"),
        ("High Performance", "hot"),
    ],
)
def test_storage_access_tier(name: str, tier: str) -> None:
    assert storage_access_tier(name) == tier


def test_storage_tier_mapping() -> None:
    tier = CatalogStorageTier.model_validate(
        {
            "provider_id": "gcp",
            "name": "Nearline",
            "price_per_gb_month": 0.01,
            "currency": "usd",
            "region": " us ",
        }
    )
    price = catalog_tier_to_storage_price(tier, price_date=TODAY)
    assert price is not None
    assert (price.provider, price.tier, price.currency, price.region) == (
        "GCP",
        "warm",
        "USD",
        "us",
    )
    assert (price.retrieval_per_gb, price.min_storage_days) == (0.0, 0)
    assert price.source == "platform:gcp"
    assert price.price_date == TODAY
    undated = catalog_tier_to_storage_price(tier)
    assert undated is not None
    assert undated.price_date == datetime.now(UTC).date()
    for bad in (
        {"price_per_gb_month": None},
        {"price_per_gb_month": 0},
        {"currency": "euros"},
        {"name": "  "},
    ):
        broken = tier.model_copy(update=bad)
        assert catalog_tier_to_storage_price(broken) is None


def test_models_and_sync_do_not_import_httpx() -> None:
    import subprocess
    import sys

    code = (
        "import sys, artenic_opt.platform.models, artenic_opt.platform.translation, "
        "artenic_opt.platform.sync\n"
        "print('httpx' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize(
    ("model", "field", "row"),
    [
        (
            DatasetFile,
            "size_bytes",
            {"id": 1, "dataset_id": "d", "path": "a", "size_bytes": 10**30},
        ),
        (DatasetFile, "id", {"id": 2**63, "dataset_id": "d", "path": "a"}),
        (PlatformDataset, "total_size_bytes", {"id": "d", "name": "d", "total_size_bytes": 10**19}),
        (DatasetStats, "num_records", {"num_records": -(2**64)}),
    ],
)
def test_integers_beyond_what_sqlite_stores_name_the_field(
    model: type[Any], field: str, row: dict[str, Any]
) -> None:
    # Stored, they failed the write with "Python int too large to convert to SQLite INTEGER".
    with pytest.raises(ValidationError) as info:
        model.model_validate(row)
    assert info.value.errors()[0]["loc"] == (field,)
