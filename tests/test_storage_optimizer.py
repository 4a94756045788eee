"""StorageOptimizer: hand-computed savings and payback, ordering, currencies, local end to end."""

from __future__ import annotations

import hashlib
import json
import os
import random
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from artenic_opt.errors import CurrencyError, NotFoundError
from artenic_opt.schemas import (
    BYTES_PER_GB,
    BYTES_PER_MB,
    AccessEvent,
    AccessEvidence,
    AccessOperation,
    ConversionAssumptions,
    DatasetFileInfo,
    DatasetInfo,
    DatasetOrigin,
    FigureEvidence,
    FormatThresholds,
    StorageAdvice,
    StoragePrice,
)
from artenic_opt.storage_optimizer import StorageOptimizer, scan_path
from artenic_opt.types import DataFormat, RecommendationType, StorageTier

NOW = datetime(2026, 6, 1, tzinfo=UTC)
GB100 = 100 * BYTES_PER_GB
HOT, WARM, COLD = StorageTier.HOT, StorageTier.WARM, StorageTier.COLD


def _price(tier: str, price: float, retrieval: float, min_days: int, name: str) -> StoragePrice:
    return StoragePrice(
        provider="acme",
        tier_name=name,
        tier=tier,
        price_per_gb_month=price,
        retrieval_per_gb=retrieval,
        min_storage_days=min_days,
        currency="USD",
        source="test",
        price_date=date(2026, 1, 1),
    )


PRICES = [
    _price("hot", 0.023, 0.0, 0, "Standard"),
    _price("warm", 0.0125, 0.01, 30, "Infrequent"),
    _price("cold", 0.004, 0.03, 90, "Glacier IR"),
]


def _optimizer(**kwargs: object) -> StorageOptimizer:
    return StorageOptimizer(PRICES, provider="acme", now=NOW, **kwargs)  # type: ignore[arg-type]


def _dataset(
    dataset_id: str,
    file_name: str,
    size: int = GB100,
    *,
    name: str | None = None,
    version: int = 1,
    tier: StorageTier | None = None,
    created_days_ago: float | None = 365,
) -> DatasetInfo:
    return DatasetInfo(
        id=dataset_id,
        name=name or dataset_id,
        version=version,
        format=file_name.rsplit(".", 1)[-1],
        total_size_bytes=size,
        created_at=None if created_days_ago is None else NOW - timedelta(days=created_days_ago),
        tier=tier,
        files=(DatasetFileInfo(path=file_name, size_bytes=size),),
    )


def _reads(dataset_id: str, *days_ago: float) -> list[AccessEvent]:
    return [
        AccessEvent(
            dataset_id=dataset_id,
            timestamp=NOW - timedelta(days=days),
            operation=AccessOperation.READ,
        )
        for days in days_ago
    ]


def test_conversion_savings_and_payback_known_answer() -> None:
    # 100 GiB of CSV, read yesterday (hot, stays hot). Estimated 4x -> 25 GiB of Parquet.
    # now 100 * 0.023 = 2.3; after 25 * 0.023 = 0.575; savings 1.725.
    # conversion: 102400 MB / 50 MB/s = 2048 s = 0.568889 h * 0.10 = 0.0568889; payback / 1.725.
    advice = _optimizer().analyze(_dataset("sales", "train.csv"), _reads("sales", 1))
    assert advice.monthly_cost_now == pytest.approx(2.3)
    assert advice.monthly_cost_after == pytest.approx(0.575)
    assert advice.monthly_savings == pytest.approx(1.725)
    assert advice.one_time_conversion_cost == pytest.approx(0.056889, abs=1e-6)
    assert advice.one_time_retrieval_cost == 0
    assert advice.one_time_early_deletion_cost == 0
    assert advice.payback_months == pytest.approx(0.0568889 / 1.725, rel=1e-4)
    assert (advice.current_format, advice.recommended_format) == (
        DataFormat.CSV,
        DataFormat.PARQUET,
    )
    assert (advice.current_tier, advice.recommended_tier, advice.access_tier) == (HOT, HOT, HOT)
    assert advice.size_after_bytes == 25 * BYTES_PER_GB
    assert advice.actions == (RecommendationType.STORAGE_FORMAT,)
    assert advice.currency == "USD"
    assert advice.evidence.format_figures is FigureEvidence.ESTIMATED
    assert advice.evidence.access is AccessEvidence.STRONG
    assert advice.evidence.tier_assumed
    assert "compression figures are estimated, not measured" in advice.warnings
    assert advice.assumptions[0] == "current tier assumed hot: the platform reports no storage tier"


def test_cold_move_known_answer() -> None:
    # 100 GiB of Parquet read once, 120 days ago: cold. The read is inside the 180-day window,
    # so 1/6 read a month: cold = 0.4 + 1/6 * 100 * 0.03 = 0.9 (warm 1.25 + 0.1667, hot 2.3).
    # Savings 2.3 - 0.9 = 1.4; nothing one-time.
    advice = _optimizer().analyze(_dataset("logs", "logs.parquet"), _reads("logs", 120))
    assert (advice.recommended_tier, advice.access_tier) == (COLD, COLD)
    assert advice.monthly_cost_after == pytest.approx(0.9)
    assert advice.retrieval_cost_per_month == pytest.approx(0.5)
    assert advice.monthly_savings == pytest.approx(1.4)
    assert (advice.one_time_cost, advice.payback_months) == (0, 0)
    assert advice.actions == (RecommendationType.STORAGE_TIER,)
    # A read older than the window leaves no retrieval: 2.3 - 0.4 = 1.9.
    older = _optimizer().analyze(_dataset("logs", "logs.parquet"), _reads("logs", 200))
    assert older.monthly_savings == pytest.approx(1.9)


def test_conversion_and_cold_move_together() -> None:
    # 25 GiB in cold, 1/6 read a month: 0.1 + 1/6 * 25 * 0.03 = 0.225. Savings 2.075.
    advice = _optimizer().analyze(_dataset("old", "old.csv"), _reads("old", 100))
    assert advice.monthly_cost_after == pytest.approx(0.225)
    assert advice.monthly_savings == pytest.approx(2.075)
    assert advice.payback_months == pytest.approx(0.0568889 / 2.075, rel=1e-4)
    assert advice.actions == (RecommendationType.STORAGE_FORMAT, RecommendationType.STORAGE_TIER)


def test_moving_up_pays_retrieval_and_early_deletion_once() -> None:
    # In warm since 10 days, read 1 and 2 days ago: 2 reads over the 30-day floor = 2 a month.
    # now: warm 1.25 + 2 * 100 * 0.01 = 3.25; after: hot 2.3; savings 0.95.
    # one-time: retrieve all 100 * 0.01 = 1.0; early deletion (30 - 10) / 30 * 100 * 0.0125.
    dataset = _dataset("fresh", "fresh.parquet", tier=WARM, created_days_ago=10)
    advice = _optimizer().analyze(dataset, _reads("fresh", 1, 2))
    assert (advice.current_tier, advice.recommended_tier) == (WARM, HOT)
    assert advice.monthly_cost_now == pytest.approx(3.25)
    assert advice.monthly_savings == pytest.approx(0.95)
    assert advice.one_time_retrieval_cost == pytest.approx(1.0)
    assert advice.one_time_early_deletion_cost == pytest.approx(20 / 30 * 1.25, abs=1e-6)
    assert advice.payback_months == pytest.approx((1.0 + 20 / 30 * 1.25) / 0.95, rel=1e-5)
    assert not advice.evidence.tier_assumed
    assert not any("assumed hot" in note for note in advice.assumptions)


def test_converting_out_of_cold_pays_retrieval() -> None:
    # Parquet conversion reads the CSV out of cold once: 100 GiB * 0.03 = 3.0.
    dataset = _dataset("frozen", "frozen.csv", tier=COLD)
    advice = _optimizer().analyze(dataset, _reads("frozen", 200))
    assert advice.recommended_tier is COLD
    assert advice.one_time_retrieval_cost == pytest.approx(3.0)
    assert advice.monthly_savings == pytest.approx(0.4 - 0.1)


def test_no_access_evidence_keeps_the_tier_and_says_so() -> None:
    advice = _optimizer().analyze(_dataset("quiet", "quiet.parquet"))
    assert (advice.recommended_tier, advice.access_tier) == (HOT, None)
    assert (advice.monthly_savings, advice.payback_months) == (0, None)
    assert advice.actions == ()
    assert "no change advised" in advice.reasons
    assert any("no access events" in warning for warning in advice.warnings)
    assert advice.evidence.access is AccessEvidence.NONE


def test_analyze_all_sorts_by_savings_then_id() -> None:
    datasets = [
        _dataset("b-quiet", "b.parquet"),
        _dataset("sales", "train.csv", name="sales", version=2),
        _dataset("logs", "logs.parquet"),
        _dataset("a-quiet", "a.parquet"),
        _dataset("sales_v1", "train.csv", 10 * BYTES_PER_GB, name="sales", version=1),
    ]
    events = [*_reads("sales", 1), *_reads("logs", 120), *_reads("sales_v1", 1)]
    results = _optimizer().analyze_all(datasets, events)
    assert [advice.dataset_id for advice in results] == [
        "sales",
        "logs",
        "sales_v1",
        "a-quiet",
        "b-quiet",
    ]
    assert [advice.monthly_savings for advice in results][:3] == [
        pytest.approx(1.725),
        pytest.approx(1.4),
        pytest.approx(0.1725),  # 10 GiB of CSV: 0.23 -> 0.0575
    ]
    sales = results[0]
    (growth,) = sales.usage.growth
    assert (growth.from_dataset_id, growth.to_dataset_id, growth.growth_pct) == (
        "sales_v1",
        "sales",
        900.0,
    )


def test_currency_and_provider_checks() -> None:
    with pytest.raises(
        CurrencyError, match="compute price is in EUR but acme storage is priced in USD"
    ):
        _optimizer(conversion=ConversionAssumptions(currency="EUR"))
    explicit = _optimizer(conversion=ConversionAssumptions(currency="USD", price_per_hour=1.0))
    advice = explicit.analyze(_dataset("sales", "train.csv"), _reads("sales", 1))
    assert advice.one_time_conversion_cost == pytest.approx(0.568889, abs=1e-6)
    with pytest.raises(NotFoundError):
        StorageOptimizer(PRICES, provider="nobody")
    naive = StorageOptimizer(PRICES, provider="acme", now=datetime(2026, 6, 1))
    assert naive.now == NOW
    eur = [row.model_copy(update={"currency": "EUR"}) for row in PRICES]
    assert StorageOptimizer(eur, provider="acme").currency == "EUR"


def test_advice_json_round_trips() -> None:
    advice = _optimizer().analyze(_dataset("sales", "train.csv"), _reads("sales", 1, 3, 50))
    payload = json.loads(json.dumps(advice.model_dump(mode="json")))
    assert StorageAdvice.model_validate(payload) == advice
    assert payload["currency"] == "USD"
    assert payload["usage"]["access"]["evidence"] == "strong"


def _read_without_atime(path: Path) -> bytes:
    # The check itself must not move atimes, or it could not see the scan moving them.
    fd = os.open(path, os.O_RDONLY | os.O_NOATIME)
    with os.fdopen(fd, "rb") as handle:
        return handle.read()


def _fingerprint(root: Path) -> dict[str, tuple[str, int, int]]:
    prints = {}
    for path in sorted(root.iterdir()):
        if path.is_file() and not path.is_symlink():
            digest = hashlib.sha256(_read_without_atime(path)).hexdigest()
            info = path.stat()
            prints[path.name] = (digest, info.st_mtime_ns, info.st_atime_ns)
    return prints


def test_local_directory_end_to_end_without_changing_files(tmp_path: Path) -> None:
    rng = random.Random(3)
    root = tmp_path / "warehouse"
    root.mkdir()
    lines = ["id,region,amount,comment"]
    for i in range(60_000):
        region = rng.choice(["n", "s", "e", "w"])
        lines.append(f"{i},{region},{rng.uniform(0, 900):.2f},item {rng.randint(1, 99)}")
    (root / "orders.csv").write_text("\n".join(lines) + "\n")
    (root / "bad.csv").write_text("a,b\n1,2,3\n")
    (root / "loop").symlink_to(root)
    written = (NOW - timedelta(days=200)).timestamp()
    for path in (root / "orders.csv", root / "bad.csv"):
        os.utime(path, (written + 3600, written))  # read an hour after being written, 200 days ago
    before = _fingerprint(root)

    scan = scan_path(root)
    thresholds = FormatThresholds(
        csv_min_bytes=BYTES_PER_MB,
        json_min_bytes=BYTES_PER_MB,
        keep_below_bytes=1024,
        sample_bytes=256 * 1024,
    )
    advice = StorageOptimizer(PRICES, provider="acme", thresholds=thresholds, now=NOW).analyze(
        scan.dataset, scan.access_events
    )
    assert _fingerprint(root) == before  # bytes, mtimes and atimes untouched
    assert sorted(path.name for path in root.iterdir()) == ["bad.csv", "loop", "orders.csv"]

    assert {problem.path for problem in scan.problems} == {"bad.csv", "loop"}
    assert advice.origin is DatasetOrigin.LOCAL
    assert advice.assumptions[0] == "local data is priced as if held in acme's hot tier"
    assert advice.evidence.format_figures is FigureEvidence.MEASURED
    assert advice.evidence.weak_access_evidence
    assert any("access evidence is weak" in warning for warning in advice.warnings)
    assert advice.access_tier is COLD and advice.recommended_tier is COLD
    (converted,) = [g for g in advice.format_advice.groups if g.action == "convert"]
    assert converted.size_bytes == (root / "orders.csv").stat().st_size
    assert advice.size_after_bytes < advice.size_bytes / 2
    assert advice.monthly_savings > 0 and advice.payback_months is not None
